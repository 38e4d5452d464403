"""``qwen2.5-coder``: Qwen2.5-Coder's Hermes calls between ``<tools>`` tags.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, assert_registered
from tests.unit.vllm_json_outputs import VARIOUS_TYPES
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.qwen25_coder import Qwen25CoderWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "qwen2.5-coder"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/7ad41b8db3e25ffd9beeddf52737bc4f2da1e64c/tests/tool_parsers/test_qwen2_5_coder_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/b2a38336702b02ee92b13f1d51adcb0d5bdaeac3/examples/tool_chat_template_qwen2_5_coder.jinja"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
    {"name": "refresh", "parameters": {"type": "object", "properties": {}}},
    {"name": "test_function", "parameters": {"type": "object", "properties": {}}},
    {"name": "foo", "parameters": {"type": "object", "properties": {}}},
    {"name": "f", "parameters": {"type": "object", "properties": {}}},
]

TOKYO: Call = ("get_weather", {"city": "Tokyo"})
TOKYO_BLOCK = '<tools>{"name": "get_weather", "arguments": {"city": "Tokyo"}}</tools>'

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call_output.
    ("vllm-single", TOKYO_BLOCK, None, [TOKYO]),
    # VLLM parallel_tool_calls_output.
    (
        "vllm-parallel",
        TOKYO_BLOCK
        + '<tools>{"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}</tools>',
        None,
        [TOKYO, ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    # VLLM various_data_types_output.
    (
        "vllm-various-types",
        '<tools>{"name": "test_function", "arguments": {"string_field": "hello", "int_field": 42, '
        '"float_field": 3.14, "bool_field": true, "null_field": null, "array_field": ["a", "b", '
        '"c"], "object_field": {"nested": "value"}}}</tools>',
        None,
        [("test_function", VARIOUS_TYPES)],
    ),
    # VLLM empty_arguments_output.
    (
        "vllm-empty-arguments",
        '<tools>{"name": "refresh", "arguments": {}}</tools>',
        None,
        [("refresh", {})],
    ),
    # VLLM surrounding_text_output.
    (
        "vllm-surrounding-text",
        f"Let me check the weather for you.\n\n{TOKYO_BLOCK}\n\nI will get that information.",
        "Let me check the weather for you.\n\n\n\nI will get that information.",
        [TOKYO],
    ),
    # VLLM test_streaming_partial_start_tag_does_not_leak.
    (
        "vllm-text-first",
        'Hello <tools>{"name": "f", "arguments": {}}</tools>',
        "Hello",
        [("f", {})],
    ),
    # VLLM test_streaming_trailing_text_in_same_delta_as_close_tag.
    (
        "vllm-text-after",
        '<tools>{"name": "foo", "arguments": {"a": 1}}</tools> Done!',
        "Done!",
        [("foo", {"a": 1})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # TEMPLATE's layout, with a trailing comma.
    (
        "template-layout-trailing-comma",
        '<tools>\n{"name": "get_weather", "arguments": {"city": "Tokyo",}}\n</tools>\n<|im_end|>',
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
    ("vllm-no-close", '<tools>{"name": "no_close",'),
]

MESSAGES = [
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns(
        [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})],
        ["sunny", "rain"],
        content="",
    ),
]
# TEMPLATE rendered with transformers' Jinja settings.
GOLDEN = (
    "<|im_start|>system\nYou are Qwen, a helpful assistant.\n\nAvailable tools:\n"
    '{"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", '
    '"properties": {"city": {"type": "string"}}}}\n\nWhen you need to call a tool, use <tools> '
    "tags like these examples:\n\nUser: What's the weather in Tokyo?\nAssistant: <tools>\n"
    '{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tools>\n\nUser: How about in '
    'Paris and Berlin?\nAssistant: <tools>\n{"name": "get_weather", "arguments": {"city": '
    '"Paris"}}\n</tools>\n<tools>\n{"name": "get_weather", "arguments": {"city": "Berlin"}}\n'
    "</tools><|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"
    '<tools>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tools>\n<tools>\n'
    '{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tools>\n<|im_end|>\n'
    "<|im_start|>tool\n<tool_response>\nsunny\n</tool_response>\n<tool_response>\nrain\n"
    "</tool_response>\n<|im_end|>\n<|im_start|>assistant\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert Qwen25CoderWrapper().render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_the_grammar_is_tools_blocks() -> None:
    text = Qwen25CoderWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    one = '<tools>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tools>'
    assert Grammar(text).matches(f"{one}\n{one}")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(TOKYO_BLOCK) == NAME
    assert (
        wrapper_for_template('{{- "\\nWhen you need to call a tool, use <tools> tags" }}') == NAME
    )


def test_registered() -> None:
    assert_registered(NAME, Qwen25CoderWrapper, ("qwen25-coder",))
