"""``granite4``: IBM Granite 4.0, Hermes ``<tool_call>`` blocks in Granite's role turns.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

import json

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.granite4 import Granite4Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "granite4"

# Sources of the real outputs below (and of the rendering).
MODEL_CARD = "https://huggingface.co/ibm-granite/granite-4.0-h-1b (README, 'Tool-calling')"
VLLM = "https://github.com/vllm-project/vllm/blob/34f830e95846db95409c0cd6d8a168066ebd8df9/tests/tool_parsers/test_granite4_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_current_weather",
        "description": "Get the current weather for a specified city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "Name of the city"}},
            "required": ["city"],
        },
    },
    {"name": "find_bbox", "parameters": {"type": "object", "properties": {}}},
    {"name": "get_stock_price", "parameters": {"type": "object", "properties": {}}},
]

BBOX: Call = (
    "find_bbox",
    {"coordinates": [[23.54, 43.1], [-12.2, 54.3], [4, 5]], "coordinate_type": "latlong"},
)
STOCK: Call = (
    "get_stock_price",
    {"symbol": "AAPL", "start_date": "2021-01-01", "end_date": "2021-12-31"},
)


def _block(name: str, arguments: object) -> str:
    # VLLM's create_complex_input: "<tool_call> " + json.dumps(call) + " </tool_call>".
    return "<tool_call> " + json.dumps({"name": name, "arguments": arguments}) + " </tool_call>"


REAL_OUTPUTS: list[Case] = [
    # MODEL_CARD's expected output.
    (
        "model-card-boston",
        '<tool_call>\n{"name": "get_current_weather", "arguments": {"city": "Boston"}}\n'
        "</tool_call><|end_of_text|>",
        None,
        [("get_current_weather", {"city": "Boston"})],
    ),
    # VLLM test_tool_call_parser_complex: prose between three calls, the
    # arguments of the bbox calls written as a JSON string ("granite behavior").
    (
        "vllm-prose-between-calls",
        "Here goes the bbox call: \n"
        + _block(BBOX[0], json.dumps(BBOX[1]))
        + " Now the stock price call: \n "
        + _block(*STOCK)
        + " Now another bbox call: \n "
        + _block(BBOX[0], json.dumps(BBOX[1]))
        + " See? I'm a helpful assistant.",
        "Here goes the bbox call: \n Now the stock price call: \n  Now another bbox call: \n"
        "  See? I'm a helpful assistant.",
        [BBOX, STOCK, BBOX],
    ),
    # VLLM test_streaming_preserves_content_between_complete_tool_calls.
    (
        "vllm-content-between-two-calls",
        '<tool_call> {"name": "find_bbox", "arguments": {}} </tool_call>some explanation '
        '<tool_call> {"name": "get_stock_price", "arguments": {}} </tool_call>',
        "some explanation",
        [("find_bbox", {}), ("get_stock_price", {})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "unclosed-last-block",
        '<tool_call>\n{"name": "get_current_weather", "arguments": {"city": "Boston"}}',
        None,
        [("get_current_weather", {"city": "Boston"})],
    ),
    (
        "granite-3-list-in-hermes-tags",
        '<tool_call>\n{"name": "get_current_weather", "arguments": {"city": "Boston",}}\n'
        "</tool_call>",
        None,
        [("get_current_weather", {"city": "Boston"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # MODEL_CARD's plain answer.
    ("model-card-plain", "Almaden Research Center, San Jose, California<|end_of_text|>"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", '<tool_call>\n{"name": "get_current_weather", "arguments": {"city": "Bos'),
]

REASONING: list[ReasoningCase] = [
    (
        "think-then-call",
        "<think>The user wants the weather.</think>\n<tool_call>\n"
        '{"name": "get_current_weather", "arguments": {"city": "Boston"}}\n</tool_call>',
        "The user wants the weather.",
        None,
        [("get_current_weather", {"city": "Boston"})],
    ),
]

WEATHER = FUNCTIONS[:1]
# MODEL_CARD's expected output: the prompt for one user question and its tools.
GOLDEN = (
    "<|start_of_role|>system<|end_of_role|>You are a helpful assistant with access to the "
    "following tools. You may call one or more tools to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    '{"type": "function", "function": {"name": "get_current_weather", "description": "Get the '
    'current weather for a specified city.", "parameters": {"type": "object", "properties": '
    '{"city": {"type": "string", "description": "Name of the city"}}, "required": ["city"]}}}\n'
    "</tools>\n\nFor each tool call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>. If a tool does '
    "not exist in the provided list of tools, notify the user that you do not have the ability "
    "to fulfill the request.<|end_of_text|>\n"
    "<|start_of_role|>user<|end_of_role|>What's the weather like in Boston right now?"
    "<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>"
)


def test_renders_the_model_cards_prompt() -> None:
    messages = [{"role": "user", "content": "What's the weather like in Boston right now?"}]
    assert Granite4Wrapper().render(messages, WEATHER).text == GOLDEN


def test_renders_past_calls_and_results_in_the_templates_layout() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Boston and Paris?"},
        *call_turns(
            [
                ("get_current_weather", {"city": "Boston"}),
                ("get_current_weather", {"city": "Paris"}),
            ],
            ["sunny", "rain"],
        ),
    ]
    text = Granite4Wrapper().render(messages, WEATHER).text
    assert text.startswith("<|start_of_role|>system<|end_of_role|>Be brief.\n\nYou are a helpful")
    assert text.endswith(
        "<|start_of_role|>assistant<|end_of_role|><tool_call>\n"
        '{"name": "get_current_weather", "arguments": {"city": "Boston"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_current_weather", "arguments": {"city": "Paris"}}\n'
        "</tool_call><|end_of_text|>\n<|start_of_role|>user<|end_of_role|>"
        "\n<tool_response>\nsunny\n</tool_response>\n<tool_response>\nrain\n</tool_response>"
        "<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>"
    )


def test_without_tools_no_system_turn_is_invented() -> None:
    text = Granite4Wrapper().render([{"role": "user", "content": "Hi"}], []).text
    assert text == (
        "<|start_of_role|>user<|end_of_role|>Hi<|end_of_text|>\n"
        "<|start_of_role|>assistant<|end_of_role|>"
    )


def test_detected_from_its_output_and_its_template() -> None:
    # The output is Hermes' (auto reads it as such); the template names Granite 4.
    assert detect_format(REAL_OUTPUTS[0][1]) == "hermes"
    template = "{{- '<|start_of_role|>' + message.role + '<|end_of_role|>' }}<tool_call>"
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, Granite4Wrapper, ("granite-4.0", "granite-4.0-h"))
