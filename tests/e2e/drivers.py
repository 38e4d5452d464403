"""Running the client driver scripts (tests/e2e/clients/) with their venvs' Pythons."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.venvs import CLIENTS, clean_env

OPENAI028_DRIVER = CLIENTS / "openai028_driver.py"
MEMGPT_DRIVER = CLIENTS / "memgpt_driver.py"


@dataclass
class DriverResult:
    returncode: int | None  # None: killed at its timeout
    stdout: str
    stderr: str
    seconds: float

    def describe(self, tail: int = 60) -> str:
        """Exit status and the end of stderr, for assertion messages."""
        status = "timed out" if self.returncode is None else f"exit {self.returncode}"
        lines = self.stderr.splitlines()[-tail:]
        return f"driver {status} after {self.seconds:.1f} s; stderr (last lines):\n" + "\n".join(
            lines
        )


def run_driver(
    python: Path, script: Path, argument: str, *, timeout: float, env: dict[str, str] | None = None
) -> DriverResult:
    """Run ``python script argument``; output is kept even when it is killed at ``timeout``."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(python), str(script), argument],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=clean_env(**(env or {})),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return DriverResult(None, _text(exc.stdout), _text(exc.stderr), time.monotonic() - started)
    return DriverResult(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data or ""


# -- openai==0.28.1 -----------------------------------------------------------


def openai028_create(
    python: Path, api_base: str, *, timeout: float = 180.0, **request: Any
) -> tuple[dict[str, Any], DriverResult]:
    """``openai.ChatCompletion.create(**request)`` in the 0.28 venv: (parsed stdout, run)."""
    run = run_driver(
        python, OPENAI028_DRIVER, json.dumps({"api_base": api_base, **request}), timeout=timeout
    )
    try:
        output: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"the 0.28 driver printed no JSON\n{run.describe()}") from None
    return output, run


# -- MemGPT 0.3.25 --------------------------------------------------------------


@dataclass
class MemGPTRun:
    """What memgpt_driver.py reported."""

    run: DriverResult
    agent: dict[str, Any] | None = None
    turns: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False

    def describe(self) -> str:
        """Every turn in short, then the driver's stderr tail: for assertion messages."""
        lines = [f"agent: {json.dumps(self.agent)}"]
        for turn in self.turns:
            lines.append(
                f"turn {turn['turn']} ({turn['seconds']} s): delivered={turn['send_message_delivered']}"
                f" error={'yes' if turn['error'] else 'no'} in_context={turn['in_context_messages']}"
                f" summaries={turn['summaries_in_context']}"
            )
            lines.append(f"  messages: {json.dumps(turn['messages'])[:1500]}")
            if turn["error"]:
                lines.append("  exception inside MemGPT:\n" + turn["error"])
            for record in turn["logged_errors"]:
                lines.append("  MemGPT logged: " + record[:1500])
        lines.append(self.run.describe())
        return "\n".join(lines)


def run_memgpt(
    python: Path,
    *,
    endpoint: str,
    home: Path,
    messages: list[str],
    context_window: int,
    model: str = "smollm2-local",
    max_chaining_steps: int = 3,
    turns_after_summary: int | None = None,
    timeout: float = 600.0,
) -> MemGPTRun:
    """Create a MemGPT agent talking to ``endpoint`` and send it ``messages``, one turn each."""
    home.mkdir(parents=True, exist_ok=True)
    settings = {
        "endpoint": endpoint,
        "model": model,
        "context_window": context_window,
        "home": str(home),
        "messages": messages,
        "max_chaining_steps": max_chaining_steps,
        "turns_after_summary": turns_after_summary,
    }
    run = run_driver(python, MEMGPT_DRIVER, json.dumps(settings), timeout=timeout)
    result = MemGPTRun(run=run)
    for line in run.stdout.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            continue
        event = record.get("event")
        if event == "agent":
            result.agent = record
        elif event == "turn":
            result.turns.append(record)
        elif event == "done":
            result.done = True
    return result


def assert_turn_clean(result: MemGPTRun, turn: dict[str, Any]) -> None:
    """The turn raised nothing inside MemGPT and logged no error."""
    context = result.describe()
    assert turn["error"] is None, f"turn {turn['turn']} raised inside MemGPT\n{context}"
    assert not turn["logged_errors"], f"MemGPT logged errors in turn {turn['turn']}\n{context}"
    assert not turn["internal_errors"], f"MemGPT reported internal errors\n{context}"


def assert_turn_delivered(result: MemGPTRun, turn: dict[str, Any]) -> None:
    """The turn raised nothing inside MemGPT, logged no error, and sent the user a message."""
    context = result.describe()
    assert_turn_clean(result, turn)
    assert turn["send_message_delivered"], (
        f"turn {turn['turn']} delivered no send_message to the user\n{context}"
    )
