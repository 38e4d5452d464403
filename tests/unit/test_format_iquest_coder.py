"""``iquest-coder-v2``: iQuest Coder V2, GLM's key / value pairs in ``<iquestcoder_tool_call>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.iquest_coder import IquestCoderV2Wrapper, call_text
from wrappers.template_detection import wrapper_for_template

NAME = "iquest-coder-v2"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/2006094d195de1a513f5c8514827e85233093f9f/tests/tool_parsers/test_iquest_coder_v2_tool_parser.py"
VLLM_REASONING = "https://github.com/vllm-project/vllm/blob/2006094d195de1a513f5c8514827e85233093f9f/vllm/reasoning/iquest_q1_reasoning_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "state": {"type": "string"},
                "days": {"type": "integer"},
            },
            "required": ["city", "state"],
        },
    },
    {
        "name": "set_options",
        "parameters": {
            "type": "object",
            "properties": {"flags": {"type": "array"}, "enabled": {"type": "boolean"}},
        },
    },
]

OPEN, CLOSE = "<iquestcoder_tool_call>", "</iquestcoder_tool_call>"
DALLAS: Call = ("get_current_weather", {"city": "Dallas"})


def _call(name: str, *pairs: tuple[str, str]) -> str:
    # VLLM's _call: the pairs flush against the name.
    body = "".join(f"<arg_key>{k}</arg_key><arg_value>{v}</arg_value>" for k, v in pairs)
    return f"{OPEN}{name}{body}{CLOSE}"


REAL_OUTPUTS: list[Case] = [
    # VLLM test_single_tool_call_typed_arguments: days typed by the schema.
    (
        "vllm-typed",
        _call("get_current_weather", ("city", "Dallas"), ("state", "TX"), ("days", "3")),
        None,
        [("get_current_weather", {"city": "Dallas", "state": "TX", "days": 3})],
    ),
    # VLLM test_string_parameter_is_not_json_decoded.
    (
        "vllm-string-stays-text",
        _call("get_current_weather", ("city", "12345")),
        None,
        [("get_current_weather", {"city": "12345"})],
    ),
    # VLLM test_tool_call_without_arguments.
    ("vllm-no-arguments", f"{OPEN}get_current_weather{CLOSE}", None, [("get_current_weather", {})]),
    # VLLM test_leading_content_preserved.
    (
        "vllm-leading-content",
        "Let me look that up for you.\n" + _call("get_current_weather", ("city", "Dallas")),
        "Let me look that up for you.",
        [DALLAS],
    ),
    # VLLM test_parallel_tool_calls.
    (
        "vllm-parallel",
        _call("get_current_weather", ("city", "Dallas"))
        + _call("get_current_weather", ("city", "Orlando")),
        None,
        [DALLAS, ("get_current_weather", {"city": "Orlando"})],
    ),
    # VLLM test_whitespace_between_name_and_args.
    (
        "vllm-newlines",
        f"{OPEN}get_current_weather\n<arg_key>city</arg_key>\n<arg_value>Dallas</arg_value>\n{CLOSE}",
        None,
        [DALLAS],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "json-values",
        _call("set_options", ("flags", '["a", "b"]'), ("enabled", "true")),
        None,
        [("set_options", {"flags": ["a", "b"], "enabled": True})],
    ),
    (
        "end-of-turn-token",
        _call("get_current_weather", ("city", "Dallas")) + "<|im_end|>",
        None,
        [DALLAS],
    ),
    (
        "calls-on-their-own-lines",
        "Checking both.\n"
        + _call("get_current_weather", ("city", "Dallas"))
        + "\n"
        + _call("get_current_weather", ("city", "Orlando")),
        "Checking both.",
        [DALLAS, ("get_current_weather", {"city": "Orlando"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call_returns_content.
    ("vllm-plain", "Just a plain assistant reply with no tool call."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_malformed_call_missing_value_end_is_skipped (vLLM drops it; fcproxy retries).
    (
        "vllm-value-never-closed",
        f"{OPEN}get_current_weather<arg_key>city</arg_key><arg_value>Dallas{CLOSE}",
    ),
    ("cut-off", f"{OPEN}get_current_weather<arg_key>city</arg_key><arg_value>Dal"),
]

REASONING: list[ReasoningCase] = [
    # VLLM_REASONING: the template opens the block; "reasoning</think>answer".
    (
        "vllm-opened-by-the-template",
        "reasoning</think>" + _call("get_current_weather", ("city", "Dallas")),
        "reasoning",
        None,
        [DALLAS],
    ),
    # VLLM_REASONING: a call token ends the reasoning.
    (
        "a-call-ends-an-open-thought",
        "<think>Dallas, then." + _call("get_current_weather", ("city", "Dallas")),
        "Dallas, then.",
        None,
        [DALLAS],
    ),
    (
        "a-call-in-a-closed-thought-is-not-a-call",
        "<think>maybe " + _call("get_current_weather", ("city", "Oslo")) + "</think>No call.",
        "maybe " + _call("get_current_weather", ("city", "Oslo")),
        "No call.",
        [],
    ),
]


def test_renders_chatml_turns_with_the_call_format() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Dallas?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "get_current_weather", "arguments": '{"days": 3}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "content": "sunny"},
    ]
    text = IquestCoderV2Wrapper().render(messages, FUNCTIONS[:1]).text
    assert text.startswith("<|im_start|>system\nBe brief.\n\n# Tools\n\n")
    past = call_text("get_current_weather", {"days": 3})
    assert (
        past == f"{OPEN}get_current_weather<arg_key>days</arg_key><arg_value>3</arg_value>{CLOSE}"
    )
    assert text.endswith(
        "<|im_start|>user\nWeather in Dallas?<|im_end|>\n"
        f"<|im_start|>assistant\n{past}<|im_end|>\n"
        "<|im_start|>tool\nsunny<|im_end|>\n<|im_start|>assistant\n"
    )
    # What the prompt shows reads back as the call.
    assert IquestCoderV2Wrapper().parse(past, FUNCTIONS).tool_calls[0].arguments == '{"days": 3}'


def test_the_grammar_holds_calls_flush_against_the_tags() -> None:
    text = IquestCoderV2Wrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(
        _call("get_current_weather", ("city", "Dallas"), ("state", "TX"))
        + "\n"
        + _call("get_current_weather", ("city", "Orlando"), ("state", "FL"), ("days", "2"))
    )
    assert not grammar.matches(_call("get_current_weather", ("city", "Dallas")))  # state missing


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{{ '<iquestcoder_tool_call>' }}<arg_key>") == NAME


def test_registered() -> None:
    assert_registered(NAME, IquestCoderV2Wrapper, ("iquestcoder-v2",))
