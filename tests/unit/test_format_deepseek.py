"""``deepseek`` (V3 / R1) and ``deepseek-v3.1``: calls between ``<｜tool▁call▁begin｜>`` tokens."""

# DeepSeek's special tokens are spelled with full-width bars (U+FF5C).
# ruff: noqa: RUF001, RUF002

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
from wrappers.deepseek import DeepSeekV31Wrapper, DeepSeekWrapper

NAMES = ["deepseek", "deepseek-v3.1"]

# Sources of the real outputs below.
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"
VLLM_V3 = "https://github.com/vllm-project/vllm/blob/0f17ee061e413bf8ab7927f926f69cdff24dc63e/tests/tool_parsers/test_deepseekv3_tool_parser.py"
VLLM_V31 = "https://github.com/vllm-project/vllm/blob/321315c880216c9da803e8986b7dac753dbac566/tests/tool_use/test_deepseekv31_tool_parser.py"

BEGIN = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
CALL = "<｜tool▁call▁begin｜>"
SEP = "<｜tool▁sep｜>"
CALL_END = "<｜tool▁call▁end｜>"
END = "<｜tool▁call▁end｜><｜tool▁calls▁end｜>"

PARIS: Call = ("get_weather", {"city": "Paris"})
TOKYO: Call = ("get_forecast", {"city": "Tokyo", "days": 3})
SPECIAL: Call = ("special_function", {"arg1": 1})

# Both wrappers read both spellings; every output below is read by both.
REAL_OUTPUTS: list[Case] = [
    # VLLM_V3 single_tool_call_output (DeepSeek V3).
    (
        "vllm-v3-single",
        f'{BEGIN}function{SEP}get_weather\n```json\n{{"city": "Tokyo", "unit": "celsius"}}\n```{END}',
        None,
        [("get_weather", {"city": "Tokyo", "unit": "celsius"})],
    ),
    # VLLM_V3 parallel_tool_calls_output.
    (
        "vllm-v3-parallel",
        f'{BEGIN}function{SEP}get_weather\n```json\n{{"city": "Tokyo", "unit": "celsius"}}\n```'
        f"{CALL_END}{CALL}function{SEP}search_hotels\n```json\n"
        f'{{"location": "Tokyo", "check_in": "2025-01-15"}}\n```{END}',
        None,
        [
            ("get_weather", {"city": "Tokyo", "unit": "celsius"}),
            ("search_hotels", {"location": "Tokyo", "check_in": "2025-01-15"}),
        ],
    ),
    # VLLM_V3 surrounding_text_output.
    (
        "vllm-v3-text-first",
        "Let me check the weather for you."
        f'{BEGIN}function{SEP}get_weather\n```json\n{{"city": "Paris"}}\n```{END}',
        "Let me check the weather for you.",
        [PARIS],
    ),
    # VLLM_V3 empty_arguments_output.
    (
        "vllm-v3-no-arguments",
        f"{BEGIN}function{SEP}get_current_time\n```json\n{{}}\n```{END}",
        None,
        [("get_current_time", {})],
    ),
    # LLAMA_CPP line 4605 (DeepSeek R1 Distill Qwen 32B): no newline before the closing fence.
    (
        "llama.cpp-r1-distill",
        f'{BEGIN}function{SEP}special_function\n```json\n{{"arg1": 1}}```{END}',
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP line 3398 (DeepSeek V3.1).
    (
        "llama.cpp-v3.1",
        f'{BEGIN}get_time{SEP}{{"city": "XYZCITY"}}{END}',
        None,
        [("get_time", {"city": "XYZCITY"})],
    ),
    # VLLM_V31 test_extract_tool_calls_with_multiple_tools: text on both sides.
    (
        "vllm-v3.1-parallel",
        f'some prefix text{BEGIN}foo{SEP}{{"x":1}}{CALL_END}{CALL}bar{SEP}{{"y":2}}{END} some suffix text',
        "some prefix text some suffix text",
        [("foo", {"x": 1}), ("bar", {"y": 2})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM_V3 malformed_input_outputs: the object is not closed. vLLM gives up; its end
    # token came, so only the brace is missing and fcproxy mends it (issue 13).
    (
        "vllm-v3-unclosed-object",
        f'{BEGIN}function{SEP}get_weather\n```json\n{{"city": "Tokyo"\n```{END}',
        None,
        [("get_weather", {"city": "Tokyo"})],
    ),
    (
        "section-start-missing",
        f'{CALL}function{SEP}get_weather\n```json\n{{"city": "Paris"}}\n```{END}',
        None,
        [PARIS],
    ),
    (
        "cut-off-after-the-last-call",
        f'{BEGIN}get_weather{SEP}{{"city": "Paris"}}<｜tool▁call▁end｜>',
        None,
        [PARIS],
    ),
    (
        "cut-off-before-the-call-end",
        f'{BEGIN}get_weather{SEP}{{"city": "Paris"}}',
        None,
        [PARIS],
    ),
    (
        "fence-without-language",
        f'{BEGIN}function{SEP}get_weather\n```\n{{"city": "Paris"}}\n```{END}',
        None,
        [PARIS],
    ),
    (
        "v3-and-v3.1-spellings-mixed",
        f'{BEGIN}function{SEP}get_weather\n```json\n{{"city": "Paris"}}\n```{CALL_END}'
        f'{CALL}get_forecast{SEP}{{"city": "Tokyo", "days": 3}}{END}',
        None,
        [PARIS, TOKYO],
    ),
    (
        "a-brace-in-an-argument",
        f'{BEGIN}get_weather{SEP}{{"city": "Paris {CALL_END}"}}{END}',
        None,
        [("get_weather", {"city": f"Paris {CALL_END}"})],
    ),
    (
        "end-of-sentence-token",
        f'{BEGIN}get_weather{SEP}{{"city": "Paris"}}{END}<｜end▁of▁sentence｜>',
        None,
        [PARIS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM_V3 no_tool_calls_output.
    ("vllm-v3-prose", "How can I help you today? I can check weather for you."),
    ("json-in-prose", 'The API returns {"city": "Paris"} for that query.'),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM_V3 malformed_input_outputs: the call token is missing.
    (
        "vllm-v3-no-call-token",
        f'<｜tool▁calls▁begin｜>function{SEP}get_weather\n```json\n{{"city": "Tokyo"}}\n```<｜tool▁calls▁end｜>',
    ),
    ("truncated-arguments", f'{BEGIN}get_weather{SEP}{{"city": "Par'),
    ("no-separator", f"{BEGIN}get_weather{END}"),
    ("arguments-not-an-object", f"{BEGIN}get_weather{SEP}[1, 2]{END}"),
]

REASONING: list[ReasoningCase] = [
    # LLAMA_CPP line 4564 (R1): the template opened <think>, the output closes it.
    (
        "llama.cpp-r1-empty-thought",
        f'</think>{BEGIN}function{SEP}special_function\n```json\n{{"arg1": 1}}```{END}',
        None,
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP line 3431 (V3.1 with thinking).
    (
        "llama.cpp-v3.1-reasoning",
        f'REASONING</think>{BEGIN}get_time{SEP}{{"city": "Tokyo"}}{END}',
        "REASONING",
        None,
        [("get_time", {"city": "Tokyo"})],
    ),
    # LLAMA_CPP line 3443: reasoning, content, two calls.
    (
        "llama.cpp-v3.1-reasoning-content-calls",
        f'REASONING</think>CONTENT{BEGIN}get_time{SEP}{{"city": "Paris"}}{CALL_END}'
        f'{CALL}get_weather{SEP}{{"city": "Paris"}}{END}',
        "REASONING",
        "CONTENT",
        [("get_time", {"city": "Paris"}), PARIS],
    ),
    (
        "a-call-quoted-in-the-thought-is-not-a-call",
        f'<think>Maybe {BEGIN}get_forecast{SEP}{{"city": "Oslo", "days": 1}}{END}?</think>'
        "It is sunny.",
        f'Maybe {BEGIN}get_forecast{SEP}{{"city": "Oslo", "days": 1}}{END}?',
        "It is sunny.",
        [],
    ),
]


@pytest.mark.parametrize("variant", variants())
@pytest.mark.parametrize("name", NAMES)
def test_renders_what_the_chat_template_renders(name: str, variant: str) -> None:
    # deepseek: SGLang's R1 tool template (byte for byte, "valid.## Tools" included);
    # deepseek-v3.1: DeepSeek's template with its model card's tool description.
    assert rendering(name, variant) == golden_text(name, variant)


def test_history_calls_use_each_versions_spelling() -> None:
    assert f"{CALL}function{SEP}get_weather\n```json\n" in rendering("deepseek")
    assert f'{CALL}get_weather{SEP}{{"city": "Paris", "unit": "celsius"}}{CALL_END}' in rendering(
        "deepseek-v3.1"
    )


def test_v31_asks_for_the_non_thinking_mode_tools_need() -> None:
    assert rendering("deepseek-v3.1").endswith("<｜Assistant｜></think>")


def test_registered() -> None:
    assert_registered("deepseek", DeepSeekWrapper, ("deepseek-v3", "deepseek-r1"))
    assert_registered("deepseek-v3.1", DeepSeekV31Wrapper, ("deepseek-v3.1-terminus",))
