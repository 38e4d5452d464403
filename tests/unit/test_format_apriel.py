"""``apriel``: ServiceNow Apriel 1.5, reasoning then ``<tool_calls>[...]</tool_calls>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.apriel import REASONING_PROMPT, AprielWrapper
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.template_detection import wrapper_for_template

NAME = "apriel"

# Sources of the outputs below (and TEMPLATE, of the rendering). No real
# Apriel output with a call was at hand: the rows are written in the format
# these document (the template's own rendering of past calls, llama.cpp's
# Apriel 1.5 parser: "<tool_calls>[{...}]</tool_calls> with optional
# <thinking>...</thinking> reasoning blocks", the system prompt's
# "[BEGIN FINAL RESPONSE] ... [END FINAL RESPONSE]").
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/0374c5b6e4c19370262d93e2c3f2a98c9af9fe1f/models/templates/unsloth-Apriel-1.5.jinja"
LLAMA_CPP_TEST = "ggml-org/llama.cpp tests/test-chat.cpp: test_apriel_1_5_parser (think tags <thinking> / </thinking>)"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
]

PARIS: Call = ("get_weather", {"city": "Paris"})
ROME: Call = ("get_weather", {"city": "Rome"})
PARIS_LIST = '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_calls>'

REAL_OUTPUTS: list[Case] = [
    # TEMPLATE's rendering of a past call.
    ("template-layout", f"\n{PARIS_LIST}\n<|end|>", None, [PARIS]),
    (
        "template-parallel",
        '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}, '
        '{"name": "get_weather", "arguments": {"city": "Rome"}}]</tool_calls>',
        None,
        [PARIS, ROME],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "final-response-markers-around-prose",
        "[BEGIN FINAL RESPONSE]\nHello!\n[END FINAL RESPONSE]",
        "Hello!",
        [],
    ),
    (
        "trailing-comma",
        '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris",}},]</tool_calls>',
        None,
        [PARIS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("plain", "The weather in Paris is sunny.\n<|end|>"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Par'),
]

REASONING: list[ReasoningCase] = [
    (
        "reasoning-steps-then-final-call",
        "Here are my reasoning steps:\nThe user wants the weather in Paris.\n"
        f"[BEGIN FINAL RESPONSE]\n{PARIS_LIST}\n[END FINAL RESPONSE]\n<|end|>",
        "The user wants the weather in Paris.",
        None,
        [PARIS],
    ),
    (
        "reasoning-steps-then-answer",
        "Here are my reasoning steps:\nA greeting.\n[BEGIN FINAL RESPONSE]\nHello!\n[END FINAL RESPONSE]",
        "A greeting.",
        "Hello!",
        [],
    ),
    (
        "reasoning-steps-then-a-call-without-the-marker",
        f"Here are my reasoning steps:\nI need the weather.\n{PARIS_LIST}",
        "I need the weather.",
        None,
        [PARIS],
    ),
    # LLAMA_CPP_TEST: reasoning in <thinking> tags.
    (
        "thinking-tags",
        f"<thinking>I need the weather.</thinking>{PARIS_LIST}",
        "I need the weather.",
        None,
        [PARIS],
    ),
]

MESSAGES = [
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns([("get_weather", {"city": "Paris"})], ["sunny"], content=""),
]
TOOLS_BLOCK = (
    "You are provided with function signatures within <available_tools></available_tools> XML "
    "tags. You may call one or more functions to assist with the user query. Don't make "
    "assumptions about the arguments. You should infer the argument values from previous user "
    "responses and the system message. Here are the available tools:\n<available_tools>\n"
    "{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Get the weather', "
    "'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, "
    "'required': ['city']}}}\n</available_tools>"
)
# TEMPLATE rendered with transformers' Jinja settings (bos_token and eos_token
# empty; the past call's "id" left out: fcproxy's conversation carries none).
GOLDEN = (
    f"<|system|>\n{REASONING_PROMPT}{TOOLS_BLOCK}\nReturn all function calls as a list of json "
    "objects within <tool_call></tool_call> XML tags. Each json object should contain a function "
    'name and arguments as follows:\n<tool_calls>[{"name": <function-name-1>, "arguments": '
    '<args-dict-1>}, {"name": <function-name-2>, "arguments": <args-dict-2>},...]</tool_calls>'
    f"\n<|end|>\n<|system|>\n{REASONING_PROMPT}\n<|end|>\n<|user|>\nWeather in Paris?\n<|end|>\n"
    f"<|assistant|>\n\n{PARIS_LIST}\n<|end|>\n<|tool_result|>\nsunny\n<|end|>\n<|assistant|>\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert AprielWrapper().render(MESSAGES, FUNCTIONS).text == GOLDEN


def test_with_a_system_message_the_template_leaves_out_the_call_instructions() -> None:
    text = (
        AprielWrapper()
        .render([{"role": "system", "content": "Be brief."}, *MESSAGES], FUNCTIONS)
        .text
    )
    # TEMPLATE rendered: the reasoning prompt, the client's text, the tools; one system turn.
    assert text.startswith(
        f"<|system|>\n{REASONING_PROMPT}Be brief.\n{TOOLS_BLOCK}\n<|end|>\n<|user|>\n"
    )


def test_the_grammar_is_one_list() -> None:
    text = AprielWrapper().call_grammar(FUNCTIONS, None, parallel=True)
    assert text is not None
    assert Grammar(text).matches(REAL_OUTPUTS[1][1])


def test_detected_from_its_output_and_its_template() -> None:
    # Hunyuan's and Jamba's calls are written the same way; auto reads them with Hunyuan's reader.
    assert detect_format(PARIS_LIST) == "hunyuan-a13b"
    template = "format: [BEGIN FINAL RESPONSE] ... [END FINAL RESPONSE].<tool_calls>[{"
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, AprielWrapper, ("apriel-1.5", "apriel-thinker"))
