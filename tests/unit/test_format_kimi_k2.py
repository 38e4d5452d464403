"""``kimi-k2``: Kimi K2, ``<|tool_call_begin|>functions.name:0<|tool_call_argument_begin|>{...}``."""

from __future__ import annotations

import pytest

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import CALLS
from tests.unit.tool_format_cases import (
    Case,
    ReasoningCase,
    assert_reads_reasoning,
    assert_registered,
    golden_text,
    rendering,
    variants,
)
from wrappers.kimi_k2 import KimiK2Wrapper

NAME = "kimi-k2"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/03d5dc96097e1c7c76e004250a57c24cb4365d35/tests/tool_use/test_kimi_k2_tool_parser.py"
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"

SECTION = "<|tool_calls_section_begin|>"
END = "<|tool_calls_section_end|>"
SPECIAL: Call = ("special_function", {"arg1": 1})
BEIJING: Call = ("get_weather", {"city": "Beijing"})


def call(call_id: str, arguments: str) -> str:
    return f"<|tool_call_begin|>{call_id}<|tool_call_argument_begin|>{arguments}<|tool_call_end|>"


REAL_OUTPUTS: list[Case] = [
    # VLLM "tool_call_with_content_before": spaces and a line break between the tokens.
    (
        "vllm-text-first",
        "I'll help you check the weather. <|tool_calls_section_begin|> <|tool_call_begin|>\n"
        'functions.get_weather:0 <|tool_call_argument_begin|> {"city": "Beijing"} <|tool_call_end|> '
        "<|tool_calls_section_end|>",
        "I'll help you check the weather.",
        [BEIJING],
    ),
    # VLLM "multi_tool_call_with_content_before".
    (
        "vllm-parallel",
        "I'll help you check the weather. <|tool_calls_section_begin|> <|tool_call_begin|>\n"
        'functions.get_weather:0 <|tool_call_argument_begin|> {"city": "Beijing"} <|tool_call_end|> '
        "<|tool_call_begin|>\n"
        'functions.get_weather:1 <|tool_call_argument_begin|> {"city": "Shanghai"} <|tool_call_end|> '
        "<|tool_calls_section_end|>",
        "I'll help you check the weather.",
        [BEIJING, ("get_weather", {"city": "Shanghai"})],
    ),
    # VLLM "concatenated_tool_calls_bug_fix".
    (
        "vllm-concatenated",
        "I'll get the weather and news for LA today. First, let me get the weather using Los "
        "Angeles coordinates, and then get the latest news. "
        + SECTION
        + call("functions.get_weather:0", '{"latitude": 34.0522, "longitude": -118.2437}')
        + call("functions.get_news:1", '{"content": "Los Angeles today"}')
        + END,
        "I'll get the weather and news for LA today. First, let me get the weather using Los "
        "Angeles coordinates, and then get the latest news.",
        [
            ("get_weather", {"latitude": 34.0522, "longitude": -118.2437}),
            ("get_news", {"content": "Los Angeles today"}),
        ],
    ),
    # VLLM "mixed_spacing_tool_calls": empty argument objects.
    (
        "vllm-mixed-spacing",
        "Mixed spacing test. <|tool_calls_section_begin|> <|tool_call_begin|> functions.test:0 "
        "<|tool_call_argument_begin|> {} <|tool_call_end|>"
        + call("functions.test2:1", "{}")
        + " <|tool_calls_section_end|>",
        "Mixed spacing test.",
        [("test", {}), ("test2", {})],
    ),
    # VLLM "angle_brackets_in_json".
    (
        "vllm-angle-brackets",
        "I need to process HTML content. "
        + SECTION
        + call("functions.process_html:0", '{"html": "<div>content</div>", "text": "normal text"}')
        + END,
        "I need to process HTML content.",
        [("process_html", {"html": "<div>content</div>", "text": "normal text"})],
    ),
    # VLLM "newlines_in_json".
    (
        "vllm-newlines-in-json",
        "I need to process formatted JSON. "
        + SECTION
        + call(
            "functions.process_data:0",
            '{\n  "name": "test",\n  "value": 123,\n  "nested": {\n    "key": "value"\n  }\n}',
        )
        + END,
        "I need to process formatted JSON.",
        [("process_data", {"name": "test", "value": 123, "nested": {"key": "value"}})],
    ),
    # LLAMA_CPP lines 4098-4100 (moonshotai-Kimi-K2.jinja and Kimi-K2-Instruct.jinja).
    (
        "llama.cpp-single",
        SECTION + call("functions.special_function:0", '{"arg1": 1}') + END,
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP lines 3904-3908 (Kimi K2 Thinking): text before the call.
    (
        "llama.cpp-text-first",
        "Hello, world!\nWhat's up?"
        + SECTION
        + call("functions.special_function:0", '{"arg1": 1}')
        + END,
        "Hello, world!\nWhat's up?",
        [SPECIAL],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM test_extract_tool_calls_invalid_json: an object left open before its end token.
    # vLLM passes the text on; fcproxy mends the missing brace (issue 13).
    (
        "vllm-invalid-json",
        SECTION
        + "<|tool_call_begin|>\nfunctions.invalid_get_weather:0 <|tool_call_argument_begin|> "
        '{"city": "Beijing" <|tool_call_end|>' + END,
        None,
        [("invalid_get_weather", {"city": "Beijing"})],
    ),
    ("section-start-missing", call("functions.special_function:0", '{"arg1": 1}'), None, [SPECIAL]),
    (
        "section-end-cut-off",
        SECTION + call("functions.special_function:0", '{"arg1": 1}'),
        None,
        [SPECIAL],
    ),
    (
        "call-end-cut-off",
        SECTION
        + '<|tool_call_begin|>functions.special_function:0<|tool_call_argument_begin|>{"arg1": 1}',
        None,
        [SPECIAL],
    ),
    (
        "id-without-prefix",
        SECTION + call("special_function:3", '{"arg1": 1}') + END,
        None,
        [SPECIAL],
    ),
    (
        "singular-section-token",
        "<|tool_call_section_begin|>"
        + call("functions.special_function:0", '{"arg1": 1}')
        + "<|tool_call_section_end|>",
        None,
        [SPECIAL],
    ),
    (
        "end-token",
        SECTION + call("functions.special_function:0", '{"arg1": 1}') + END + "<|im_end|>",
        None,
        [SPECIAL],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-prose", "This is a test"),
    # LLAMA_CPP line 4097.
    ("llama.cpp-answer", "Hello, world!\nWhat's up?"),
]

# VLLM's Kimi K2 reasoning parser: the call section ends an unclosed <think>
# (test_extract_reasoning_tool_section_ends_reasoning, "some reasoning<|tool_calls_section_begin|>...").
VLLM_REASONING = "https://github.com/vllm-project/vllm/blob/0847a95f7ff542cb8c7e8b517841c5a29d84ff1f/tests/reasoning/test_kimi_k2_reasoning_parser.py"

REASONING: list[ReasoningCase] = [
    (
        "vllm-call-section-ends-an-unclosed-think",
        "<think>some reasoning"
        + SECTION
        + call("functions.get_weather:0", '{"city": "Beijing"}')
        + END,
        "some reasoning",
        None,
        [BEIJING],
    ),
    (
        "closed-think-then-call",
        "<think>I should look it up.</think>"
        + SECTION
        + call("functions.get_weather:0", '{"city": "Beijing"}')
        + END,
        "I should look it up.",
        None,
        [BEIJING],
    ),
    (
        "a-call-in-a-closed-think-is-not-a-call",
        "<think>maybe "
        + SECTION
        + call("functions.get_weather:0", '{"city": "Oslo"}')
        + END
        + "</think>It is sunny.",
        "maybe " + SECTION + call("functions.get_weather:0", '{"city": "Oslo"}') + END,
        "It is sunny.",
        [],
    ),
    ("unclosed-think-without-a-call", "<think>still thinking", "still thinking", None, []),
]

BROKEN: list[tuple[str, str]] = [
    (
        "no-argument-token",
        SECTION + "<|tool_call_begin|>functions.get_weather:0<|tool_call_end|>" + END,
    ),
    ("arguments-not-an-object", SECTION + call("functions.get_weather:0", '"Paris"') + END),
    ("section-without-a-call", SECTION + END),
]


@pytest.mark.parametrize("variant", variants())
def test_renders_what_the_chat_template_renders(variant: str) -> None:
    # Call ids are numbered across the conversation as Kimi writes them; results
    # take the ids of the calls they answer, in order.
    assert rendering(NAME, variant) == golden_text(NAME, variant)


def test_reasoning_is_set_aside_and_never_parsed() -> None:
    # LLAMA_CPP lines 3894-3901 (Kimi K2 Thinking).
    assert_reads_reasoning(
        NAME,
        "<think>I'm thinking about this</think>"
        + SECTION
        + call("functions.special_function:0", '{"arg1": 1}')
        + END,
        "I'm thinking about this",
        None,
        [SPECIAL],
    )
    assert_reads_reasoning(
        NAME,
        f"<think>{SECTION}{call('functions.get_weather:0', '{}')}{END}?</think>Fine.",
        f"{SECTION}{call('functions.get_weather:0', '{}')}{END}?",
        "Fine.",
        [],
    )


def test_results_answer_the_ids_of_their_calls() -> None:
    text = rendering(NAME)
    for index, (call_id, name, _) in enumerate(CALLS):
        assert call_id == f"functions.{name}:{index}"
        assert f"<|tool_call_begin|>{call_id}<|tool_call_argument_begin|>" in text
        assert f"## Return of {call_id}\n" in text


def test_registered() -> None:
    assert_registered(NAME, KimiK2Wrapper, ("kimi", "kimi-k2-instruct"))
