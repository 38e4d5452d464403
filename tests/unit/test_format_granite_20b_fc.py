"""``granite-20b-fc``: IBM granite-20b-functioncalling, ``<function_call> {...}`` per call.

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
from wrappers.granite_20b_fc import Granite20bFCWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "granite-20b-fc"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/41c5903d049b80b83a6e570f52f0f55e31316e49/tests/tool_parsers/test_granite_20b_fc_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/1a7f9e3b75fcf32628278cc578b863d2753ebe15/examples/tool_chat_template_granite_20b_fc.jinja"

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

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call_output.
    (
        "vllm-single",
        '<function_call> {"name": "get_weather", "arguments": {"city": "Tokyo"}}',
        None,
        [TOKYO],
    ),
    # VLLM parallel_tool_calls_output.
    (
        "vllm-parallel",
        '<function_call> {"name": "get_weather", "arguments": {"city": "Tokyo"}}\n'
        '<function_call> {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}',
        None,
        [TOKYO, ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    # VLLM various_data_types_output.
    (
        "vllm-various-types",
        "<function_call> " + various_types_call(),
        None,
        [("test_function", VARIOUS_TYPES_AND_EMPTY)],
    ),
    # VLLM empty_arguments_output.
    (
        "vllm-empty-arguments",
        '<function_call> {"name": "refresh", "arguments": {}}',
        None,
        [("refresh", {})],
    ),
    # VLLM surrounding_text_output.
    (
        "vllm-surrounding-text",
        "Let me check the weather for you.\n"
        '<function_call> {"name": "get_weather", "arguments": {"city": "Tokyo"}}',
        "Let me check the weather for you.",
        [TOKYO],
    ),
    # VLLM escaped_strings_output.
    (
        "vllm-escaped-strings",
        "<function_call> " + escaped_strings_call(),
        None,
        [("test_function", ESCAPED_STRINGS)],
    ),
    # VLLM malformed_input_outputs: a list after the marker (vLLM drops it; fcproxy reads it).
    (
        "vllm-list-after-the-marker",
        '<function_call> [{"name": "refresh", "arguments": {}}]',
        None,
        [("refresh", {})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "no-function-is-not-a-call",
        '<function_call> {"name": "no_function", "arguments": {}}',
        None,
        [],
    ),
    (
        "trailing-comma-and-end-token",
        '<function_call> {"name": "get_weather", "arguments": {"city": "Tokyo",}}<|endoftext|>',
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
    ("vllm-cut-off", '<function_call> {"name": "func", "arguments": {'),
    ("vllm-name-not-a-string", '<function_call> {"name": 123}'),
]

MESSAGES = [
    {"role": "user", "content": "Weather in Tokyo?"},
    *call_turns(
        [("get_weather", {"city": "Tokyo"}), ("get_weather", {"city": "Paris"})], ["sunny", "rain"]
    ),
]
SYSTEM_LINE = (
    "\nSYSTEM: You are a helpful assistant with access to the following function calls. Your "
    "task is to understand the given conversation with function calls and responses and generate "
    "natural language response as the ASSISTANT to continue the conversation. You may use the "
    "following function calls to understand how to respond to the user query.\n"
)
# TEMPLATE rendered with transformers' Jinja settings (bos_token "").
GOLDEN = (
    SYSTEM_LINE + '<|function_call_library|>{"name": "get_weather", "description": "Get the '
    'weather, "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}'
    "If none of the functions are relevant or the given question lacks the parameters required "
    'by the function, please output \\"<function_call> {\\"name\\": \\"no_function\\", '
    '\\"arguments\\": {}}\\".\n\n\n\nUSER: Weather in Tokyo?\n\nASSISTANT:\n'
    '<function_call> {"name": "get_weather", "arguments": {"city": "Tokyo"}}\n'
    '<function_call> {"name": "get_weather", "arguments": {"city": "Paris"}}\n<|endoftext|>\n'
    "<function_response> sunny<function_response> rain\nASSISTANT: \n"
)


def test_renders_the_chat_template_layout() -> None:
    assert Granite20bFCWrapper().render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_renders_plain_turns_as_the_template_does() -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
    ]
    # TEMPLATE rendered without tools.
    assert Granite20bFCWrapper().render(messages, []).text == (
        SYSTEM_LINE + "\n\n\n\nUSER: Hi\n\nASSISTANT: Hello <|endoftext|>\n\nUSER: Bye\n"
        "\nASSISTANT: \n"
    )


def test_the_grammar_allows_parallel_calls() -> None:
    text = Granite20bFCWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    one = '<function_call> {"name": "get_weather", "arguments": {"city": "Tokyo"}}'
    assert grammar.matches(one)
    assert grammar.matches(f"{one}\n{one}")
    assert not grammar.matches('<function_call> {"name": "get_time", "arguments": {}}')


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    # OLMo 3's <function_calls> is not this format's marker.
    assert (
        detect_format("<function_calls>\nget_weather(city='Tokyo')\n</function_calls>") == "olmo3"
    )
    assert wrapper_for_template("{{ 'SYSTEM: ' + sys_prompt }}<|function_call_library|>") == NAME


def test_registered() -> None:
    assert_registered(NAME, Granite20bFCWrapper, ("granite-20b-functioncalling",))
