"""``gigachat3.5``: Sber GigaChat 3.5, ``<｜GCML｜tool_calls>`` invoke / parameter blocks.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""
# ruff: noqa: RUF001, RUF002  (GigaChat's tokens use full-width bars)

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.gigachat35 import GigaChat35Wrapper
from wrappers.gigachat35_typescript import tool_namespace
from wrappers.template_detection import wrapper_for_template

NAME = "gigachat3.5"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/053521db5e1807004c5e89d03c75b93b3974c7c7/tests/tool_parsers/test_gigachat35_tool_parser.py"
VLLM_REASONING = "https://github.com/vllm-project/vllm/blob/f1c12100b818be671373a1c7bdbefa7ff38ef044/tests/reasoning/test_gigachat35_reasoning_parser.py"
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/44cfbebb441feb06939b275fed91319995cdd4d8/models/templates/GigaChat3.5.jinja"


def function(name: str, **properties: object) -> FunctionSchema:
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


STRING = {"type": "string"}
FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
    function("get_time", timezone=STRING),
    function("empty_args"),
    function("lookup", query=STRING),
    function("escaped", text=STRING),
    function("store", payload={"type": "object"}),
    function("count", n={"type": "integer"}, ok={"type": "boolean"}),
    function(
        "typed_args",
        string_field=STRING,
        int_field={"type": "integer"},
        float_field={"type": "number"},
        bool_field={"type": "boolean"},
        null_field={"type": "null"},
        array_field={"type": "array"},
        object_field={"type": "object"},
    ),
]

START, END = "<｜GCML｜tool_calls>", "</｜GCML｜tool_calls>"


def invoke(name: str, *parameters: tuple[str, str, bool]) -> str:
    """VLLM's ``invoke`` helper: each (key, value, is_string), flush against the tags."""
    body = "".join(
        f'<｜GCML｜parameter name="{key}" string="{str(is_string).lower()}">'
        f"{value}</｜GCML｜parameter>"
        for key, value, is_string in parameters
    )
    return f'<｜GCML｜invoke name="{name}">{body}</｜GCML｜invoke>'


def tool_calls(*calls: str) -> str:
    return f"{START}{''.join(calls)}{END}"


TOKYO: Call = ("get_weather", {"city": "Tokyo"})
TOKYO_INVOKE = invoke("get_weather", ("city", "Tokyo", True))
# As the template writes a past call (and VLLM_REASONING's output): a tag per line.
MOSCOW_BLOCK = (
    f'{START}\n<｜GCML｜invoke name="get_weather">\n'
    '<｜GCML｜parameter name="city" string="true">Москва</｜GCML｜parameter>\n'
    f"</｜GCML｜invoke>\n{END}"
)

REAL_OUTPUTS: list[Case] = [
    # VLLM test_config: single, parallel, typed, empty, after text, escaped.
    ("vllm-single", tool_calls(TOKYO_INVOKE), None, [TOKYO]),
    (
        "vllm-parallel",
        tool_calls(TOKYO_INVOKE, invoke("get_time", ("timezone", "Asia/Tokyo", True))),
        None,
        [TOKYO, ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    (
        "vllm-various-types",
        tool_calls(
            invoke(
                "typed_args",
                ("string_field", '"hello"', False),
                ("int_field", "7", False),
                ("float_field", "3.5", False),
                ("bool_field", "true", False),
                ("null_field", "null", False),
                ("array_field", "[1, 2, 3]", False),
                ("object_field", '{"nested": true}', False),
            )
        ),
        None,
        [
            (
                "typed_args",
                {
                    "string_field": "hello",
                    "int_field": 7,
                    "float_field": 3.5,
                    "bool_field": True,
                    "null_field": None,
                    "array_field": [1, 2, 3],
                    "object_field": {"nested": True},
                },
            )
        ],
    ),
    ("vllm-empty-arguments", tool_calls(invoke("empty_args")), None, [("empty_args", {})]),
    (
        "vllm-surrounding-text",
        "I will check." + tool_calls(TOKYO_INVOKE),
        "I will check.",
        [TOKYO],
    ),
    (
        "vllm-escaped-strings",
        tool_calls(invoke("escaped", ("text", 'line 1\\n"quoted"', True))),
        None,
        [("escaped", {"text": 'line 1\\n"quoted"'})],
    ),
    # VLLM test_parser_aliases and test_string_false_json_object.
    (
        "vllm-lookup",
        tool_calls(invoke("lookup", ("query", "vLLM", True))),
        None,
        [("lookup", {"query": "vLLM"})],
    ),
    (
        "vllm-string-false-object",
        tool_calls(invoke("store", ("payload", '{"a": 1}', False))),
        None,
        [("store", {"payload": {"a": 1}})],
    ),
    # The template's layout, a tag per line (VLLM_REASONING's tool_call output).
    ("template-layout", MOSCOW_BLOCK, None, [("get_weather", {"city": "Москва"})]),
]

MESSY_OUTPUTS: list[Case] = [
    # The message's end and the end of sequence (sglang's detector strips both).
    (
        "message-closed",
        f"Checking.\n\n{MOSCOW_BLOCK}<|message_sep|>\n\n</s>",
        "Checking.",
        [("get_weather", {"city": "Москва"})],
    ),
    # No string attribute (VLLM's parser takes it as "true"); the schema types the text.
    (
        "no-string-attribute",
        tool_calls(
            '<｜GCML｜invoke name="count"><｜GCML｜parameter name="n">3</｜GCML｜parameter>'
            '<｜GCML｜parameter name="ok">true</｜GCML｜parameter></｜GCML｜invoke>'
        ),
        None,
        [("count", {"n": 3, "ok": True})],
    ),
    ("block-never-closed", f"{START}{TOKYO_INVOKE}", None, [TOKYO]),
    ("invoke-without-its-block", TOKYO_INVOKE, None, [TOKYO]),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM no_tool_calls_output.
    ("vllm-plain", "Plain answer without a tool call."),
    ("plain-message-closed", "Hello!<|message_sep|>\n\n"),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM malformed_input_outputs: an invoke never closed, a parameter outside
    # any invoke, an empty block.
    ("vllm-invoke-never-closed", f'{START}<｜GCML｜invoke name="broken">'),
    ("vllm-parameter-without-invoke", f'{START}<｜GCML｜parameter name="x">1</｜GCML｜parameter>'),
    ("vllm-empty-block", f"{START}{END}"),
]

REASONING: list[ReasoningCase] = [
    # VLLM_REASONING TOOL_CALL_OUTPUT: the Reasoning template opened <think>.
    (
        "vllm-reasoning-then-call",
        f"Need the weather tool.</think>\n\n{MOSCOW_BLOCK}",
        "Need the weather tool.",
        None,
        [("get_weather", {"city": "Москва"})],
    ),
    # VLLM_REASONING FORCED_OPEN_OUTPUT.
    (
        "vllm-reasoning-then-answer",
        "The user asks 2+2. Simple arithmetic.</think>\n\nThe answer is 4.",
        "The user asks 2+2. Simple arithmetic.",
        "The answer is 4.",
        [],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"<think>{tool_calls(TOKYO_INVOKE)}</think>It is sunny.",
        tool_calls(TOKYO_INVOKE),
        "It is sunny.",
        [],
    ),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns(
        [("get_weather", {"city": "Paris"}), ("get_time", {"timezone": "CET"})],
        ["sunny", '{"time": "12:00"}'],
        content="Let me check.",
    ),
]
# TEMPLATE rendered with jinja2 (transformers' settings: tojson without ASCII
# escapes, bos_token "", no current_date, add_generation_prompt).
GOLDEN = (
    "developer system<|role_sep|>\nВызов функций: последовательный\n"
    "Безопасность: соответствует законодательству РФ.\nТекущая дата: \n"
    "Ограничение знаний: Декабрь, 2025.\nТы сделан на базе нейросети GigaChat.<|message_sep|>\n\n"
    "system<|role_sep|>\nBe brief.<|message_sep|>\n\n"
    "function descriptions<|role_sep|>\nnamespace functions {\n// Get the weather\n"
    "type get_weather = (_: {\n  // City name\n  city: string,\n}) => any;\n\n"
    "type get_time = (_: {\n  timezone?: string,\n}) => any;\n\n"
    "} // namespace functions\n\n<|message_sep|>\n\n"
    "user<|role_sep|>\nWeather in Paris?<|message_sep|>\n\n"
    'available functions<|role_sep|>\n["get_weather", "get_time"]<|message_sep|>\n\n'
    "assistant<|role_sep|>\nLet me check.\n\n<｜GCML｜tool_calls>\n"
    '<｜GCML｜invoke name="get_weather">\n'
    '<｜GCML｜parameter name="city" string="true">Paris</｜GCML｜parameter>\n'
    '</｜GCML｜invoke>\n<｜GCML｜invoke name="get_time">\n'
    '<｜GCML｜parameter name="timezone" string="true">CET</｜GCML｜parameter>\n'
    "</｜GCML｜invoke>\n</｜GCML｜tool_calls><|message_sep|>\n\n"
    'function result<|role_sep|>\n<function_response name="get_weather">sunny</function_response>\n'
    '<function_response name="get_time">{"time": "12:00"}</function_response><|message_sep|>\n\n'
    'available functions<|role_sep|>\n["get_weather", "get_time"]<|message_sep|>\n\n'
    "assistant<|role_sep|>\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert GigaChat35Wrapper().render(MESSAGES, FUNCTIONS[:2]).text == GOLDEN


def test_without_tools_or_system_the_template_still_writes_both_messages() -> None:
    text = (
        GigaChat35Wrapper(current_date="2026-12-07")
        .render([{"role": "user", "content": "Hi"}], [])
        .text
    )
    # TEMPLATE rendered: an empty system message, an empty list of functions.
    assert "Текущая дата: 2026-12-07\n" in text
    assert text.endswith(
        "<|message_sep|>\n\nsystem<|role_sep|>\n<|message_sep|>\n\n"
        "user<|role_sep|>\nHi<|message_sep|>\n\n"
        "available functions<|role_sep|>\n[]<|message_sep|>\n\nassistant<|role_sep|>\n"
    )


def test_schemas_become_the_templates_typescript() -> None:
    tool: FunctionSchema = {
        "name": "f",
        "parameters": {
            "type": "object",
            "properties": {
                "days": {"type": "integer", "minimum": 1, "default": 1},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                "pair": {"type": "array", "prefixItems": [{"type": "integer"}, STRING]},
                "opts": {
                    "type": "object",
                    "properties": {"deep": {"type": "boolean"}},
                    "additionalProperties": True,
                },
                "u": {"type": ["string", "null"]},
                "any": {"anyOf": [STRING, {"$ref": "#/$defs/P"}]},
                "loop": {"$ref": "#/$defs/Loop"},
                "e": {"enum": [1, "a", True]},
                "n": {"not": STRING},
            },
            "$defs": {
                "P": {"type": "object", "properties": {"x": {"type": "float"}}},
                "Loop": {"$ref": "#/$defs/Loop"},
            },
        },
        "return_parameters": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
    }
    # TEMPLATE's render_tool_namespace, rendered.
    assert tool_namespace([tool]) == (
        "namespace functions {\ntype f = (_: {\n  // minimum: 1\n  days?: integer, // default: 1\n"
        "  // maxItems: 3\n  tags?: (string)[],\n  pair?: [integer, string],\n"
        "  opts?: {\n    deep?: boolean,\n    [key: string]: any,\n  },\n"
        "  u?: (string) | (null),\n  any?: (string) | ({\n    x?: number,\n  }),\n"
        '  loop?: any,\n  e?: 1 | "a" | True,\n  n?: unknown,\n'
        "}) => {\n  ok?: boolean,\n};\n\n} // namespace functions"
    )


def test_what_the_prompt_shows_reads_back_as_the_calls() -> None:
    shown = GOLDEN.split("assistant<|role_sep|>\n")[1].split("<|message_sep|>")[0]
    parsed = GigaChat35Wrapper().parse(shown, FUNCTIONS)
    assert parsed.content == "Let me check."
    assert [c.name for c in parsed.tool_calls] == ["get_weather", "get_time"]


def test_the_grammar_is_one_block_laid_out_as_the_template_writes_calls() -> None:
    text = GigaChat35Wrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    one = (
        '<｜GCML｜invoke name="get_weather">\n'
        '<｜GCML｜parameter name="city" string="true">Paris</｜GCML｜parameter>\n</｜GCML｜invoke>\n'
    )
    assert grammar.matches(f"{START}\n{one}{one}{END}")
    assert not grammar.matches(f"{START}\n{END}")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    # The template also holds GigaChat 3's <|role_sep|>: GCML decides.
    template = '{{- "<|role_sep|>" -}}{{- "<｜GCML｜tool_calls>\\n" -}}'
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, GigaChat35Wrapper, ("gigachat35", "gigachat-3.5"))
