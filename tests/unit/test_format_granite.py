"""``granite``: IBM Granite 3.x, ``<|tool_call|>`` and a JSON list of calls."""

from __future__ import annotations

import pytest

import wrappers.granite
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import TODAY
from tests.unit.tool_format_cases import (
    Case,
    assert_reads_reasoning,
    assert_registered,
    golden_text,
    rendering,
    variants,
)
from tests.unit.vllm_json_outputs import VARIOUS_TYPES_AND_EMPTY, various_types_call
from wrappers.granite import GraniteWrapper

NAME = "granite"

# Source of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/2ab4733ef9fc3c039a5868e0141fee3b7fd95890/tests/tool_parsers/test_granite_tool_parser.py"

TOKYO: Call = ("get_weather", {"city": "Tokyo"})
PARIS: Call = ("get_weather", {"city": "Paris"})

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call_output (Granite 3.0's special token).
    (
        "vllm-single",
        '<|tool_call|> [{"name": "get_weather", "arguments": {"city": "Tokyo"}}]',
        None,
        [TOKYO],
    ),
    # VLLM parallel_tool_calls_output.
    (
        "vllm-parallel",
        '<|tool_call|> [\n  {"name": "get_weather", "arguments": {"city": "Tokyo"}},\n'
        '  {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}\n]',
        None,
        [TOKYO, ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    # VLLM test_streaming_parallel_calls_batched_deltas: Granite writes "arguments" first.
    (
        "vllm-arguments-before-name",
        '<|tool_call|> [{"arguments": {"city": "Tokyo"}, "name": "get_weather"}, '
        '{"arguments": {"timezone": "Asia/Tokyo"}, "name": "get_time"}]',
        None,
        [TOKYO, ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    # VLLM test_granite_string_prefix_format (Granite 3.1 writes the marker as text).
    (
        "vllm-granite-3.1-text-marker",
        '<tool_call> [{"name": "get_weather", "arguments": {"city": "Tokyo"}}]',
        None,
        [TOKYO],
    ),
    # VLLM empty_arguments_output.
    (
        "vllm-no-arguments",
        '<|tool_call|> [{"name": "refresh", "arguments": {}}]',
        None,
        [("refresh", {})],
    ),
    # VLLM surrounding_text_output (vLLM's parser drops the text; here it is content).
    (
        "vllm-surrounding-text",
        'Let me check the weather for you.\n<|tool_call|> [{"name": "get_weather", '
        '"arguments": {"city": "Tokyo"}}]\nI\'ll get that information.',
        "Let me check the weather for you.\n\nI'll get that information.",
        [TOKYO],
    ),
    # VLLM various_data_types_output.
    (
        "vllm-data-types",
        "<tool_call> [" + various_types_call() + "]",
        None,
        [("test_function", VARIOUS_TYPES_AND_EMPTY)],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "no-space",
        '<|tool_call|>[{"arguments": {"city": "Paris"}, "name": "get_weather"}]',
        None,
        [PARIS],
    ),
    (
        "in-a-fence",
        '<|tool_call|>```json\n[{"name": "get_weather", "arguments": {"city": "Paris"}}]\n```',
        None,
        [PARIS],
    ),
    (
        "list-cut-off-after-a-complete-call",
        '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}',
        None,
        [PARIS],
    ),
    (
        "a-bracket-in-an-argument",
        '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "]Paris["}}]',
        None,
        [("get_weather", {"city": "]Paris["})],
    ),
    (
        "two-markers",
        '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]'
        '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Tokyo"}}]',
        None,
        [PARIS, TOKYO],
    ),
    (
        "one-object-without-the-list",
        '<|tool_call|>{"name": "get_weather", "arguments": {"city": "Paris"}}',
        None,
        [PARIS],
    ),
    (
        "end-of-text-token",
        '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|end_of_text|>',
        None,
        [PARIS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM no_tool_calls_output.
    ("vllm-prose", "This is a regular response without any tool calls."),
    ("a-json-list-without-the-marker", '[{"name": "Alice"}, {"name": "Bob"}]'),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM malformed_input_outputs[0]: cut off inside the arguments.
    ("vllm-cut-off", '<|tool_call|> [{"name": "func", "arguments": {'),
    ("no-name", '<|tool_call|>[{"arguments": {"city": "Paris"}}]'),
    ("not-json", "<|tool_call|> get_weather(city='Paris')"),
    ("a-list-of-strings", '<|tool_call|>["get_weather"]'),
]


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """Granite's default system prompt carries today's date: the goldens' day."""
    monkeypatch.setattr(wrappers.granite, "today", lambda: TODAY.strftime("%B %d, %Y"))


@pytest.mark.parametrize("variant", variants())
def test_renders_what_the_chat_template_renders(variant: str) -> None:
    # The template prints only a message's text: past calls are written into the
    # assistant turn as Granite writes them (the generator does the same).
    assert rendering(NAME, variant) == golden_text(NAME, variant)


def test_reasoning_is_set_aside_and_never_parsed() -> None:
    assert_reads_reasoning(
        NAME,
        '<think>Call <|tool_call|>[{"name": "get_weather", "arguments": {"city": "Oslo"}}]?</think>'
        '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        'Call <|tool_call|>[{"name": "get_weather", "arguments": {"city": "Oslo"}}]?',
        None,
        [PARIS],
    )


def test_without_a_system_prompt_granite_gets_its_own_with_the_date() -> None:
    assert "Today's Date: July 26, 2025. You are Granite" in rendering(NAME, "no_system")


def test_registered() -> None:
    assert_registered(NAME, GraniteWrapper, ("granite3", "granite-3.3"))
