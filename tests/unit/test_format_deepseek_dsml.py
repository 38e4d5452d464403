"""``deepseek-dsml``: DeepSeek V3.2 / V4, ``<｜DSML｜function_calls>`` invoke / parameter blocks.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""
# ruff: noqa: RUF001, RUF002  (DeepSeek's tokens use full-width bars)

from __future__ import annotations

from tests.support.llama_grammar import LlamaCppGrammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.deepseek_dsml import DeepSeekDSMLWrapper
from wrappers.detection import detect_format
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "deepseek-dsml"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/00816550e740a13736f7ef9921097d51a3f01ede/tests/tool_parsers/test_deepseekv32_tool_parser.py"
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/708653def250076cc56382f9c524af9db855542c/models/templates/DeepSeek-V3.2.jinja"

FC = "<｜DSML｜function_calls>"
FC_END = "</｜DSML｜function_calls>"
INV = '<｜DSML｜invoke name="'
INV_END = "</｜DSML｜invoke>"
PARAM = '<｜DSML｜parameter name="'
PARAM_END = "</｜DSML｜parameter>"


def call(name: str, *parameters: tuple[str, str, str]) -> str:
    """VLLM's build_tool_call layout: each (key, string attribute, value)."""
    body = "".join(f'{PARAM}{k}" string="{s}">{v}{PARAM_END}' for k, s, v in parameters)
    return f'{FC}\n{INV}{name}">\n{body}\n{INV_END}\n{FC_END}'


def function(name: str, **properties: object) -> FunctionSchema:
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_time"),
    function("get_weather", location={"type": "string"}, date={"type": "string"}),
    function("toggle", enabled={"type": "boolean"}, count={"type": "integer"}),
    function("score", value={"type": "integer"}),
    function("update", tags={"type": "array"}, meta={"type": "object"}),
    function(
        "set_timer",
        wait={"anyOf": [{"type": "object"}, {"type": "null"}]},
        patches={"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "null"}]},
    ),
]

SF: Call = ("get_weather", {"location": "SF", "date": "2024-01-16"})

REAL_OUTPUTS: list[Case] = [
    # VLLM TestExtractToolCalls.test_single_tool_no_params.
    ("vllm-no-parameters", f'{FC}\n{INV}get_time">\n{INV_END}\n{FC_END}', None, [("get_time", {})]),
    # VLLM test_single_tool_with_params.
    (
        "vllm-single",
        call("get_weather", ("location", "true", "SF"), ("date", "true", "2024-01-16")),
        None,
        [SF],
    ),
    # VLLM test_content_before_tool_call.
    (
        "vllm-content-first",
        "Sure, let me check! " + call("get_weather", ("location", "true", "NYC")),
        "Sure, let me check!",
        [("get_weather", {"location": "NYC"})],
    ),
    # VLLM test_multiple_tools (parallel, one block).
    (
        "vllm-parallel",
        f'{FC}\n{INV}get_weather">\n{PARAM}location" string="true">SF{PARAM_END}\n{INV_END}\n'
        f'{INV}get_weather">\n{PARAM}location" string="true">NYC{PARAM_END}\n{INV_END}\n{FC_END}',
        None,
        [("get_weather", {"location": "SF"}), ("get_weather", {"location": "NYC"})],
    ),
    # VLLM test_type_conversion_in_non_streaming: string="false" values.
    (
        "vllm-string-false",
        f'{FC}\n{INV}toggle">\n{PARAM}enabled" string="false">true{PARAM_END}\n'
        f'{PARAM}count" string="false">42{PARAM_END}\n{INV_END}\n{FC_END}',
        None,
        [("toggle", {"enabled": True, "count": 42})],
    ),
    # VLLM test_string_attr_true_coerced_by_schema: string="true", but an integer.
    (
        "vllm-string-true-typed-by-schema",
        f'{FC}\n{INV}score">\n{PARAM}value" string="true">42{PARAM_END}\n{INV_END}\n{FC_END}',
        None,
        [("score", {"value": 42})],
    ),
    # VLLM test_composed_schema_converts_object_and_array_params.
    (
        "vllm-composed-schemas",
        f'{FC}\n{INV}set_timer">\n{PARAM}wait" string="false">{{"type":"for","minutes":2880}}'
        f'{PARAM_END}\n{PARAM}patches" string="false">'
        f'[{{"op":"replace","path":"/schedule","value":"quiet"}}]{PARAM_END}\n{INV_END}\n{FC_END}',
        None,
        [
            (
                "set_timer",
                {
                    "wait": {"type": "for", "minutes": 2880},
                    "patches": [{"op": "replace", "path": "/schedule", "value": "quiet"}],
                },
            )
        ],
    ),
    # VLLM test_object_and_array_params.
    (
        "vllm-object-and-array",
        f'{FC}\n{INV}update">\n{PARAM}tags" string="false">["a", "b"]{PARAM_END}\n'
        f'{PARAM}meta" string="false">{{"k": 1}}{PARAM_END}\n{INV_END}\n{FC_END}',
        None,
        [("update", {"tags": ["a", "b"], "meta": {"k": 1}})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM test_string_attr_true_coerced_by_composed_schema: JSON text, string="true".
    (
        "json-text-typed-as-object-by-the-schema",
        f'{FC}\n{INV}set_timer">\n{PARAM}wait" string="true">{{"type":"for","minutes":2880}}'
        f"{PARAM_END}\n{INV_END}\n{FC_END}",
        None,
        [("set_timer", {"wait": {"type": "for", "minutes": 2880}})],
    ),
    (
        "block-tags-dropped",
        f'{INV}get_weather">\n{PARAM}location" string="true">SF{PARAM_END}\n{INV_END}',
        None,
        [("get_weather", {"location": "SF"})],
    ),
    (
        "end-of-sentence",
        call("get_weather", ("location", "true", "SF")) + "<｜end▁of▁sentence｜>",
        None,
        [("get_weather", {"location": "SF"})],
    ),
    (
        "multiline-string-value",
        call("get_weather", ("location", "true", "San\nFrancisco")),
        None,
        [("get_weather", {"location": "San\nFrancisco"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call.
    ("vllm-plain", "just some text"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", f'{FC}\n{INV}get_weather">\n{PARAM}location" string="true">S'),
    ("block-without-a-call", f"{FC}\n"),
]

REASONING: list[ReasoningCase] = [
    (
        "thinking-then-call",
        "<think>Need the weather.</think>" + call("get_weather", ("location", "true", "SF")),
        "Need the weather.",
        None,
        [("get_weather", {"location": "SF"})],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        "<think>" + call("get_time") + "</think>It is noon.",
        call("get_time"),
        "It is noon.",
        [],
    ),
]

WEATHER: list[FunctionSchema] = [
    function("get_weather", location={"type": "string"}, days={"type": "integer"})
]
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather?"},
    *call_turns([("get_weather", {"location": "SF", "days": 2})], ["sunny"], ids=["call_1"]),
]


def test_renders_the_chat_template_layout() -> None:
    text = get_wrapper(NAME).render(MESSAGES, WEATHER).text
    # TEMPLATE, thinking off: system, "## Tools" and the tools as JSON lines.
    assert text.startswith("<｜begin▁of▁sentence｜>Be brief.\n\n## Tools\n\n")
    assert (
        '<functions>\n{"type": "function", "function": {"name": "get_weather", "parameters": '
        '{"type": "object", "properties": {"location": {"type": "string"}, "days": '
        '{"type": "integer"}}}}}\n</functions>\n<｜User｜>Weather?<｜Assistant｜></think>'
    ) in text
    assert text.endswith(
        f'\n\n{FC}\n{INV}get_weather">\n{PARAM}location" string="true">SF{PARAM_END}\n'
        f'{PARAM}days" string="false">2{PARAM_END}\n{INV_END}\n{FC_END}<｜end▁of▁sentence｜>'
        "\n\n<function_results>\n<result>sunny</result>\n</function_results>\n\n</think>"
    )


def test_the_grammar_allows_the_calls_only() -> None:
    text = get_wrapper(NAME).call_grammar(WEATHER, None, parallel=False)  # type: ignore[attr-defined]
    assert text is not None
    grammar = LlamaCppGrammar(text)
    answer = (
        f'{FC}\n{INV}get_weather">\n{PARAM}location" string="true">SF{PARAM_END}\n'
        f'{PARAM}days" string="false">2{PARAM_END}\n{INV_END}\n{FC_END}'
    )
    assert grammar.matches(answer)
    assert not grammar.matches(answer.replace(">2<", ">two<"))


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[1][1]) == NAME
    assert wrapper_for_template('{%- set dsml_token = "｜DSML｜" -%}') == NAME


def test_registered() -> None:
    assert_registered(NAME, DeepSeekDSMLWrapper, ("deepseek-v3.2", "dsml"))
