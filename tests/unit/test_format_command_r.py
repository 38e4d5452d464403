"""``command-r`` / ``command-r7b``: Cohere's ``tool_name`` / ``parameters`` lists."""

from __future__ import annotations

import pytest

from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import (
    Case,
    ReasoningCase,
    assert_registered,
    golden_text,
    rendering,
    variants,
)
from wrappers.command_r import CommandR7BWrapper, CommandRWrapper
from wrappers.detection import detect_format

NAMES = ["command-r", "command-r7b"]

# Sources of the real outputs below.
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"
VLLM = "https://github.com/vllm-project/vllm/blob/6bcd488866e07589f62d793e513368a4eb5818f9/tests/tool_parsers/test_cohere_command_tool_parser.py"
# Its "Cohere2 MoE (North Code)" block: R7B's plan and action tokens, the answer in
# <|START_TEXT|> tags, the output starting inside the plan its prompt opened.
LLAMA_CPP_NORTH_CODE = "https://github.com/ggml-org/llama.cpp/blob/0042e2079d3428ba7af410df553202aa7fdf8d7a/tests/test-chat.cpp"

SPECIAL: Call = ("special_function", {"arg1": 1})
PARIS: Call = ("get_weather", {"city": "Paris"})
TOKYO: Call = ("get_forecast", {"city": "Tokyo", "days": 3})

# Both wrappers read both formats; every output below is read by both.
REAL_OUTPUTS: list[Case] = [
    # LLAMA_CPP lines 4429-4436 (Command R+): "Action:" and a fenced list.
    (
        "llama.cpp-r-plus-action",
        'Action:\n```json\n[{"tool_name": "special_function", "parameters": {"arg1": 1}}]\n```',
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP line 4427 (Command R+): an answer between turn tokens.
    (
        "llama.cpp-r-plus-answer",
        "<|CHATBOT_TOKEN|>Hello, world!\nWhat's up?<|END_OF_TURN_TOKEN|>",
        "Hello, world!\nWhat's up?",
        [],
    ),
    # LLAMA_CPP lines 2601 and 4414 (Command R7B): an answer.
    (
        "llama.cpp-r7b-response",
        "<|START_RESPONSE|>Hello, world!\nWhat's up?<|END_RESPONSE|>",
        "Hello, world!\nWhat's up?",
        [],
    ),
    # LLAMA_CPP lines 2637-2641 (Command R7B): an empty plan, then the call.
    (
        "llama.cpp-r7b-empty-plan",
        "<|START_THINKING|><|END_THINKING|><|START_ACTION|>[\n"
        '    {"tool_call_id": "0", "tool_name": "special_function", "parameters": {"arg1": 1}}\n'
        "]<|END_ACTION|>",
        None,
        [SPECIAL],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "r-plus-action-on-one-line",
        'Action: ```json\n[\n    {\n        "tool_name": "get_weather",\n        "parameters": '
        '{"city": "Paris"}\n    }\n]\n```',
        None,
        [PARIS],
    ),
    (
        "r-plus-parallel-calls",
        'Action:\n```json\n[{"tool_name": "get_weather", "parameters": {"city": "Paris"}}, '
        '{"tool_name": "get_forecast", "parameters": {"city": "Tokyo", "days": 3}}]\n```',
        None,
        [PARIS, TOKYO],
    ),
    (
        "r-plus-no-fence",
        'Action: [{"tool_name": "get_weather", "parameters": {"city": "Paris"}}]',
        None,
        [PARIS],
    ),
    (
        "r-plus-directly-answer-is-not-a-call",
        'Action:\n```json\n[{"tool_name": "directly-answer", "parameters": {}}]\n```',
        None,
        [],
    ),
    (
        "r-plus-plan-in-prose",
        'I will look up the weather.\nAction: ```json\n[{"tool_name": "get_weather", '
        '"parameters": {"city": "Paris"}}]\n```',
        "I will look up the weather.",
        [PARIS],
    ),
    (
        "r7b-cut-off-before-end-action",
        '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Paris"}}]',
        None,
        [PARIS],
    ),
    (
        "r7b-then-response",
        '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_weather", "parameters": '
        '{"city": "Paris"}}]<|END_ACTION|><|START_RESPONSE|>Checking.<|END_RESPONSE|>',
        "Checking.",
        [PARIS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("prose", "It is sunny in Paris today."),
    ("the-english-word", "Action: none needed, the answer is 42."),
]

BROKEN: list[tuple[str, str]] = [
    # LLAMA_CPP lines 2626-2630 (R7B), the output cut off inside a call.
    (
        "llama.cpp-r7b-cut-off",
        '<|START_THINKING|>I\'m\nthinking<|END_THINKING|><|START_ACTION|>[\n    {"tool_call_id": "0", '
        '"tool_name": "special_function", ',
    ),
    (
        "r-plus-cut-off",
        'Action:\n```json\n[{"tool_name": "get_weather", "parameters": {"city": "Par',
    ),
    ("no-tool-name", 'Action:\n```json\n[{"parameters": {"city": "Paris"}}]\n```'),
]

REASONING: list[ReasoningCase] = [
    # LLAMA_CPP_NORTH_CODE "Content with empty thinking block" (the prompt opened the plan).
    (
        "llama.cpp-north-code-empty-plan-text",
        "<|END_THINKING|><|START_TEXT|>Hello, world!\nWhat's up?<|END_TEXT|>",
        None,
        "Hello, world!\nWhat's up?",
        [],
    ),
    # LLAMA_CPP_NORTH_CODE "Tool call with an array argument (todo_list)".
    (
        "llama.cpp-north-code-array-argument",
        "<|END_THINKING|><|START_ACTION|>[\n"
        '    {"tool_call_id": "0", "tool_name": "todo_list", "parameters": {"todos": '
        '["buy milk", "walk dog"]}}\n]<|END_ACTION|>',
        None,
        None,
        [("todo_list", {"todos": ["buy milk", "walk dog"]})],
    ),
    # LLAMA_CPP_NORTH_CODE "Content with reasoning, extracted".
    (
        "llama.cpp-north-code-plan-and-text",
        "I'm\nthinking<|END_THINKING|><|START_TEXT|>Hello, world!\nWhat's up?<|END_TEXT|>",
        "I'm\nthinking",
        "Hello, world!\nWhat's up?",
        [],
    ),
    # LLAMA_CPP_NORTH_CODE "Parallel tool calls with reasoning".
    (
        "llama.cpp-north-code-parallel",
        "I'm\nthinking<|END_THINKING|><|START_ACTION|>[\n"
        '    {"tool_call_id": "0", "tool_name": "special_function", "parameters": {"arg1": 1}},\n'
        '    {"tool_call_id": "1", "tool_name": "python", "parameters": {"code": "print(\'hey\')"}}\n'
        "]<|END_ACTION|>",
        "I'm\nthinking",
        None,
        [SPECIAL, ("python", {"code": "print('hey')"})],
    ),
    # LLAMA_CPP lines 2616-2623 (R7B): the plan, then the call.
    (
        "llama.cpp-r7b-plan-and-call",
        "<|START_THINKING|>I'm\nthinking<|END_THINKING|><|START_ACTION|>[\n"
        '    {"tool_call_id": "0", "tool_name": "special_function", "parameters": {"arg1": 1}}\n'
        "]<|END_ACTION|>",
        "I'm\nthinking",
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP lines 2604-2608 (R7B): the plan, then an answer.
    (
        "llama.cpp-r7b-plan-and-answer",
        "<|START_THINKING|>I'm\nthinking<|END_THINKING|>"
        "<|START_RESPONSE|>Hello, world!\nWhat's up?<|END_RESPONSE|>",
        "I'm\nthinking",
        "Hello, world!\nWhat's up?",
        [],
    ),
    # VLLM "cmd3-multiple_tool_calls" (Command A / R7B).
    (
        "vllm-plan-and-two-calls",
        "<|START_THINKING|>first I think about foo<|END_THINKING|><|START_ACTION|>\n[\n"
        '    {"tool_call_id": "0", "tool_name": "foo", "parameters": {"query": "query1"}},\n'
        '    {"tool_call_id": "1", "tool_name": "bar", "parameters": {"x": 42}}\n]\n<|END_ACTION|>',
        "first I think about foo",
        None,
        [("foo", {"query": "query1"}), ("bar", {"x": 42})],
    ),
    # VLLM "cmd3-citations_no_tool_calls": grounding spans keep only their text.
    (
        "vllm-citations",
        "<|START_THINKING|>This is a rainbow <co>emoji: 🌈</co: 0:[1]><|END_THINKING|>\n"
        "<|START_RESPONSE|>foo <co>bar</co: 0:[1,2],1:[3,4]><|END_RESPONSE|>",
        "This is a rainbow emoji: 🌈",
        "foo bar",
        [],
    ),
    # VLLM "cmd3-reasoning_only".
    (
        "vllm-plan-only",
        "<|START_THINKING|>just think, no response<|END_THINKING|>",
        "just think, no response",
        None,
        [],
    ),
    (
        "a-call-in-the-plan-is-not-a-call",
        '<|START_THINKING|>Action: [{"tool_name": "get_weather", "parameters": {"city": "Oslo"}}]'
        "<|END_THINKING|><|START_RESPONSE|>Hi!<|END_RESPONSE|>",
        'Action: [{"tool_name": "get_weather", "parameters": {"city": "Oslo"}}]',
        "Hi!",
        [],
    ),
]


@pytest.mark.parametrize("variant", variants())
@pytest.mark.parametrize("name", NAMES)
def test_renders_what_the_chat_template_renders(name: str, variant: str) -> None:
    # Byte for byte, quirks included: R+'s template closes a call turn without
    # <|END_OF_TURN_TOKEN|>, R7B's prints the tool descriptions unescaped.
    # command-r's no_tools golden is Command R's default template.
    assert rendering(name, variant) == golden_text(name, variant)


def test_detection_needs_a_list_after_action() -> None:
    assert (
        detect_format('Action: ```json\n[{"tool_name": "f", "parameters": {}}]\n```') == "command-r"
    )
    assert detect_format("<|START_ACTION|>[]<|END_ACTION|>") == "command-r7b"
    assert detect_format("Action: none needed.") is None


def test_registered() -> None:
    assert_registered("command-r", CommandRWrapper, ("command-r-plus",))
    assert_registered("command-r7b", CommandR7BWrapper, ("command-r7b-12-2024",))


def test_read_without_parse_a_call_in_the_plan_is_still_not_a_call() -> None:
    # The auto wrapper calls extract_calls() directly, without parse()'s reasoning split.
    plan = (
        '<|START_THINKING|>Action: [{"tool_name": "get_weather", "parameters": {}}]<|END_THINKING|>'
    )
    found = CommandR7BWrapper().extract_calls(plan + "<|START_RESPONSE|>Hi!<|END_RESPONSE|>")
    assert (found.content, found.calls) == (plan + "Hi!", [])
