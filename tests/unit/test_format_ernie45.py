"""``ernie4.5``: Baidu ERNIE 4.5 Thinking, Hermes ``<tool_call>`` blocks after ``</think>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.ernie45 import Ernie45Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "ernie4.5"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/0a26f84cc20c2dae0b6af221007a9a26d507a417/tests/tool_parsers/test_ernie45_moe_tool_parser.py"
VLLM_PARSER = "https://github.com/vllm-project/vllm/blob/7d8312efbc8c067fce33c167424b0a64b79f87c0/vllm/tool_parsers/ernie45_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_current_temperature",
        "description": "Get the temperature",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
    {"name": "get_temperature_unit", "parameters": {"type": "object", "properties": {}}},
]

BEIJING: Call = ("get_current_temperature", {"location": "Beijing"})
UNIT: Call = ("get_temperature_unit", {"location": "Guangzhou", "unit": "c"})
TWO_CALLS = (
    '<tool_call>\n{"name": "get_current_temperature", "arguments": {"location": "Beijing"}}\n'
    '</tool_call>\n<tool_call>\n{"name": "get_temperature_unit", "arguments": {"location": '
    '"Guangzhou", "unit": "c"}}\n</tool_call>\n'
)

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call.
    (
        "vllm-single",
        '<tool_call>\n{"name": "get_current_temperature", "arguments": {"location": "Beijing"}}'
        "\n</tool_call>\n",
        None,
        [BEIJING],
    ),
    # VLLM multiple_tool_calls.
    ("vllm-parallel", TWO_CALLS, None, [BEIJING, UNIT]),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "plain-answer-in-response-tags",
        "<response>\nIt is 20 degrees.\n</response>",
        "It is 20 degrees.",
        [],
    ),
    (
        "unclosed-block",
        '<tool_call>\n{"name": "get_current_temperature", "arguments": {"location": "Beijing"}}',
        None,
        [BEIJING],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-plain", "This is a test"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", '<tool_call>\n{"name": "get_current_temperature", "arguments": {"location": "Bei'),
]

REASONING: list[ReasoningCase] = [
    # VLLM tool_call_with_content_before: the prompt opened <think>, the output
    # closes it (vLLM's tool parser alone keeps it as content; with its
    # reasoning parser, and in fcproxy, it is reasoning).
    (
        "vllm-reasoning-then-calls",
        "I need to call two tools to handle these two issues separately.\n</think>\n\n" + TWO_CALLS,
        "I need to call two tools to handle these two issues separately.",
        None,
        [BEIJING, UNIT],
    ),
    # VLLM_PARSER's docstring layout, a plain answer in <response> tags.
    (
        "reasoning-then-response",
        "abc\n</think>\n\n\n<response>\nHello!\n</response>\n",
        "abc",
        "Hello!",
        [],
    ),
]


def test_renders_ernies_turns_with_hermes_tools() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Temperature in Beijing?"},
        *call_turns([("get_current_temperature", {"location": "Beijing"})], ["20"]),
    ]
    text = Ernie45Wrapper().render(messages, FUNCTIONS[:1]).text
    assert text.startswith("<|begin_of_sentence|>Be brief.\n\n# Tools\n\nYou may call one or more")
    assert '\n<tools>\n{"type": "function", "function": {"name": "get_current_temperature"' in text
    assert text.endswith(
        "</tool_call>\nUser: Temperature in Beijing?\n"
        'Assistant: <tool_call>\n{"name": "get_current_temperature", "arguments": '
        '{"location": "Beijing"}}\n</tool_call><|end_of_sentence|>'
        "User: <tool_response>\n20\n</tool_response>\nAssistant: "
    )


def test_without_tools_only_ernies_turns() -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
    ]
    assert Ernie45Wrapper().render(messages, []).text == (
        "<|begin_of_sentence|>User: Hi\nAssistant: Hello<|end_of_sentence|>User: Bye\nAssistant: "
    )


def test_detected_from_its_output_and_its_template() -> None:
    # The output is Hermes' (auto reads it as such); the template names ERNIE.
    assert detect_format(REAL_OUTPUTS[0][1]) == "hermes"
    template = '{{- cls_token -}}{%- set cls_token = "<|begin_of_sentence|>" -%}<tool_call>'
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, Ernie45Wrapper, ("ernie", "ernie-4.5"))
