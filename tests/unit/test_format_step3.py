"""``step3``: StepFun Step3, ``<steptml:invoke>`` calls in a ``<｜tool_calls_begin｜>`` block.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""
# ruff: noqa: RUF001, RUF002, RUF003  (StepFun's tokens use full-width bars)

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, assert_registered
from tests.unit.vllm_json_outputs import VARIOUS_TYPES
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.step3 import Step3Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "step3"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/04b590e613452c30240e574e66102b4838570054/tests/tool_parsers/test_step3_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}},
    },
    {"name": "refresh", "parameters": {"type": "object", "properties": {}}},
    {
        "name": "test_function",
        "parameters": {
            "type": "object",
            "properties": {
                "string_field": {"type": "string"},
                "int_field": {"type": "integer"},
                "float_field": {"type": "number"},
                "bool_field": {"type": "boolean"},
                "null_field": {"type": "null"},
                "array_field": {"type": "array"},
                "object_field": {"type": "object"},
                "quoted": {"type": "string"},
                "path": {"type": "string"},
                "newline": {"type": "string"},
            },
        },
    },
    {
        "name": "edit_file",
        "parameters": {
            "type": "object",
            "properties": {
                "old_string": {"type": "string"},
                "indent": {"type": "integer"},
                "enabled": {"type": "boolean"},
            },
        },
    },
]

BEGIN, END = (
    "<｜tool_calls_begin｜><｜tool_call_begin｜>",
    "<｜tool_call_end｜><｜tool_calls_end｜>",
)
TOKYO: Call = ("get_weather", {"city": "Tokyo"})
TOKYO_INVOKE = (
    '<steptml:invoke name="get_weather"><steptml:parameter name="city">Tokyo</steptml:parameter>'
    "</steptml:invoke>"
)


def _edit(value: str) -> str:
    # VLLM's _ws_output: the newer layout, "function<｜tool_sep｜>NAME\n" before the invoke.
    return (
        "<｜tool_calls_begin｜><｜tool_call_begin｜>function<｜tool_sep｜>edit_file\n"
        '<steptml:invoke name="edit_file">'
        f'<steptml:parameter name="old_string">{value}</steptml:parameter>'
        '<steptml:parameter name="indent"> 4 </steptml:parameter>'
        '<steptml:parameter name="enabled"> true </steptml:parameter>'
        f"</steptml:invoke>{END}"
    )


REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool_call_output.
    ("vllm-single", f"{BEGIN}{TOKYO_INVOKE}{END}", None, [TOKYO]),
    # VLLM parallel_tool_calls_output: <｜tool_sep｜> between the calls.
    (
        "vllm-parallel",
        f"{BEGIN}{TOKYO_INVOKE}<｜tool_call_end｜><｜tool_sep｜><｜tool_call_begin｜>"
        '<steptml:invoke name="get_time"><steptml:parameter name="timezone">Asia/Tokyo'
        f"</steptml:parameter></steptml:invoke>{END}",
        None,
        [TOKYO, ("get_time", {"timezone": "Asia/Tokyo"})],
    ),
    # VLLM various_data_types_output, typed by the schema.
    (
        "vllm-various-types",
        f'{BEGIN}<steptml:invoke name="test_function">'
        '<steptml:parameter name="string_field">hello</steptml:parameter>'
        '<steptml:parameter name="int_field">42</steptml:parameter>'
        '<steptml:parameter name="float_field">3.14</steptml:parameter>'
        '<steptml:parameter name="bool_field">true</steptml:parameter>'
        '<steptml:parameter name="null_field">null</steptml:parameter>'
        '<steptml:parameter name="array_field">["a", "b", "c"]</steptml:parameter>'
        '<steptml:parameter name="object_field">{"nested": "value"}</steptml:parameter>'
        f"</steptml:invoke>{END}",
        None,
        [("test_function", VARIOUS_TYPES)],
    ),
    # VLLM empty_arguments_output.
    (
        "vllm-empty-arguments",
        f'{BEGIN}<steptml:invoke name="refresh"></steptml:invoke>{END}',
        None,
        [("refresh", {})],
    ),
    # VLLM surrounding_text_output.
    (
        "vllm-surrounding-text",
        f"Let me check the weather for you.\n\n{BEGIN}{TOKYO_INVOKE}{END}\n\nI'll get that information.",
        "Let me check the weather for you.\n\n\n\nI'll get that information.",
        [TOKYO],
    ),
    # VLLM escaped_strings_output.
    (
        "vllm-escaped-strings",
        f'{BEGIN}<steptml:invoke name="test_function">'
        '<steptml:parameter name="quoted">He said "hello"</steptml:parameter>'
        '<steptml:parameter name="path">C:\\Users\\file.txt</steptml:parameter>'
        '<steptml:parameter name="newline">line1\nline2</steptml:parameter>'
        f"</steptml:invoke>{END}",
        None,
        [
            (
                "test_function",
                {
                    "quoted": 'He said "hello"',
                    "path": "C:\\Users\\file.txt",
                    "newline": "line1\nline2",
                },
            )
        ],
    ),
    # VLLM TestStep3ParameterWhitespace: a string keeps its spaces (vLLM also keeps a
    # value's last newline; fcproxy drops one newline around a value as layout).
    *[
        (
            f"vllm-whitespace-{i}",
            _edit(value),
            None,
            [("edit_file", {"old_string": value, "indent": 4, "enabled": True})],
        )
        for i, value in enumerate(("    if x:", "hello ", "hello\u00a0", "hello"))
    ],
]

MESSY_OUTPUTS: list[Case] = [
    ("end-of-turn-token", f"{BEGIN}{TOKYO_INVOKE}{END}<|EOT|>", None, [TOKYO]),
    (
        "without-the-call-wrappers",
        f"<｜tool_calls_begin｜>{TOKYO_INVOKE}<｜tool_calls_end｜>",
        None,
        [TOKYO],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM no_tool_calls_output.
    ("vllm-plain", "This is a regular response without any tool calls."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM malformed_input_outputs.
    ("vllm-invoke-never-closed", f'{BEGIN}<steptml:invoke name="func">'),
]


def test_renders_stepfun_turns_with_the_call_format() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Tokyo?"},
        *call_turns([("get_weather", {"city": "Tokyo"})], ["sunny"]),
    ]
    text = Step3Wrapper().render(messages, FUNCTIONS[:1]).text
    assert text.startswith("<|BOT|>system\nBe brief.\n\n# Tools\n\n")
    assert text.endswith(
        "<|EOT|><|BOT|>user\nWeather in Tokyo?<|EOT|><|BOT|>assistant\n"
        f"<｜tool_calls_begin｜><｜tool_call_begin｜>function<｜tool_sep｜>{TOKYO_INVOKE}{END}<|EOT|>"
        "<|BOT|>tool_response\nsunny<|EOT|><|BOT|>assistant\n"
    )
    # What the prompt shows reads back as the call.
    shown = text.split("<|BOT|>assistant\n")[1].removesuffix("<|EOT|>")
    assert [c.name for c in Step3Wrapper().parse(shown, FUNCTIONS).tool_calls] == ["get_weather"]


def test_the_grammar_is_one_block_of_calls_in_their_own_tokens() -> None:
    text = Step3Wrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    # As the prompt's instructions and past calls write a call.
    call = f"<｜tool_call_begin｜>function<｜tool_sep｜>{TOKYO_INVOKE}<｜tool_call_end｜>"
    assert grammar.matches(f"<｜tool_calls_begin｜>{call}{call}<｜tool_calls_end｜>")
    assert not grammar.matches(f"<｜tool_calls_begin｜>{TOKYO_INVOKE}<｜tool_calls_end｜>")
    assert not grammar.matches("<｜tool_calls_begin｜><｜tool_calls_end｜>")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template('<steptml:invoke name="{{ tool.name }}">') == NAME


def test_registered() -> None:
    assert_registered(NAME, Step3Wrapper, ("step-3", "steptml"))
