"""``mistral`` / ``mistral-v11``: ``[TOOL_CALLS][{...}]`` and ``[TOOL_CALLS]name[ARGS]{...}``."""

from __future__ import annotations

import json
import re

import pytest

from tests.unit.format_checks import (
    Call,
    Sample,
    golden,
    read,
    rendered,
    template_rendering,
)
from tests.unit.tool_call_conversation import CALLS, FUNCTIONS, VARIANTS
from wrappers.mistral import MistralV11Wrapper, MistralWrapper, call_id
from wrappers.registry import find_entry, get_wrapper

NAMES = ["mistral", "mistral-v11"]

# Sources of the real outputs below.
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/1eeb523c3e0c7ffbd59469f5463dcbdecba3535e/tests/test-chat.cpp"
LLAMA_CPP_MASTER = "https://github.com/ggml-org/llama.cpp/blob/0042e2079d3428ba7af410df553202aa7fdf8d7a/tests/test-chat.cpp"
VLLM = "https://github.com/vllm-project/vllm/blob/002d5731d3ee99b92d80b103be81c212245f1acf/tests/tool_parsers/test_mistral_tool_parser.py"
SGLANG = "https://github.com/sgl-project/sglang/blob/03400a9e4d955eff2606cfe621c83a710c16cc97/test/srt/test_function_call_parser.py"

WEATHER = {"city": "San Francisco", "state": "CA", "unit": "celsius"}
NESTED_CONTENT = (
    "```\nTOOL: Access a weather API or service\nOBSERVATION: Retrieve the current weather "
    "data for the top 5 populated cities in the US\nANSWER: The weather in the top 5 populated "
    "cities in the US is as follows: [City Name] - [Weather Conditions] - [Temperature]\n```"
)

# (id, raw output, content, calls); both wrappers read both formats.
REAL_OUTPUTS: list[Sample] = [
    # LLAMA_CPP line 746: Mistral Nemo's call, with the id the model writes.
    (
        "llama.cpp-nemo",
        '[TOOL_CALLS][{"name": "special_function", "arguments": {"arg1": 1}, "id": "123456789"}]',
        None,
        [("special_function", {"arg1": 1})],
    ),
    # LLAMA_CPP_MASTER, Ministral 3 / Magistral (v11+): one [TOOL_CALLS] per call.
    (
        "llama.cpp-v11",
        '[TOOL_CALLS]special_function[ARGS]{"arg1":1}',
        None,
        [("special_function", {"arg1": 1})],
    ),
    # VLLM test_extract_tool_calls_pre_v11_tokenizer (Mistral 7B v0.3).
    (
        "vllm-v3-single",
        '[TOOL_CALLS][{"name": "add", "arguments":{"a": 3.5, "b": 4}}]',
        None,
        [("add", {"a": 3.5, "b": 4})],
    ),
    (
        "vllm-v3-space-after-marker",
        '[TOOL_CALLS] [{"name": "get_current_weather", "arguments":{"city": "San Francisco", '
        '"state": "CA", "unit": "celsius"}}]',
        None,
        [("get_current_weather", WEATHER)],
    ),
    (
        "vllm-v3-arguments-before-name",
        '[TOOL_CALLS] [{"arguments":{"name": "John Doe"}, "name": "get_age"}]',
        None,
        [("get_age", {"name": "John Doe"})],
    ),
    (
        "vllm-v3-parallel",
        '[TOOL_CALLS] [{"name": "add", "arguments": {"a": 3.5, "b": 4}}, {"name": '
        '"get_current_weather", "arguments":{"city": "San Francisco", "state": "CA", '
        '"unit": "celsius"}}]',
        None,
        [("add", {"a": 3.5, "b": 4}), ("get_current_weather", WEATHER)],
    ),
    (
        "vllm-v3-content-before",
        'Hello[TOOL_CALLS] [{"name": "add", "arguments":{"a": 1, "b": 2}}]',
        "Hello",
        [("add", {"a": 1, "b": 2})],
    ),
    (
        "vllm-v3-trailing-data",
        '[TOOL_CALLS] [{"name": "get_current_weather", "arguments":{"city": "Dallas", '
        '"state": "TX", "unit": "fahrenheit"}}]\nextra trailing data',
        "extra trailing data",
        [("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})],
    ),
    # VLLM test_extract_tool_calls_streaming_pre_v11_tokenizer (spaces everywhere).
    (
        "vllm-v3-spaced",
        '[TOOL_CALLS]  [ {"name":"add" , "arguments" : {"a": 3, "b": 4} } ]',
        None,
        [("add", {"a": 3, "b": 4})],
    ),
    # VLLM test_extract_tool_calls (v11, Mistral Small 3.2 tokenizer: vLLM drops [ARGS]).
    (
        "vllm-v11-no-args-token",
        '[TOOL_CALLS]add_this_and_that{"a": 3.5, "b": 4}',
        None,
        [("add_this_and_that", {"a": 3.5, "b": 4})],
    ),
    (
        "vllm-v11-parallel",
        '[TOOL_CALLS]add{"a": 3.5, "b": 4}[TOOL_CALLS]multiply{"a": 3, "b": 6}',
        None,
        [("add", {"a": 3.5, "b": 4}), ("multiply", {"a": 3, "b": 6})],
    ),
    (
        "vllm-v11-brace-in-content",
        'hi{hi[TOOL_CALLS]bash{"command": "print(\\"hello world!\\")\\nre.compile(r\'{}\')"}',
        "hi{hi",
        [("bash", {"command": "print(\"hello world!\")\nre.compile(r'{}')"})],
    ),
    (
        "vllm-v11-content-before",
        'bla[TOOL_CALLS]add_this_and_that{"a": 3.5, "b": 4}',
        "bla",
        [("add_this_and_that", {"a": 3.5, "b": 4})],
    ),
    # SGLANG TestMistralDetector: brackets inside an argument do not end the list.
    (
        "sglang-nested-brackets",
        '[TOOL_CALLS] [{"name":"make_next_step_decision", "arguments":{"decision":"",'
        '"content":' + json.dumps(NESTED_CONTENT) + "}}]",
        None,
        [("make_next_step_decision", {"decision": "", "content": NESTED_CONTENT})],
    ),
    (
        "sglang-text-before",
        'Here is some text before the tool call: [TOOL_CALLS] [{"name":"make_next_step_decision", '
        '"arguments":{"decision":"ANSWER", "content":"The answer is 42"}}]',
        "Here is some text before the tool call:",
        [("make_next_step_decision", {"decision": "ANSWER", "content": "The answer is 42"})],
    ),
]

MESSY_OUTPUTS: list[Sample] = [
    (
        "end-of-sequence",
        '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]</s>',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "list-cut-off-after-last-call",
        '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "v11-call-id-in-output",
        '[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{"city": "Paris"}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "marker-dropped-by-the-server-v3",
        '[{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "marker-dropped-by-the-server-v11",
        'get_weather[ARGS]{"city": "Paris"}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "two-markers-v3",
        '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]'
        '[TOOL_CALLS][{"name": "get_forecast", "arguments": {"city": "Tokyo", "days": 3}}]',
        None,
        [("get_weather", {"city": "Paris"}), ("get_forecast", {"city": "Tokyo", "days": 3})],
    ),
    (
        "unknown-function-is-still-returned",
        '[TOOL_CALLS]book_flight[ARGS]{"to": "Rome"}',
        None,
        [("book_flight", {"to": "Rome"})],
    ),
    (
        "call-in-reasoning-is-not-a-call",
        '<think>[TOOL_CALLS]get_forecast[ARGS]{"city": "Oslo", "days": 1}?</think>'
        '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-plain", "This is a test"),
    ("plain-with-end-of-sequence", "The weather is fine.</s>"),
    ("json-list-that-is-not-calls", '[{"city": "Paris"}, {"city": "Tokyo"}]'),
    ("a-word-before-json", 'JSON {"a": 1}'),
]

#: (id, raw output, reasoning, content, calls): LLAMA_CPP_MASTER's Ministral 3 Reasoning
#: (mistralai-Ministral-3-14B-Reasoning-2512.jinja) with reasoning_format auto.
REASONING: list[tuple[str, str, str | None, str | None, list[Call]]] = [
    (
        "llama.cpp-ministral-think-then-answer",
        "[THINK]I'm\nthinking[/THINK]Hello, world!\nWhat's up?",
        "I'm\nthinking",
        "Hello, world!\nWhat's up?",
        [],
    ),
    (
        "llama.cpp-ministral-think-then-call",
        '[THINK]I\'m\nthinking[/THINK][TOOL_CALLS]special_function[ARGS]{"arg1":1}',
        "I'm\nthinking",
        None,
        [("special_function", {"arg1": 1})],
    ),
    # "fake tool call marker in reasoning": only the call after [/THINK] is one.
    (
        "llama.cpp-ministral-marker-in-the-thought",
        '[THINK]Let me think about [TOOL_CALLS]special_function[ARGS]{"arg1":1} and more[/THINK]'
        '[TOOL_CALLS]special_function[ARGS]{"arg1": 1}',
        'Let me think about [TOOL_CALLS]special_function[ARGS]{"arg1":1} and more',
        None,
        [("special_function", {"arg1": 1})],
    ),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_pre_v11_regex_fallback_fails: vLLM answers with the
    # text; fcproxy raises on purpose (a botched call is retried).
    ("vllm-not-json-after-marker", "[TOOL_CALLS] not json at all"),
    ("cut-off-inside-a-call", '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Par'),
    ("v11-cut-off-arguments", '[TOOL_CALLS]get_weather[ARGS]{"city": "Par'),
    ("v11-arguments-not-an-object", '[TOOL_CALLS]get_weather[ARGS]["Paris"]'),
    ("empty-list", "[TOOL_CALLS][]"),
    ("v3-item-without-a-name", '[TOOL_CALLS][{"arguments": {"city": "Paris"}}]'),
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_renders_the_conversation_as_mistrals_template_does(name: str, variant: str) -> None:
    # golden_formats/mistral*.txt: Mistral Nemo's template; mistral-v11*.txt: Mistral Small
    # 3.2's. The templates insist on 9-character call ids: fcproxy's (call_id) were handed
    # to them, since the client's ids never reach a wrapper.
    expected = golden(name, variant)
    if (name, variant) == ("mistral-v11", "no_system"):
        # Without a system prompt the template writes Mistral Small 3's own (dated by the clock);
        # fcproxy writes none: the same wrapper serves Magistral and Devstral.
        assert expected.startswith("<s>[SYSTEM_PROMPT]You are Mistral Small 3")
        expected = re.sub(
            r"\[SYSTEM_PROMPT\].*?\[/SYSTEM_PROMPT\]", "", expected, count=1, flags=re.S
        )
    assert rendered(name, variant) == expected


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_the_golden_is_what_the_template_renders(name: str, variant: str) -> None:
    assert template_rendering(name, variant) == golden(name, variant)


@pytest.mark.parametrize("name", NAMES)
def test_history_calls_read_back_as_the_calls_they_were(name: str) -> None:
    prompt = rendered(name)
    start = prompt.index("[TOOL_CALLS]")
    answer = prompt[start : prompt.index("</s>", start)]
    assert read(name, answer).calls == [(n, arguments) for _, n, arguments in CALLS]


def test_call_ids_are_nine_alphanumerics_that_pair_calls_with_results() -> None:
    ids = [call_id(index) for index in range(50)]
    assert all(re.fullmatch(r"[A-Za-z0-9]{9}", id_) for id_ in ids)
    assert len(set(ids)) == len(ids)
    prompt = rendered("mistral")
    assert f'"id": "{ids[0]}"' in prompt and f'"call_id": "{ids[0]}"' in prompt
    assert f'"id": "{ids[1]}"' in prompt and f'"call_id": "{ids[1]}"' in prompt


def test_ids_continue_across_turns_and_stay_the_same_on_every_request() -> None:
    call = {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    messages = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "function_call": call},
        {"role": "function", "name": "get_weather", "content": "sunny"},
        {"role": "user", "content": "Again?"},
        {"role": "assistant", "content": None, "function_call": call},
        {"role": "function", "name": "get_weather", "content": "rainy"},
    ]
    first = get_wrapper("mistral-v11").render(messages, FUNCTIONS).text
    assert first == get_wrapper("mistral-v11").render(messages, FUNCTIONS).text
    assert f"[TOOL_RESULTS]{call_id(0)}[TOOL_CONTENT]sunny" in first
    assert f"[TOOL_RESULTS]{call_id(1)}[TOOL_CONTENT]rainy" in first


def test_v3_writes_a_result_that_is_not_json_as_a_json_string() -> None:
    # The template would write it bare ({"content": sunny, ...}), which is not JSON.
    messages = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": "{}"},
        },
        {"role": "function", "name": "get_weather", "content": "sunny"},
    ]
    prompt = get_wrapper("mistral").render(messages, FUNCTIONS).text
    assert (
        f'[TOOL_RESULTS]{{"content": "sunny", "call_id": "{call_id(0)}"}}[/TOOL_RESULTS]' in prompt
    )


def test_v3_puts_the_system_prompt_in_the_last_user_message_even_after_results() -> None:
    # Nemo's template drops it when the conversation ends with a result; mistral-common does not.
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": "{}"},
        },
        {"role": "function", "name": "get_weather", "content": "{}"},
    ]
    prompt = get_wrapper("mistral").render(messages, FUNCTIONS).text
    assert prompt.startswith("<s>[AVAILABLE_TOOLS][")
    assert "[/AVAILABLE_TOOLS][INST]Be brief.\n\nWeather?[/INST][TOOL_CALLS][" in prompt


def test_without_functions_there_are_no_available_tools() -> None:
    messages = [{"role": "user", "content": "Hi"}]
    for name in NAMES:
        assert "[AVAILABLE_TOOLS]" not in get_wrapper(name).render(messages, []).text
    assert get_wrapper("mistral").render(messages, []).text == "<s>[INST]Hi[/INST]"


def test_v11_writes_no_system_prompt_when_the_client_sends_none() -> None:
    # The template writes Mistral Small 3's own long default, dated today.
    prompt = get_wrapper("mistral-v11").render([{"role": "user", "content": "Hi"}], []).text
    assert prompt == "<s>[INST]Hi[/INST]"


@pytest.mark.parametrize(
    ("alias", "name", "cls"),
    [
        ("mistral", "mistral", MistralWrapper),
        ("mixtral", "mistral", MistralWrapper),
        ("mistral-nemo", "mistral", MistralWrapper),
        ("Mistral-7B-Instruct-v0.3", "mistral", MistralWrapper),
        ("mistral-v11", "mistral-v11", MistralV11Wrapper),
        ("magistral", "mistral-v11", MistralV11Wrapper),
        ("devstral", "mistral-v11", MistralV11Wrapper),
        ("mistral-small-3.2", "mistral-v11", MistralV11Wrapper),
    ],
)
def test_is_registered_under_mistral_names(alias: str, name: str, cls: type) -> None:
    entry = find_entry(alias)
    assert entry is not None and (entry.name, entry.family) == (name, "tool-call")
    wrapper = get_wrapper(alias)
    assert type(wrapper) is cls
    assert wrapper.supports_parallel_calls
    assert wrapper.stop_sequences() == ["</s>"]
