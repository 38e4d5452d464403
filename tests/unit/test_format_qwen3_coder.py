"""``qwen3-coder``: ``<tool_call><function=name><parameter=k>v</parameter>``, values typed by schema."""

from __future__ import annotations

from typing import Any

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
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.qwen3_coder import Qwen3CoderWrapper
from wrappers.xml_calls import typed_arguments

NAME = "qwen3-coder"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/0054011dad3f7efb66b56f6d538d7b56cc7b7ecc/tests/tool_use/test_qwen3coder_tool_parser.py"
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"
VLLM_MIMO = "https://github.com/vllm-project/vllm/blob/e3a512615bae49398676131dc250b12a9b34f899/tests/tool_parsers/test_mimov2_flash_tool_parser.py"
VLLM_IQUEST = "https://github.com/vllm-project/vllm/blob/059c0b1060f657325edf2004c42bd4b84c4e0de5/tests/tool_parsers/test_iquest_coder_tool_parser.py"
# Families whose reference parser reads this same format (vLLM's step3p5, qwen35coder,
# berrylm and kolibri1 parsers are Qwen3-Coder's grammar under another name).
VLLM_STEP3P5 = "https://github.com/vllm-project/vllm/blob/abf6e929131cf145611c55f7c4a3865edf9fbcfb/tests/tool_parsers/test_step3p5_tool_parser.py"
VLLM_QWEN36 = "https://github.com/vllm-project/vllm/blob/c164555e412e3a867d3fcfb40033020fe879596d/tests/tool_parsers/test_qwen36_bugs.py"
VLLM_BERRYLM = "https://github.com/vllm-project/vllm/blob/2a84b9e5df2c8712dfc6727aa1c41e4de969c7ff/tests/parser/engine/test_berrylm.py"
VLLM_NEMOTRON_V3 = "https://github.com/vllm-project/vllm/blob/25c9044a0fb7cee02443223d3887553bcb606958/tests/parser/engine/test_nemotron_v3.py"


def function(function_name: str, **properties: dict[str, Any]) -> FunctionSchema:
    return {"name": function_name, "parameters": {"type": "object", "properties": properties}}


# The tools the outputs below were answering (VLLM's sample_tools, llama.cpp's test tools).
FUNCTIONS: list[FunctionSchema] = [
    function(
        "get_current_weather",
        city={"type": "string"},
        state={"type": "string"},
        unit={"type": "string", "enum": ["fahrenheit", "celsius"]},
    ),
    function(
        "calculate_area",
        shape={"type": "string"},
        dimensions={"type": "object"},
        precision={"type": "integer"},
    ),
    function("special_function", arg1={"type": "integer"}),
    function("special_function_with_opt", arg1={"type": "integer"}, arg2={"type": "integer"}),
    function("python", code={"type": "string"}),
    function(
        "test_types",
        int_param={"type": "integer"},
        float_param={"type": "float"},
        bool_param={"type": "boolean"},
        str_param={"type": "string"},
        obj_param={"type": "object"},
    ),
    function("set_nullable_int", count={"type": ["integer", "null"]}),
    function("set_nullable_str", name={"type": ["string", "null"]}),
    function("set_unit", unit={"enum": ["celsius", "fahrenheit"]}),
    function("shell_command", command={"type": "string"}, timeout_ms={"type": "integer"}),
    function(
        "do_it",
        text={"type": "string"},
        count={"type": "integer"},
        ratio={"type": "number"},
        flag={"type": "boolean"},
        tags={"type": "array", "items": {"type": "string"}},
        opts={"type": "object"},
        numeric_str={"type": "string"},
    ),
    # VLLM_QWEN36's and VLLM_BERRYLM's tools.
    function("pick", items={"type": "array"}),
    function("get_weather", city={"type": "string"}, days={"type": "integer"}),
    function("write_file", path={"type": "string"}, content={"type": "string"}),
    function("get_time", timezone={"type": "string"}),
]

DALLAS: Call = ("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})
SPECIAL: Call = ("special_function", {"arg1": 1})


def block(function_name: str, **arguments: str) -> str:
    """One call as Qwen3-Coder writes it."""
    parameters = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in arguments.items())
    return f"<tool_call>\n<function={function_name}>\n{parameters}</function>\n</tool_call>"


REAL_OUTPUTS: list[Case] = [
    # VLLM test_extract_tool_calls "single_tool".
    (
        "vllm-single",
        block("get_current_weather", city="Dallas", state="TX", unit="fahrenheit"),
        None,
        [DALLAS],
    ),
    # VLLM "single_tool_with_content".
    (
        "vllm-text-first",
        "Sure! Let me check the weather for you."
        + block("get_current_weather", city="Dallas", state="TX", unit="fahrenheit"),
        "Sure! Let me check the weather for you.",
        [DALLAS],
    ),
    # VLLM "single_tool_multiline_param": an object value over two lines.
    (
        "vllm-multiline-object",
        block(
            "calculate_area",
            shape="rectangle",
            dimensions='{"width": 10, \n "height": 20}',
            precision="2",
        ),
        None,
        [
            (
                "calculate_area",
                {"shape": "rectangle", "dimensions": {"width": 10, "height": 20}, "precision": 2},
            )
        ],
    ),
    # VLLM "parallel_tools".
    (
        "vllm-parallel",
        block("get_current_weather", city="Dallas", state="TX", unit="fahrenheit")
        + "\n"
        + block("get_current_weather", city="Orlando", state="FL", unit="fahrenheit"),
        None,
        [DALLAS, ("get_current_weather", {"city": "Orlando", "state": "FL", "unit": "fahrenheit"})],
    ),
    # VLLM test_extract_tool_calls_fallback_no_tags: no <tool_call> around the function.
    (
        "vllm-no-tool-call-tags",
        "<function=get_current_weather>\n<parameter=city>\nDallas\n</parameter>\n"
        "<parameter=state>\nTX\n</parameter>\n</function>",
        None,
        [("get_current_weather", {"city": "Dallas", "state": "TX"})],
    ),
    # VLLM test_extract_tool_calls_type_conversion.
    (
        "vllm-type-conversion",
        block(
            "test_types",
            int_param="42",
            float_param="3.14",
            bool_param="true",
            str_param="hello world",
            obj_param='{"key": "value"}',
        ),
        None,
        [
            (
                "test_types",
                {
                    "int_param": 42,
                    "float_param": 3.14,
                    "bool_param": True,
                    "str_param": "hello world",
                    "obj_param": {"key": "value"},
                },
            )
        ],
    ),
    # LLAMA_CPP lines 3159-3167 (models/templates/Qwen3-Coder.jinja).
    ("llama.cpp-single", block("special_function", arg1="1"), None, [SPECIAL]),
    # LLAMA_CPP lines 3172-3189: parallel calls.
    (
        "llama.cpp-parallel",
        block("special_function", arg1="1")
        + "\n"
        + block("special_function_with_opt", arg1="1", arg2="2"),
        None,
        [SPECIAL, ("special_function_with_opt", {"arg1": 1, "arg2": 2})],
    ),
    # LLAMA_CPP lines 3362-3371: ["integer", "null"] reads as an integer.
    (
        "llama.cpp-nullable-int",
        block("set_nullable_int", count="42"),
        None,
        [("set_nullable_int", {"count": 42})],
    ),
    # LLAMA_CPP lines 3336-3347: ["string", "null"] keeps the text.
    (
        "llama.cpp-nullable-string",
        block("set_nullable_str", name="hello world"),
        None,
        [("set_nullable_str", {"name": "hello world"})],
    ),
    # LLAMA_CPP lines 3375-3384: an enum without a type is a string.
    (
        "llama.cpp-enum",
        block("set_unit", unit="celsius"),
        None,
        [("set_unit", {"unit": "celsius"})],
    ),
    # VLLM_MIMO test_extract_basic_tool_call: Xiaomi MiMo-V2-Flash writes Qwen3-Coder's calls.
    (
        "vllm-mimo-v2-flash",
        "Here is the result:\n<tool_call>\n<function=execute_bash>\n"
        "<parameter=command>pwd && ls</parameter>\n</function>\n</tool_call>",
        "Here is the result:",
        [("execute_bash", {"command": "pwd && ls"})],
    ),
    # VLLM_IQUEST test_non_streaming_parallel_tools: iQuest Coder (V1) writes
    # Qwen3-Coder's calls, a newline between them (not content).
    (
        "vllm-iquest-coder-parallel",
        "<tool_call>\n<function=get_current_weather>\n<parameter=city>\nDallas\n</parameter>\n"
        "<parameter=state>\nTX\n</parameter>\n<parameter=unit>\nfahrenheit\n</parameter>\n"
        "</function>\n</tool_call>\n"
        "<tool_call>\n<function=get_current_weather>\n<parameter=city>\nOrlando\n</parameter>\n"
        "<parameter=state>\nFL\n</parameter>\n<parameter=unit>\ncelsius\n</parameter>\n"
        "</function>\n</tool_call>",
        None,
        [
            ("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"}),
            ("get_current_weather", {"city": "Orlando", "state": "FL", "unit": "celsius"}),
        ],
    ),
    # VLLM_IQUEST _TYPED_OUTPUT: the integer typed by the schema.
    (
        "vllm-iquest-coder-typed",
        "<tool_call>\n<function=shell_command>\n<parameter=command>\napt-get update\n</parameter>\n"
        "<parameter=timeout_ms>\n300000\n</parameter>\n</function>\n</tool_call>",
        None,
        [("shell_command", {"command": "apt-get update", "timeout_ms": 300000})],
    ),
    # VLLM_IQUEST _ALL_TYPES_OUTPUT: every type; "007" stays a string.
    (
        "vllm-iquest-coder-all-types",
        "<tool_call>\n<function=do_it>\n<parameter=text>\nhello\n</parameter>\n"
        "<parameter=count>\n42\n</parameter>\n<parameter=ratio>\n3.14\n</parameter>\n"
        "<parameter=flag>\ntrue\n</parameter>\n"
        '<parameter=tags>\n["a", "b"]\n</parameter>\n'
        '<parameter=opts>\n{"k": 1, "nested": [1, 2, 3]}\n</parameter>\n'
        "<parameter=numeric_str>\n007\n</parameter>\n</function>\n</tool_call>",
        None,
        [
            (
                "do_it",
                {
                    "text": "hello",
                    "count": 42,
                    "ratio": 3.14,
                    "flag": True,
                    "tags": ["a", "b"],
                    "opts": {"k": 1, "nested": [1, 2, 3]},
                    "numeric_str": "007",
                },
            )
        ],
    ),
    # VLLM_STEP3P5 test_extract_tool_calls_missing_closing_parameter_tag: StepFun Step-3.5-Flash.
    (
        "vllm-step3.5-missing-closing-parameter-tag",
        "Let me check the weather for you:\n<tool_call>\n<function=get_current_weather>\n"
        "<parameter=city>\nDallas\n<parameter=state>\nTX\n</parameter>\n"
        "<parameter=unit>\nfahrenheit\n</parameter>\n</function>\n</tool_call>",
        "Let me check the weather for you:",
        [DALLAS],
    ),
    # VLLM_STEP3P5 test_extract_tool_calls_complex_type_with_single_quote.
    (
        "vllm-step3.5-single-quoted-object",
        "<tool_call>\n<function=test_types>\n<parameter=obj_param>\n{'key': 'value'}\n"
        "</parameter>\n</function>\n</tool_call>",
        None,
        [("test_types", {"obj_param": {"key": "value"}})],
    ),
    # VLLM_STEP3P5 test_extract_tool_calls_non_streaming_mixed_content_and_multiple_tool_calls.
    (
        "vllm-step3.5-text-between-calls",
        "hello<tool_call>\n<function=get_current_weather>\n<parameter=city>\nDallas\n"
        "</parameter>\n<parameter=state>\nTX\n</parameter>\n</function>\n</tool_call>hi"
        "<tool_call>\n<function=calculate_area>\n<parameter=shape>\nrectangle\n</parameter>\n"
        '<parameter=dimensions>\n{"width": 10, "height": 5}\n</parameter>\n</function>\n'
        "</tool_call>",
        "hellohi",
        [
            ("get_current_weather", {"city": "Dallas", "state": "TX"}),
            ("calculate_area", {"shape": "rectangle", "dimensions": {"width": 10, "height": 5}}),
        ],
    ),
    # VLLM_STEP3P5 test_extract_tool_calls_streaming "parallel_tools": the second call in celsius.
    (
        "vllm-step3.5-parallel",
        block("get_current_weather", city="Dallas", state="TX", unit="fahrenheit")
        + "\n"
        + block("get_current_weather", city="Orlando", state="FL", unit="celsius"),
        None,
        [DALLAS, ("get_current_weather", {"city": "Orlando", "state": "FL", "unit": "celsius"})],
    ),
    # VLLM_QWEN36 test_coder_array_with_json_bool_nonstreaming (Qwen 3.5 / 3.6): JSON true in a list.
    (
        "vllm-qwen3.6-array-with-json-true",
        "<tool_call>\n<function=pick>\n"
        '<parameter=items>\n["a", "b", 1, true]\n</parameter>\n'
        "</function>\n</tool_call>",
        None,
        [("pick", {"items": ["a", "b", 1, True]})],
    ),
    # VLLM_QWEN36 _TWO_TOOL_CALLS_IN_ONE_CHUNK: two calls arriving in one streamed delta.
    (
        "vllm-qwen3.6-two-calls",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "</function>\n</tool_call>\n"
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nLondon\n</parameter>\n"
        "</function>\n</tool_call>",
        None,
        [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "London"})],
    ),
    # VLLM_BERRYLM test_single_call_typed_arguments / test_content_before_call_is_kept: BerryLM
    # writes values flush against the tags; "days" is an integer in the tool's schema.
    (
        "vllm-berrylm-text-first",
        "Checking the forecast.\n<tool_call>\n<function=get_weather>\n"
        "<parameter=city>Tokyo</parameter>\n<parameter=days>3</parameter>\n"
        "</function>\n</tool_call>",
        "Checking the forecast.",
        [("get_weather", {"city": "Tokyo", "days": 3})],
    ),
    # VLLM_BERRYLM test_parallel_calls.
    (
        "vllm-berrylm-parallel",
        "<tool_call>\n<function=get_weather>\n<parameter=city>Tokyo</parameter>\n"
        "<parameter=days>3</parameter>\n</function>\n</tool_call>\n<tool_call>\n"
        "<function=get_weather>\n<parameter=city>Osaka</parameter>\n</function>\n</tool_call>",
        None,
        [("get_weather", {"city": "Tokyo", "days": 3}), ("get_weather", {"city": "Osaka"})],
    ),
    # VLLM_NEMOTRON_V3 TestNonStreamingToolCalls.test_parallel_tool_calls (Nemotron 3 Super).
    (
        "vllm-nemotron-3-parallel",
        "<tool_call>\n<function=get_weather>\n<parameter=city>Tokyo</parameter>\n</function>\n"
        "</tool_call><tool_call>\n<function=get_time>\n<parameter=timezone>Asia/Tokyo"
        "</parameter>\n</function>\n</tool_call>",
        None,
        [("get_weather", {"city": "Tokyo"}), ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    # VLLM_BERRYLM test_multiline_value: one newline on each side of a value is the layout's.
    (
        "vllm-berrylm-multiline-value",
        "<tool_call>\n<function=write_file>\n<parameter=path>/tmp/x.py</parameter>\n"
        "<parameter=content>\nline 1\nline 2\n</parameter>\n</function>\n</tool_call>",
        None,
        [("write_file", {"path": "/tmp/x.py", "content": "line 1\nline 2"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "multiline-code-keeps-its-lines",
        block("python", code='def hello():\n    print("hi")\n\nhello()'),
        None,
        [("python", {"code": 'def hello():\n    print("hi")\n\nhello()'})],
    ),
    (
        "no-newlines-around-values",
        "<tool_call><function=special_function><parameter=arg1>1</parameter></function></tool_call>",
        None,
        [SPECIAL],
    ),
    (
        "closing-parameter-tag-missing",
        "<tool_call>\n<function=special_function_with_opt>\n<parameter=arg1>\n1\n"
        "<parameter=arg2>\n2\n</parameter>\n</function>\n</tool_call>",
        None,
        [("special_function_with_opt", {"arg1": 1, "arg2": 2})],
    ),
    (
        "last-closing-parameter-tag-missing",
        "<tool_call>\n<function=special_function>\n<parameter=arg1>\n1</function>\n</tool_call>",
        None,
        [SPECIAL],
    ),
    (
        "closing-tool-call-cut-off",
        "<tool_call>\n<function=special_function>\n<parameter=arg1>\n1\n</parameter>\n</function>",
        None,
        [SPECIAL],
    ),
    (
        "python-booleans-as-the-template-writes-them",
        block("test_types", bool_param="True"),
        None,
        [("test_types", {"bool_param": True})],
    ),
    (
        "a-value-that-does-not-fit-its-type-stays-text",
        block("special_function", arg1="one"),
        None,
        [("special_function", {"arg1": "one"})],
    ),
    (
        "no-arguments",
        "<tool_call>\n<function=get_current_weather>\n</function>\n</tool_call>",
        None,
        [("get_current_weather", {})],
    ),
    (
        "end-token",
        block("special_function", arg1="1") + "<|im_end|>",
        None,
        [SPECIAL],
    ),
    # VLLM_BERRYLM test_malformed_function_end_does_not_drop_siblings: a header never closed
    # ends its own call; the next call is read whole.
    (
        "vllm-berrylm-unclosed-function-header",
        "<tool_call>\n<function=broken</function>\n</tool_call><tool_call>\n"
        "<function=get_weather>\n<parameter=city>Tokyo</parameter>\n"
        "<parameter=days>3</parameter>\n</function>\n</tool_call>",
        None,
        [("broken", {}), ("get_weather", {"city": "Tokyo", "days": 3})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-prose", "This is a test response without any tool calls"),
    ("html-in-prose", "Use <b>bold</b> and <i>italics</i> sparingly."),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off-inside-a-value", "<tool_call>\n<function=special_function>\n<parameter=arg1>\n1"),
    ("cut-off-after-the-opener", "Let me check.\n<tool_call>\n"),
    ("unclosed-function-tag", "<tool_call>\n<function=special_function"),
    (
        "hermes-json-inside",
        '<tool_call>\n{"name": "special_function", "arguments": {"arg1": 1}}\n</tool_call>',
    ),
]


@pytest.mark.parametrize("variant", variants())
def test_renders_what_the_chat_template_renders(variant: str) -> None:
    assert rendering(NAME, variant) == golden_text(NAME, variant)


def test_reasoning_is_set_aside_and_never_parsed() -> None:
    # LLAMA_CPP lines 1966-1976 (Qwen3.5, the same call format): thinking opened by the template.
    assert_reads_reasoning(
        NAME,
        "I'm\nthinking\n</think>\n\n" + block("get_weather", city="Paris"),
        "I'm\nthinking",
        None,
        [("get_weather", {"city": "Paris"})],
    )


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        ("3", {"type": "integer"}, 3),
        ("3.0", {"type": "integer"}, 3),
        ("2.5", {"type": "number"}, 2.5),
        ("7", {"type": "number"}, 7),
        ("false", {"type": "boolean"}, False),
        ("False", {"type": "boolean"}, False),
        ("null", {"type": ["string", "null"]}, None),
        ("[1, 2]", {"type": "array"}, [1, 2]),
        ("{'a': 1}", {"type": "object"}, {"a": 1}),
        ("3", {"type": "string"}, "3"),
        # Union types are tried in the order the schema declares them (issue 13).
        ("3", {"anyOf": [{"type": "integer"}, {"type": "string"}]}, 3),
        ("3", {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "3"),
        ("three", {"type": ["integer", "string"]}, "three"),
        ("yes", {"type": "boolean"}, "yes"),
    ],
)
def test_values_are_converted_to_their_schema_type(
    value: str, schema: dict[str, Any], expected: Any
) -> None:
    assert typed_arguments({"x": value}, function("f", x=schema)) == {"x": expected}


@pytest.mark.parametrize(
    ("value", "expected"), [("3", "3"), ("true", "true"), ('{"a": 1}', {"a": 1}), ("[1]", [1])]
)
def test_without_a_schema_only_objects_and_lists_are_decoded(value: str, expected: Any) -> None:
    assert typed_arguments({"x": value}, None) == {"x": expected}


def test_detection_tells_it_from_hermes_and_functionary() -> None:
    assert detect_format(block("get_weather", city="Paris")) == NAME
    assert detect_format('<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>') == "hermes"


def test_registered() -> None:
    assert_registered(NAME, Qwen3CoderWrapper, ("qwen3coder",))
