"""``gemma``: Gemma 2 / 3 with Google's function-calling prompt, calls as a Python list."""

from __future__ import annotations

import pytest

from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import (
    Case,
    assert_reads_reasoning,
    assert_registered,
    golden_text,
    rendering,
    variants,
)
from wrappers.gemma import GemmaWrapper

NAME = "gemma"

# Sources of the real outputs below: Google's Gemma guides.
GEMMA_FUNCTION_CALLING = "https://ai.google.dev/gemma/docs/capabilities/function-calling"
# "If a tool is needed, Gemma will generate a code wrapped with ```tool_code```".
GEMMA_MEME_GENERATOR = "https://ai.google.dev/gemma/docs/meme-generator"
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"

PRODUCT: Call = ("get_product_name_by_PID", {"PID": "807ZPKBL9V"})
PARIS: Call = ("get_weather", {"city": "Paris"})
TOKYO: Call = ("get_forecast", {"city": "Tokyo", "days": 3})

REAL_OUTPUTS: list[Case] = [
    # GEMMA_FUNCTION_CALLING: "This prompt should produce the following response" (Python style).
    ("google-python-style", '[get_product_name_by_PID(PID="807ZPKBL9V")]', None, [PRODUCT]),
    # GEMMA_FUNCTION_CALLING: the same answer to the JSON-style prompt.
    (
        "google-json-style",
        '{"name": "get_product_name_by_PID", "parameters": {"PID": "807ZPKBL9V"}}',
        None,
        [PRODUCT],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "parallel-calls",
        '[get_weather(city="Paris"), get_forecast(city="Tokyo", days=3)]',
        None,
        [PARIS, TOKYO],
    ),
    # GEMMA_MEME_GENERATOR's style: a tool_code block, the call printed.
    ("tool-code-print", '```tool_code\nprint(get_weather(city="Paris"))\n```', None, [PARIS]),
    (
        "tool-code-one-call-a-line",
        '```tool_code\nget_weather(city="Paris")\nget_forecast(city="Tokyo", days=3)\n```',
        None,
        [PARIS, TOKYO],
    ),
    (
        "tool-code-list-after-prose",
        'Let me look that up.\n```tool_code\n[get_weather(city="Paris")]\n```',
        "Let me look that up.",
        [PARIS],
    ),
    (
        "tool-code-cut-off-before-the-fence",
        '```tool_code\nprint(get_weather(city="Paris"))',
        None,
        [PARIS],
    ),
    ("single-quotes", "[get_weather(city='Paris')]", None, [PARIS]),
    (
        "json-literals",
        "[set_flag(enabled=true, note=null)]",
        None,
        [("set_flag", {"enabled": True, "note": None})],
    ),
    ("in-a-python-fence", '```python\n[get_weather(city="Paris")]\n```', None, [PARIS]),
    ("end-of-turn-token", '[get_weather(city="Paris")]<end_of_turn>', None, [PARIS]),
]

NO_CALLS: list[tuple[str, str]] = [
    # LLAMA_CPP lines 2646-2648 (Gemma 2 2B): plain answers.
    ("llama.cpp-gemma2-answer", "Hello, world!"),
    ("markdown-link", "See [the forecast](https://example.com) for details."),
    ("a-list-that-is-not-calls", "The options are [1, 2, 3]."),
    ("json-that-is-not-a-call", 'The user is {"name": "Alice", "age": 3}.'),
]

BROKEN: list[tuple[str, str]] = [
    ("list-cut-off", '[get_weather(city="Par'),
    ("tool-code-not-python", "```tool_code\nget weather for Paris\n```"),
    ("tool-code-with-a-variable", "```tool_code\nget_weather(city=paris)\n```"),
    ("json-call-cut-off", '{"name": "get_weather", "parameters": {"city": '),
]


@pytest.mark.parametrize("variant", variants())
def test_renders_what_the_chat_template_renders(variant: str) -> None:
    # Deliberate difference: vLLM's template loses the ", " between arguments of a
    # past call (its loop variable does not survive the loop), writing
    # get_weather(city="Paris"unit="celsius"); fcproxy writes valid Python.
    expected = golden_text(NAME, variant).replace('"Paris"unit=', '"Paris", unit=')
    assert rendering(NAME, variant) == expected.replace('"Tokyo"days=', '"Tokyo", days=')


def test_reasoning_is_set_aside_and_never_parsed() -> None:
    assert_reads_reasoning(
        NAME,
        '<think>[get_weather(city="Oslo")]?</think>[get_weather(city="Paris")]',
        '[get_weather(city="Oslo")]?',
        None,
        [PARIS],
    )


def test_past_calls_are_python_literals() -> None:
    assert '[get_weather(city="Paris", unit="celsius"), get_forecast(city="Tokyo", days=3)]' in (
        rendering(NAME)
    )


def test_registered() -> None:
    assert_registered(NAME, GemmaWrapper, ("gemma3", "gemma-3", "gemma2"))
