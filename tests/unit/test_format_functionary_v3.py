"""``functionary-v3`` / ``functionary-v3.1``: ``>>>name\\n{...}`` and ``<function=name>{...}</function>``."""

from __future__ import annotations

import html
import json

import pytest

from tests.unit.format_checks import (
    GOLDEN_FORMATS,
    SAMPLE_PARAMETERS,
    Call,
    Sample,
    assert_reads,
    golden,
    read,
    rendered,
    samples,
    template_rendering,
)
from tests.unit.tool_call_conversation import CALLS, VARIANTS
from wrappers.functionary import FunctionaryV31Wrapper, FunctionaryV32Wrapper, typescript_namespace
from wrappers.registry import find_entry, get_wrapper

NAMES = ["functionary-v3", "functionary-v3.1"]
#: Tables of v3.2's syntax only (tests/unit/test_format_contract.py).
TABLE_WRAPPERS = {"MESSY_OUTPUTS": ["functionary-v3"], "BROKEN": ["functionary-v3"]}

# Sources of the real outputs below.
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/1eeb523c3e0c7ffbd59469f5463dcbdecba3535e/tests/test-chat.cpp"
META_31 = "https://github.com/meta-llama/llama-models/blob/a9c89c471f793423afd4cc3ca8671d6e56fe64cb/models/llama3_1/prompt_format.md"

# The v3.2 prompt ends in a prefilled ">>>": the model's output starts with the recipient,
# as in llama.cpp's tests, which parse the output without it.
# (id, raw output, content, calls)
V32_OUTPUTS: list[Sample] = [
    # LLAMA_CPP lines 1178-1190: text to the user, then a call.
    (
        "llama.cpp-all-then-call",
        'all\nHello, world!\nnono\nWhat\'s up?>>>special_function\n{"arg1": 1}\n',
        "Hello, world!\nnono\nWhat's up?",
        [("special_function", {"arg1": 1})],
    ),
    # LLAMA_CPP lines 1191-1196: code to the python recipient.
    (
        "llama.cpp-python-code",
        "python\n# This is a program:\nprint('hey')",
        None,
        [("python", {"code": "# This is a program:\nprint('hey')"})],
    ),
    # LLAMA_CPP lines 1203-1208: trailing whitespace after the arguments.
    (
        "llama.cpp-call-trailing-space",
        'special_function\n{"arg1": 1} \n                    ',
        None,
        [("special_function", {"arg1": 1})],
    ),
    # LLAMA_CPP lines 1209-1218: text only.
    ("llama.cpp-all", "all\nHello, world!\nWhat's up?", "Hello, world!\nWhat's up?", []),
    # LLAMA_CPP test_templates for v3.2: the call as the model writes it.
    ("llama.cpp-call", 'special_function\n{"arg1": 1}', None, [("special_function", {"arg1": 1})]),
]

V31_OUTPUTS: list[Sample] = [
    # LLAMA_CPP lines 1153-1159 (COMMON_CHAT_FORMAT_FUNCTIONARY_V3_1_LLAMA_3_1).
    (
        "llama.cpp-v3.1",
        '<function=special_function>{"arg1": 1}</function>',
        None,
        [("special_function", {"arg1": 1})],
    ),
    # LLAMA_CPP lines 978-983: two calls back to back (the same syntax, Hermes section).
    (
        "llama.cpp-two-calls",
        '<function=special_function>{"arg1": 1}</function>\n'
        '<function=python>{"code":"print(\'hello\')"}</function>',
        None,
        [("special_function", {"arg1": 1}), ("python", {"code": "print('hello')"})],
    ),
    # META_31 "<function> based tool calling", Model Response Format (Llama 3.1 itself).
    (
        "meta-3.1-function-tag",
        '<function=trending_songs>{"n": 10}</function><|eot_id|>',
        None,
        [("trending_songs", {"n": 10})],
    ),
    # llama.cpp's first tool-call tests (PR #9639, tests/test-tool-call.cpp): text around calls.
    (
        "llama.cpp-text-around-calls",
        'Hell<function=foo>{"arg1": 1}</function>o, world<function=bar>{"arg2": 2}</function>!',
        "Hello, world!",
        [("foo", {"arg1": 1}), ("bar", {"arg2": 2})],
    ),
]

MESSY_OUTPUTS: list[Sample] = [
    (
        "v3.2-with-the-prefill",
        '>>>get_weather\n{"city": "Paris"}<|eot_id|>',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "v3.2-parallel",
        'get_weather\n{"city": "Paris"}>>>get_forecast\n{"city": "Tokyo", "days": 3}',
        None,
        [("get_weather", {"city": "Paris"}), ("get_forecast", {"city": "Tokyo", "days": 3})],
    ),
    (
        "v3.2-text-after-the-call",
        'all\nLet me look.>>>get_weather\n{"city": "Paris"}>>>all\nOne moment.',
        "Let me look.One moment.",
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "v3.1-missing-close-tag",
        '<function=get_weather>{"city": "Paris"}<|eom_id|>',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "v3.1-python-tag-code",
        "Let me compute.<|python_tag|>print(6 * 7)<|eom_id|>",
        "Let me compute.",
        [("python", {"code": "print(6 * 7)"})],
    ),
    (
        "unknown-function-is-still-returned",
        'book_flight\n{"to": "Rome"}',
        None,
        [("book_flight", {"to": "Rome"})],
    ),
    (
        # The first marker decides the syntax: a >>>name line inside a v3.1 call's
        # arguments (a raw newline, which the JSON reader accepts) is not a v3.2 message.
        "v3.1-recipient-line-in-an-argument",
        '<function=run>{"code": "print(1)\n>>>all\nx"}</function>',
        None,
        [("run", {"code": "print(1)\n>>>all\nx"})],
    ),
    (
        "call-in-reasoning-is-not-a-call",
        '<think><function=get_forecast>{"city": "Oslo", "days": 1}</function>?</think>'
        '<function=get_weather>{"city": "Paris"}</function>',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
]

NO_CALLS: list[tuple[str, str, str]] = [
    ("plain-text", "The weather is fine.", "The weather is fine."),
    # The end is stripped before reading: no message follows the last marker.
    (
        "v3.2-a-marker-at-the-very-end",
        ">>>all\nOne moment.>>>get_weather\n",
        "One moment.>>>get_weather",
    ),
    ("python-session-in-prose", "Try this:\n>>> print(1)\n1", "Try this:\n>>> print(1)\n1"),
    ("v3.2-all-only", ">>>all\nHi there!<|eot_id|>", "Hi there!"),
]

BROKEN: list[tuple[str, str]] = [
    ("v3.2-cut-off-arguments", 'get_weather\n{"city": "Par'),
    ("v3.2-arguments-not-json", "get_weather\ncity=Paris"),
    ("v3.2-arguments-not-an-object", 'get_weather\n["Paris"]'),
    ("v3.1-cut-off-arguments", '<function=get_weather>{"city": "Par'),
    ("v3.1-arguments-not-json", "<function=get_weather>Paris</function>"),
]


@pytest.mark.parametrize(SAMPLE_PARAMETERS, samples(V32_OUTPUTS, ["functionary-v3"]))
def test_v32_reads_real_outputs_after_its_prefilled_recipient_marker(
    name: str, raw: str, content: str | None, calls: list[Call]
) -> None:
    assert_reads(name, raw, content, calls)


@pytest.mark.parametrize(SAMPLE_PARAMETERS, samples(V31_OUTPUTS, NAMES))
def test_reads_real_v31_outputs(
    name: str, raw: str, content: str | None, calls: list[Call]
) -> None:
    assert_reads(name, raw, content, calls)


@pytest.mark.parametrize(SAMPLE_PARAMETERS, samples(V32_OUTPUTS, ["functionary-v3.1"]))
def test_v31_reads_v32_outputs_that_carry_their_marker(
    name: str, raw: str, content: str | None, calls: list[Call]
) -> None:
    # v3.1 prefills nothing, so the output must show its >>>.
    assert_reads(name, ">>>" + raw, content, calls)


@pytest.mark.parametrize(
    ("raw", "content"), [pytest.param(raw, content, id=id_) for id_, raw, content in NO_CALLS]
)
@pytest.mark.parametrize("name", NAMES)
def test_an_answer_without_a_call_is_content(name: str, raw: str, content: str) -> None:
    assert (read(name, raw).content, read(name, raw).calls) == (content, [])


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_the_conversation_as_meetkais_v32_template_does(variant: str) -> None:
    assert rendered("functionary-v3", variant) == golden("functionary-v3", variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_the_conversation_as_meetkais_v31_template_does(variant: str) -> None:
    # Under Hugging Face's Jinja environment the v3.1 template HTML-escapes each function's
    # JSON ("...'\n"|safe + tojson: Markup escapes the plain string added to it). The model
    # was trained on plain JSON (llama.cpp renders it so): fcproxy writes it unescaped.
    expected = golden("functionary-v3.1", variant)
    assert ("&#34;name&#34;" in expected) == (variant != "no_tools")
    assert rendered("functionary-v3.1", variant) == html.unescape(expected)


def test_writes_every_kind_of_parameter_as_meetkais_typescript_macros_do() -> None:
    # golden_formats/functionary-v3.schemas.txt: the v3.2 template's namespace for tools
    # with nested objects, arrays of objects, enums, defaults, bounds, formats, oneOf,
    # nullable values and examples (functionary-v3.schemas.tools.json).
    tools = json.loads((GOLDEN_FORMATS / "functionary-v3.schemas.tools.json").read_text())
    expected = golden("functionary-v3.schemas")
    prompt = get_wrapper("functionary-v3").render(
        [{"role": "user", "content": "Hi"}], [tool["function"] for tool in tools]
    )
    assert prompt.text == expected
    assert typescript_namespace([t["function"] for t in tools]) in expected


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_the_golden_is_what_the_template_renders(name: str, variant: str) -> None:
    assert template_rendering(name, variant) == golden(name, variant)


def test_the_schemas_golden_is_what_the_template_renders() -> None:
    pytest.importorskip("jinja2")
    from tests.unit.golden_formats.generate_format_goldens import render_functionary_schemas

    assert render_functionary_schemas() == golden("functionary-v3.schemas")


@pytest.mark.parametrize(
    ("name", "start"),
    [("functionary-v3", ">>>get_weather"), ("functionary-v3.1", "<function=get_weather")],
)
def test_history_calls_read_back_as_the_calls_they_were(name: str, start: str) -> None:
    prompt = rendered(name)
    begin = prompt.index(start)
    answer = prompt[begin : prompt.index("<|e", begin)]
    assert read(name, answer).calls == [(n, arguments) for _, n, arguments in CALLS]


def test_v32_prompt_ends_with_the_prefilled_recipient_marker() -> None:
    prompt = get_wrapper("functionary-v3").render([{"role": "user", "content": "Hi"}], []).text
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n>>>")
    # The template prints the (empty) namespace even without functions.
    assert "namespace functions {\n\n} // namespace functions<|eot_id|>" in prompt


def test_v31_without_functions_has_no_function_instructions() -> None:
    prompt = get_wrapper("functionary-v3.1").render([{"role": "user", "content": "Hi"}], []).text
    assert "<function=" not in prompt
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_v31_writes_python_calls_as_code_after_the_python_tag() -> None:
    messages = [
        {"role": "user", "content": "6 * 7?"},
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "python", "arguments": '{"code": "print(6 * 7)"}'},
        },
    ]
    prompt = get_wrapper("functionary-v3.1").render(messages, []).text
    assert "<|python_tag|>print(6 * 7)<|eom_id|>" in prompt


@pytest.mark.parametrize(
    ("alias", "name", "cls"),
    [
        ("functionary-v3", "functionary-v3", FunctionaryV32Wrapper),
        ("functionary", "functionary-v3", FunctionaryV32Wrapper),
        ("functionary-medium-v3.2", "functionary-v3", FunctionaryV32Wrapper),
        ("functionary-v3.1", "functionary-v3.1", FunctionaryV31Wrapper),
        ("functionary-small-v3.1", "functionary-v3.1", FunctionaryV31Wrapper),
    ],
)
def test_is_registered(alias: str, name: str, cls: type) -> None:
    entry = find_entry(alias)
    assert entry is not None and (entry.name, entry.family) == (name, "tool-call")
    wrapper = get_wrapper(alias)
    assert type(wrapper) is cls
    assert wrapper.supports_parallel_calls
    assert wrapper.stop_sequences() == ["<|eot_id|>", "<|eom_id|>"]
