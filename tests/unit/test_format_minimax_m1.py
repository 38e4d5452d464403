"""``minimax-m1``: MiniMax-M1, one JSON call per line in ``<tool_calls>`` tags.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.minimax_m1 import MiniMaxM1Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "minimax-m1"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/41c5903d049b80b83a6e570f52f0f55e31316e49/tests/tool_parsers/test_minimax_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/3e1a331a974a6fedb48150734926d5eedd9457d3/examples/tool_chat_template_minimax_m1.jinja"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "state": {"type": "string"}},
        },
    },
    {"name": "valid_tool", "parameters": {"type": "object", "properties": {}}},
    {"name": "another_valid_tool", "parameters": {"type": "object", "properties": {}}},
]


def _weather(city: str, state: str, unit: str | None = None) -> tuple[str, Call]:
    arguments = {"city": city, "state": state} | ({"unit": unit} if unit else {})
    line = '{"name": "get_current_weather", "arguments": ' + str(arguments).replace("'", '"') + "}"
    return line, ("get_current_weather", arguments)


DALLAS, DALLAS_CALL = _weather("Dallas", "TX", "fahrenheit")
ORLANDO, ORLANDO_CALL = _weather("Orlando", "FL", "fahrenheit")
SEATTLE, SEATTLE_CALL = _weather("Seattle", "WA", "celsius")
NEW_YORK, NEW_YORK_CALL = _weather("New York", "NY", "celsius")
MIAMI, MIAMI_CALL = _weather("Miami", "FL", "fahrenheit")

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call.
    ("vllm-single", f"<tool_calls>\n{DALLAS}\n</tool_calls>", None, [DALLAS_CALL]),
    # VLLM multiple_tool_calls: one block, one call per line.
    (
        "vllm-parallel",
        f"<tool_calls>\n{DALLAS}\n{ORLANDO}\n</tool_calls>",
        None,
        [DALLAS_CALL, ORLANDO_CALL],
    ),
    # VLLM tool_call_with_content_before.
    (
        "vllm-content-first",
        f"I'll help you check the weather. <tool_calls>\n{SEATTLE}\n</tool_calls>",
        "I'll help you check the weather.",
        [SEATTLE_CALL],
    ),
    # VLLM tool_call_with_single_line_json.
    ("vllm-single-line", f"<tool_calls>\n{NEW_YORK}\n</tool_calls>", None, [NEW_YORK_CALL]),
    # VLLM tool_call_incomplete_tag: no closing tag.
    (
        "vllm-unclosed",
        '<tool_calls>\n{"name": "get_current_weather", "arguments": {"city": "Boston", "state": "MA"}}',
        None,
        [("get_current_weather", {"city": "Boston", "state": "MA"})],
    ),
    # VLLM test_extract_tool_calls_multiline_json_not_supported (vLLM reads no call; fcproxy does).
    (
        "vllm-multiline-json",
        '<tool_calls>\n{\n  "name": "get_current_weather",\n  "arguments": {\n    "city": "New York",\n'
        '    "state": "NY",\n    "unit": "celsius"\n  }\n}\n</tool_calls>',
        None,
        [NEW_YORK_CALL],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-plain", "This is a test"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", '<tool_calls>\n{"name": "get_current_weather", "arguments": {"city": "Bos'),
]

REASONING: list[ReasoningCase] = [
    # VLLM test_extract_tool_calls_with_thinking_tags: the call inside <think> is not taken.
    (
        "vllm-call-inside-thinking-ignored",
        '<think>I should use a tool. <tool_calls>\n{"name": "ignored_tool", "arguments": '
        '{"should": "ignore"}}\n</tool_calls></think>\n\nLet me help you with the weather. '
        f"<tool_calls>\n{MIAMI}\n</tool_calls>",
        'I should use a tool. <tool_calls>\n{"name": "ignored_tool", "arguments": '
        '{"should": "ignore"}}\n</tool_calls>',
        "Let me help you with the weather.",
        [MIAMI_CALL],
    ),
]

MESSAGES = [
    {"role": "user", "content": " Weather in Dallas? "},
    *call_turns(
        [("get_current_weather", {"city": "Dallas"}), ("get_current_weather", {"city": "Orlando"})],
        ["sunny", "rain"],
    ),
]
# TEMPLATE rendered with transformers' Jinja settings (the calls' arguments as objects).
GOLDEN = (
    "<begin_of_document><beginning_of_sentence>system ai_setting=MiniMax AI\nYou are a helpful "
    "assistant created by Minimax based on MiniMax-M1 model.<end_of_sentence>\n"
    "<beginning_of_sentence>system tool_setting=tools\nYou are provided with these tools:\n"
    '<tools>\n{"type": "function", "function": {"name": "get_current_weather", "description": '
    '"Get the current weather", "parameters": {"type": "object", "properties": {"city": {"type": '
    '"string"}, "state": {"type": "string"}}}}}\n</tools>\n\nIf you need to call tools, please '
    "respond with <tool_calls></tool_calls> XML tags, and provide tool-name and json-object of "
    'arguments, following the format below:\n<tool_calls>\n{"name": <tool-name>, "arguments": '
    "<args-json-object>}\n...\n</tool_calls><end_of_sentence>\n"
    "<beginning_of_sentence>user name=user\nWeather in Dallas?<end_of_sentence>\n"
    "<beginning_of_sentence>ai name=MiniMax AI\n<tool_calls>\n"
    '{"name": "get_current_weather", "arguments": {"city": "Dallas"}}\n'
    '{"name": "get_current_weather", "arguments": {"city": "Orlando"}}\n'
    "</tool_calls><end_of_sentence>\n"
    "<beginning_of_sentence>tool name=tools\ntool result: sunny\n\n<end_of_sentence>\n"
    "<beginning_of_sentence>tool name=tools\ntool result: rain\n\n<end_of_sentence>\n"
    "<beginning_of_sentence>ai name=MiniMax AI\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert MiniMaxM1Wrapper().render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_the_grammar_allows_parallel_calls_in_one_block() -> None:
    text = MiniMaxM1Wrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    dallas = '{"name": "get_current_weather", "arguments": {"city": "Dallas"}}'
    assert Grammar(text).matches(f"<tool_calls>\n{dallas}\n{dallas}\n</tool_calls>")
    one = f"<tool_calls>\n{dallas}\n</tool_calls>"
    assert not Grammar(text).matches(f"{one}\n{one}")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[1][1]) == NAME
    # A list in the same tags is Hunyuan's (also Jamba's and Apriel's).
    assert (
        detect_format('<tool_calls>[{"name": "f", "arguments": {}}]</tool_calls>') == "hunyuan-a13b"
    )
    template = "{{ '<beginning_of_sentence>system tool_setting=tools\\n' }}<tool_calls>"
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, MiniMaxM1Wrapper, ("minimax-m1-40k",))
