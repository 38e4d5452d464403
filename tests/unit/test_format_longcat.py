"""``longcat``: Meituan LongCat-Flash, Hermes calls in ``<longcat_tool_call>`` tags.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, assert_registered
from tests.unit.vllm_json_outputs import (
    ESCAPED_STRINGS,
    VARIOUS_TYPES_AND_EMPTY,
    escaped_strings_call,
    various_types_call,
)
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.longcat import LongCatWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "longcat"

# Sources of the real outputs below, and of the prompt layout.
VLLM = "https://github.com/vllm-project/vllm/blob/41c5903d049b80b83a6e570f52f0f55e31316e49/tests/tool_parsers/test_longcat_tool_parser.py"
LAYOUT = "https://longcatorg.pages.dev/docs/chat-template.html (LongCat-Flash prompt patterns)"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    {"name": "refresh", "parameters": {"type": "object", "properties": {}}},
    {"name": "test_function", "parameters": {"type": "object", "properties": {}}},
]

TOKYO: Call = ("get_weather", {"city": "Tokyo"})
TOKYO_CALL = (
    '<longcat_tool_call>{"name": "get_weather", "arguments": {"city": "Tokyo"}}</longcat_tool_call>'
)

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call_output.
    ("vllm-single", TOKYO_CALL, None, [TOKYO]),
    # VLLM parallel_tool_calls_output.
    (
        "vllm-parallel",
        TOKYO_CALL + '\n<longcat_tool_call>{"name": "get_time", "arguments": {"timezone": '
        '"Asia/Tokyo"}}</longcat_tool_call>',
        None,
        [TOKYO, ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    # VLLM various_data_types_output.
    (
        "vllm-various-types",
        "<longcat_tool_call>" + various_types_call() + "</longcat_tool_call>",
        None,
        [("test_function", VARIOUS_TYPES_AND_EMPTY)],
    ),
    # VLLM empty_arguments_output.
    (
        "vllm-empty-arguments",
        '<longcat_tool_call>{"name": "refresh", "arguments": {}}</longcat_tool_call>',
        None,
        [("refresh", {})],
    ),
    # VLLM surrounding_text_output.
    (
        "vllm-surrounding-text",
        f"Let me check the weather for you.\n{TOKYO_CALL}\nHere is the result.",
        "Let me check the weather for you.\n\nHere is the result.",
        [TOKYO],
    ),
    # VLLM escaped_strings_output.
    (
        "vllm-escaped-strings",
        "<longcat_tool_call>" + escaped_strings_call() + "</longcat_tool_call>",
        None,
        [("test_function", ESCAPED_STRINGS)],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "newlines-inside-the-tags-and-end-token",
        '<longcat_tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo",}}\n'
        "</longcat_tool_call></longcat_s>",
        None,
        [TOKYO],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM no_tool_calls_output.
    ("vllm-plain", "This is a regular response without any tool calls."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM malformed_input_outputs.
    ("vllm-cut-off", '<longcat_tool_call>{"name": "func", "arguments": {'),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Tokyo?"},
    *call_turns([("get_weather", {"city": "Tokyo"})], ["sunny"]),
]


def test_renders_longcats_rounds_after_the_tools() -> None:
    text = LongCatWrapper().render(MESSAGES, FUNCTIONS[:1]).text
    assert text.startswith(
        '# Tools\nYou have access to the following tools:\n\n{"type": "function", "function": '
        '{"name": "get_weather"'
    )
    # LAYOUT: SYSTEM:{system_prompt} [Round 0] USER:{q} ASSISTANT:{r}</longcat_s> [Round 1] ...
    assert text.endswith(
        "\n\n## Messages\nSYSTEM:Be brief. [Round 0] USER:Weather in Tokyo? ASSISTANT:"
        f"{TOKYO_CALL}</longcat_s> [Round 1] USER:<longcat_tool_response>sunny"
        "</longcat_tool_response> ASSISTANT:"
    )


def test_without_tools_or_system_the_first_round_opens_the_prompt() -> None:
    # LAYOUT's first turn: [Round 0] USER:{query} ASSISTANT:
    text = LongCatWrapper().render([{"role": "user", "content": "Hi"}], []).text
    assert text == "[Round 0] USER:Hi ASSISTANT:"


def test_the_grammar_is_longcats_blocks() -> None:
    text = LongCatWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    # Flush against the tags, as the model writes them (TOKYO_CALL, vLLM's tests).
    one = TOKYO_CALL
    assert grammar.matches(one)
    assert grammar.matches(f"{one}\n{one}")
    assert not grammar.matches(one.replace("longcat_", ""))


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(TOKYO_CALL) == NAME
    assert wrapper_for_template("within <longcat_tool_call></longcat_tool_call> XML tags") == NAME


def test_registered() -> None:
    assert_registered(NAME, LongCatWrapper, ("longcat-flash", "longcat-flash-chat"))
