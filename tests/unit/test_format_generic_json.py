"""``generic-json``: any model, asked for ``{"name", "arguments"}``; the object found anywhere."""

from __future__ import annotations

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
from wrappers.base import WrapperParseError
from wrappers.generic_json import GenericJSONWrapper
from wrappers.json_calls import find_json_calls, read_object_list
from wrappers.registry import find_entry, get_wrapper

NAME = "generic-json"

# Sources of the real outputs below.
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/1eeb523c3e0c7ffbd59469f5463dcbdecba3535e/tests/test-chat.cpp"
VLLM_LLAMA3 = "https://github.com/vllm-project/vllm/blob/1e499e36c5828a75c6ca8b76631d264be1187005/tests/tool_parsers/test_llama3_json_tool_parser.py"
META_31 = "https://github.com/meta-llama/llama-models/blob/a9c89c471f793423afd4cc3ca8671d6e56fe64cb/models/llama3_1/prompt_format.md"

PARIS: Call = ("get_weather", {"city": "Paris"})
TOKYO: Call = ("get_forecast", {"city": "Tokyo", "days": 3})

# (id, raw output, content, calls)
REAL_OUTPUTS: list[Sample] = [
    # LLAMA_CPP lines 724-735: llama.cpp's generic tool-call format (Gemma 2, Phi 3.5, ...).
    (
        "llama.cpp-generic-tool-calls",
        '{\n  "tool_calls": [\n    {\n      "name": "special_function",\n      "arguments": {\n'
        '        "arg1": 1\n      },\n      "id": "123456789"\n    }\n  ]\n}',
        None,
        [("special_function", {"arg1": 1})],
    ),
    # LLAMA_CPP lines 697-702: the same format, cut off inside the arguments (mended).
    (
        "llama.cpp-generic-cut-off",
        '{"tool_call": {"name": "puppeteer_screenshot", "arguments": {"name": "servethehome_homepage",',
        None,
        [("puppeteer_screenshot", {"name": "servethehome_homepage"})],
    ),
    # VLLM_LLAMA3 test_extract_tool_calls_simple / _multiple_json_with_surrounding_text:
    # Llama 3.2 1B asked for JSON, prose around.
    (
        "vllm-prose-around",
        'Here is the result: {"name": "getOpenIncidentsTool", "parameters": {}} Would you like to know more?',
        "Here is the result:  Would you like to know more?",
        [("getOpenIncidentsTool", {})],
    ),
    (
        "vllm-several-with-prose",
        'Here are the results: {"name": "searchTool", "parameters": {"query": "test1"}}; '
        '{"name": "getOpenIncidentsTool", "parameters": {}}; '
        '{"name": "searchTool", "parameters": {"query": "test2"}} Would you like to know more?',
        "Here are the results:  Would you like to know more?",
        [
            ("searchTool", {"query": "test1"}),
            ("getOpenIncidentsTool", {}),
            ("searchTool", {"query": "test2"}),
        ],
    ),
    # META_31 "JSON based tool calling": a model's own JSON reads here too.
    (
        "meta-3.1-json",
        '{\n    "type": "function",\n    "name": "trending_songs",\n    "parameters": {\n'
        '        "n": "10",\n        "genre": "all"\n    }\n}',
        None,
        [("trending_songs", {"n": "10", "genre": "all"})],
    ),
]

MESSY_OUTPUTS: list[Sample] = [
    ("alone", '{"name": "get_weather", "arguments": {"city": "Paris"}}', None, [PARIS]),
    (
        "unescaped-quotes-in-a-value",
        '{"name": "get_weather", "arguments": {"city": "Paris", "note": "it\'s "nice" there"}}',
        None,
        [("get_weather", {"city": "Paris", "note": 'it\'s "nice" there'})],
    ),
    (
        "fenced-with-prose",
        'Sure! ```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n``` Done.',
        "Sure!  Done.",
        [PARIS],
    ),
    (
        "a-list",
        '[{"name": "get_weather", "arguments": {"city": "Paris"}}, '
        '{"name": "get_forecast", "arguments": {"city": "Tokyo", "days": 3}}]',
        None,
        [PARIS, TOKYO],
    ),
    (
        "a-list-in-a-fence",
        'I will call ```json\n[{"name": "get_weather", "arguments": {"city": "Paris"}}]\n``` now.',
        "I will call  now.",
        [PARIS],
    ),
    (
        "one-per-line",
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
        '{"name": "get_forecast", "arguments": {"city": "Tokyo", "days": 3}}',
        None,
        [PARIS, TOKYO],
    ),
    (
        "trailing-comma",
        '{"name": "get_weather", "arguments": {"city": "Paris",}}',
        None,
        [PARIS],
    ),
    (
        "single-quotes",
        "{'name': 'get_weather', 'arguments': {'city': 'Paris'}}",
        None,
        [PARIS],
    ),
    (
        "cut-off-end",
        'Sure! {"name": "get_weather", "arguments": {"city": "Paris"',
        "Sure!",
        [PARIS],
    ),
    (
        "a-broken-list",
        '[{"name": "get_weather", "arguments": {"city": "Paris",}}, '
        '{"name": "get_forecast", "arguments": {"city": "Tokyo", "days": 3}}]',
        None,
        [PARIS, TOKYO],
    ),
    (
        "arguments-as-a-json-string",
        '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}',
        None,
        [PARIS],
    ),
    (
        "openai-spelling",
        '{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}',
        None,
        [PARIS],
    ),
    (
        "end-of-turn-token",
        '{"name": "get_weather", "arguments": {"city": "Paris"}}<|im_end|>',
        None,
        [PARIS],
    ),
    (
        "unknown-function-is-still-returned",
        '{"name": "book_flight", "arguments": {"to": "Rome"}}',
        None,
        [("book_flight", {"to": "Rome"})],
    ),
    (
        "call-in-reasoning-is-not-a-call",
        '<think>{"name": "get_forecast", "arguments": {"city": "Oslo", "days": 1}}?</think>'
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        None,
        [PARIS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("prose", "It is sunny in Paris today."),
    ("json-that-is-not-a-call", 'Here is the user: {"name": "Alice", "age": 3}'),
    ("a-list-that-is-not-calls", '[{"name": "Alice"}, {"name": "Bob"}]'),
    ("code", "def f():\n    return {'a': 1}"),
    # VLLM_LLAMA3 test_extract_tool_calls_missing_parameters_and_arguments_key.
    ("vllm-no-arguments-key", '{"name": "toolWithoutParams"}'),
]

BROKEN: list[tuple[str, str]] = [
    ("arguments-not-an-object", '{"name": "get_weather", "arguments": [1, 2]}'),
    ("empty-name", '{"name": "", "arguments": {}}'),
    ("arguments-missing-a-value", '{"name": "get_weather", "arguments": }'),
    # LLAMA_CPP lines 710-715: cut off inside an argument's name (nothing to mend).
    (
        "llama.cpp-cut-off-in-a-key",
        '{ "tool_call" : { "name" : "special_function", "arguments" : { "arg',
    ),
]


def test_without_repair_a_broken_call_raises_instead_of_being_mended() -> None:
    # What llama3-json uses: a model trained on JSON calls that writes broken JSON is retried.
    with pytest.raises(WrapperParseError):
        find_json_calls('{"name": "get_weather", "arguments": {"city": "Paris",}}', repair=False)


@pytest.mark.parametrize(
    ("text", "items", "end"),
    [
        ('[{"a": 1}, {"b": 2}] tail', [{"a": 1}, {"b": 2}], 20),
        ('[{"a": 1}, {"b": "]"}', [{"a": 1}, {"b": "]"}], 21),  # cut off after the last item
        ("[]", [], 2),
        ('[{"a": 1} and prose', [{"a": 1}], 10),
    ],
)
def test_object_lists_are_read_item_by_item(text: str, items: list[object], end: int) -> None:
    assert read_object_list(text, 0) == (items, end)


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_chatml_with_the_functions_and_the_json_instruction(variant: str) -> None:
    # golden_formats/generic-json*.txt: vLLM's plain ChatML template, given fcproxy's own
    # tool instructions as the system prompt and the calls as the JSON it asks for (no model
    # template knows this format; the template pins the ChatML layout around it).
    assert rendered(NAME, variant) == golden(NAME, variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_golden_is_what_the_template_renders(variant: str) -> None:
    assert template_rendering(NAME, variant) == golden(NAME, variant)


def test_history_calls_read_back_as_the_calls_they_were() -> None:
    prompt = rendered(NAME)
    start = prompt.index('[{"name": "get_weather"')
    answer = prompt[start : prompt.index("<|im_end|>", start)]
    assert read(NAME, answer).calls == [(name, arguments) for _, name, arguments in CALLS]


def test_one_call_in_the_history_is_one_object() -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
    ]
    prompt = get_wrapper(NAME).render(messages, FUNCTIONS).text
    assert (
        '<|im_start|>assistant\nLet me look.\n{"name": "get_weather", "arguments": {"city": "Paris"}}<|im_end|>'
        in prompt
    )


def test_without_functions_or_system_prompt_there_is_no_system_turn() -> None:
    prompt = GenericJSONWrapper().render_chat("", [], [])
    assert prompt == "<|im_start|>assistant\n"


@pytest.mark.parametrize("alias", ["generic-json", "generic", "JSON-generic"])
def test_is_registered_as_a_fallback(alias: str) -> None:
    entry = find_entry(alias)
    assert entry is not None and (entry.name, entry.family) == (NAME, "fallback")
    wrapper = get_wrapper(alias)
    assert type(wrapper) is GenericJSONWrapper
    assert wrapper.supports_parallel_calls
    assert wrapper.stop_sequences() == ["<|im_end|>", "<|endoftext|>"]
