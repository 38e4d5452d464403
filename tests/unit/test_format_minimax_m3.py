"""``minimax-m3``: MiniMax M3, ``]<]minimax[>[<tool_call>`` invokes with arguments as nested tags.

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
from wrappers.minimax_m3 import MiniMaxM3Wrapper
from wrappers.minimax_m3_values import read_arguments, to_xml
from wrappers.template_detection import wrapper_for_template

NAME = "minimax-m3"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/06726266c0e0000947fca394f70a1148fda0ac46/tests/tool_parsers/test_minimax_m3_tool_parser.py"
VLLM_M3_TEXT = "https://github.com/vllm-project/vllm/blob/be37de73a9e1d3d90964a0b6297c331c939735ef/vllm/tool_parsers/_llm_nom/m3_text.py"

NS = "]<]minimax[>["
STRING = {"type": "string"}
FUNCTIONS: list[FunctionSchema] = [
    # VLLM sample_tools.
    {
        "name": "create_order",
        "parameters": {
            "type": "object",
            "properties": {
                "user_id": {"type": "integer"},
                "urgent": {"type": "boolean"},
                "note": STRING,
                "shipping": {
                    "type": "object",
                    "properties": {"city": STRING, "zip": {"type": "integer"}},
                },
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"sku": STRING, "qty": {"type": "integer"}},
                    },
                },
                "metadata": {"type": "object", "additionalProperties": STRING},
                "duplicate_demo": {"type": "object"},
            },
        },
    },
    {
        "name": "func1",
        "parameters": {
            "type": "object",
            "properties": {"p1": STRING, "p2": {"type": "array"}},
        },
    },
    {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": STRING}}},
    {
        "name": "search_files",
        "parameters": {"type": "object", "properties": {"query": STRING}},
    },
    {"name": "refresh", "parameters": {"type": "object", "properties": {}}},
]


def tag(key: str, value: str) -> str:
    return f"{NS}<{key}>{value}{NS}</{key}>"


def invoke(name: str, body: str) -> str:
    return f'{NS}<invoke name="{name}">{body}{NS}</invoke>'


def block(*invokes: str) -> str:
    """VLLM's layout: the block's tags on lines of their own, an invoke per line."""
    return f"{NS}<tool_call>\n" + "".join(i + "\n" for i in invokes) + f"{NS}</tool_call>"


ORDER_BODY = (
    tag("user_id", "42")
    + tag("urgent", "true")
    + tag("note", "Please leave at front desk.")
    + tag("shipping", tag("city", "Singapore") + tag("zip", "018956"))
    + tag(
        "items",
        tag("item", tag("sku", "book-001") + tag("qty", "2"))
        + tag("item", tag("sku", "pen-007") + tag("qty", "5")),
    )
    + tag("metadata", tag("source", "mobile") + tag("campaign", "may-launch"))
    + tag("duplicate_demo", tag("tag", "a") + tag("tag", "b"))
)
ORDER_ARGS = {
    "user_id": 42,
    "urgent": True,
    "note": "Please leave at front desk.",
    "shipping": {"city": "Singapore", "zip": 18956},
    "items": [{"sku": "book-001", "qty": 2}, {"sku": "pen-007", "qty": 5}],
    "metadata": {"source": "mobile", "campaign": "may-launch"},
    "duplicate_demo": {"tag": ["a", "b"]},
}
ORDER_1 = invoke("create_order", tag("user_id", "1"))
PARIS: Call = ("get_weather", {"city": "Paris"})
PARIS_INVOKE = invoke("get_weather", tag("city", "Paris"))

REAL_OUTPUTS: list[Case] = [
    # VLLM test_non_streaming_nested_tool_call (vLLM keeps the text's "\n").
    (
        "vllm-nested",
        "I will create it.\n" + block(invoke("create_order", ORDER_BODY)),
        "I will create it.",
        [("create_order", ORDER_ARGS)],
    ),
    # VLLM test_non_streaming_multiple_tool_calls: two invokes, one block.
    (
        "vllm-parallel",
        block(ORDER_1, invoke("create_order", tag("user_id", "2"))),
        None,
        [("create_order", {"user_id": 1}), ("create_order", {"user_id": 2})],
    ),
    # VLLM_M3_TEXT's example output: a list of objects.
    (
        "vllm-docstring-example",
        block(invoke("func1", tag("p1", "value1") + tag("p2", tag("item", tag("k", "val"))))),
        None,
        [("func1", {"p1": "value1", "p2": [{"k": "val"}]})],
    ),
    ("no-arguments", block(invoke("refresh", "")), None, [("refresh", {})]),
]

MESSY_OUTPUTS: list[Case] = [
    # A tag per line, whitespace after the token (sglang's reader takes both).
    (
        "a-tag-per-line",
        f'{NS}<tool_call>\n{NS} <invoke name="get_weather">\n{NS}<city>Paris{NS}</city>\n'
        f"{NS}</invoke>\n{NS}</tool_call>",
        None,
        [PARIS],
    ),
    # The closing tag of a value without the token; the block's opener without it.
    (
        "closing-tag-without-the-token",
        f'Searching now.\n{NS}<tool_call>\n{NS}<invoke name="search_files">\n'
        f"{NS}<query>providersRef</query>\n{NS}</invoke>\n{NS}</tool_call>",
        "Searching now.",
        [("search_files", {"query": "providersRef"})],
    ),
    (
        "block-opener-without-the-token",
        f"<tool_call>\n{PARIS_INVOKE}\n{NS}</tool_call>",
        None,
        [PARIS],
    ),
    ("block-never-closed", f"{NS}<tool_call>\n{PARIS_INVOKE}", None, [PARIS]),
    ("end-of-turn", block(PARIS_INVOKE) + "[e~[", None, [PARIS]),
    # Markup inside a value is text: only a tag after the token is structure.
    (
        "markup-in-a-value",
        block(invoke("search_files", tag("query", "<b>x</b> & y"))),
        None,
        [("search_files", {"query": "<b>x</b> & y"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_non_streaming_without_tool_call_keeps_content.
    ("vllm-plain", "plain response"),
    # VLLM test_streaming_flushes_partial_tool_start_as_text.
    ("vllm-partial-tool-start", f"plain {NS}<tool_ca"),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_streaming_parse_error_emits_buffer_and_later_deltas.
    ("vllm-block-without-invoke", f"{NS}<tool_call>\n{NS}</user_id> after error"),
    # VLLM test_streaming_error_recovery_...: the second invoke is cut off (vLLM
    # keeps the first call and shows the rest as text; here the answer is retried).
    (
        "vllm-second-invoke-cut-off",
        f'plain {NS}<tool_call>\n{ORDER_1}\n{NS}<invoke name="create_order">{NS}<user_id>2',
    ),
]

REASONING: list[ReasoningCase] = [
    # VLLM_M3_TEXT: reasoning first, in <mm:think> tags.
    (
        "thinking-then-call",
        f"<mm:think>The user wants the weather.</mm:think>\n{block(PARIS_INVOKE)}",
        "The user wants the weather.",
        None,
        [PARIS],
    ),
    # VLLM_M3_TEXT: with thinking off, the closing tag alone may come first.
    ("closing-tag-alone", f"</mm:think>\n{block(PARIS_INVOKE)}", None, None, [PARIS]),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"<mm:think>{block(PARIS_INVOKE)}</mm:think>It is sunny.",
        block(PARIS_INVOKE),
        "It is sunny.",
        [],
    ),
]


def test_to_xml_writes_what_read_arguments_reads() -> None:
    # The template's to_xml: objects as tags, lists as <item>s, booleans as JSON,
    # None members left out.
    arguments = {"a": {"b": [1, True]}, "c": "x", "d": None}
    text = to_xml(arguments)
    assert text == (
        f"{NS}<a>{NS}<b>{NS}<item>1{NS}</item>{NS}<item>true{NS}</item>{NS}</b>{NS}</a>"
        f"{NS}<c>x{NS}</c>"
    )
    assert read_arguments(text) == {"a": {"b": ["1", "true"]}, "c": "x"}


def test_renders_minimax_turns_with_m3_calls() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        *call_turns([PARIS], ["sunny"]),
    ]
    text = MiniMaxM3Wrapper().render(messages, FUNCTIONS[2:3]).text
    assert text.startswith("]~!b[]~b]system\nYou are a helpful assistant.\n\n# Tools\n")
    assert '<tool>{"name": "get_weather", ' in text
    assert text.endswith(
        "]~b]user\nWeather in Paris?[e~[\n]~b]ai\n\n" + block(PARIS_INVOKE) + "[e~[\n"
        "]~b]tool\n<response>sunny</response>[e~[\n]~b]ai\n"
    )


def test_the_grammar_writes_arguments_as_tags() -> None:
    text = MiniMaxM3Wrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(block(invoke("create_order", ORDER_BODY.replace("018956", "18956"))))
    assert not grammar.matches(block(invoke("create_order", tag("user_id", "forty"))))
    # An object of any keys: tags, or JSON text.
    assert grammar.matches(block(invoke("create_order", tag("metadata", '{"a": "b"}'))))
    assert not grammar.matches(f"{NS}<tool_call>\n{NS}</tool_call>")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    template = "{%- set ns_token = ']<]minimax[>[' -%}{{ ']~b]ai' ~ '\\n' }}"
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, MiniMaxM3Wrapper, ("minimax_m3", "minimax-m3.1"))
