"""``hermes``: Hermes 2 Pro / 3, Qwen 2.5 / 3, ``<tool_call>\\n{"name": ..., "arguments": ...}\\n</tool_call>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py; tests/unit/test_tolerance.py holds the
broken JSON Hermes mends inside its markers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.format_checks import Call
from tests.unit.golden_formats.generate_tool_call_goldens import environment
from tests.unit.tool_call_conversation import VARIANTS, openai_request, wrapper_input
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.hermes import HermesWrapper
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "hermes"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/df6d0216aa6fed0b310cbefb5b79f1d0ec5993dc/tests/tool_parsers/test_hermes_tool_parser.py"
# llama.cpp's Reka Edge handler (b8875; this copy in a fork): Hermes' JSON calls in
# <tool_call> tags after an optional <think> block, the turn ended by <sep>.
LLAMA_CPP_REKA = "https://github.com/auroralabs-loci/llama.cpp/blob/b6f0af2682eb93a059183a6d792ae0d911a0845d/common/chat-reka.cpp"
# EXAONE 4.0's chat template, quoted whole in BFCL's EXAONE 4 handler: calls written
# <tool_call>{"name": ..., "arguments": ...}</tool_call>, one a line, after the
# <think> block (empty without thinking: the generation prompt writes it).
EXAONE4 = "https://github.com/ShishirPatil/gorilla/blob/da7f73a806b4f0bdc8f5f6641616fc10e271007a/berkeley-function-call-leaderboard/bfcl_eval/model_handler/local_inference/exaone4.py"
# K-EXAONE (EXAONE MoE): llama.cpp's COMMON_CHAT_FORMAT_EXAONE_MOE, <think> and
# <tool_call>{...}</tool_call> blocks; this port of that handler and its tests.
EXAONE_MOE = "https://github.com/leehack/llamadart/blob/1da81cb8595cadd8b6756a3d4287fb8104364062/test/unit/core/template/handlers/exaone_moe_handler_test.dart"
# Bielik v3's tool parser (vLLM plug-in by SpeakLeash): <tool_call>{"name", "arguments"}
# </tool_call>, a last block read to the end of the output when its tag is missing;
# the template asks for the same and writes past calls one a line.
BIELIK = "https://github.com/speakleash/bielik-tools/blob/2d403ea6d649a959f1b716fcd718e3a8a42a1019/tools/bielik_vllm_tool_parser_v3.1.py"
BIELIK_TEMPLATE = "https://github.com/jarekmor/bielik-tools/blob/01e0caf4bb5ce7aa91921a6459b1c194bf69de77/tools/bielik_advanced_chat_template.jinja"
# Qwen/Qwen2.5-7B-Instruct's tokenizer_config.json chat_template (tests/unit/templates/README.md).
TEMPLATE = Path(__file__).parent / "templates" / "Qwen-Qwen2.5-7B-Instruct.jinja"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
    {"name": "final_answer", "parameters": {"type": "object", "properties": {}}},
    {"name": "get_current_temperature", "parameters": {"type": "object", "properties": {}}},
    {"name": "search", "parameters": {"type": "object", "properties": {}}},
]

PARIS: Call = ("get_weather", {"city": "Paris"})
TRIGGER: Call = ("final_answer", {"trigger": True})


def tagged(*objects: str) -> str:
    return "\n".join(f"<tool_call>\n{o}\n</tool_call>" for o in objects)


REAL_OUTPUTS: list[Case] = [
    # VLLM test_hermes_parser_non_streaming_tool_call_between_tags (and bug 19056's).
    (
        "vllm-between-tags",
        tagged('{"name": "final_answer", "arguments": {"trigger": true}}'),
        None,
        [TRIGGER],
    ),
    # VLLM test_hermes_parser_streaming: line breaks inside the object.
    (
        "vllm-line-breaks-inside",
        '<tool_call>\n{"name": "get_current_temperature",\n"arguments": {"location":\n'
        '"San Francisco, California, United States", "unit": "celsius"}}\n</tool_call>',
        None,
        [
            (
                "get_current_temperature",
                {"location": "San Francisco, California, United States", "unit": "celsius"},
            )
        ],
    ),
    # VLLM test_hermes_streaming_content_then_tool_call_with_stream_interval.
    (
        "vllm-content-then-call",
        'Sure, let me check the weather.<tool_call>{"name": "get_weather", '
        '"arguments": {"city": "NYC"}}</tool_call>',
        "Sure, let me check the weather.",
        [("get_weather", {"city": "NYC"})],
    ),
    # VLLM test_hermes_streaming_multiple_tool_calls_with_stream_interval (parallel).
    (
        "vllm-parallel",
        '<tool_call>{"name": "search", "arguments": {"q": "cats"}}</tool_call>'
        '<tool_call>{"name": "search", "arguments": {"q": "dogs"}}</tool_call>',
        None,
        [("search", {"q": "cats"}), ("search", {"q": "dogs"})],
    ),
    # TEMPLATE's layout, two calls after content.
    (
        "template-parallel-after-content",
        "Let me check.\n"
        + tagged(
            '{"name": "get_weather", "arguments": {"city": "Paris"}}',
            '{"name": "get_time", "arguments": {"zone": "CET"}}',
        ),
        "Let me check.",
        [PARIS, ("get_time", {"zone": "CET"})],
    ),
    # EXAONE4's template: parallel calls one a line, no space inside the tags.
    (
        "exaone4-template-parallel",
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>\n'
        '<tool_call>{"name": "get_time", "arguments": {"zone": "CET"}}</tool_call>',
        None,
        [PARIS, ("get_time", {"zone": "CET"})],
    ),
    # EXAONE_MOE "parses tool calls from tagged JSON blocks": compact JSON, text after.
    (
        "k-exaone-call-then-text",
        '<tool_call>{"name":"get_weather","arguments":{"city":"Seoul"}}</tool_call> tail',
        "tail",
        [("get_weather", {"city": "Seoul"})],
    ),
    # BIELIK_TEMPLATE's calls (each ended by a line break), in Polish.
    (
        "bielik-template-parallel",
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Warszawa"}}</tool_call>\n'
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Kraków"}}</tool_call>\n',
        None,
        [("get_weather", {"city": "Warszawa"}), ("get_weather", {"city": "Kraków"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM test_hermes_parser_non_streaming_tool_call_until_eos: no closing tag.
    (
        "vllm-until-eos",
        '<tool_call>\n{"name": "final_answer", "arguments": {"trigger": true}}',
        None,
        [TRIGGER],
    ),
    (
        "escaped-unicode-and-quotes",
        tagged('{"name": "get_weather", "arguments": {"city": "Z\\u00fcrich \\"old town\\""}}'),
        None,
        [("get_weather", {"city": 'Zürich "old town"'})],
    ),
    (
        "empty-arguments",
        tagged('{"name": "get_weather", "arguments": {}}'),
        None,
        [("get_weather", {})],
    ),
    (
        "name-after-arguments",
        tagged('{"arguments": {"city": "Rome"}, "name": "get_weather"}'),
        None,
        [("get_weather", {"city": "Rome"})],
    ),
    (
        "end-of-turn",
        tagged('{"name": "get_weather", "arguments": {"city": "Paris"}}') + "<|im_end|>",
        None,
        [PARIS],
    ),
    # EXAONE_MOE "parses nested function payloads in code fences": OpenAI's shape, fenced.
    (
        "k-exaone-fenced-openai-shape",
        '<tool_call>```json\n{"id":"call_1","function":{"name":"get_weather",'
        '"arguments":{"city":"Seoul"}}}\n```</tool_call>',
        None,
        [("get_weather", {"city": "Seoul"})],
    ),
    # BIELIK reads a last block whose </tool_call> never came, after a closed one.
    (
        "bielik-last-tag-missing",
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Gdańsk"}}</tool_call>\n'
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Poznań"}}',
        None,
        [("get_weather", {"city": "Gdańsk"}), ("get_weather", {"city": "Poznań"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_hermes_parser_non_streaming_no_tool_call.
    ("vllm-plain", "This is not a tool call."),
    ("half-written-tag", "The weather in Paris is sunny, 18 °C. <tool_ without a call"),
    ("trailing-blank-lines", "Sure, I can help!\n\n"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off-in-a-string", '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par'),
]

REASONING: list[ReasoningCase] = [
    # Qwen3 with thinking on: the thought, then the call.
    (
        "qwen3-think-then-call",
        "<think>\nThe user wants the weather.\n</think>\n\n"
        + tagged('{"name": "get_weather", "arguments": {"city": "Paris"}}'),
        "The user wants the weather.",
        None,
        [PARIS],
    ),
    # LLAMA_CPP_REKA's layout: reasoning, then standard JSON tools in <tool_call> tags.
    (
        "llama.cpp-reka-edge-think-then-call",
        "<think>I need the weather.</think>\n"
        + tagged('{"name": "get_weather", "arguments": {"city": "Paris"}}'),
        "I need the weather.",
        None,
        [PARIS],
    ),
    # EXAONE4 with enable_thinking: the prompt opened "<think>\\n"; the thought, then
    # content and a call on the next line, as its template writes a past turn.
    (
        "exaone4-thought-then-content-and-call",
        "The user asks about Seoul.\n</think>\n\nLet me check.\n"
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Seoul"}}</tool_call>',
        "The user asks about Seoul.",
        "Let me check.",
        [("get_weather", {"city": "Seoul"})],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        "<think>maybe "
        + tagged('{"name": "get_weather", "arguments": {"city": "Oslo"}}')
        + "</think>It is sunny.",
        "maybe " + tagged('{"name": "get_weather", "arguments": {"city": "Oslo"}}'),
        "It is sunny.",
        [],
    ),
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_what_qwen25s_template_renders(variant: str) -> None:
    request = openai_request(variant)
    for message in request["messages"]:
        for call in message.get("tool_calls") or []:
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    template = environment(False).from_string(TEMPLATE.read_text())
    want = template.render(
        messages=request["messages"], tools=request.get("tools"), add_generation_prompt=True
    )
    messages, functions = wrapper_input(variant)
    assert get_wrapper(NAME).render(messages, functions).text == want


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template(TEMPLATE.read_text()) == NAME


def test_registered() -> None:
    assert_registered(NAME, HermesWrapper, ("qwen", "qwen2.5"))


@pytest.mark.parametrize(
    "template",
    [
        # EXAONE4's call and result lines.
        '{{- "<tool_call>" }}{"name": "{{- tool_call.name }}", "arguments": '
        "{{ arguments | tojson }}}{{- \"</tool_call>\" }}{{- '[|endofturn|]\\n' }}",
        # BIELIK_TEMPLATE's call instruction.
        '{{- "`<tool_call>{\\"name\\": <tool-name>, \\"arguments\\": <args-dict>}</tool_call>`" }}'
        '{{- "<|im_start|>tool\\n" + content|string + "<|im_end|>\\n" }}',
    ],
    ids=["exaone4", "bielik"],
)
def test_exaone_and_bielik_templates_ask_for_hermes_calls(template: str) -> None:
    assert wrapper_for_template(template) == NAME
