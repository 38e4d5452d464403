"""``lfm2``: Liquid LFM2, ``<|tool_call_start|>[f(a=1)]<|tool_call_end|>``."""

from __future__ import annotations

import pytest

from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import (
    Case,
    assert_reads,
    assert_reads_reasoning,
    assert_registered,
    golden_text,
    rendering,
    variants,
)
from wrappers.lfm2 import Lfm2Wrapper

NAME = "lfm2"

# Sources of the real outputs below.
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"
VLLM = "https://github.com/vllm-project/vllm/blob/011cde7c177a29bbcb0052d80e5ab7671a70f634/tests/tool_parsers/test_lfm2_tool_parser.py"

START = "<|tool_call_start|>"
END = "<|tool_call_end|>"
SPECIAL: Call = ("special_function", {"arg1": 1})
CANDIDATE: Call = ("get_candidate_status", {"candidate_id": "12345"})
REGISTER: Call = (
    "register_user",
    {
        "name": "John Doe",
        "age": 37,
        "address": {"city": "San Francisco", "state": "CA"},
        "role": None,
        "passed_test": True,
        "aliases": ["John", "Johnny"],
    },
)
REGISTER_CALL = (
    "register_user(name='John Doe', age=37, address={'city': 'San Francisco', 'state': 'CA'}, "
    "role=None, passed_test=True, aliases=['John', 'Johnny'])"
)

REAL_OUTPUTS: list[Case] = [
    # LLAMA_CPP lines 1836-1840 (the shared LFM2 / LFM2.5 cases).
    ("llama.cpp-single", f"{START}[special_function(arg1=1)]{END}", None, [SPECIAL]),
    # LLAMA_CPP line 1842.
    (
        "llama.cpp-string",
        f'{START}[get_time(city="XYZCITY")]{END}',
        None,
        [("get_time", {"city": "XYZCITY"})],
    ),
    # LLAMA_CPP lines 1848 and 1853: Python constants.
    (
        "llama.cpp-true",
        f"{START}[toggle(enabled=True)]{END}",
        None,
        [("toggle", {"enabled": True})],
    ),
    (
        "llama.cpp-none",
        f"{START}[set_nullable(value=None)]{END}",
        None,
        [("set_nullable", {"value": None})],
    ),
    # LLAMA_CPP lines 1859 and 1865: nested literals, Python's and JSON's spellings.
    (
        "llama.cpp-nested-python",
        f'{START}[set_config(config={{"enabled": True, "count": 3}})]{END}',
        None,
        [("set_config", {"config": {"enabled": True, "count": 3}})],
    ),
    (
        "llama.cpp-nested-json",
        f'{START}[set_config(config={{"enabled": true, "note": null}})]{END}',
        None,
        [("set_config", {"config": {"enabled": True, "note": None}})],
    ),
    # LLAMA_CPP lines 1871-1872: a dotted name.
    (
        "llama.cpp-dotted-name",
        f'{START}[Calendar.create_event(title="demo", participants=["Alice", "Bob"], '
        f'metadata={{"priority": "high", "reminder": true}})]{END}',
        None,
        [
            (
                "Calendar.create_event",
                {
                    "title": "demo",
                    "participants": ["Alice", "Bob"],
                    "metadata": {"priority": "high", "reminder": True},
                },
            )
        ],
    ),
    # LLAMA_CPP line 1886: code with an escaped line break.
    (
        "llama.cpp-code",
        f"{START}[python(code=\"def hello():\\n    print('hey')\")]{END}",
        None,
        [("python", {"code": "def hello():\n    print('hey')"})],
    ),
    # LLAMA_CPP line 1894: text before the call.
    (
        "llama.cpp-text-first",
        f'Let me check the time.{START}[get_time(city="Paris")]{END}',
        "Let me check the time.",
        [("get_time", {"city": "Paris"})],
    ),
    # LLAMA_CPP line 1902: parallel calls.
    (
        "llama.cpp-parallel",
        f"{START}[special_function(arg1=1), special_function_with_opt(arg1=1, arg2=2)]{END}",
        None,
        [SPECIAL, ("special_function_with_opt", {"arg1": 1, "arg2": 2})],
    ),
    # LLAMA_CPP line 1919.
    ("llama.cpp-no-arguments", f"{START}[empty_args()]{END}", None, [("empty_args", {})]),
    # VLLM "content_after_tool_call" (the LFM2 model card's example).
    (
        "vllm-text-after",
        f"{START}[get_candidate_status(candidate_id='12345')]{END}\n"
        "Checking the current status of candidate ID 12345.",
        "Checking the current status of candidate ID 12345.",
        [CANDIDATE],
    ),
    # VLLM "parallel_calls" with more types.
    (
        "vllm-more-types",
        f"{START}[get_candidate_status(candidate_id='12345'), {REGISTER_CALL}]{END}",
        None,
        [CANDIDATE, REGISTER],
    ),
    # VLLM test_whitespace_after_start_token.
    (
        "vllm-space-after-start",
        f"{START} [get_candidate_status(candidate_id='12345')]{END}",
        None,
        [CANDIDATE],
    ),
    # VLLM "escaped_string".
    (
        "vllm-escaped-string",
        START + r"""[get_weather(city='Martha\'s Vineyard', metric='\"cool units\"')]""" + END,
        None,
        [("get_weather", {"city": "Martha's Vineyard", "metric": '"cool units"'})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "json-calls-between-the-markers",
        f'{START}[{{"name": "get_weather", "arguments": {{"city": "Paris"}}}}]{END}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "end-marker-cut-off",
        f'{START}[get_weather(city="Paris")]',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "two-blocks",
        f'{START}[get_weather(city="Paris")]{END}{START}[get_forecast(city="Tokyo", days=3)]{END}',
        None,
        [("get_weather", {"city": "Paris"}), ("get_forecast", {"city": "Tokyo", "days": 3})],
    ),
    (
        "end-token",
        f'{START}[get_weather(city="Paris")]{END}<|im_end|>',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # LLAMA_CPP line 1832.
    ("llama.cpp-answer", "Hello, world!\nWhat's up?"),
    # LLAMA_CPP line 1878: markdown links stay content.
    (
        "llama.cpp-markdown-links",
        "Use this format: [link text](url). Example: [Wikipedia](https://www.wikipedia.org).",
    ),
    # VLLM test_no_tool_call.
    ("vllm-prose", "How can I help you today?"),
]

BROKEN: list[tuple[str, str]] = [
    # LLAMA_CPP line 1912: the output cut off inside the call.
    ("llama.cpp-cut-off", f"{START}[special_function(arg1="),
    ("a-variable", f"{START}[get_weather(city=paris)]{END}"),
    ("positional-argument", f'{START}[get_weather("Paris")]{END}'),
    ("not-python", f"{START}get the weather{END}"),
]


@pytest.mark.parametrize("variant", variants())
def test_renders_what_the_chat_template_renders(variant: str) -> None:
    # The template prints only a message's text: past calls are written into the
    # assistant turn as LFM2 writes them (the generator does the same).
    assert rendering(NAME, variant) == golden_text(NAME, variant)


def test_an_empty_call_list_is_no_call() -> None:
    # VLLM test_empty_tool_call_block: "[]" means the model called nothing.
    assert_reads(NAME, f"{START}[]{END}Nothing to call.", "Nothing to call.", [])


def test_reasoning_is_set_aside_and_never_parsed() -> None:
    # LLAMA_CPP lines 4171-4175 (LFM2.5 8B A1B): a call quoted in the thought stays there.
    assert_reads_reasoning(
        NAME,
        f"<think>Let me think about {START}[special_function(arg1=1)]{END} hmm</think>"
        f"{START}[special_function(arg1=1)]{END}",
        f"Let me think about {START}[special_function(arg1=1)]{END} hmm",
        None,
        [SPECIAL],
    )


def test_registered() -> None:
    assert_registered(NAME, Lfm2Wrapper, ("lfm2.5",))
