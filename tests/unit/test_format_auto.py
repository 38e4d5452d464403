"""``auto``: generic-json's prompt; reads the calls of any registered format (wrappers/detection.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from proxy.parse_command import ParseCommandError, parse_raw_output
from tests.unit.format_checks import (
    SAMPLE_PARAMETERS,
    Call,
    Sample,
    assert_reads,
    golden,
    read,
    rendered,
    samples,
)
from tests.unit.tool_call_conversation import VARIANTS
from wrappers import registry
from wrappers.auto import AutoWrapper
from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.detection import detect_format, marked_formats
from wrappers.registry import WrapperEntry, find_entry, get_wrapper
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

NAME = "auto"

# Sources of the real outputs below (as cited in each format's own tests).
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/1eeb523c3e0c7ffbd59469f5463dcbdecba3535e/tests/test-chat.cpp"
VLLM = "https://github.com/vllm-project/vllm/tree/002d5731d3ee99b92d80b103be81c212245f1acf/tests/tool_parsers"
META = "https://github.com/meta-llama/llama-models/tree/a9c89c471f793423afd4cc3ca8671d6e56fe64cb/models"
SGLANG = "https://github.com/sgl-project/sglang/blob/03400a9e4d955eff2606cfe621c83a710c16cc97/test/srt/test_function_call_parser.py"

SPECIAL: Call = ("special_function", {"arg1": 1})

# (id, raw output, format detect_format names, content, calls)
REAL_OUTPUTS: list[tuple[str, str, str, str | None, list[Call]]] = [
    # LLAMA_CPP lines 821-826 (Hermes 2 Pro / Qwen 2.5).
    (
        "hermes",
        "Hello, world!\nWhat's up?<tool_call>\n"
        '{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>',
        "hermes",
        "Hello, world!\nWhat's up?",
        [SPECIAL],
    ),
    # LLAMA_CPP line 746 (Mistral Nemo).
    (
        "mistral-nemo",
        '[TOOL_CALLS][{"name": "special_function", "arguments": {"arg1": 1}, "id": "123456789"}]',
        "mistral",
        None,
        [SPECIAL],
    ),
    # VLLM test_mistral_tool_parser.py (Mistral Small 3.2, v11).
    (
        "mistral-v11",
        '[TOOL_CALLS]add{"a": 3.5, "b": 4}[TOOL_CALLS]multiply{"a": 3, "b": 6}',
        "mistral",
        None,
        [("add", {"a": 3.5, "b": 4}), ("multiply", {"a": 3, "b": 6})],
    ),
    # META llama3_1/prompt_format.md (Llama 3.1 JSON tool call).
    (
        "llama-3.1-python-tag",
        '<|python_tag|>{\n    "type": "function",\n    "name": "trending_songs",\n'
        '    "parameters": {\n        "n": "10",\n        "genre": "all"\n    }\n}<|eom_id|>',
        "llama3-json",
        None,
        [("trending_songs", {"n": "10", "genre": "all"})],
    ),
    # LLAMA_CPP line 1118 (Llama 3.x without the tag: the JSON fallback reads it).
    (
        "llama-3.x-bare-json",
        '{"name": "special_function", "parameters": {"arg1": 1}}',
        "generic-json",
        None,
        [SPECIAL],
    ),
    # META llama3_2/text_prompt_format.md (Llama 3.2 pythonic, behind the tag).
    (
        "llama-3.2-python-tag-pythonic",
        '<|python_tag|>[get_weather(city="San Francisco", metric="celsius")]<|eot_id|>',
        "llama3-json",
        None,
        [("get_weather", {"city": "San Francisco", "metric": "celsius"})],
    ),
    # META llama4/prompt_format.md (Llama 4 pythonic).
    (
        "llama-4-pythonic",
        '[get_weather(city="San Francisco"), get_weather(city="Seattle")]<|eot|>',
        "pythonic",
        None,
        [("get_weather", {"city": "San Francisco"}), ("get_weather", {"city": "Seattle"})],
    ),
    # SGLANG TestPythonicDetector (Llama 4's <|python_start|> markers, prose around).
    (
        "llama-4-python-start",
        "User wants to get the weather in Mars. <|python_start|>[get_weather(location='Mars', "
        "unit='celsius')]<|python_end|> In this way we will get the weather in Mars.",
        "pythonic",
        "User wants to get the weather in Mars.  In this way we will get the weather in Mars.",
        [("get_weather", {"location": "Mars", "unit": "celsius"})],
    ),
    # LLAMA_CPP lines 1153-1159 (Functionary v3.1).
    (
        "functionary-v3.1",
        '<function=special_function>{"arg1": 1}</function>',
        "functionary-v3.1",
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP lines 1178-1190 (Functionary v3.2; not prefilled here, so the marker shows).
    (
        "functionary-v3.2",
        '>>>all\nHello, world!\nnono\nWhat\'s up?>>>special_function\n{"arg1": 1}\n',
        "functionary-v3",
        "Hello, world!\nnono\nWhat's up?",
        [SPECIAL],
    ),
    # LLAMA_CPP lines 724-735 (llama.cpp's generic JSON format).
    (
        "llama.cpp-generic",
        '{\n  "tool_calls": [\n    {\n      "name": "special_function",\n'
        '      "arguments": {\n        "arg1": 1\n      }\n    }\n  ]\n}',
        "generic-json",
        None,
        [SPECIAL],
    ),
]

MESSY_OUTPUTS: list[Sample] = [
    (
        "asked-for-json-answered-json-in-a-fence",
        'Sure:\n```json\n{"name": "get_weather", "arguments": {"city": "Paris",}}\n```',
        "Sure:",
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "hermes-with-end-of-turn",
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "llama-end-tokens-of-another-format",
        '{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "markers-in-reasoning-are-ignored",
        '<think>Maybe <tool_call>{"name": "get_forecast", "arguments": {}}</tool_call></think>'
        "It is sunny.",
        "It is sunny.",
        [],
    ),
    (
        "unknown-function-is-still-returned",
        '[TOOL_CALLS]book_flight[ARGS]{"to": "Rome"}',
        None,
        [("book_flight", {"to": "Rome"})],
    ),
]

NO_CALLS: list[str] = [
    "It is sunny in Paris.",
    "Use a list: [1, 2, 3].",
    "In Python:\n>>> print(1)\n1",
    'A user record: {"name": "Alice", "age": 3}',
]

BROKEN: list[tuple[str, str]] = [
    # A marker, then nothing readable: the format's error, not an answer made of the text.
    ("hermes-cut-off", '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par'),
    ("mistral-not-json", "[TOOL_CALLS] not json at all"),
    ("pythonic-cut-off", '[get_weather(city="Paris"'),
    ("json-arguments-not-an-object", '{"name": "get_weather", "arguments": [1]}'),
]


@pytest.mark.parametrize(
    SAMPLE_PARAMETERS,
    samples([(id_, raw, content, calls) for id_, raw, _, content, calls in REAL_OUTPUTS], [NAME]),
)
def test_reads_every_formats_real_outputs(
    name: str, raw: str, content: str | None, calls: list[Call]
) -> None:
    assert_reads(name, raw, content, calls)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [pytest.param(raw, name, id=id_) for id_, raw, name, _, _ in REAL_OUTPUTS],
)
def test_detects_the_format_from_its_markers(raw: str, expected: str) -> None:
    assert detect_format(raw) == expected


@pytest.mark.parametrize("raw", NO_CALLS)
def test_an_answer_without_a_call_is_content(raw: str) -> None:
    assert (read(NAME, raw).content, read(NAME, raw).calls) == (raw, [])
    assert detect_format(raw) is None


def test_detection_ignores_reasoning() -> None:
    assert detect_format("<think>[TOOL_CALLS]</think>No call.") is None


def test_tries_the_most_specific_markers_first() -> None:
    markers = [f.wrapper.call_start for f in marked_formats()]
    assert markers == sorted(markers, key=len, reverse=True)
    names = [f.name for f in marked_formats()]
    # <|python_tag|> before pythonic's "[": the tag's JSON or list belongs to Llama 3.
    assert names.index("llama3-json") < names.index("pythonic")
    assert NAME not in names and "generic-json" not in names


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_like_generic_json(variant: str) -> None:
    assert rendered(NAME, variant) == golden("generic-json", variant)


def test_is_registered_as_a_fallback() -> None:
    entry = find_entry(NAME)
    assert entry is not None and entry.family == "fallback"
    wrapper = get_wrapper(NAME)
    assert isinstance(wrapper, AutoWrapper)
    assert wrapper.supports_parallel_calls


# ---- formats registered elsewhere are picked up ----


class BangWrapper(ToolFormatWrapper):
    """A made-up format another module might register: ``!!call name {json}``."""

    call_start: ClassVar[str] = "!!call "

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        return ""

    def extract_calls(self, text: str) -> Extraction:
        match = re.search(r"!!call (\w+) (\{.*\})", text)
        if match is None:
            raise WrapperParseError("unreadable !!call", text)
        return Extraction(text[: match.start()], [ExtractedCall(match[1], json.loads(match[2]))])


class StrictToolCallWrapper(BangWrapper):
    """Claims ``<tool_call>`` too (tried before Hermes: a longer marker) but reads none."""

    call_start: ClassVar[str] = "<tool_call>\n"

    def extract_calls(self, text: str) -> Extraction:
        raise WrapperParseError("not my kind of <tool_call>", text)


@pytest.fixture
def extra_formats(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    table = dict(registry._entries())
    for name, factory in (("bang", BangWrapper), ("strict-tool-call", StrictToolCallWrapper)):
        table[name] = WrapperEntry(name=name, factory=factory, family="tool-call")
    monkeypatch.setattr(registry, "_entries", lambda: table)
    yield


@pytest.mark.usefixtures("extra_formats")
def test_formats_registered_by_other_modules_are_read_without_auto_knowing_them() -> None:
    assert detect_format('!!call get_weather {"city": "Paris"}') == "bang"
    result = read(NAME, 'Looking.!!call get_weather {"city": "Paris"}')
    assert (result.content, result.calls) == ("Looking.", [("get_weather", {"city": "Paris"})])


@pytest.mark.usefixtures("extra_formats")
def test_a_format_that_cannot_read_its_marker_lets_the_next_one_try() -> None:
    order = [f.name for f in marked_formats()]
    assert order.index("strict-tool-call") < order.index("hermes")
    raw = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    assert read(NAME, raw).calls == [("get_weather", {"city": "Paris"})]
    # Detection names the format that read the call, not the first to claim the marker.
    assert detect_format(raw) == "hermes"


# ---- `fcproxy parse --wrapper auto` ----


def test_fcproxy_parse_with_auto_reads_any_format() -> None:
    message = parse_raw_output(
        '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}', wrapper_name="auto", functions_file=None
    )
    assert message["function_call"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}


def test_fcproxy_parse_with_auto_drops_calls_to_functions_not_offered(tmp_path: Path) -> None:
    functions = tmp_path / "tools.json"
    functions.write_text(json.dumps([{"name": "get_weather", "parameters": {"type": "object"}}]))
    message = parse_raw_output(
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}',
        wrapper_name="auto",
        functions_file=functions,
    )
    assert message["function_call"]["name"] == "get_weather"
    with pytest.raises(ParseCommandError, match="not among the request's functions"):
        parse_raw_output('[book_flight(to="Rome")]', wrapper_name="auto", functions_file=functions)


def test_auto_hands_a_recognised_output_to_that_formats_own_parser() -> None:
    # Qwen3-Coder writes every value as text; its own parser types them by the
    # request's schema, which auto's marker scan alone could not.
    from wrappers import get_wrapper

    functions = [
        {
            "name": "get_weather",
            "description": "",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            },
        }
    ]
    raw = (
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>"
    )
    [call] = get_wrapper("auto").parse(raw, functions).tool_calls
    assert json.loads(call.arguments) == {"city": "Paris", "days": 3}
