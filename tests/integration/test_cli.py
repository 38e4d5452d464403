"""The installed ``fcproxy`` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.shared import fixture
from wrappers.registry import list_wrappers

FCPROXY = shutil.which("fcproxy")


ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    assert FCPROXY, "`pip install -e .` puts fcproxy on PATH"
    # This checkout's code, whichever checkout the editable install points at.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [FCPROXY, *args], input=stdin, capture_output=True, text=True, timeout=60, env=env
    )


def test_help_lists_the_subcommands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "parse", "wrappers"):
        assert command in result.stdout


def test_serve_help_documents_every_flag_with_its_env_variable() -> None:
    result = run("serve", "--help")
    assert result.returncode == 0
    for flag in ("--upstream", "--backend", "--wrapper", "--port", "--config", "--context-window"):
        assert flag in result.stdout
    assert "FCPROXY_UPSTREAM" in result.stdout and "BACKEND_TYPE" in result.stdout


def test_wrappers_prints_each_name_then_its_aliases() -> None:
    result = run("wrappers")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    entries = list_wrappers()
    assert [line.split()[0] for line in lines] == [e.name for e in entries]
    for line, entry in zip(lines, entries, strict=True):
        assert line.split()[1:] == list(entry.aliases)
    assert {"chatml", "airoboros-l2-70b-2.1", "dolphin-2.1-mistral-7b", "zephyr-7B", "llama3"} <= {
        line.split()[0] for line in lines
    }


def test_serve_with_an_unknown_wrapper_fails_at_start_listing_the_names() -> None:
    result = run("serve", "--wrapper", "no-such-format", "--port", "0")
    assert result.returncode == 2
    assert "unknown wrapper 'no-such-format'" in result.stderr
    assert "chatml" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_a_bad_config_file_says_what_is_wrong(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("port: many\n")
    result = run("serve", "--config", str(config))
    assert result.returncode == 2
    assert "port" in result.stderr and str(config) in result.stderr


MEMGPT_OUTPUT = json.dumps(
    {
        "function": "send_message",
        "params": {"inner_thoughts": "Say hello.", "message": "Hello there!"},
    }
)


def test_parse_prints_the_assistant_message(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(fixture("memgpt-0.3.25-tools.json")["tools"]))
    result = run("parse", "--wrapper", "chatml", "--functions", str(tools), stdin=MEMGPT_OUTPUT)
    assert result.returncode == 0, result.stderr
    message = json.loads(result.stdout)
    assert message["content"] == "Say hello."
    [call] = message["tool_calls"]
    assert call["function"]["name"] == "send_message"
    assert json.loads(call["function"]["arguments"]) == {"message": "Hello there!"}


def test_parse_with_legacy_functions_prints_function_call(tmp_path: Path) -> None:
    functions = tmp_path / "functions.json"
    functions.write_text(json.dumps(fixture("memgpt-0.1-functions.json")["functions"]))
    result = run("parse", "--functions", str(functions), stdin=MEMGPT_OUTPUT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["function_call"]["name"] == "send_message"


@pytest.mark.parametrize(
    ("stdin", "reason"),
    [
        ("I don't feel like calling a function.", "no usable function call"),
        (json.dumps({"function": "launch_rockets", "params": {}}), "launch_rockets"),
    ],
)
def test_parse_failure_exits_nonzero_with_the_reason(
    tmp_path: Path, stdin: str, reason: str
) -> None:
    functions = tmp_path / "functions.json"
    functions.write_text(json.dumps(fixture("memgpt-0.1-functions.json")["functions"]))
    result = run("parse", "--functions", str(functions), stdin=stdin)
    assert result.returncode == 1
    assert reason in result.stderr
    assert result.stdout == ""


def test_parse_with_an_unknown_wrapper_exits_2() -> None:
    result = run("parse", "--wrapper", "nope", stdin="{}")
    assert result.returncode == 2 and "available wrappers" in result.stderr
