"""Per format family: how many parser cases exist, and how many pass both paths.

Run from the repository root::

    python -m tests.unit.case_counts

A family is one ``tests/unit/test_format_*.py`` module (its ``NAME`` or
``NAMES``: ``mistral`` covers ``mistral`` and ``mistral-v11``). Its cases are
the rows of the module's tables, once per wrapper that reads them, as
tests/unit/test_case_tables.py runs them:

- ``own``: ``REAL_OUTPUTS`` and ``MESSY_OUTPUTS`` (the calls and content read),
  ``NO_CALLS`` (all content), ``BROKEN`` (the parser raises), ``REASONING``
  (reasoning set aside), and Functionary's ``V32_OUTPUTS`` / ``V31_OUTPUTS``;
- ``shared``: tests/unit/test_tolerance.py's tables, run against every
  tool-call wrapper (calls without markers, broken JSON, names that are not
  tools, outputs quoted from public bug reports) and its per-format rows
  (``MARKED_MESSY``, ``HERMES_MESSY``, the cut-off layouts).

A case passes when the one-shot parse gives what the row says and the output
streamed one character at a time gives the same answer (for ``BROKEN`` rows:
the parse raises). The pytest suite checks every split as well; this report
is the count for a closing note, not a replacement for it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.unit import test_tolerance as tolerance
from tests.unit.test_stream_contract import Case as StreamCase
from tests.unit.test_stream_contract import expected, stream
from tests.unit.tool_call_conversation import FUNCTIONS as CONVERSATION_FUNCTIONS
from wrappers.base import FunctionSchema, ParsedOutput, WrapperParseError
from wrappers.detection import detect_format
from wrappers.registry import get_wrapper

HERE = Path(__file__).resolve().parent
OWN_TABLES = ("REAL_OUTPUTS", "MESSY_OUTPUTS", "NO_CALLS", "BROKEN", "REASONING")


@dataclass
class FamilyCount:
    family: str
    wrappers: list[str]
    own: int = 0
    own_passed: int = 0
    shared: int = 0
    shared_passed: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, kind: str, label: str, passed: bool) -> None:
        if kind == "own":
            self.own += 1
            self.own_passed += passed
        else:
            self.shared += 1
            self.shared_passed += passed
        if not passed:
            self.failures.append(label)


Check = Callable[[ParsedOutput], bool]


def _calls(parsed: ParsedOutput) -> list[tuple[str, Any]]:
    return [(call.name, json.loads(call.arguments)) for call in parsed.tool_calls]


def _streams_the_same(case: StreamCase, want: ParsedOutput) -> bool:
    got, _, parser = stream(case, list(case.raw))
    calls = [[c.name, c.arguments] for c in want.tool_calls]
    return parser.divergence is None and (got.content, got.reasoning, got.calls or []) == (
        want.content or "",
        want.reasoning_content or "",
        calls,
    )


def passes(
    wrapper: str,
    raw: str,
    functions: Sequence[FunctionSchema],
    check: Check | None,
    *,
    starts_in_reasoning: bool = False,
) -> bool:
    """Does ``raw`` read as ``check`` wants, through both paths? ``check`` None: it must raise."""
    case = StreamCase(wrapper, raw, functions, starts_in_reasoning=starts_in_reasoning)
    try:
        want = expected(case)
    except Exception:  # a crash is a failed case, not a crashed report
        return False
    if check is None:
        return isinstance(want, WrapperParseError)
    if not isinstance(want, ParsedOutput):
        return False
    try:
        return check(want) and _streams_the_same(case, want)
    except Exception:
        return False


def format_modules() -> Iterator[ModuleType]:
    for path in sorted(HERE.glob("test_format_*.py")):
        module = importlib.import_module(f"tests.unit.{path.stem}")
        if getattr(module, "NAME", None) or getattr(module, "NAMES", None):
            yield module


def _own_rows(module: ModuleType) -> Iterator[tuple[str, str, str, Any, bool]]:
    """(table, row id, raw, check, starts in reasoning) for each row of a module's tables.

    The check is None for a row that must raise, ``...`` for an answer that
    is all content (known per wrapper: its end-of-turn tokens are not content).
    """
    for table in (*OWN_TABLES, "V32_OUTPUTS", "V31_OUTPUTS"):
        for row in getattr(module, table, None) or []:
            if isinstance(row, str):  # a bare output: all content
                yield table, row[:20], row, ..., False
                continue
            row_id, raw = row[0], row[1]
            if table in ("REAL_OUTPUTS", "MESSY_OUTPUTS", "V32_OUTPUTS", "V31_OUTPUTS"):
                if len(row) == 5:  # auto's: (id, raw, detected format, content, calls)
                    reads = _reads(row[3], row[4])
                    yield table, row_id, raw, _detected_as(raw, row[2], reads), False
                else:
                    yield table, row_id, raw, _reads(row[2], row[3]), False
            elif table == "NO_CALLS":
                # Functionary's rows say the content; the others are the whole answer.
                check = _content_is(row[2]) if len(row) == 3 else ...
                yield table, row_id, raw, check, False
            elif table == "BROKEN":
                yield table, row_id, raw, None, False
            else:
                inside = "<think>" not in raw
                yield table, row_id, raw, _reads(row[3], row[4], reasoning=row[2]), inside


def _reads(content: str | None, calls: Any, *, reasoning: Any = ...) -> Check:
    def check(parsed: ParsedOutput) -> bool:
        same = (parsed.content, _calls(parsed)) == (content, calls)
        if reasoning is not ...:
            same = same and parsed.reasoning_content == reasoning
        return same

    return check


def _detected_as(raw: str, detected: str, then: Check) -> Check:
    """auto's rows also name the format its marker detection finds."""
    return lambda parsed: detect_format(raw) == detected and then(parsed)


def _content_is(content: str | None) -> Check:
    """No call, and ``content`` (None: the whole answer, see :func:`_whole_answer`)."""
    return lambda parsed: not parsed.tool_calls and parsed.content == content


def _whole_answer(wrapper: str, raw: str) -> str | None:
    """The answer as content: stripped, less the wrapper's end-of-turn tokens."""
    text = raw.strip()
    for token in getattr(get_wrapper(wrapper), "stop", ()):
        text = text.removesuffix(token).rstrip()
    return text or None


def _wrappers_for(module: ModuleType, table: str) -> list[str]:
    names: list[str] = getattr(module, "NAMES", None) or [module.NAME]
    if table == "V32_OUTPUTS":
        return names[:1]  # v3.2 outputs after its prefilled marker: functionary-v3 only
    return list(getattr(module, "TABLE_WRAPPERS", {}).get(table) or names)


def count_families() -> list[FamilyCount]:
    families: list[FamilyCount] = []
    by_wrapper: dict[str, FamilyCount] = {}
    for module in format_modules():
        names: list[str] = getattr(module, "NAMES", None) or [module.NAME]
        family = FamilyCount(module.__name__.rsplit("test_format_", 1)[1], list(names))
        families.append(family)
        by_wrapper.update(dict.fromkeys(names, family))
        functions = getattr(module, "FUNCTIONS", CONVERSATION_FUNCTIONS)
        for table, row_id, raw, check, inside in _own_rows(module):
            for name in _wrappers_for(module, table):
                wanted = _content_is(_whole_answer(name, raw)) if check is ... else check
                ok = passes(name, raw, functions, wanted, starts_in_reasoning=inside)
                family.add("own", f"{name}:{table}:{row_id}", ok)
    for wrapper, kind, label, raw, functions, check in _shared_cases():
        family = by_wrapper.get(wrapper)
        if family is None:
            family = FamilyCount(wrapper, [wrapper])
            families.append(family)
            by_wrapper[wrapper] = family
        family.add(kind, f"{wrapper}:{label}", passes(wrapper, raw, functions, check))
    return families


def _shared_cases() -> Iterator[tuple[str, str, str, str, Sequence[FunctionSchema], Check | None]]:
    """test_tolerance.py's cases: (wrapper, kind, label, raw, functions, check)."""
    for wrapper in tolerance.WRAPPERS:
        for row_id, raw, calls in tolerance.TOLERATED:
            yield wrapper, "shared", row_id, raw, tolerance.FUNCTIONS, _calls_are(calls)
        for row_id, raw in tolerance.NOT_CALLS:
            if "name" in raw and not getattr(get_wrapper(wrapper), "tolerates_bare_json", True):
                continue  # bare JSON is this format's own call (test_tolerance skips these too)
            yield wrapper, "shared", row_id, raw, tolerance.FUNCTIONS, _content_is(raw)
        for row_id, _, raw, calls in tolerance.PUBLIC_REPORTS:
            yield wrapper, "shared", row_id, raw, tolerance.REPORT_FUNCTIONS, _calls_are(calls)
        for row_id, _, raw in tolerance.PUBLIC_NOT_CALLS:
            yield wrapper, "shared", row_id, raw, tolerance.REPORT_FUNCTIONS, _content_is(raw)
    for row_id, raw, calls in tolerance.HERMES_MESSY:
        yield "hermes", "shared", row_id, raw, tolerance.FUNCTIONS, _calls_are(calls)
    for wrapper, row_id, raw in tolerance.MARKED_MESSY:
        yield wrapper, "shared", row_id, raw, tolerance.FUNCTIONS, _first_call_is_paris
    for wrapper, layout in tolerance.CALL_LAYOUTS:
        two = layout([("get_weather", '{"city": "Paris"}'), ("get_time", '{"zone": "CET"}')])
        cut = two[: two.index("CET") + 2]
        mended = [tolerance.PARIS, ("get_time", {"zone": "CE"})]
        yield wrapper, "shared", "cut-after-complete", cut, tolerance.FUNCTIONS, _calls_are(mended)
        one = layout([("get_weather", '{"city": "Paris"}')])
        alone = one[: one.index("Paris") + 3]
        yield wrapper, "shared", "cut-alone", alone, tolerance.FUNCTIONS, None


def _calls_are(calls: Any) -> Check:
    expected_calls = [(name, arguments) for name, arguments in calls]
    return lambda parsed: _calls(parsed) == expected_calls


def _first_call_is_paris(parsed: ParsedOutput) -> bool:
    calls = _calls(parsed)
    return [name for name, _ in calls] == ["get_weather"] and calls[0][1].get("city") == "Paris"


def table(families: list[FamilyCount]) -> str:
    rows = [
        "| family (wrappers) | own cases | passed | shared tolerance cases | passed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for f in sorted(families, key=lambda f: f.family):
        rows.append(
            f"| {f.family} ({', '.join(f.wrappers)}) | {f.own} | {f.own_passed} "
            f"| {f.shared} | {f.shared_passed} |"
        )
    own = sum(f.own for f in families)
    shared = sum(f.shared for f in families)
    rows.append(
        f"| **all** | {own} | {sum(f.own_passed for f in families)} "
        f"| {shared} | {sum(f.shared_passed for f in families)} |"
    )
    return "\n".join(rows)


def main() -> int:
    families = count_families()
    print(table(families))
    failures = [label for f in families for label in f.failures]
    for label in failures:
        print("FAILED", label)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
