"""``hyperclovax-seed-think-32b``: HyperCLOVA X SEED Think 32B, GLM's blocks with JSON values.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.hyperclovax_32b import HyperClovaX32BWrapper, call_block
from wrappers.template_detection import wrapper_for_template

NAME = "hyperclovax-seed-think-32b"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/256c70194a2a527808618a1fb3beaa899fdd8fcd/tests/tool_parsers/test_hyperclovax_seed_think_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_current_weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["location"],
        },
    },
    {
        "name": "set_alarm",
        "parameters": {
            "type": "object",
            "properties": {"hour": {"type": "integer"}, "note": {"type": "string"}},
        },
    },
]


def _call(*pairs: tuple[str, str]) -> str:
    # VLLM's layout: GLM's, a pair per line, string values in JSON quotes.
    body = "".join(f"<arg_key>{k}</arg_key>\n<arg_value>{v}</arg_value>\n" for k, v in pairs)
    return f"<tool_call>get_current_weather\n{body}</tool_call>"


SEOUL: Call = ("get_current_weather", {"location": "Seoul"})

REAL_OUTPUTS: list[Case] = [
    # VLLM test_single_tool_call.
    (
        "vllm-single",
        _call(("location", '"Seoul"'), ("unit", '"celsius"')),
        None,
        [("get_current_weather", {"location": "Seoul", "unit": "celsius"})],
    ),
    # VLLM test_arg_value_falls_back_to_raw_string.
    ("vllm-raw-string", _call(("location", "Seoul")), None, [SEOUL]),
    # VLLM test_content_before_tool_call_is_preserved.
    (
        "vllm-text-first",
        "I'll check that for you." + _call(("location", '"Seoul"')),
        "I'll check that for you.",
        [SEOUL],
    ),
    # VLLM test_multiple_tool_calls.
    (
        "vllm-parallel",
        _call(("location", '"Seoul"')) + "\n" + _call(("location", '"Busan"')),
        None,
        [SEOUL, ("get_current_weather", {"location": "Busan"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM TestExtractToolCallsJSON: a required call's JSON list (bare JSON, read
    # by the tolerance every format has), "parameters" or "arguments".
    (
        "vllm-json-list",
        '[{"name": "get_current_weather", "parameters": {"location": "Seoul"}}]',
        None,
        [SEOUL],
    ),
    (
        "vllm-json-object",
        '{"name": "get_current_weather", "parameters": {"location": "Busan"}}',
        None,
        [("get_current_weather", {"location": "Busan"})],
    ),
    (
        "vllm-json-arguments",
        '[{"name": "get_current_weather", "arguments": {"location": "Seoul"}}]',
        None,
        [SEOUL],
    ),
    (
        "json-values-typed",
        "<tool_call>set_alarm\n<arg_key>hour</arg_key>\n<arg_value>7</arg_value>\n"
        '<arg_key>note</arg_key>\n<arg_value>"line one\\nline \\"two\\""</arg_value>\n</tool_call>',
        None,
        [("set_alarm", {"hour": 7, "note": 'line one\nline "two"'})],
    ),
    ("end-of-turn", _call(("location", '"Seoul"')) + "<|im_end|>", None, [SEOUL]),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call.
    ("vllm-plain", "Just a regular response."),
    # VLLM test_invalid_json_falls_back_to_content.
    ("vllm-not-json", "[not, valid, json"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", "<tool_call>get_current_weather\n<arg_key>location</arg_key>\n<arg_value>"),
]

REASONING: list[ReasoningCase] = [
    # VLLM test_reasoning_prefix_stripped_from_content: the prompt opened the block.
    (
        "vllm-reasoning-first",
        "thinking aloud</think>\n\nokay, calling:" + _call(("location", '"Seoul"')),
        "thinking aloud",
        "okay, calling:",
        [SEOUL],
    ),
    # VLLM test_json_after_think_end.
    (
        "vllm-json-after-the-reasoning",
        'thinking</think>\n\n[{"name": "get_current_weather", "parameters": {"location": "Seoul"}}]',
        "thinking",
        None,
        [SEOUL],
    ),
]


def test_renders_chatml_with_glm_instructions_and_an_open_think_block() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Seoul?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {
                        "name": "get_current_weather",
                        "arguments": '{"location": "Seoul"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "content": "sunny"},
    ]
    text = HyperClovaX32BWrapper().render(messages, FUNCTIONS[:1]).text
    assert text.startswith("<|im_start|>system\nBe brief.\n\n# Tools\n\n")
    past = call_block("get_current_weather", {"location": "Seoul"})
    assert past == (
        '<tool_call>get_current_weather\n<arg_key>location</arg_key>\n<arg_value>"Seoul"'
        "</arg_value>\n</tool_call>"
    )
    assert text.endswith(
        "<|im_start|>user\nWeather in Seoul?<|im_end|>\n"
        f"<|im_start|>assistant\n{past}<|im_end|>\n"
        "<|im_start|>tool\nsunny<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )
    # What the prompt shows reads back as the call.
    assert HyperClovaX32BWrapper().parse(past, FUNCTIONS).tool_calls[0].arguments == (
        '{"location": "Seoul"}'
    )


def test_the_grammar_writes_values_as_json() -> None:
    text = HyperClovaX32BWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(call_block("get_current_weather", {"location": "Seoul"}))
    assert not grammar.matches(
        _call(("location", "Seoul")).replace("\n</tool_call>", "</tool_call>")
    )


def test_detection_tells_its_quoted_values_from_glm() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    # Without a quoted value the call reads the same as GLM's.
    assert detect_format(REAL_OUTPUTS[1][1]) == "glm4"
    assert wrapper_for_template("<|im_start|>system ... <arg_key>{{ k }}</arg_key>") == NAME


def test_registered() -> None:
    assert_registered(NAME, HyperClovaX32BWrapper, ("hyperclovax-32b",))
