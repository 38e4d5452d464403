"""One contract for every format: the streamed answer is the one-shot answer, however split.

Every format's case table (the ``REAL_OUTPUTS``, ``MESSY_OUTPUTS``,
``NO_CALLS``, ``BROKEN`` and ``REASONING`` tables of
``tests/unit/test_format_*.py``, Functionary's ``V32_OUTPUTS`` and
``V31_OUTPUTS``, and MemGPT's outputs in ``test_wrapper_parse.py``) is fed to :class:`wrappers.streaming.StreamParser`
one character at a time, split in two at every position, and in random
splits. The deltas, joined, must equal what the wrapper's one-shot ``parse``
returns for the whole text: same content, reasoning, calls and arguments,
with no divergence recorded. Where the one-shot parse fails, no call may
have been sent. vLLM runs its tool-parser tables through both paths the same
way (``tests/tool_parsers/utils.py``, ``run_tool_extraction``).
"""

from __future__ import annotations

import importlib
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.unit.tool_call_conversation import FUNCTIONS as CONVERSATION_FUNCTIONS
from wrappers.base import FunctionSchema, ParsedOutput, RenderOptions, WrapperParseError
from wrappers.partial_json import closing_suffix
from wrappers.registry import get_wrapper, list_wrappers
from wrappers.streaming import OutputDelta, PlainText, StreamParser

HERE = Path(__file__).resolve().parent
TABLES = (
    "REAL_OUTPUTS",
    "MESSY_OUTPUTS",
    "NO_CALLS",
    "BROKEN",
    "REASONING",
    # Functionary's real outputs, one table per syntax.
    "V32_OUTPUTS",
    "V31_OUTPUTS",
)

WEATHER_FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
]

PLAIN_CASES = ["  Roses are red,\n  violets are blue.  \n", "", "one", "<tool_call> is text here"]


@dataclass(frozen=True)
class Case:
    wrapper: str
    raw: str
    functions: Sequence[FunctionSchema]
    options: RenderOptions = field(default_factory=RenderOptions)
    starts_in_reasoning: bool = False

    def __str__(self) -> str:
        return f"{self.wrapper}:{self.raw[:30]!r}"


def _raws(table: Any) -> Iterator[str]:
    rows = table.values() if isinstance(table, dict) else table
    for row in rows:
        if isinstance(row, str):
            yield row
        elif isinstance(row, tuple) and len(row) > 1 and isinstance(row[1], str):
            yield row[1]


def format_cases() -> Iterator[Case]:
    for path in sorted(HERE.glob("test_format_*.py")):
        module = importlib.import_module(f"tests.unit.{path.stem}")
        names = getattr(module, "NAMES", None) or [module.NAME]
        functions = getattr(module, "FUNCTIONS", CONVERSATION_FUNCTIONS)
        for table_name in TABLES:
            table = getattr(module, table_name, None)
            if table is None:
                continue
            for raw in _raws(table):
                for name in names:
                    # Templates that open the think block leave the output inside it.
                    inside = table_name == "REASONING" and "<think>" not in raw
                    yield Case(name, raw, functions, starts_in_reasoning=inside)

    memgpt = importlib.import_module("tests.unit.test_wrapper_parse")
    memgpt_names = [e.name for e in list_wrappers() if e.family == "memgpt"]
    for name in memgpt_names:
        wrapper = get_wrapper(name)
        answer = memgpt.FULL_ANSWER[wrapper.inner_thoughts]  # type: ignore[attr-defined]
        prefill = wrapper.prefill(RenderOptions())  # type: ignore[attr-defined]
        written = "\n" + answer
        raw = written[len(prefill) :] if written.startswith(prefill) else written
        yield Case(name, raw, memgpt.FUNCTIONS)
    for raw in memgpt.MESSY_OUTPUTS.values():
        yield Case("chatml", raw, memgpt.FUNCTIONS)
    v01 = memgpt.V01_FUNCTIONS
    yield Case(
        "chatml",
        ' "send_message",\n  "params": {\n    "inner_thoughts": "Greet.",\n'
        '    "message": "Hi!", "request_heartbeat": true\n  }\n}',
        v01,
    )


CASES = list(format_cases())


@dataclass
class Assembled:
    content: str = ""
    reasoning: str = ""
    calls: list[list[str]] | None = None
    ids: list[str] | None = None

    def add(self, delta: OutputDelta) -> None:
        calls = self.calls if self.calls is not None else []
        self.calls = calls
        self.ids = self.ids if self.ids is not None else []
        if delta.kind == "content":
            self.content += delta.text
        elif delta.kind == "reasoning":
            self.reasoning += delta.text
        elif delta.kind == "call":
            assert delta.index == len(calls), "calls are announced in order, once each"
            assert delta.name and delta.call_id
            calls.append([delta.name, ""])
            self.ids.append(delta.call_id)
        else:
            assert delta.index < len(calls), "arguments come after their call"
            calls[delta.index][1] += delta.text


def stream(case: Case, pieces: list[str]) -> tuple[Assembled, Any, StreamParser]:
    reader = get_wrapper(case.wrapper) if case.functions else PlainText()
    parser = StreamParser(
        reader, case.functions, case.options, starts_in_reasoning=case.starts_in_reasoning
    )
    assembled = Assembled()
    for piece in pieces:
        for delta in parser.feed(piece):
            assembled.add(delta)
    tail, parsed = parser.finish()
    for delta in tail:
        assembled.add(delta)
    return assembled, parsed, parser


def splits(raw: str, seed: int) -> Iterator[list[str]]:
    yield list(raw)  # one character at a time
    step = max(1, len(raw) // 40)  # every position for short outputs, 40 cuts for long ones
    for cut in range(0, len(raw) + 1, step):
        yield [raw[:cut], raw[cut:]]
    rng = random.Random(seed)
    for _ in range(3):
        cuts = sorted(rng.sample(range(len(raw) + 1), min(len(raw) + 1, rng.randint(2, 12))))
        yield [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]


def expected(case: Case) -> ParsedOutput | WrapperParseError:
    reader = get_wrapper(case.wrapper) if case.functions else PlainText()
    try:
        return reader.parse(case.raw, case.functions, case.options)
    except WrapperParseError as exc:
        return exc


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_split_of_an_output_streams_the_one_shot_answer(case: Case) -> None:
    want = expected(case)
    for pieces in splits(case.raw, seed=len(case.raw)):
        got, parsed, parser = stream(case, pieces)
        if isinstance(want, WrapperParseError):
            assert isinstance(parsed, WrapperParseError)
            # A call cut off may have been announced; what was sent of it closes
            # into valid JSON (the pipeline then ends with finish_reason "length").
            for _, arguments in got.calls or []:
                json.loads(arguments + closing_suffix(arguments) if arguments else "{}")
            continue
        assert parser.divergence is None, (parser.divergence, pieces)
        calls = [[c.name, c.arguments] for c in want.tool_calls]
        assert (got.content, got.reasoning, got.calls or []) == (
            want.content or "",
            want.reasoning_content or "",
            calls,
        ), pieces
        assert isinstance(parsed, ParsedOutput)
        assert [c.id for c in parsed.tool_calls] == (got.ids or [])


@pytest.mark.parametrize("raw", PLAIN_CASES)
def test_plain_text_streams_as_it_is_written(raw: str) -> None:
    case = Case("chatml", raw, [])
    for pieces in splits(raw, seed=1):
        got, _, _ = stream(case, pieces)
        assert got.content == raw.strip()
    got, _, _ = stream(case, list(raw))
    if raw.strip():
        # Everything but trailing whitespace left before the end.
        parser = StreamParser(PlainText(), [], RenderOptions())
        early = "".join(d.text for ch in raw for d in parser.feed(ch))
        assert early == raw.strip()


def test_every_format_is_covered() -> None:
    covered = {case.wrapper for case in CASES}
    families = {e.name for e in list_wrappers() if e.family in ("memgpt", "tool-call")}
    missing = sorted(families - covered)
    # Variants of a covered format share its parser (and its table).
    assert all(any(name.startswith(c.split("-")[0]) for c in covered) for name in missing), missing


def test_arguments_leave_in_fragments_before_the_call_is_complete() -> None:
    raw = (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris, France"}}\n</tool_call>'
    )
    parser = StreamParser(get_wrapper("hermes"), WEATHER_FUNCTIONS, RenderOptions())
    fragments = []
    for ch in raw[: raw.index("France")]:
        fragments += [d.text for d in parser.feed(ch) if d.kind == "arguments"]
    assert len(fragments) > 3
    assert "".join(fragments) == '{"city": "Paris, '


FORECAST_FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_forecast",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        },
    }
]
FORECAST = '{"city": "Paris", "days": 3}'
_DS_SEP = "<\uff5ctool\u2581sep\uff5c>"
_DS_CALLS = "<\uff5ctool\u2581calls\u2581begin\uff5c><\uff5ctool\u2581call\u2581begin\uff5c>"
_DS_END = "<\uff5ctool\u2581call\u2581end\uff5c><\uff5ctool\u2581calls\u2581end\uff5c>"

# (wrapper, a clean single call as the format writes it, the marker that ends the call)
SINGLE_CALLS = [
    ("mistral", f'[TOOL_CALLS][{{"name": "get_forecast", "arguments": {FORECAST}}}]</s>', "]</s>"),
    ("mistral-v11", f"[TOOL_CALLS]get_forecast[ARGS]{FORECAST}</s>", "</s>"),
    (
        "granite",
        f'<|tool_call|>[{{"name": "get_forecast", "arguments": {FORECAST}}}]<|end_of_text|>',
        "]<|end_of_text|>",
    ),
    ("phi4", f'functools[{{"name": "get_forecast", "arguments": {FORECAST}}}]<|end|>', "]<|end|>"),
    (
        "llama3-json",
        f'<|python_tag|>{{"name": "get_forecast", "parameters": {FORECAST}}}<|eom_id|>',
        "<|eom_id|>",
    ),
    (
        "llama3-json",
        f'{{"name": "get_forecast", "parameters": {FORECAST}}}<|eot_id|>',
        "<|eot_id|>",
    ),
    (
        "kimi-k2",
        "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_forecast:0"
        f"<|tool_call_argument_begin|>{FORECAST}<|tool_call_end|><|tool_calls_section_end|>",
        "<|tool_call_end|>",
    ),
    (
        "deepseek",
        f"{_DS_CALLS}function{_DS_SEP}get_forecast\n```json\n{FORECAST}\n```{_DS_END}",
        "\n```",
    ),
    ("deepseek-v3.1", f"{_DS_CALLS}get_forecast{_DS_SEP}{FORECAST}{_DS_END}", _DS_END),
    ("functionary-v3", f"get_forecast\n{FORECAST}<|eot_id|>", "<|eot_id|>"),
    ("functionary-v3.1", f"<function=get_forecast>{FORECAST}</function><|eom_id|>", "</function>"),
    (
        "command-r",
        f'Action: ```json\n[{{"tool_name": "get_forecast", "parameters": {FORECAST}}}]\n```',
        "]\n```",
    ),
    (
        "command-r7b",
        "<|START_THINKING|>Look it up.<|END_THINKING|><|START_ACTION|>["
        f'{{"tool_call_id": "0", "tool_name": "get_forecast", "parameters": {FORECAST}}}]'
        "<|END_ACTION|>",
        "]<|END_ACTION|>",
    ),
    (
        "generic-json",
        f'```json\n{{"name": "get_forecast", "arguments": {FORECAST}}}\n```',
        "\n```",
    ),
    (
        "qwen3-coder",
        "<tool_call>\n<function=get_forecast>\n<parameter=city>\nParis\n</parameter>\n"
        "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>",
        "</function>",
    ),
    (
        "glm4",
        "<tool_call>get_forecast\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n"
        "<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>",
        "</tool_call>",
    ),
    (
        "seed-oss",
        "<seed:tool_call>\n<function=get_forecast>\n<parameter=city>Paris</parameter>\n"
        "<parameter=days>3</parameter>\n</function>\n</seed:tool_call>",
        "</function>",
    ),
]


def _single_call_id(case: tuple[str, str, str]) -> str:
    name, raw, _ = case
    return name + ("-bare" if raw.startswith("{") else "")


@pytest.mark.parametrize(
    ("name", "raw", "end_marker"), SINGLE_CALLS, ids=[_single_call_id(c) for c in SINGLE_CALLS]
)
def test_each_format_sends_arguments_in_fragments_before_the_call_ends(
    name: str, raw: str, end_marker: str
) -> None:
    parser = StreamParser(get_wrapper(name), FORECAST_FUNCTIONS, RenderOptions())
    before_end = raw[: raw.rindex(end_marker)]
    deltas = [d for ch in before_end for d in parser.feed(ch)]
    fragments = [d.text for d in deltas if d.kind == "arguments"]
    assert [d.name for d in deltas if d.kind == "call"] == ["get_forecast"]
    assert len(fragments) > 1, fragments
    # The first argument is out before the call ends, and all of it is the final text's start.
    assert "".join(fragments).startswith('{"city": "Paris"')
    rest = [d for ch in raw[len(before_end) :] for d in parser.feed(ch)]
    tail, parsed = parser.finish()
    assert isinstance(parsed, ParsedOutput) and parser.divergence is None
    assert json.loads(parsed.tool_calls[0].arguments) == json.loads(FORECAST)
    sent = "".join(d.text for d in deltas + rest + tail if d.kind == "arguments")
    assert sent == parsed.tool_calls[0].arguments


def test_memgpt_inner_thoughts_stream_as_content_before_the_message_is_written() -> None:
    raw = ' "send_message",\n  "params": {\n    "inner_thoughts": "The user greeted me.",\n    "message": "Hi'
    parser = StreamParser(get_wrapper("chatml"), [{"name": "send_message"}], RenderOptions())
    content = "".join(d.text for ch in raw for d in parser.feed(ch) if d.kind == "content")
    assert content == "The user greeted me."


def test_text_that_may_open_a_call_is_held_until_it_is_clearly_not_one() -> None:
    parser = StreamParser(get_wrapper("hermes"), WEATHER_FUNCTIONS, RenderOptions())
    assert [d.text for d in parser.feed("Sunny <tool_")] == ["Sunny"]
    assert parser.feed("cal") == []
    assert "".join(d.text for d in parser.feed("x> is a tag")) == " <tool_calx> is a tag"


def test_arguments_json_survives_the_round_trip() -> None:
    raw = (
        "<think>\nThe user wants the weather.\n</think>\n\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "Z\\u00fcrich \\"old town\\""}}\n</tool_call>'
    )
    case = Case("hermes", raw, WEATHER_FUNCTIONS)
    got, _, _ = stream(case, list(case.raw))
    assert got.calls is not None
    assert json.loads(got.calls[0][1]) == {"city": 'Zürich "old town"'}
