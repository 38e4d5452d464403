"""``pythonic`` / ``llama4-pythonic``: ``[get_weather(city="Paris"), ...]`` read with ``ast``."""

from __future__ import annotations

import pytest

from tests.unit.format_checks import (
    Sample,
    golden,
    read,
    rendered,
    template_rendering,
)
from tests.unit.tool_call_conversation import CALLS, VARIANTS
from wrappers.python_calls import NotACallList, parse_call_list, python_literal
from wrappers.pythonic import Llama4PythonicWrapper, PythonicWrapper
from wrappers.registry import find_entry, get_wrapper

NAMES = ["pythonic", "llama4-pythonic"]

# Sources of the real outputs below.
META_32 = "https://github.com/meta-llama/llama-models/blob/a9c89c471f793423afd4cc3ca8671d6e56fe64cb/models/llama3_2/text_prompt_format.md"
META_4 = "https://github.com/meta-llama/llama-models/blob/a9c89c471f793423afd4cc3ca8671d6e56fe64cb/models/llama4/prompt_format.md"
VLLM = "https://github.com/vllm-project/vllm/blob/0716d268c7d81e445bd9ae30205f7bf4cfacd7d5/tests/tool_parsers/test_pythonic_tool_parser.py"
SGLANG = "https://github.com/sgl-project/sglang/blob/03400a9e4d955eff2606cfe621c83a710c16cc97/test/srt/test_function_call_parser.py"

SF = {"city": "San Francisco", "metric": "celsius"}
JOHN = {
    "name": "John Doe",
    "age": 37,
    "address": {"city": "San Francisco", "state": "CA"},
    "role": None,
    "passed_test": True,
    "aliases": ["John", "Johnny"],
}

# (id, raw output, content, calls)
REAL_OUTPUTS: list[Sample] = [
    # META_32 "Zero shot function calling", Model Response Format (Llama 3.2 1B/3B).
    (
        "meta-3.2-parallel",
        "[get_weather(city='San Francisco', metric='celsius'), "
        "get_weather(city='Seattle', metric='celsius')]<|eot_id|>",
        None,
        [("get_weather", SF), ("get_weather", {"city": "Seattle", "metric": "celsius"})],
    ),
    # META_32 "Zero shot function calling with user message".
    (
        "meta-3.2-integer",
        "[get_user_info(user_id=7890, special='black')]<|eot_id|>",
        None,
        [("get_user_info", {"user_id": 7890, "special": "black"})],
    ),
    # META_32 "Zero shot function calling E2E format".
    (
        "meta-3.2-python-tag",
        '<|python_tag|>[get_weather(city="San Francisco", metric="celsius")]<|eot_id|>',
        None,
        [("get_weather", SF)],
    ),
    # META_4 "Zero shot function calling - system message" (Llama 4).
    (
        "meta-4-parallel",
        '[get_weather(city="San Francisco"), get_weather(city="Seattle")]<|eot|>',
        None,
        [("get_weather", {"city": "San Francisco"}), ("get_weather", {"city": "Seattle"})],
    ),
    # VLLM MORE_TYPES_FUNCTION_OUTPUT, PARAMETERLESS, EMPTY_DICT, EMPTY_LIST, ESCAPED_STRING.
    (
        "vllm-more-types",
        "[register_user(name='John Doe', age=37, address={'city': 'San Francisco', 'state': 'CA'}, "
        "role=None, passed_test=True, aliases=['John', 'Johnny'])]",
        None,
        [("register_user", JOHN)],
    ),
    ("vllm-parameterless", "[get_weather()]", None, [("get_weather", {})]),
    (
        "vllm-empty-dict",
        "[do_something_cool(additional_data={})]",
        None,
        [("do_something_cool", {"additional_data": {}})],
    ),
    (
        "vllm-empty-list",
        "[do_something_cool(steps=[])]",
        None,
        [("do_something_cool", {"steps": []})],
    ),
    (
        "vllm-escaped-string",
        r"[get_weather(city='Martha\'s Vineyard', metric='\"cool units\"')]",
        None,
        [("get_weather", {"city": "Martha's Vineyard", "metric": '"cool units"'})],
    ),
    # SGLANG TestPythonicDetector: prose around, Llama 4's <|python_start|> markers.
    (
        "sglang-text-before",
        "Here's a tool call: [get_weather(location='New York', unit='celsius')]",
        "Here's a tool call:",
        [("get_weather", {"location": "New York", "unit": "celsius"})],
    ),
    (
        "sglang-python-start-end",
        "User wants to get the weather in Mars. <|python_start|>[get_weather(location='Mars', "
        "unit='celsius')]<|python_end|> In this way we will get the weather in Mars.",
        "User wants to get the weather in Mars.  In this way we will get the weather in Mars.",
        [("get_weather", {"location": "Mars", "unit": "celsius"})],
    ),
    (
        "sglang-nested",
        "[search(query='test', config={'options': [1, 2], 'nested': {'key': 'value'}})]",
        None,
        [("search", {"query": "test", "config": {"options": [1, 2], "nested": {"key": "value"}}})],
    ),
    (
        "sglang-two-lists",
        "[get_weather(location='Berlin')] and [search(query='restaurants')]",
        "and",
        [("get_weather", {"location": "Berlin"}), ("search", {"query": "restaurants"})],
    ),
]

MESSY_OUTPUTS: list[Sample] = [
    (
        "code-fence",
        '```python\n[get_weather(city="Paris")]\n```',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "bracket-in-a-string",
        '[get_weather(city="Paris ] [x")]',
        None,
        [("get_weather", {"city": "Paris ] [x"})],
    ),
    (
        "json-constants",
        "[set_alarm(enabled=true, label=null, days=[1, 2], offset=-5)]",
        None,
        [("set_alarm", {"enabled": True, "label": None, "days": [1, 2], "offset": -5})],
    ),
    (
        "bare-call-as-the-whole-answer",
        'get_weather(city="Paris")',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    ("tuple-argument-becomes-a-list", "[f(point=(1, 2))]", None, [("f", {"point": [1, 2]})]),
    (
        "unknown-function-is-still-returned",
        '[book_flight(to="Rome")]',
        None,
        [("book_flight", {"to": "Rome"})],
    ),
    (
        "call-in-reasoning-is-not-a-call",
        '<think>Maybe [get_forecast(city="Oslo", days=1)]?</think>[get_weather(city="Paris")]',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call.
    ("vllm-plain", "How can I help you today?"),
    ("numbers-in-brackets", "See [1] and [2, 3] for details."),
    ("positional-argument", "The note [note(1)] says hi."),
    ("markdown-link", "Read [the docs](https://example.com) first."),
    ("bare-call-in-prose", 'You could call get_weather(city="Paris") yourself.'),
    ("a-value-that-is-not-a-literal", "[get_weather(city=paris)]"),
    # VLLM test_bad_sibling_call_does_not_drop_good_calls / test_non_finite_argument_rejected:
    # a list holding a value JSON cannot carry is not read as calls.
    ("vllm-bytes-argument", "[bad(x=b'z'), get_weather(city='San Francisco', metric='celsius')]"),
    ("vllm-non-finite-number", "[calc(x=1e999), get_weather(city='San Francisco')]"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", '[get_weather(city="Paris"'),
    ("cut-off-in-a-string", '[get_weather(city="Par'),
    # VLLM test_unrecoverable_block_still_reports_no_tool_call: broken quoting.
    ("vllm-broken-quotes", "[f(a='x 'y' 'z), g(b='p 'q' 'r)]"),
    # VLLM test_streaming_mismatched_brackets_reported_once.
    ("vllm-mismatched-brackets", "[foo(x=1])]"),
]


def test_nothing_is_evaluated() -> None:
    # Expressions are not literals: they are never run, and the list is not calls.
    with pytest.raises(NotACallList):
        parse_call_list("[f(x=__import__('os').system('echo pwned'))]")
    with pytest.raises(NotACallList):
        parse_call_list("[f(x=1 + 2)]")


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_the_conversation_as_vllms_llama_3_2_template_does(variant: str) -> None:
    # golden_formats/pythonic*.txt: vLLM's tool_chat_template_llama3.2_pythonic.jinja. The
    # template prints argument values with %s (city=Paris, unreadable); fcproxy writes
    # Python literals (city="Paris"), so the generator handed the template the literals.
    assert rendered("pythonic", variant) == golden("pythonic", variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_the_conversation_as_vllms_llama_4_template_does(variant: str) -> None:
    # golden_formats/llama4-pythonic*.txt: vLLM's tool_chat_template_llama4_pythonic.jinja
    # (tools passed as custom_tools: as `tools` it prints none). The template quotes every
    # value, numbers too (days="3"); fcproxy writes the literal.
    expected = golden("llama4-pythonic", variant)
    assert ('days="3"' in expected) == (variant != "no_tools")
    assert rendered("llama4-pythonic", variant) == expected.replace('days="3"', "days=3")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_the_golden_is_what_the_template_renders(name: str, variant: str) -> None:
    assert template_rendering(name, variant) == golden(name, variant)


@pytest.mark.parametrize("name", NAMES)
def test_history_calls_read_back_as_the_calls_they_were(name: str) -> None:
    prompt = rendered(name)
    start = prompt.index("[get_weather(")
    answer = prompt[start : prompt.index("]", prompt.index("get_forecast(", start)) + 1]
    assert read(name, answer).calls == [(n, arguments) for _, n, arguments in CALLS]


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("Paris", '"Paris"'),
        ('say "hi"\n', '"say \\"hi\\"\\n"'),
        ("café", '"café"'),
        (3, "3"),
        (2.5, "2.5"),
        (True, "True"),
        (None, "None"),
        ([1, "a"], '[1, "a"]'),
        ({"k": [False]}, '{"k": [False]}'),
    ],
)
def test_history_values_are_python_literals_that_read_back(value: object, literal: str) -> None:
    assert python_literal(value) == literal
    assert parse_call_list(f"[f(v={literal})]")[0].arguments == {"v": value}


def test_without_functions_there_is_no_tool_prompt() -> None:
    prompt = PythonicWrapper().render_chat("", [], [])
    assert "Environment: ipython" not in prompt and "python list" not in prompt
    assert prompt.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n")
    assert Llama4PythonicWrapper().render_chat("", [], []) == (
        "<|begin_of_text|><|header_start|>assistant<|header_end|>\n\n"
    )


def test_llama4_without_a_system_prompt_uses_metas_tool_prompt() -> None:
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    functions = [{"name": "get_weather", "description": "", "parameters": {}}]
    prompt = get_wrapper("llama4-pythonic").render(messages, functions).text
    assert prompt.startswith(
        "<|begin_of_text|><|header_start|>system<|header_end|>\n\n"
        "You are a helpful assistant and an expert in function composition."
    )
    assert "Here is a list of functions in JSON format that you can invoke:\n[\n" in prompt


# Each generation's end tokens first; the other's too, since either writes the same calls.
LLAMA3_STOP = ["<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|eot|>", "<|eom|>"]
LLAMA4_STOP = ["<|eot|>", "<|eom|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>"]


@pytest.mark.parametrize(
    ("alias", "name", "cls", "stop"),
    [
        ("pythonic", "pythonic", PythonicWrapper, LLAMA3_STOP),
        ("llama3.2-pythonic", "pythonic", PythonicWrapper, LLAMA3_STOP),
        ("llama4", "llama4-pythonic", Llama4PythonicWrapper, LLAMA4_STOP),
        ("llama-4", "llama4-pythonic", Llama4PythonicWrapper, LLAMA4_STOP),
    ],
)
def test_is_registered(alias: str, name: str, cls: type, stop: list[str]) -> None:
    entry = find_entry(alias)
    assert entry is not None and (entry.name, entry.family) == (name, "tool-call")
    wrapper = get_wrapper(alias)
    assert type(wrapper) is cls
    assert wrapper.supports_parallel_calls
    assert wrapper.stop_sequences() == stop
