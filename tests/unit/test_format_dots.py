"""``dots``: dots.llm, ``<dots_function_call>`` blocks of ``<invoke>`` calls (or JSON).

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
from wrappers.dots import DotsWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "dots"

# Source of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/42955d4cf0fe76f6f8fde6eda78283eae3b03c05/tests/tool_parsers/test_dots_tool_parser.py"


def function(function_name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": function_name, "parameters": {"type": "object", "properties": properties}}


# The tools the outputs below were answering (VLLM's _tool and set_location).
FUNCTIONS: list[FunctionSchema] = [
    function("search", query="string"),
    function("open", id="integer"),
    {
        "name": "set_location",
        "description": "Set location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"$ref": "#/$defs/Location"},
                "days": {"type": "integer"},
                "include_weather": {"type": "boolean"},
            },
            "$defs": {"Location": {"type": "object", "properties": {"city": {"type": "string"}}}},
        },
    },
]

CHAIRS: Call = ("search", {"query": "chairs"})
TABLES: Call = ("search", {"query": "tables"})
CHAIRS_INVOKE = '<invoke name="search"><parameter name="query">chairs</parameter></invoke>'
TABLES_INVOKE = CHAIRS_INVOKE.replace("chairs", "tables")


def block(body: str) -> str:
    return f"<dots_function_call>{body}</dots_function_call>"


REAL_OUTPUTS: list[Case] = [
    # VLLM test_non_stream_xml_converts_schema_types_and_resolves_ref.
    (
        "vllm-typed-and-ref",
        "ok"
        + block(
            '<invoke name="set_location">'
            '<parameter name="location">{"city": "Shanghai"}</parameter>'
            '<parameter name="days">3</parameter>'
            '<parameter name="include_weather">true</parameter>'
            "</invoke>"
        ),
        "ok",
        [
            (
                "set_location",
                {"location": {"city": "Shanghai"}, "days": 3, "include_weather": True},
            )
        ],
    ),
    # VLLM test_non_stream_supports_multiple_invokes_and_json_fallback.
    (
        "vllm-invokes-and-json-block",
        block(CHAIRS_INVOKE + '<invoke name="open"><parameter name="id">7</parameter></invoke>')
        + block('{"name":"search","arguments":{"query":"tables"}}'),
        None,
        [CHAIRS, ("open", {"id": 7}), TABLES],
    ),
    # VLLM test_streaming_buffers_partial_marker_and_emits_all_complete_calls.
    (
        "vllm-text-then-two-blocks",
        "visible" + block(CHAIRS_INVOKE) + block(TABLES_INVOKE),
        "visible",
        [CHAIRS, TABLES],
    ),
    # VLLM test_streaming_emits_complete_json_before_end_marker_without_duplication.
    (
        "vllm-json-block",
        block('{"name":"search","arguments":{"query":"chairs"}}'),
        None,
        [CHAIRS],
    ),
    # VLLM test_non_stream_extract_with_parser_tools_and_none_request_tools.
    ("vllm-one-invoke", block(CHAIRS_INVOKE), None, [CHAIRS]),
]

MESSY_OUTPUTS: list[Case] = [
    # The layout fcproxy's prompt shows: values on lines of their own (trimmed).
    (
        "values-on-their-own-lines",
        '<dots_function_call>\n<invoke name="search">\n<parameter name="query">\nchairs\n'
        "</parameter>\n</invoke>\n</dots_function_call>",
        None,
        [CHAIRS],
    ),
    ("block-dropped", CHAIRS_INVOKE, None, [CHAIRS]),
    ("end-of-turn-token", block(CHAIRS_INVOKE) + "<|endofassistant|>", None, [CHAIRS]),
    (
        "json-block-with-parameters-key",
        block('\n{"name": "open", "parameters": {"id": 7}}\n'),
        None,
        [("open", {"id": 7})],
    ),
    (
        "json-block-trailing-comma",
        block('{"name": "search", "arguments": {"query": "chairs",},}'),
        None,
        [CHAIRS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_streaming_flushes_partial_opening_marker_at_eof (the marker never completed).
    ("vllm-partial-marker", "answer <dots_func"),
    ("plain", "Chairs are on sale."),
]

BROKEN: list[tuple[str, str]] = [
    ("invoke-cut-off", '<dots_function_call><invoke name="search"><parameter name="query">cha'),
    ("json-cut-off", '<dots_function_call>{"name": "search", "arguments": {"query": "cha'),
]

REASONING: list[ReasoningCase] = [
    (
        "think-then-call",
        "<think>The user wants chairs.</think>\n" + block(CHAIRS_INVOKE),
        "The user wants chairs.",
        None,
        [CHAIRS],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"<think>maybe {block(CHAIRS_INVOKE)}</think>No search needed.",
        f"maybe {block(CHAIRS_INVOKE)}",
        "No search needed.",
        [],
    ),
]


def test_renders_dots_turns_with_the_call_format() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Find chairs."},
        *call_turns([CHAIRS], ["3 results"]),
    ]
    text = DotsWrapper().render(messages, FUNCTIONS[:1]).text
    assert text.startswith(
        "<|system|>Be brief.\n\n# Tools\n\nYou may call one or more functions to assist with the "
        "user query.\n\nYou are provided with function signatures within <tools></tools> XML "
        'tags:\n<tools>\n{"type": "function", "function": {"name": "search", '
    )
    assert text.endswith(
        "</dots_function_call><|endofsystem|><|user|>Find chairs.<|endofuser|><|assistant|>\n"
        '<dots_function_call>\n<invoke name="search">\n<parameter name="query">\nchairs\n'
        "</parameter>\n</invoke>\n</dots_function_call><|endofassistant|>"
        "<|user|>\n<dots_function_response>\n3 results\n</dots_function_response><|endofuser|>"
        "<|assistant|>"
    )
    # What the prompt shows reads back as the call.
    shown = text.split("<|assistant|>")[-2].removesuffix("<|endofassistant|>")
    assert DotsWrapper().parse(shown, FUNCTIONS).tool_calls[0].name == "search"


def test_without_a_system_prompt_the_default_one() -> None:
    text = DotsWrapper().render([{"role": "user", "content": "hi"}], []).text
    assert text == (
        "<|system|>You are a helpful assistant.<|endofsystem|><|user|>hi<|endofuser|><|assistant|>"
    )


def test_the_grammar_is_one_block_of_invokes() -> None:
    text = DotsWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    invoke = '<invoke name="search">\n<parameter name="query">chairs</parameter>\n</invoke>\n'
    assert grammar.matches(f"<dots_function_call>\n{invoke}</dots_function_call>")
    assert not grammar.matches("<dots_function_call>\n</dots_function_call>")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{{- '<dots_function_call>\\n<invoke name=' }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, DotsWrapper, ("dots.llm", "dots3"))
