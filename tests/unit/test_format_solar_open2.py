"""``solar-open2``: Upstage Solar Open 2, ``<|tool_call:start|>`` calls of argument tokens.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.solar_open2 import SolarOpen2Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "solar-open2"

# Source of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/0064cc9cb1ae57b1308015d48a57462fa27a68f2/tests/tool_parsers/test_solar_open2_tool_parser.py"


def function(function_name: str, **types: object) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": function_name, "parameters": {"type": "object", "properties": properties}}


# VLLM's typed_request tools, and the ones its other outputs call.
FUNCTIONS: list[FunctionSchema] = [
    function("search", query="string", max_results="integer"),
    function(
        "do_all_types",
        s="string",
        i="integer",
        n="number",
        b="boolean",
        arr="array",
        obj="object",
        maybe_int=["integer", "null"],
    ),
    function("get_weather", city="string"),
    function("get_time"),
    function("process_data", data="string"),
    function("broken", a="string"),
    function("write_file", path="string", content="string"),
]

SEOUL: Call = ("get_weather", {"city": "Seoul"})
# VLLM's _TOOL_CALL.
SEOUL_CALL = (
    "<|tool_call:start|>get_weather\n"
    "<|tool_arg:start|>city<|tool_arg:value|>Seoul<|tool_arg:end|>\n"
    "<|tool_call:end|>"
)


def all_types(name: str, value: str) -> str:
    # VLLM TestTypeCoercion._build.
    return (
        f"<|tool_call:start|>do_all_types\n<|tool_arg:start|>{name}<|tool_arg:value|>{value}"
        "<|tool_arg:end|>\n<|tool_call:end|>"
    )


REAL_OUTPUTS: list[Case] = [
    # VLLM test_single_tool_no_content.
    ("vllm-single", SEOUL_CALL, None, [SEOUL]),
    # VLLM test_single_tool_with_content_prefix.
    (
        "vllm-text-first",
        "Let me check the weather." + SEOUL_CALL,
        "Let me check the weather.",
        [SEOUL],
    ),
    # VLLM test_multiple_tool_calls.
    (
        "vllm-parallel",
        "I'll check both." + SEOUL_CALL + "\n" + SEOUL_CALL.replace("Seoul", "Tokyo"),
        "I'll check both.",
        [SEOUL, ("get_weather", {"city": "Tokyo"})],
    ),
    # VLLM test_multiple_arguments_with_schema: the integer typed by the schema.
    (
        "vllm-typed-integer",
        "<|tool_call:start|>search\n"
        "<|tool_arg:start|>query<|tool_arg:value|>vLLM tutorial<|tool_arg:end|>\n"
        "<|tool_arg:start|>max_results<|tool_arg:value|>5<|tool_arg:end|>\n"
        "<|tool_call:end|>",
        None,
        [("search", {"query": "vLLM tutorial", "max_results": 5})],
    ),
    # VLLM test_no_arguments.
    (
        "vllm-no-arguments",
        "<|tool_call:start|>get_time\n<|tool_call:end|>",
        None,
        [("get_time", {})],
    ),
    # VLLM test_json_like_value_in_arg: a string parameter keeps the JSON text.
    (
        "vllm-json-text-in-a-string",
        "<|tool_call:start|>process_data\n"
        '<|tool_arg:start|>data<|tool_arg:value|>{"key": "value"}<|tool_arg:end|>\n'
        "<|tool_call:end|>",
        None,
        [("process_data", {"data": '{"key": "value"}'})],
    ),
    # VLLM test_whitespace_only_prefix_is_no_content.
    ("vllm-blank-prefix", "  \n\n" + SEOUL_CALL, None, [SEOUL]),
    # VLLM test_dropped_arg_end_does_not_swallow_later_calls.
    (
        "vllm-dropped-arg-end",
        "<|tool_call:start|>broken\n<|tool_arg:start|>a<|tool_arg:value|>oops<|tool_call:end|>"
        + SEOUL_CALL,
        None,
        [("broken", {"a": "oops"}), SEOUL],
    ),
    # VLLM _PARITY_FIXTURES dropped_call_end / dropped_call_end_and_arg_end.
    (
        "vllm-dropped-call-end",
        "<|tool_call:start|>search\n<|tool_arg:start|>query<|tool_arg:value|>vLLM<|tool_arg:end|>\n"
        + SEOUL_CALL,
        None,
        [("search", {"query": "vLLM"}), SEOUL],
    ),
    (
        "vllm-dropped-call-end-and-arg-end",
        "<|tool_call:start|>search\n<|tool_arg:start|>query<|tool_arg:value|>vLLM" + SEOUL_CALL,
        None,
        [("search", {"query": "vLLM"}), SEOUL],
    ),
    # VLLM restart_before_function_name(_with_prefix), call_end_before_function_name: a
    # block whose name line never ends is not a call (nor content).
    ("vllm-restart-before-name", "<|tool_call:start|>get_weat" + SEOUL_CALL, None, [SEOUL]),
    ("vllm-restart-after-text", "Hmm. <|tool_call:start|>oops" + SEOUL_CALL, "Hmm.", [SEOUL]),
    (
        "vllm-call-end-before-name",
        "<|tool_call:start|>oops<|tool_call:end|>" + SEOUL_CALL,
        None,
        [SEOUL],
    ),
    # VLLM call_end_before_arg_name / arg_start_before_arg_name: no key from a broken one.
    (
        "vllm-call-end-before-argument-name",
        "<|tool_call:start|>get_time\n<|tool_arg:start|>ci<|tool_call:end|>" + SEOUL_CALL,
        None,
        [("get_time", {}), SEOUL],
    ),
    (
        "vllm-argument-restarted",
        "<|tool_call:start|>get_weather\n<|tool_arg:start|>ci"
        "<|tool_arg:start|>city<|tool_arg:value|>Seoul<|tool_arg:end|>\n<|tool_call:end|>",
        None,
        [SEOUL],
    ),
    # VLLM test_literal_call_sentinel_prefix_in_value.
    (
        "vllm-token-prefix-in-a-value",
        "<|tool_call:start|>search\n<|tool_arg:start|>query<|tool_arg:value|>"
        "what does <|tool_call: mean<|tool_arg:end|>\n<|tool_call:end|>",
        None,
        [("search", {"query": "what does <|tool_call: mean"})],
    ),
    # VLLM test_repeated_argument_name_keeps_first_value.
    (
        "vllm-repeated-argument",
        "<|tool_call:start|>search\n"
        "<|tool_arg:start|>query<|tool_arg:value|>first<|tool_arg:end|>\n"
        "<|tool_arg:start|>query<|tool_arg:value|>second<|tool_arg:end|>\n<|tool_call:end|>",
        None,
        [("search", {"query": "first"})],
    ),
    # VLLM _PARITY_FIXTURES text_between_calls (vLLM keeps only the text before the first
    # call; fcproxy keeps all text outside the calls).
    (
        "vllm-text-between-calls",
        "pre" + SEOUL_CALL + "mid" + SEOUL_CALL + "post",
        "premidpost",
        [SEOUL, SEOUL],
    ),
    ("vllm-back-to-back", SEOUL_CALL + SEOUL_CALL, None, [SEOUL, SEOUL]),
    # VLLM TestTypeCoercion, values typed by the schema.
    *[
        (
            f"vllm-typed-{name}-{index}",
            all_types(name, raw),
            None,
            [("do_all_types", {name: value})],
        )
        for index, (name, raw, value) in enumerate(
            [
                ("i", "42", 42),
                ("n", "3.14", 3.14),
                ("n", "7.0", 7),
                ("b", "true", True),
                ("b", "False", False),
                ("b", "yes", "yes"),
                ("arr", "[1, 2, 3]", [1, 2, 3]),
                ("obj", '{"k": "v"}', {"k": "v"}),
                ("maybe_int", "9", 9),
                ("s", "42", "42"),
                ("i", "not-a-number", "not-a-number"),
            ]
        )
    ],
]

MESSY_OUTPUTS: list[Case] = [
    (
        "a-multiline-value-kept-as-written",
        "<|tool_call:start|>write_file\n"
        "<|tool_arg:start|>path<|tool_arg:value|>/tmp/a.py<|tool_arg:end|>\n"
        "<|tool_arg:start|>content<|tool_arg:value|>  x = 1\n<|tool_arg:end|>\n<|tool_call:end|>",
        None,
        [("write_file", {"path": "/tmp/a.py", "content": "  x = 1\n"})],
    ),
    ("end-of-turn-token", SEOUL_CALL + "<|im:end|>", None, [SEOUL]),
    # A call cut off after a complete one: the complete one stands.
    (
        "cut-off-after-a-call",
        SEOUL_CALL + "\n<|tool_call:start|>search\n<|tool_arg:start|>query<|tool_arg:value|>Seo",
        None,
        [SEOUL],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_calls.
    ("vllm-plain", "This is a regular response."),
    # VLLM test_trailing_partial_tool_sentinel_is_held_back (the one-shot parse keeps it).
    ("vllm-partial-token", "see <|to"),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_unterminated_block_returns_raw_output: cut off, no complete call.
    (
        "vllm-unterminated",
        "Let me check.<|tool_call:start|>search\n<|tool_arg:start|>query<|tool_arg:value|>Seo",
    ),
    # VLLM test_truncated_multiline_value_returns_raw_output.
    (
        "vllm-truncated-multiline-value",
        "Writing the file.<|tool_call:start|>write_file\n"
        "<|tool_arg:start|>path<|tool_arg:value|>/tmp/a.py<|tool_arg:end|>\n"
        "<|tool_arg:start|>content<|tool_arg:value|>" + "".join(f"line {i}\n" for i in range(200)),
    ),
]

REASONING: list[ReasoningCase] = [
    # VLLM test_reasoning_tags_with_tool_calls (vLLM's tool parser leaves them in the content).
    (
        "vllm-reasoning-then-call",
        "<|think:start|>I should use a tool<|think:end|>Sure, let me help." + SEOUL_CALL,
        "I should use a tool",
        "Sure, let me help.",
        [SEOUL],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"<|think:start|>maybe {SEOUL_CALL}<|think:end|>It is sunny.",
        f"maybe {SEOUL_CALL}",
        "It is sunny.",
        [],
    ),
]


def test_renders_solar_turns_with_the_call_format() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Seoul?"},
        *call_turns([SEOUL], ["sunny"]),
    ]
    text = SolarOpen2Wrapper().render(messages, FUNCTIONS[2:3]).text
    assert text.startswith(
        "<|im:start|>system<|im:content|>## System Prompt\n\nBe brief.\n\n## Tools\n"
        "- You may invoke one or more tools to assist with the user's query.\n\n"
        '### Available Tools\n<|tool:start|>{"type": "function", "function": {"name": '
        '"get_weather", '
    )
    assert text.endswith(
        "<|tool_call:end|>\n<|im:end|>\n<|im:start|>user<|im:content|>Weather in Seoul?"
        "<|im:end|>\n<|im:start|>assistant<|im:content|><|think:start|><|think:end|>"
        f"{SEOUL_CALL}\n<|im:end|>\n<|im:start|>tool<|im:content|><|tool_response:start|>sunny"
        "<|tool_response:end|>\n<|im:end|>\n<|im:start|>assistant<|im:content|>"
    )
    # What the prompt shows reads back as the call.
    shown = text.split("<|im:start|>assistant<|im:content|>")[1].split("\n<|im:end|>")[0]
    assert SolarOpen2Wrapper().parse(shown, FUNCTIONS).tool_calls[0].name == "get_weather"


def test_without_system_prompt_or_tools_no_system_turn() -> None:
    text = SolarOpen2Wrapper().render([{"role": "user", "content": "hi"}], []).text
    assert text == (
        "<|im:start|>user<|im:content|>hi<|im:end|>\n<|im:start|>assistant<|im:content|>"
    )


def test_past_non_string_values_are_compact_json() -> None:
    messages = [
        {"role": "user", "content": "x"},
        *call_turns([("search", {"query": "q", "max_results": 3})], ["none"]),
    ]
    text = SolarOpen2Wrapper().render(messages, FUNCTIONS[:1]).text
    assert "<|tool_arg:start|>max_results<|tool_arg:value|>3<|tool_arg:end|>" in text


def test_the_grammar_is_the_calls() -> None:
    text = SolarOpen2Wrapper().call_grammar(FUNCTIONS[2:3], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(SEOUL_CALL)
    assert grammar.matches(SEOUL_CALL + "\n" + SEOUL_CALL)
    assert not grammar.matches("<|tool_call:start|>get_weather\n<|tool_call:end|><|im:end|>")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(SEOUL_CALL) == NAME
    assert wrapper_for_template("{{- '<|tool_call:start|>' + tool_call.name }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, SolarOpen2Wrapper, ("solar-open-2", "solar_open2"))
