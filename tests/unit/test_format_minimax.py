"""``minimax-m2``: MiniMax M2, ``<minimax:tool_call><invoke name=...><parameter name=...>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.llama_grammar import LlamaCppGrammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.minimax import MiniMaxM2Wrapper
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "minimax-m2"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/0c927c3451653f28e60cd552cff13ddc3c9ff49e/tests/tool_parsers/test_minimax_m2_tool_parser.py"
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/a21f05affbf67c90f2ac574f1bdd7197ccbe2369/models/templates/unsloth-MiniMax-M2.jinja"
VLLM_SANITIZED = "https://github.com/vllm-project/vllm/blob/762e2060e58581624fcf404420d8260ae820eadf/tests/tool_parsers/test_minimax_m2_sanitized_tool_parser.py"


def function(name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", city="string", days="integer"),
    function("search_web", query="string"),
    function("get_stock", ticker="string"),
    function("fn_a", x="integer"),
    function("fn_b", y="integer"),
    function("set_options", flags="array", enabled="boolean", config="object"),
    {
        "name": "maybe",
        "parameters": {
            "type": "object",
            "properties": {"value": {"anyOf": [{"type": "integer"}, {"type": "string"}]}},
        },
    },
]

SEATTLE: Call = ("get_weather", {"city": "Seattle"})

REAL_OUTPUTS: list[Case] = [
    # VLLM TestSingleInvoke.test_single_chunk_complete.
    (
        "vllm-single",
        '<minimax:tool_call><invoke name="get_weather"><parameter name="city">Seattle</parameter>'
        "</invoke></minimax:tool_call>",
        None,
        [SEATTLE],
    ),
    # VLLM test_multiple_params: "5" typed by the schema (an integer here).
    (
        "vllm-two-parameters",
        '<minimax:tool_call><invoke name="get_weather"><parameter name="city">Seattle</parameter>'
        '<parameter name="days">5</parameter></invoke></minimax:tool_call>',
        None,
        [("get_weather", {"city": "Seattle", "days": 5})],
    ),
    # VLLM TestMultipleInvokes.test_two_invokes_incremental (parallel, one block).
    (
        "vllm-parallel",
        '<minimax:tool_call><invoke name="search_web"><parameter name="query">OpenAI</parameter>'
        '</invoke><invoke name="search_web"><parameter name="query">Gemini</parameter></invoke>'
        "</minimax:tool_call>",
        None,
        [("search_web", {"query": "OpenAI"}), ("search_web", {"query": "Gemini"})],
    ),
    # VLLM test_different_functions.
    (
        "vllm-different-functions",
        '<minimax:tool_call><invoke name="get_weather"><parameter name="city">NYC</parameter>'
        '</invoke><invoke name="get_stock"><parameter name="ticker">AAPL</parameter></invoke>'
        "</minimax:tool_call>",
        None,
        [("get_weather", {"city": "NYC"}), ("get_stock", {"ticker": "AAPL"})],
    ),
    # VLLM TestContentStreaming.test_content_before_tool_call.
    (
        "vllm-content-first",
        'Let me check. <minimax:tool_call><invoke name="get_weather"><parameter name="city">'
        "Seattle</parameter></invoke></minimax:tool_call>",
        "Let me check.",
        [SEATTLE],
    ),
    # VLLM test_two_invokes_in_single_delta.
    (
        "vllm-two-in-one-delta",
        '<minimax:tool_call><invoke name="fn_a"><parameter name="x">1</parameter></invoke>'
        '<invoke name="fn_b"><parameter name="y">2</parameter></invoke></minimax:tool_call>',
        None,
        [("fn_a", {"x": 1}), ("fn_b", {"y": 2})],
    ),
    # VLLM_SANITIZED (vLLM's minimax_m2_sanitized parser): flush against the tags, and a path
    # as MiniMax M2 sometimes writes it. That parser rewrites "character. gd" to
    # "character.gd" in arguments and content; fcproxy keeps what the model wrote.
    (
        "vllm-sanitized-path-kept-as-written",
        "Reading scripts/monkey_character. gd\n"
        '<minimax:tool_call><invoke name="read_file">'
        '<parameter name="path">scripts/monkey_character. gd</parameter>'
        "</invoke></minimax:tool_call>",
        "Reading scripts/monkey_character. gd",
        [("read_file", {"path": "scripts/monkey_character. gd"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "template-layout-with-newlines",
        '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">\nSeattle\n'
        '</parameter>\n<parameter name="days"> 3 </parameter>\n</invoke>\n</minimax:tool_call>',
        None,
        [("get_weather", {"city": "Seattle", "days": 3})],
    ),
    (
        "json-values-typed-by-the-schema",
        '<minimax:tool_call><invoke name="set_options"><parameter name="flags">["a", "b"]'
        '</parameter><parameter name="enabled">true</parameter><parameter name="config">'
        '{"depth": 2}</parameter></invoke></minimax:tool_call>',
        None,
        [("set_options", {"flags": ["a", "b"], "enabled": True, "config": {"depth": 2}})],
    ),
    (
        "union-type-tried-in-order",
        '<minimax:tool_call><invoke name="maybe"><parameter name="value">7</parameter></invoke>'
        '<invoke name="maybe"><parameter name="value">seven</parameter></invoke>'
        "</minimax:tool_call>",
        None,
        [("maybe", {"value": 7}), ("maybe", {"value": "seven"})],
    ),
    (
        "block-tags-dropped",
        '<invoke name="get_weather"><parameter name="city">Seattle</parameter></invoke>',
        None,
        [SEATTLE],
    ),
    (
        "end-of-turn",
        '<minimax:tool_call><invoke name="get_weather"><parameter name="city">Seattle</parameter>'
        "</invoke></minimax:tool_call>[e~[",
        None,
        [SEATTLE],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_plain_content.
    ("vllm-plain", "Hello world"),
    ("xml-in-prose", "Use <b>bold</b> for emphasis."),
]

BROKEN: list[tuple[str, str]] = [
    (
        "cut-off-before-invoke-end",
        '<minimax:tool_call><invoke name="get_weather"><parameter name="city">Seattle',
    ),
    ("block-without-a-call", "<minimax:tool_call>\n"),
]

REASONING: list[ReasoningCase] = [
    # The generation prompt opens <think> (TEMPLATE): the answer starts in it.
    (
        "prompt-opened-think",
        "The user wants the weather.\n</think>\n\n"
        '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Seattle'
        "</parameter>\n</invoke>\n</minimax:tool_call>",
        "The user wants the weather.",
        None,
        [SEATTLE],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        '<think>maybe <minimax:tool_call><invoke name="get_weather"><parameter name="city">Oslo'
        "</parameter></invoke></minimax:tool_call></think>It is sunny.",
        'maybe <minimax:tool_call><invoke name="get_weather"><parameter name="city">Oslo'
        "</parameter></invoke></minimax:tool_call>",
        "It is sunny.",
        [],
    ),
]

WEATHER: list[FunctionSchema] = [function("get_weather", city="string", days="integer")]
MESSAGES = [
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns([("get_weather", {"city": "Paris", "days": 2})], ["sunny"], ids=["call_1"]),
]
# Rendered by hand from TEMPLATE (transformers' trim_blocks / lstrip_blocks).
GOLDEN = (
    "]~!b[]~b]system\nYou are a helpful assistant.\n\n# Tools\n"
    "You may call one or more tools to assist with the user query.\n"
    "Here are the tools available in JSONSchema format:\n\n<tools>\n"
    '<tool>{"name": "get_weather", "parameters": {"type": "object", "properties": '
    '{"city": {"type": "string"}, "days": {"type": "integer"}}}}</tool>\n</tools>\n\n'
    "When making tool calls, use XML format to invoke tools and pass parameters:\n\n"
    '<minimax:tool_call>\n<invoke name="tool-name-1">\n'
    '<parameter name="param-key-1">param-value-1</parameter>\n'
    '<parameter name="param-key-2">param-value-2</parameter>\n...\n</invoke>\n'
    "</minimax:tool_call>[e~[\n"
    "]~b]user\nWeather in Paris?[e~[\n"
    ']~b]ai\n\n<minimax:tool_call>\n<invoke name="get_weather">\n'
    '<parameter name="city">Paris</parameter>\n<parameter name="days">2</parameter>\n'
    "</invoke>\n</minimax:tool_call>[e~[\n"
    "]~b]tool\n<response>sunny</response>[e~[\n"
    "]~b]ai\n<think>\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert get_wrapper(NAME).render(MESSAGES, WEATHER).text == GOLDEN


def test_the_grammar_allows_the_calls_only() -> None:
    text = get_wrapper(NAME).call_grammar(WEATHER, None, parallel=True)  # type: ignore[attr-defined]
    assert text is not None
    grammar = LlamaCppGrammar(text)
    call = (
        '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Paris'
        '</parameter>\n<parameter name="days">2</parameter>\n</invoke>\n</minimax:tool_call>'
    )
    assert grammar.matches(call)
    assert not grammar.matches(call.replace('"days">2', '"days">two'))


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{%- set toolcall_begin_token = '<minimax:tool_call>' -%}") == NAME


def test_registered() -> None:
    assert_registered(NAME, MiniMaxM2Wrapper, ("minimax",))
