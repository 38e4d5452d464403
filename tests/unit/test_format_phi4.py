"""``phi4``: Phi-4-mini, ``functools[...]`` (and ``<|tool_call|>[...]<|/tool_call|>``)."""

from __future__ import annotations

from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import (
    Case,
    assert_reads_reasoning,
    assert_registered,
    golden_text,
    rendering,
)
from wrappers.phi4 import DEFAULT_SYSTEM, Phi4MiniWrapper

NAME = "phi4"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/2471a1c1430e2a066029bc743562eee6db2feab0/tests/tool_parsers/test_phi4mini_tool_parser.py"
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"
# Phi-4-mini outputs recorded in the comments of PhiFCHandler._extract_tool_calls.
BFCL = "https://github.com/ShishirPatil/gorilla/blob/6e13a60227d52ea7d29c4fefe496731865893cef/berkeley-function-call-leaderboard/bfcl/model_handler/local_inference/phi_fc.py"

TOKYO: Call = ("get_weather", {"city": "Tokyo"})
PARIS: Call = ("get_weather", {"city": "Paris"})
VELOCITY: Call = ("calculate_final_velocity", {"height": 150, "initial_velocity": 0})

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call_output.
    (
        "vllm-single",
        'functools[{"name": "get_weather", "arguments": {"city": "Tokyo"}}]',
        None,
        [TOKYO],
    ),
    # VLLM parallel_tool_calls_output.
    (
        "vllm-parallel",
        'functools[\n  {"name": "get_weather", "arguments": {"city": "Tokyo"}},\n'
        '  {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}\n]',
        None,
        [TOKYO, ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    # VLLM surrounding_text_output (vLLM's parser drops the text; here it is content).
    (
        "vllm-surrounding-text",
        'Let me check the weather for you.\nfunctools[{"name": "get_weather", "arguments": '
        '{"city": "Tokyo"}}]\nWould you like to know more?',
        "Let me check the weather for you.\n\nWould you like to know more?",
        [TOKYO],
    ),
    # VLLM empty_arguments_output.
    (
        "vllm-no-arguments",
        'functools[{"name": "refresh", "arguments": {}}]',
        None,
        [("refresh", {})],
    ),
    # LLAMA_CPP line 4505: a leading space.
    (
        "llama.cpp-leading-space",
        ' functools[{"name": "special_function", "arguments": {"arg1": 1}}]',
        None,
        [("special_function", {"arg1": 1})],
    ),
    # BFCL: the normal case with Phi-4-mini's own tokens.
    (
        "bfcl-tool-call-tokens",
        '<|tool_call|>[{"name": "calculate_final_velocity", "arguments": {"height": 150, '
        '"initial_velocity": 0}}]<|/tool_call|>',
        None,
        [VELOCITY],
    ),
    # BFCL: "Often the model will miss the `<|/tool_call|>`".
    (
        "bfcl-no-closing-token",
        '<|tool_call|>[{"name": "calculate_final_velocity", "arguments": {"height": 150, '
        '"initial_velocity": 0}}]',
        None,
        [VELOCITY],
    ),
    # BFCL: "For parallel tool call, Phi might not put them in a list".
    (
        "bfcl-parallel-without-brackets",
        '<|tool_call|>{"name": "calculate_sales_tax", "arguments": {"purchase_amount": 30.45, '
        '"city": "Chicago", "state": "Illinois"}}, {"name": "calculate_sales_tax", "arguments": '
        '{"purchase_amount": 52.33, "city": "Sacramento", "state": "California"}}<|/tool_call|>',
        None,
        [
            (
                "calculate_sales_tax",
                {"purchase_amount": 30.45, "city": "Chicago", "state": "Illinois"},
            ),
            (
                "calculate_sales_tax",
                {"purchase_amount": 52.33, "city": "Sacramento", "state": "California"},
            ),
        ],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "parameters-spelling",
        'functools[{"name": "get_weather", "parameters": {"city": "Paris"}}]',
        None,
        [PARIS],
    ),
    (
        "cut-off-after-a-complete-call",
        'functools[{"name": "get_weather", "arguments": {"city": "Paris"}}, ',
        None,
        [PARIS],
    ),
    (
        "end-token",
        'functools[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|end|>',
        None,
        [PARIS],
    ),
    (
        "arguments-as-a-json-string",
        'functools[{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}]',
        None,
        [PARIS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM no_tool_calls_output.
    ("vllm-prose", "This is a regular response without any tool calls."),
    ("the-python-module", "Use functools.partial to bind the city argument."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM malformed_input_outputs.
    ("vllm-cut-off", 'functools[{"name": "func", "arguments": {'),
    ("vllm-prose-in-the-list", "functools[ This is just text ]"),
    ("no-name", 'functools[{"arguments": {"city": "Paris"}}]'),
]


def test_renders_what_the_chat_template_renders() -> None:
    # The template prints only a message's text: past calls are written into the
    # assistant turn as functools[...] (the generator does the same).
    assert rendering(NAME) == golden_text(NAME)
    assert rendering(NAME, "no_tools") == golden_text(NAME, "no_tools")


def test_without_a_system_prompt_the_tools_still_get_one() -> None:
    # Deliberate difference: the template reads the tools from the system message, so
    # with none the model would never see them. fcproxy adds the model card's prompt.
    tools = golden_text(NAME).split("<|tool|>", 1)[1].split("<|/tool|>", 1)[0]
    expected = f"<|system|>{DEFAULT_SYSTEM}<|tool|>{tools}<|/tool|><|end|>" + golden_text(
        NAME, "no_system"
    )
    assert rendering(NAME, "no_system") == expected


def test_reasoning_is_set_aside_and_never_parsed() -> None:
    assert_reads_reasoning(
        NAME,
        '<think>functools[{"name": "get_weather", "arguments": {"city": "Oslo"}}]?</think>Hi!',
        'functools[{"name": "get_weather", "arguments": {"city": "Oslo"}}]?',
        "Hi!",
        [],
    )


def test_registered() -> None:
    assert_registered(NAME, Phi4MiniWrapper, ("phi-4-mini", "phi4-mini"))
