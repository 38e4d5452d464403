"""``nemotron``: NVIDIA Nemotron Nano v2, ``<TOOLCALL>[...]</TOOLCALL>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.nemotron import NemotronWrapper
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "nemotron"

# Source of the real outputs below (and TEMPLATE, of the rendering).
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/b14517a6e870cd45e0b1f9d33547739afd42649b/tests/chat-parsers/test-nemotron-v2.cpp"
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/5801ed3557edfdfcd7d14e0821bf8adefdf1aaf1/models/templates/NVIDIA-Nemotron-Nano-v2.jinja"
VLLM_NEMOTRON_JSON = "https://github.com/vllm-project/vllm/blob/32367d45e3ae37d03e9c73598406bc4e6e62fba2/tests/tool_parsers/test_nemotron_json_tool_parser.py"
VLLM_NANO_V2 = "https://github.com/vllm-project/vllm/blob/644451fdcaa660e647fb44a8b6f412aff8dea408/tests/tool_parsers/test_nemotron_nano_v2_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "special_function",
        "parameters": {"type": "object", "properties": {"arg1": {"type": "integer"}}},
    },
    {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
]

SPECIAL: Call = ("special_function", {"arg1": 1})
CALL = '<TOOLCALL>[{"name": "special_function", "arguments": {"arg1": 1}}]</TOOLCALL>'

REAL_OUTPUTS: list[Case] = [
    # LLAMA_CPP "Test parsing tool calls".
    ("llama.cpp-call", CALL, None, [SPECIAL]),
    # LLAMA_CPP "Test tool calls with extra content".
    (
        "llama.cpp-call-then-content",
        CALL + "Hello, world!\nWhat's up?",
        "Hello, world!\nWhat's up?",
        [SPECIAL],
    ),
    (
        "parallel-in-one-list",
        '<TOOLCALL>[{"name": "special_function", "arguments": {"arg1": 1}}, '
        '{"name": "get_weather", "arguments": {"city": "Paris"}}]</TOOLCALL>',
        None,
        [SPECIAL, ("get_weather", {"city": "Paris"})],
    ),
    # VLLM_NEMOTRON_JSON test_extract_tool_calls_from_nemotron_array: Llama-3.3-Nemotron-Super
    # (vLLM's nemotron_json parser) writes the same <TOOLCALL> list.
    (
        "vllm-nemotron-json-content-first",
        'Let me check that.<TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Tokyo", '
        '"unit": "celsius"}}]</TOOLCALL>',
        "Let me check that.",
        [("get_weather", {"city": "Tokyo", "unit": "celsius"})],
    ),
    # VLLM_NANO_V2 test_extract_tool_calls_wraps_single_object: an object without the list.
    (
        "vllm-nano-v2-single-object",
        '<TOOLCALL>{"name": "lookup", "arguments": {"query": "vllm"}}</TOOLCALL>',
        None,
        [("lookup", {"query": "vllm"})],
    ),
    # VLLM_NANO_V2 test_extract_tool_calls_supports_string_arguments: arguments as JSON text.
    (
        "vllm-nano-v2-string-arguments",
        '<TOOLCALL>[{"name": "run_query", "arguments": "{\\"sql\\": \\"select 1\\"}"}]</TOOLCALL>',
        None,
        [("run_query", {"sql": "select 1"})],
    ),
    # VLLM_NANO_V2 test_streaming_handles_nested_json_arguments.
    (
        "vllm-nano-v2-nested-arguments",
        '<TOOLCALL>[{"name": "search", "arguments": {"filters": {"city": "Tokyo"}, '
        '"items": [{"name": "rain", "value": true}]}}]</TOOLCALL>',
        None,
        [("search", {"filters": {"city": "Tokyo"}, "items": [{"name": "rain", "value": True}]})],
    ),
    # VLLM_NANO_V2 test_streaming_handles_multiple_tool_calls.
    (
        "vllm-nano-v2-parallel",
        '<TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Tokyo"}}, '
        '{"name": "lookup_timezone", "arguments": {"city": "Tokyo"}}]</TOOLCALL>',
        None,
        [("get_weather", {"city": "Tokyo"}), ("lookup_timezone", {"city": "Tokyo"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "end-of-turn",
        CALL + "\n<SPECIAL_12>",
        None,
        [SPECIAL],
    ),
    # VLLM_NANO_V2 test_extract_tool_calls_returns_original_for_malformed: vLLM gives up on
    # the list whose "]" and "}" are missing; only closers are missing, so it is mended.
    (
        "vllm-nano-v2-closers-missing",
        '<TOOLCALL>[{"name": "get_weather", "arguments": {}</TOOLCALL>',
        None,
        [("get_weather", {})],
    ),
    (
        "end-tag-cut-off",
        '<TOOLCALL>[{"name": "special_function", "arguments": {"arg1": 1}}]',
        None,
        [SPECIAL],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # LLAMA_CPP "Test parsing regular content".
    ("llama.cpp-content", "Hello, world!\nWhat's up?"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off-in-the-arguments", '<TOOLCALL>[{"name": "special_function", "arguments": {"arg1": '),
]

REASONING: list[ReasoningCase] = [
    # LLAMA_CPP "Test parsing content with thinking".
    (
        "llama.cpp-thinking-then-content",
        "<think>I'm\nthinking</think>Hello, world!\nWhat's up?",
        "I'm\nthinking",
        "Hello, world!\nWhat's up?",
        [],
    ),
    # LLAMA_CPP "Test tool calls with extra content AND thinking".
    (
        "llama.cpp-thinking-call-content",
        "<think>I'm\nthinking</think>" + CALL + "Hello, world!\nWhat's up?",
        "I'm\nthinking",
        "Hello, world!\nWhat's up?",
        [SPECIAL],
    ),
    # VLLM_NANO_V2 test_extract_tool_calls_keeps_think_block_as_content (vLLM's tool parser
    # leaves the block to its reasoning parser; here it is the reasoning).
    (
        "vllm-nano-v2-think-then-call",
        "<think>\nI need the weather for Tokyo.\n</think>\n"
        '<TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Tokyo"}}]</TOOLCALL>',
        "I need the weather for Tokyo.",
        None,
        [("get_weather", {"city": "Tokyo"})],
    ),
]

MESSAGES = [
    {"role": "user", "content": "Hi"},
    *call_turns([("special_function", {"arg1": 1})], ['{"ok": true}'], ids=["c1"]),
]
# Rendered by hand from TEMPLATE (no system message, thinking on).
GOLDEN = (
    "<SPECIAL_10>System\nYou can use the following tools to assist the user if required:\n"
    '<AVAILABLE_TOOLS>[{"name": "special_function", "parameters": {"type": "object", '
    '"properties": {"arg1": {"type": "integer"}}}}]</AVAILABLE_TOOLS>\n\n'
    "If you decide to call any tool(s), use the following format:\n"
    '<TOOLCALL>[{{"name": "tool_name1", "arguments": "tool_args1"}}, '
    '{{"name": "tool_name2", "arguments": "tool_args2"}}]</TOOLCALL>\n\n'
    "The user will execute tool-calls and return responses from tool(s) in this format:\n"
    '<TOOL_RESPONSE>[{{"tool_response1"}}, {{"tool_response2"}}]</TOOL_RESPONSE>\n\n'
    "Based on the tool responses, you can call additional tools if needed, correct tool calls "
    "if any errors are found, or just respond to the user.\n\n"
    "<SPECIAL_11>User\nHi\n"
    "<SPECIAL_11>Assistant\n" + CALL + "\n<SPECIAL_12>\n\n"
    '<SPECIAL_11>User\n<TOOL_RESPONSE>[{"ok": true}]</TOOL_RESPONSE>\n\n'
    "<SPECIAL_11>Assistant\n<think>\n\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert get_wrapper(NAME).render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(CALL) == NAME
    assert wrapper_for_template("{{- '\\n<AVAILABLE_TOOLS>[' -}}") == NAME


def test_registered() -> None:
    assert_registered(NAME, NemotronWrapper, ("nemotron-nano-v2",))
