"""``gigachat3``: Sber GigaChat 3 / 3.1, a ``function call<|role_sep|>`` message (or ``<|function_call|>``).

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

import json

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.gigachat3 import DEVSYSTEM, GigaChat3Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "gigachat3"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/102ebe1158710d3d09835e7887904042ed770264/tests/tool_parsers/test_gigachat3_tool_parser.py"
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/6f9ffbd9dba6b4b0311dba3c72ff1960f13edd74/models/templates/GigaChat3-10B-A1.8B.jinja"

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
    {"name": "manage_user_memory", "parameters": {"type": "object", "properties": {}}},
]

# VLLM's tokens and outputs.
MSG_SEP = "<|message_sep|>\n\n"
HEADER_3 = "function call<|role_sep|>\n"
HEADER_31 = "<|function_call|>"
SIMPLE_ARGS = {"action": "create", "id": "preferences"}
COMPLEX_ARGS = {
    "action": "create",
    "id": "preferences",
    "content": {
        "short_answers": True,
        "hate_emojis": True,
        "english_ui": False,
        "russian_math_explanations": True,
    },
}
SIMPLE = json.dumps({"name": "manage_user_memory", "arguments": SIMPLE_ARGS}, ensure_ascii=False)
EMPTY = json.dumps({"name": "manage_user_memory", "arguments": {}}, ensure_ascii=False)
COMPLEX = json.dumps({"name": "manage_user_memory", "arguments": COMPLEX_ARGS}, ensure_ascii=False)
CONTENT = "I'll check that for you."
SIMPLE_CALL: Call = ("manage_user_memory", SIMPLE_ARGS)

REAL_OUTPUTS: list[Case] = [
    # VLLM TEST_CASES, GigaChat 3 (a message of its own) and 3.1 (<|function_call|>).
    ("vllm-simple-3", f"{MSG_SEP}{HEADER_3}{SIMPLE}", None, [SIMPLE_CALL]),
    ("vllm-parameterless-3", f"{MSG_SEP}{HEADER_3}{EMPTY}", None, [("manage_user_memory", {})]),
    (
        "vllm-complex-3",
        f"{MSG_SEP}{HEADER_3}{COMPLEX}",
        None,
        [("manage_user_memory", COMPLEX_ARGS)],
    ),
    ("vllm-mixed-3", f"{CONTENT}{MSG_SEP}{HEADER_3}{SIMPLE}", CONTENT, [SIMPLE_CALL]),
    ("vllm-mixed-eos-3", f"{CONTENT}{MSG_SEP}{HEADER_3}{SIMPLE}</s>", CONTENT, [SIMPLE_CALL]),
    ("vllm-simple-31", f"{HEADER_31}{SIMPLE}", None, [SIMPLE_CALL]),
    ("vllm-parameterless-31", f"{HEADER_31}{EMPTY}", None, [("manage_user_memory", {})]),
    ("vllm-complex-31", f"{HEADER_31}{COMPLEX}", None, [("manage_user_memory", COMPLEX_ARGS)]),
    ("vllm-mixed-31", f"{CONTENT}{HEADER_31}{SIMPLE}", CONTENT, [SIMPLE_CALL]),
    ("vllm-mixed-eos-31", f"{CONTENT}{HEADER_31}{SIMPLE}</s>", CONTENT, [SIMPLE_CALL]),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "call-message-closed-too",
        f"{CONTENT}{MSG_SEP}{HEADER_3}{SIMPLE}<|message_sep|>\n\n</s>",
        CONTENT,
        [SIMPLE_CALL],
    ),
    (
        "broken-json-in-the-call",
        f"{MSG_SEP}{HEADER_3}{{'name': 'manage_user_memory', 'arguments': {{'id': 'x',}}}}",
        None,
        [("manage_user_memory", {"id": "x"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call.
    ("vllm-plain", "How can I help you today?"),
    ("plain-message-closed", "Hello!<|message_sep|>\n\n</s>"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", f'{MSG_SEP}{HEADER_3}{{"name": "manage_user_memory", "arguments": {{"id": "pre'),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns([("get_weather", {"city": "Paris"})], ["sunny"], content="Let me check."),
]
# TEMPLATE rendered with transformers' Jinja settings (bos_token ""), after its
# developer system message (DEVSYSTEM, the template's text).
GOLDEN_AFTER_DEVSYSTEM = (
    "system<|role_sep|>\nBe brief.<|message_sep|>\n\n"
    "function descriptions<|role_sep|>\nnamespace functions {\n// Get the weather\n"
    "type get_weather = (_: {\n  // City name\n  city: string,\n}) => any;\n\n"
    "} // namespace functions\n\n<|message_sep|>\n\n"
    "user<|role_sep|>\nWeather in Paris?<|message_sep|>\n\n"
    "assistant<|role_sep|>\nLet me check.<|message_sep|>\n\n"
    'function call<|role_sep|>\n{"name": "get_weather", "arguments": {"city": "Paris"}}'
    "<|message_sep|>\n\n"
    "function result<|role_sep|>\nsunny<|message_sep|>\n\n"
    "assistant<|role_sep|>\n"
)


def test_renders_the_chat_template_layout() -> None:
    text = GigaChat3Wrapper().render(MESSAGES, FUNCTIONS[:1]).text
    head = f"developer system<|role_sep|>\n{DEVSYSTEM}<|message_sep|>\n\n"
    assert text == head + GOLDEN_AFTER_DEVSYSTEM
    assert DEVSYSTEM.startswith("<role_description>\nDescription of the roles")
    assert DEVSYSTEM.endswith("in accordance with the dialog context.")


def test_schemas_become_the_templates_typescript() -> None:
    function: FunctionSchema = {
        "name": "f",
        "parameters": {
            "type": "object",
            "properties": {
                "days": {"type": "integer", "minimum": 1, "default": 1},
                "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "opts": {
                    "type": "object",
                    "properties": {"deep": {"type": "boolean"}},
                    "additionalProperties": True,
                },
                "when": {"type": "string", "format": "date"},
            },
        },
    }
    text = GigaChat3Wrapper().render([{"role": "user", "content": "x"}], [function]).text
    # TEMPLATE's json_schema_to_typescript, rendered.
    assert (
        "type f = (_: {\n  // minimum: 1\n  days?: number, // default: 1\n"
        '  unit?: "c" | "f", // default: "c"\n  tags?: string[],\n'
        "  opts?: {\n    deep?: boolean,\n    [key: string]: any\n  },\n"
        '  // format: "date"\n  when?: Date,\n}) => any;\n' in text
    )


def test_the_grammar_is_one_call_message() -> None:
    text = GigaChat3Wrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    call = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    assert grammar.matches(f"{MSG_SEP}{HEADER_3}{call}")
    assert not grammar.matches(f"{MSG_SEP}{HEADER_3}{call}{MSG_SEP}{HEADER_3}{call}")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert detect_format(REAL_OUTPUTS[5][1]) == NAME
    assert wrapper_for_template('role_sep="<|role_sep|>\\n", message_sep=') == NAME


def test_registered() -> None:
    assert_registered(NAME, GigaChat3Wrapper, ("gigachat", "gigachat3.1"))
    assert GigaChat3Wrapper().stop_sequences() == ["</s>"]  # the call follows a <|message_sep|>
