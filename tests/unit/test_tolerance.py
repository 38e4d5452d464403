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


_DS_BEGIN = "<\uff5ctool\u2581calls\u2581begin\uff5c><\uff5ctool\u2581call\u2581begin\uff5c>"
_DS_CALL = "<\uff5ctool\u2581call\u2581begin\uff5c>"
_DS_SEP = "<\uff5ctool\u2581sep\uff5c>"
_DS_CALL_END = "<\uff5ctool\u2581call\u2581end\uff5c>"
_DS_END = "<\uff5ctool\u2581calls\u2581end\uff5c>"
_KIMI_CALL = (
    "<|tool_call_begin|>functions.{name}:{n}<|tool_call_argument_begin|>{args}<|tool_call_end|>"
)

#: How each format writes calls: (wrapper, [(name, arguments JSON text)] -> raw output).
#: The layouts are the formats' own (their test modules cite the sources).
CALL_LAYOUTS: list[tuple[str, Any]] = [
    (
        "mistral",
        lambda calls: (
            "[TOOL_CALLS]["
            + ", ".join(f'{{"name": "{n}", "arguments": {a}}}' for n, a in calls)
            + "]</s>"
        ),
    ),
    ("mistral-v11", lambda calls: "".join(f"[TOOL_CALLS]{n}[ARGS]{a}" for n, a in calls)),
    (
        "kimi-k2",
        lambda calls: (
            "<|tool_calls_section_begin|>"
            + "".join(_KIMI_CALL.format(name=n, n=i, args=a) for i, (n, a) in enumerate(calls))
            + "<|tool_calls_section_end|>"
        ),
    ),
    (
        "deepseek",
        lambda calls: (
            _DS_BEGIN
            + _DS_CALL.join(
                f"function{_DS_SEP}{n}\n```json\n{a}\n```{_DS_CALL_END}" for n, a in calls
            )
            + _DS_END
        ),
    ),
    (
        "deepseek-v3.1",
        lambda calls: (
            _DS_BEGIN + _DS_CALL.join(f"{n}{_DS_SEP}{a}{_DS_CALL_END}" for n, a in calls) + _DS_END
        ),
    ),
    (
        "llama3-json",
        lambda calls: (
            "<|python_tag|>"
            + "; ".join(f'{{"name": "{n}", "parameters": {a}}}' for n, a in calls)
            + "<|eom_id|>"
        ),
    ),
    (
        "functionary-v3.1",
        lambda calls: "".join(f"<function={n}>{a}</function>" for n, a in calls) + "<|eom_id|>",
    ),
    ("functionary-v3", lambda calls: "".join(f">>>{n}\n{a}" for n, a in calls)[3:] + "<|eot_id|>"),
]

#: Broken arguments inside the markers (issue 13's classes): all read as Paris.
BROKEN_ARGUMENTS: list[tuple[str, str]] = [
    ("trailing-comma", '{"city": "Paris",}'),
    ("single-quotes", "{'city': 'Paris'}"),
    ("python-literals", "{'city': 'Paris', 'days': None}"),
    ("missing-final-brace", '{"city": "Paris"'),
]

MARKED_MESSY += [
    (wrapper, f"{kind}", layout([("get_weather", arguments)]))
    for wrapper, layout in CALL_LAYOUTS
    for kind, arguments in BROKEN_ARGUMENTS
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


# ---- outputs quoted from public bug reports, read by every format ----

REPORT_FUNCTIONS: list[FunctionSchema] = [
    {
        "name": name,
        "parameters": {"type": "object", "properties": {k: {"type": "string"} for k in keys}},
    }
    for name, keys in (
        ("calculator", ("expr",)),
        ("write", ("content", "filePath")),
        ("fetch_file_content", ("filePath",)),
        ("WebSearch", ("query",)),
        ("compile_c_source_and_run_program", ("source",)),
    )
]

#: (id, source, raw output, calls). Each output is the model's text as the report quotes it.
PUBLIC_REPORTS: list[tuple[str, str, str, list[tuple[str, dict[str, Any]]]]] = [
    (
        "ollama-12174-bare-json",
        # qwen2.5-coder:14b on Ollama 0.20.7: the call left in content, tool_calls null.
        "https://github.com/ollama/ollama/issues/12174",
        '{"name": "calculator", "arguments": {"expr": "17 * 23"}}',
        [("calculator", {"expr": "17 * 23"})],
    ),
    (
        "opencode-10402-escaped-newline",
        # qwen2.5-coder via Ollama in OpenCode.
        "https://github.com/anomalyco/opencode/issues/10402",
        '{"name": "write", "arguments": {"content": "hello\\n", "filePath": '
        '"/C:/Code/SimpleTester/todo.md"}}',
        [("write", {"content": "hello\n", "filePath": "/C:/Code/SimpleTester/todo.md"})],
    ),
    (
        "opilot-149-multiline",
        # qwen2.5-coder:7b via Ollama 0.32.3 in VS Code (comment of 2026-08-07).
        "https://github.com/selfagency/opilot/issues/149",
        '{\n"name": "fetch_file_content",\n"arguments": {\n'
        '"filePath": "/my/code/test-project/AGENTS.md"\n}\n}',
        [("fetch_file_content", {"filePath": "/my/code/test-project/AGENTS.md"})],
    ),
    (
        "openclaude-433-pretty-printed",
        # qwen2.5-coder:14b via Ollama's OpenAI endpoint.
        "https://github.com/Gitlawb/openclaude/issues/433",
        '{\n  "name": "WebSearch",\n  "arguments": {\n    "query": "repository structure"\n  }\n}',
        [("WebSearch", {"query": "repository structure"})],
    ),
    (
        "llama.cpp-13825-tool-calls-envelope",
        # Qwen3 under llama-server's Hermes 2 Pro parser; the source argument shortened.
        "https://github.com/ggml-org/llama.cpp/issues/13825",
        '<think>\n\n</think>\n\n{\n  "tool_calls": [\n    {\n      "name": '
        '"compile_c_source_and_run_program",\n      "arguments": {\n        "source": '
        '"#include <stdio.h>"\n      }\n    }\n  ]\n}',
        [("compile_c_source_and_run_program", {"source": "#include <stdio.h>"})],
    ),
]

#: Answers that show JSON and are no call (llama.cpp's Hermes parser took them for one).
PUBLIC_NOT_CALLS: list[tuple[str, str, str]] = [
    (
        "llama.cpp-16710-json-in-code",
        "https://github.com/ggml-org/llama.cpp/issues/16710",
        'const jsonStr = \'{"name": "Bingo", "age": 30}\';',
    ),
]


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize(
    ("raw", "calls"), [pytest.param(r, c, id=i) for i, _, r, c in PUBLIC_REPORTS]
)
def test_every_format_reads_the_calls_public_bug_reports_quote(
    wrapper: str, raw: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    case = StreamCase(wrapper, raw, REPORT_FUNCTIONS)
    parsed = expected(case)
    assert isinstance(parsed, ParsedOutput), parsed
    assert [(c.name, json.loads(c.arguments)) for c in parsed.tool_calls] == calls
    for pieces in splits(raw, seed=len(raw)):
        got, _, parser = stream(case, pieces)
        assert parser.divergence is None, (parser.divergence, pieces)
        assert [[c.name, c.arguments] for c in parsed.tool_calls] == (got.calls or [])


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("raw", [pytest.param(r, id=i) for i, _, r in PUBLIC_NOT_CALLS])
def test_json_in_an_answer_from_a_public_report_stays_content(wrapper: str, raw: str) -> None:
    parsed = expected(StreamCase(wrapper, raw, REPORT_FUNCTIONS))
    assert isinstance(parsed, ParsedOutput), parsed
    assert parsed.tool_calls == [] and parsed.content == raw


@pytest.mark.parametrize(("wrapper", "layout"), [pytest.param(w, f, id=w) for w, f in CALL_LAYOUTS])
def test_a_call_cut_off_after_complete_ones_leaves_them_standing(wrapper: str, layout: Any) -> None:
    """The complete calls stand; the cut one keeps what was written of it (streaming sent it)."""
    whole = layout([("get_weather", '{"city": "Paris"}'), ("get_time", '{"zone": "CET"}')])
    raw = whole[: whole.index("CET") + 2]
    parsed = _parse(wrapper, raw)
    assert isinstance(parsed, ParsedOutput), parsed
    assert [(c.name, json.loads(c.arguments)) for c in parsed.tool_calls] == [
        PARIS,
        ("get_time", {"zone": "CE"}),
    ]
    _assert_streams_the_same(wrapper, raw)


@pytest.mark.parametrize(("wrapper", "layout"), [pytest.param(w, f, id=w) for w, f in CALL_LAYOUTS])
def test_one_call_cut_off_mid_way_is_unreadable_so_the_pipeline_retries(
    wrapper: str, layout: Any
) -> None:
    whole = layout([("get_weather", '{"city": "Paris"}')])
    parsed = _parse(wrapper, whole[: whole.index("Paris") + 3])
    assert isinstance(parsed, WrapperParseError), parsed
