"""``internlm2``: InternLM2, ``<|action_start|><|plugin|>{...}<|action_end|>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from tests.unit.vllm_json_outputs import (
    ESCAPED_STRINGS,
    VARIOUS_TYPES_AND_EMPTY,
    escaped_strings_call,
    various_types_call,
)
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.internlm2 import InternLM2Wrapper
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "internlm2"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/9066f23abd248e1922ba6bb002115033c479d066/tests/tool_parsers/test_internlm2_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/87b63520aba48bae9d55663edf0d8f65d3d43ac2/examples/tool_chat_template_internlm2_tool.jinja"
VLLM_INTERN_S1 = "https://github.com/vllm-project/vllm/blob/2854f617b6f3e125f5cd65d54704d924ede2f44d/tests/tool_parsers/test_intern_s1_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {"name": "refresh", "parameters": {"type": "object", "properties": {}}},
    {"name": "test_function", "parameters": {"type": "object", "properties": {}}},
]

TOKYO: Call = ("get_weather", {"city": "Tokyo"})
TOKYO_ACTION = (
    '<|action_start|><|plugin|>{"name": "get_weather", "parameters": {"city": "Tokyo"}}'
    "<|action_end|>"
)

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call_output.
    ("vllm-single", TOKYO_ACTION, None, [TOKYO]),
    # VLLM various_data_types_output.
    (
        "vllm-various-types",
        "<|action_start|><|plugin|>" + various_types_call("parameters") + "<|action_end|>",
        None,
        [("test_function", VARIOUS_TYPES_AND_EMPTY)],
    ),
    # VLLM empty_arguments_output.
    (
        "vllm-empty-arguments",
        '<|action_start|><|plugin|>{"name": "refresh", "parameters": {}}<|action_end|>',
        None,
        [("refresh", {})],
    ),
    # VLLM surrounding_text_output.
    (
        "vllm-text-first",
        "Let me check the weather for you. " + TOKYO_ACTION,
        "Let me check the weather for you.",
        [TOKYO],
    ),
    # VLLM escaped_strings_output.
    (
        "vllm-escaped-strings",
        "<|action_start|><|plugin|>" + escaped_strings_call("parameters") + "<|action_end|>",
        None,
        [("test_function", ESCAPED_STRINGS)],
    ),
    # TEMPLATE's layout: a newline after the plugin token, "arguments".
    (
        "template-layout-two-actions",
        '<|action_start|><|plugin|>\n{"name": "get_weather", "arguments": {"city": "Paris"}}'
        '<|action_end|><|action_start|><|plugin|>\n{"name": "refresh", "arguments": {}}'
        "<|action_end|>",
        None,
        [("get_weather", {"city": "Paris"}), ("refresh", {})],
    ),
    # VLLM_INTERN_S1 test_nonstreaming_supports_spaced_special_tokens: Intern-S1
    # writes InternLM2's action blocks (vLLM's intern-s1 parser), a space between the tokens.
    (
        "vllm-intern-s1-spaced-tokens",
        '<|action_start|> <|plugin|>\n{"name": "get_weather", "parameters": {"city": "Tokyo"}}\n'
        "<|action_end|>",
        None,
        [("get_weather", {"city": "Tokyo"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "plugin-token-dropped",
        '<|action_start|>{"name": "get_weather", "parameters": {"city": "Tokyo"}}<|action_end|>',
        None,
        [TOKYO],
    ),
    (
        "single-quotes-and-trailing-comma",
        "<|action_start|><|plugin|>{'name': 'get_weather', 'parameters': {'city': 'Tokyo',},}"
        "<|action_end|>",
        None,
        [TOKYO],
    ),
    ("end-of-turn", TOKYO_ACTION + "<|im_end|>", None, [TOKYO]),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM no_tool_calls_output.
    ("vllm-plain", "This is a regular response without any tool calls."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM malformed_input_outputs.
    ("vllm-cut-off", '<|action_start|><|plugin|>{"name": "func", "parameters": {'),
    ("vllm-not-json", "<|action_start|><|plugin|>not json<|action_end|>"),
    ("vllm-marker-only", "<|action_start|><|plugin|>"),
]

REASONING: list[ReasoningCase] = [
    (
        "think-then-call",
        "<think>Tokyo's weather.</think>" + TOKYO_ACTION,
        "Tokyo's weather.",
        None,
        [TOKYO],
    ),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns(
        [("get_weather", {"city": "Paris"})], ["sunny"], content="Let me check.", ids=["call_1"]
    ),
]
# TEMPLATE rendered by hand (transformers' Jinja settings), its bos_token left out.
GOLDEN = (
    "<|im_start|>system\nBe brief.<|im_end|>\n"
    '<|im_start|>system name=<|plugin|>\n[{"name": "get_weather", "parameters": '
    '{"type": "object", "properties": {"city": {"type": "string"}}}}]<|im_end|>\n'
    "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
    '<|im_start|>assistant\nLet me check.<|action_start|><|plugin|>\n{"name": "get_weather", '
    '"arguments": {"city": "Paris"}}<|action_end|><|im_end|>\n'
    "<|im_start|>environment name=<|plugin|>\nsunny<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert get_wrapper(NAME).render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_the_grammar_allows_one_call_only() -> None:
    text = get_wrapper(NAME).call_grammar(FUNCTIONS[:1], None, parallel=True)  # type: ignore[attr-defined]
    assert text is not None
    grammar = Grammar(text)
    call = '<|action_start|><|plugin|>\n{"name": "get_weather", "parameters": {"city": "Paris"}}<|action_end|>'
    assert grammar.matches(call)
    assert not grammar.matches(call.replace('"Paris"', "7"))


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(TOKYO_ACTION) == NAME
    assert wrapper_for_template('{{- "<|im_start|>system name=<|plugin|>\\n[" }}') == NAME


def test_registered() -> None:
    assert_registered(NAME, InternLM2Wrapper, ("internlm",))
