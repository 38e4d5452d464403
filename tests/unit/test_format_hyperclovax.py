"""``hyperclovax-seed-think``: NAVER HyperCLOVA X SEED Think 14B, `` -> tool/function_call`` turns.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.hyperclovax import HyperCLOVAXWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "hyperclovax-seed-think"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/0676dfcb47f707cc07dd84efec78363bc0f591b1/tests/tool_parsers/test_hyperclovax_seed_think_14b_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/9a525916e3dfc19c9b00febc373d0d0a556614f6/examples/tool_chat_template_hyperclovax_seed_think_14b.jinja"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {"name": "a", "parameters": {"type": "object", "properties": {}}},
    {"name": "b", "parameters": {"type": "object", "properties": {}}},
]
HEADER, END = " -> tool/function_call\n", "<|im_end|>"

REAL_OUTPUTS: list[Case] = [
    # VLLM header_array_arguments.
    (
        "vllm-header-array",
        HEADER + '[{"name": "get_weather", "arguments": {"city": "Seoul"}}]' + END,
        None,
        [("get_weather", {"city": "Seoul"})],
    ),
    # VLLM header_array_parameters_alias.
    (
        "vllm-parameters-alias",
        HEADER + '[{"name": "get_weather", "parameters": {"a": 1}}]' + END,
        None,
        [("get_weather", {"a": 1})],
    ),
    # VLLM bare_array_handoff (no header: read as a bare JSON list of the request's tools).
    (
        "vllm-bare-array",
        '[{"name": "get_weather", "parameters": {"city": "Busan"}}]',
        None,
        [("get_weather", {"city": "Busan"})],
    ),
    # VLLM multiple_tool_calls.
    (
        "vllm-parallel",
        HEADER
        + '[{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {"y": 2}}]'
        + END,
        None,
        [("a", {"x": 1}), ("b", {"y": 2})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # TEMPLATE's layout of an answer: its end tokens are not content.
    ("answer-turn", "\nIt is sunny.<|im_end|><|endofturn|>", "It is sunny.", []),
    # TEMPLATE's layout: the answer's text, then the call turn.
    (
        "text-then-call-turn",
        "\nLet me check.<|im_end|>\n<|im_start|>assistant -> tool/function_call\n"
        '[{"name": "get_weather", "arguments": {"city": "Seoul"}}]<|im_end|><|stop|>',
        "Let me check.",
        [("get_weather", {"city": "Seoul"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM NON_TOOL_CASES.
    ("vllm-plain", "I cannot find the weather right now."),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", HEADER + '[{"name": "get_weather", "arguments": {"city": "Seo'),
]

REASONING: list[ReasoningCase] = [
    (
        "think-then-call-turn",
        "/think\nThe user wants the weather in Seoul.<|im_end|>\n"
        "<|im_start|>assistant -> tool/function_call\n"
        '[{"name": "get_weather", "arguments": {"city": "Seoul"}}]<|im_end|><|stop|>',
        "The user wants the weather in Seoul.",
        None,
        [("get_weather", {"city": "Seoul"})],
    ),
    (
        "think-then-answer",
        "/think\nA greeting.<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|><|endofturn|>",
        "A greeting.",
        "Hello!",
        [],
    ),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns([("get_weather", {"city": "Paris"})], ["sunny"], content="Let me check."),
    {"role": "assistant", "content": "Sunny."},
    {"role": "user", "content": "Thanks"},
]
# TEMPLATE rendered with transformers' Jinja settings.
GOLDEN = (
    '<|im_start|>tool_list\n[{"name": "get_weather", "description": "Get the weather", '
    '"parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]<|im_end|>\n'
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n"
    "<|im_start|>assistant\nLet me check.<|im_end|>\n<|im_start|>assistant -> tool/function_call\n"
    '[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|im_end|><|stop|>\n'
    "<|im_start|>tool/function_call\nsunny<|im_end|>\n<|im_start|>assistant\nSunny.<|im_end|>"
    "<|endofturn|>\n<|im_start|>user\nThanks<|im_end|>\n<|im_start|>assistant"
)


def test_renders_the_chat_template_layout() -> None:
    assert HyperCLOVAXWrapper().render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_without_tools_or_system_the_template_writes_empty_turns() -> None:
    # TEMPLATE: an empty tool_list and an empty system turn.
    text = HyperCLOVAXWrapper().render([{"role": "user", "content": "Hi"}], []).text
    assert text == (
        "<|im_start|>tool_list\n<|im_end|>\n<|im_start|>system\n<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant"
    )


def test_the_abbreviated_form_is_not_a_call() -> None:
    # VLLM NON_TOOL_CASES "abbreviated_bare_object": the function's name in the role slot.
    raw = '-> tool/get_current_weather\n{"city": "Seoul"}'
    assert not HyperCLOVAXWrapper().parse(raw, FUNCTIONS).tool_calls


def test_the_grammar_is_the_call_turn() -> None:
    text = HyperCLOVAXWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    assert Grammar(text).matches(REAL_OUTPUTS[0][1])


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{{- '<|im_start|>assistant -> tool/function_call\\n[' }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, HyperCLOVAXWrapper, ("hyperclovax",))
