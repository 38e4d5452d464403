"""Every tool-call format forgives the same mistakes (issue 13), through both paths.

One table of messy outputs, run against every registered wrapper of family
``tool-call`` (and ``auto``): calls written as bare JSON without the format's
markers, broken JSON, a name that is not one of the request's tools. Each
case is read by the one-shot ``parse`` and must give the expected calls, and
streamed in every split (:func:`tests.unit.test_stream_contract.stream`),
which must give the same answer.

Sources of the shapes (quoted, shortened to the weather tools):

- ISSUE13: the issue's own trial, Qwen2.5-Coder-0.5B-Instruct on BFCL under
  ``auto``: fenced ```` ```json {"name": ..., "arguments": ...} ``` ```` blocks;
- the others are cited on their rows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.test_stream_contract import Case as StreamCase
from tests.unit.test_stream_contract import expected, splits, stream
from wrappers.base import FunctionSchema, ParsedOutput, WrapperParseError
from wrappers.registry import get_wrapper, list_wrappers

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        },
    },
    {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
]

PARIS = ("get_weather", {"city": "Paris"})
CET = ("get_time", {"zone": "CET"})
CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
CALL2 = '{"name": "get_time", "arguments": {"zone": "CET"}}'

#: (id, raw output, calls it holds). Content is checked through the stream contract.
TOLERATED: list[tuple[str, str, list[tuple[str, dict[str, Any]]]]] = [
    ("bare-alone", CALL, [PARIS]),
    ("bare-after-prose", f"Let me check the weather.\n{CALL}", [PARIS]),
    # ISSUE13 (Qwen2.5-Coder-0.5B-Instruct, BFCL simple, tool_choice auto).
    ("bare-in-a-fence", f"```json\n{CALL}\n```", [PARIS]),
    ("bare-back-to-back", f"{CALL}\n{CALL2}", [PARIS, CET]),
    ("bare-comma-separated", f"{CALL}, {CALL2}", [PARIS, CET]),
    ("bare-semicolon-separated", f"{CALL}; {CALL2}", [PARIS, CET]),
    ("bare-list", f"[{CALL}, {CALL2}]", [PARIS, CET]),
    ("bare-parameters-key", '{"name": "get_weather", "parameters": {"city": "Paris"}}', [PARIS]),
    (
        "bare-openai-object",
        '{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}',
        [PARIS],
    ),
    ("broken-trailing-comma", '{"name": "get_weather", "arguments": {"city": "Paris",},}', [PARIS]),
    ("broken-single-quotes", "{'name': 'get_weather', 'arguments': {'city': 'Paris'}}", [PARIS]),
    (
        "broken-python-literals",
        "{'name': 'get_weather', 'arguments': {'city': 'Paris', 'days': None}}",
        [("get_weather", {"city": "Paris", "days": None})],
    ),
    (
        "broken-missing-final-brace",
        '{"name": "get_weather", "arguments": {"city": "Paris"}',
        [PARIS],
    ),
    (
        "broken-unescaped-newline",
        '{"name": "get_weather", "arguments": {"city": "Paris\nFrance"}}',
        [("get_weather", {"city": "Paris\nFrance"})],
    ),
    (
        "broken-truncated-last-call",
        f'{CALL}\n{CALL2}\n{{"name": "get_weather", "arguments": {{"city": "Ro',
        [PARIS, CET, ("get_weather", {"city": "Ro"})],
    ),
]

#: Outputs that must stay content in every format: JSON that is not a call to an offered tool.
NOT_CALLS: list[tuple[str, str]] = [
    ("unknown-name", '{"name": "delete_everything", "arguments": {}}'),
    ("unknown-name-among-known", f'{CALL}\n{{"name": "rm_rf", "arguments": {{}}}}'),
    ("json-that-is-no-call", 'The config is {"name": "Paris", "population": 2}.'),
    ("prose-with-braces", "Use {curly} braces; see [the docs]."),
]


def tolerant_wrappers() -> list[str]:
    names = [e.name for e in list_wrappers() if e.family == "tool-call"]
    return [*names, "auto"]


WRAPPERS = tolerant_wrappers()


def _parse(wrapper: str, raw: str) -> ParsedOutput | WrapperParseError:
    return expected(StreamCase(wrapper, raw, FUNCTIONS))


def _assert_streams_the_same(wrapper: str, raw: str) -> None:
    case = StreamCase(wrapper, raw, FUNCTIONS)
    want = expected(case)
    assert isinstance(want, ParsedOutput)
    for pieces in splits(raw, seed=len(raw)):
        got, _, parser = stream(case, pieces)
        assert parser.divergence is None, (parser.divergence, pieces)
        calls = [[c.name, c.arguments] for c in want.tool_calls]
        assert (got.content, got.reasoning, got.calls or []) == (
            want.content or "",
            want.reasoning_content or "",
            calls,
        ), pieces


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize(("raw", "calls"), [pytest.param(r, c, id=i) for i, r, c in TOLERATED])
def test_every_format_reads_calls_written_without_its_markers(
    wrapper: str, raw: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    parsed = _parse(wrapper, raw)
    assert isinstance(parsed, ParsedOutput), parsed
    assert [(c.name, json.loads(c.arguments)) for c in parsed.tool_calls] == calls
    _assert_streams_the_same(wrapper, raw)


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("raw", [pytest.param(r, id=i) for i, r in NOT_CALLS])
def test_json_that_is_not_a_call_to_an_offered_tool_stays_content(wrapper: str, raw: str) -> None:
    if "name" in raw and not getattr(get_wrapper(wrapper), "tolerates_bare_json", True):
        # Bare JSON is this format's own call: one to an unknown function is a
        # call the pipeline refuses (and retries), as with its markers.
        pytest.skip("bare JSON is this format's own call syntax")
    parsed = _parse(wrapper, raw)
    assert isinstance(parsed, ParsedOutput), parsed
    assert parsed.tool_calls == []
    assert parsed.content == raw
    _assert_streams_the_same(wrapper, raw)


def _tagged(*objects: str) -> str:
    return "".join(f"<tool_call>\n{o}\n</tool_call>\n" for o in objects).rstrip()


#: Broken JSON inside Hermes' markers, and several calls in one block.
HERMES_MESSY: list[tuple[str, str, list[tuple[str, dict[str, Any]]]]] = [
    (
        "trailing-comma",
        _tagged('{"name": "get_weather", "arguments": {"city": "Paris",}}'),
        [PARIS],
    ),
    ("single-quotes", _tagged("{'name': 'get_weather', 'arguments': {'city': 'Paris'}}"), [PARIS]),
    (
        "python-literals",
        _tagged("{'name': 'get_weather', 'arguments': {'city': 'Paris', 'days': None}}"),
        [("get_weather", {"city": "Paris", "days": None})],
    ),
    (
        "missing-final-brace",
        _tagged('{"name": "get_weather", "arguments": {"city": "Paris"}'),
        [PARIS],
    ),
    ("two-calls-in-one-block", f"<tool_call>\n{CALL}\n{CALL2}\n</tool_call>", [PARIS, CET]),
    ("a-list-in-one-block", f"<tool_call>\n[{CALL}, {CALL2}]\n</tool_call>", [PARIS, CET]),
    (
        "cut-off-after-a-complete-call",
        _tagged(CALL) + '\n<tool_call>\n{"name": "get_time", "arguments": {"zone": "CE',
        [PARIS, ("get_time", {"zone": "CE"})],
    ),
    (
        # A server that did not parse the markers leaves them in the content.
        "markers-left-in-content-then-a-call",
        "I will call <tool_call> now.\n" + _tagged(CALL),
        [PARIS],
    ),
]


@pytest.mark.parametrize(("raw", "calls"), [pytest.param(r, c, id=i) for i, r, c in HERMES_MESSY])
def test_hermes_mends_broken_json_inside_its_markers(
    raw: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    parsed = _parse("hermes", raw)
    assert isinstance(parsed, ParsedOutput), parsed
    assert [(c.name, json.loads(c.arguments)) for c in parsed.tool_calls] == calls
    _assert_streams_the_same("hermes", raw)


#: Broken JSON after other formats' markers, closed by their end marker: mended.
MARKED_MESSY: list[tuple[str, str, str]] = [
    (
        "granite",
        "single-quotes",
        "<|tool_call|>[{'name': 'get_weather', 'arguments': {'city': 'Paris'}}]<|end_of_text|>",
    ),
    (
        "nemotron",
        "trailing-commas",
        '<TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Paris",},},]</TOOLCALL>',
    ),
    (
        "nemotron",
        "python-literals",
        "<TOOLCALL>[{'name': 'get_weather', 'arguments': {'city': 'Paris', 'days': None}}]"
        "</TOOLCALL>",
    ),
    (
        "phi4",
        "missing-brace",
        '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}]<|/tool_call|>',
    ),
]


@pytest.mark.parametrize(
    ("wrapper", "raw"), [pytest.param(w, r, id=f"{w}:{i}") for w, i, r in MARKED_MESSY]
)
def test_broken_json_after_a_marker_is_mended_when_its_end_marker_came(
    wrapper: str, raw: str
) -> None:
    parsed = _parse(wrapper, raw)
    assert isinstance(parsed, ParsedOutput), parsed
    assert [c.name for c in parsed.tool_calls] == ["get_weather"]
    assert json.loads(parsed.tool_calls[0].arguments)["city"] == "Paris"
    _assert_streams_the_same(wrapper, raw)
