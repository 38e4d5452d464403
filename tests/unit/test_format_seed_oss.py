"""``seed-oss``: ByteDance Seed-OSS, ``<seed:tool_call><function=name><parameter=k>v</parameter>``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import (
    Case,
    ReasoningCase,
    assert_registered,
    golden_text,
    rendering,
    variants,
)
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.seed_oss import SeedOssWrapper

NAME = "seed-oss"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/181b452c21f2f92eda19a17d340952ecf7773a77/tests/tool_use/test_seed_oss_tool_parser.py"
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"


def function(function_name: str, **properties: dict[str, Any]) -> FunctionSchema:
    return {"name": function_name, "parameters": {"type": "object", "properties": properties}}


# The tools the outputs below were answering.
FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", location={"type": "string"}, unit={"type": "string"}),
    function("special_function", arg1={"type": "integer"}),
    function("special_function_with_opt", arg1={"type": "integer"}, arg2={"type": "integer"}),
    function("todo_list", todos={"type": "array"}),
    function(
        "edit",
        filename={"type": "string"},
        oldString={"type": "string"},
        newString={"type": "string"},
    ),
]

BARCELONA: Call = ("get_weather", {"location": "Barcelona, Spain"})
SPECIAL: Call = ("special_function", {"arg1": 1})
BARCELONA_CALL = (
    "<seed:tool_call>\n<function=get_weather>\n<parameter=location>Barcelona, Spain</parameter>\n"
    "</function>\n</seed:tool_call>"
)
SPECIAL_CALL = (
    "<seed:tool_call>\n<function=special_function>\n<parameter=arg1>1</parameter>\n</function>\n"
    "</seed:tool_call>"
)

REAL_OUTPUTS: list[Case] = [
    # LLAMA_CPP lines 3055-3060.
    ("llama.cpp-single", SPECIAL_CALL, None, [SPECIAL]),
    # LLAMA_CPP lines 3065-3076: parallel calls.
    (
        "llama.cpp-parallel",
        SPECIAL_CALL
        + "\n<seed:tool_call>\n<function=special_function_with_opt>\n<parameter=arg1>1</parameter>\n"
        "<parameter=arg2>2</parameter>\n</function>\n</seed:tool_call>",
        None,
        [SPECIAL, ("special_function_with_opt", {"arg1": 1, "arg2": 2})],
    ),
    # LLAMA_CPP lines 3087-3092: a JSON list as a value.
    (
        "llama.cpp-json-list-value",
        '<seed:tool_call>\n<function=todo_list>\n<parameter=todos>[{"item": "Check stuff", '
        '"selected": false}, {"item": "Prepare stuff", "selected": true}]</parameter>\n</function>\n'
        "</seed:tool_call>",
        None,
        [
            (
                "todo_list",
                {
                    "todos": [
                        {"item": "Check stuff", "selected": False},
                        {"item": "Prepare stuff", "selected": True},
                    ]
                },
            )
        ],
    ),
    # LLAMA_CPP lines 3102-3119: quotes and line breaks inside values.
    (
        "llama.cpp-code-values",
        "<seed:tool_call>\n<function=edit>\n<parameter=filename>\nfoo.cpp\n</parameter>\n"
        '<parameter=oldString>def foo(arg = "14"):\n    return arg + "bar"\n\n</parameter>\n'
        '<parameter=newString>def foo(arg = "15"):\n    pass\n\n</parameter>\n</function>\n'
        "</seed:tool_call>",
        None,
        [
            (
                "edit",
                {
                    "filename": "foo.cpp",
                    "oldString": 'def foo(arg = "14"):\n    return arg + "bar"\n',
                    "newString": 'def foo(arg = "15"):\n    pass\n',
                },
            )
        ],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "text-first",
        "Let me check.\n" + BARCELONA_CALL,
        "Let me check.",
        [BARCELONA],
    ),
    (
        "closing-tag-cut-off",
        "<seed:tool_call>\n<function=get_weather>\n<parameter=location>Barcelona, Spain</parameter>\n"
        "</function>",
        None,
        [BARCELONA],
    ),
    ("end-token", BARCELONA_CALL + "<seed:eos>", None, [BARCELONA]),
    (
        "text-then-a-function-block-without-its-wrapper",
        "Let me check.\n<function=get_weather>\n<parameter=location>Barcelona, Spain</parameter>\n"
        "</function>",
        "Let me check.",
        [BARCELONA],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-prose", "This is a test response without any tool calls"),
    # LLAMA_CPP line 3048.
    ("llama.cpp-answer", "Hello, world!\nWhat's up?"),
]

BROKEN: list[tuple[str, str]] = [
    (
        "cut-off-inside-a-value",
        "<seed:tool_call>\n<function=get_weather>\n<parameter=location>Barce",
    ),
    ("cut-off-after-the-opener", "<seed:tool_call>\n"),
    ("json-inside", '<seed:tool_call>{"name": "get_weather", "arguments": {}}</seed:tool_call>'),
]

REASONING: list[ReasoningCase] = [
    # VLLM "tool_call_0_thinking_budget" (vLLM leaves the thought in the content).
    (
        "vllm-budget-0",
        "<seed:think>\n</seed:cot_budget_reflect>\n</seed:cot_budget_reflect>\nThe current thinking "
        "budget is 0, so I will directly start answering the question.\n</seed:think>\n"
        + BARCELONA_CALL,
        "</seed:cot_budget_reflect>\n</seed:cot_budget_reflect>\nThe current thinking budget is 0, "
        "so I will directly start answering the question.",
        None,
        [BARCELONA],
    ),
    # VLLM "tool_call_unlimited_thinking_budget": the thought spells out a call itself.
    (
        "vllm-thought-quotes-a-call",
        "<seed:think>\nThe format is <seed:tool_call>\n<function=get_weather>\n<parameter=location>"
        "Barcelona, Spain</parameter>\n<parameter=unit>celsius</parameter>\n</function>\n"
        "</seed:tool_call>. Let me go with that.</seed:think><seed:tool_call>\n<function=get_weather>\n"
        "<parameter=location>Barcelona, Spain</parameter>\n<parameter=unit>celsius</parameter>\n"
        "</function>\n</seed:tool_call>",
        "The format is <seed:tool_call>\n<function=get_weather>\n<parameter=location>Barcelona, "
        "Spain</parameter>\n<parameter=unit>celsius</parameter>\n</function>\n</seed:tool_call>. "
        "Let me go with that.",
        None,
        [("get_weather", {"location": "Barcelona, Spain", "unit": "celsius"})],
    ),
    # LLAMA_CPP lines 3050-3053.
    (
        "llama.cpp-thought-then-answer",
        "<seed:think>I'm thinking about the answer</seed:think>\nHello, world!",
        "I'm thinking about the answer",
        "Hello, world!",
        [],
    ),
]


@pytest.mark.parametrize("variant", variants())
def test_renders_what_the_chat_template_renders(variant: str) -> None:
    # Where fcproxy differs on purpose (not in these goldens: their values are strings
    # and integers): past object and list values are written as JSON, which the parser
    # reads back; the template writes Python's str() of them ({'a': 1}).
    assert rendering(NAME, variant) == golden_text(NAME, variant)


def test_detection_tells_it_from_qwen3_coder() -> None:
    assert detect_format(SPECIAL_CALL) == NAME


def test_registered() -> None:
    assert_registered(NAME, SeedOssWrapper, ("seed-oss-36b",))


def test_read_without_parse_a_quoted_call_in_a_thought_is_still_not_a_call() -> None:
    # The auto wrapper calls extract_calls() directly, without parse()'s reasoning split.
    quoted = f"<seed:think>The format is {SPECIAL_CALL}.</seed:think>"
    found = SeedOssWrapper().extract_calls(quoted + "\n" + BARCELONA_CALL)
    assert (found.content, [call.name for call in found.calls]) == (quoted + "\n", ["get_weather"])
    assert SeedOssWrapper().extract_calls(f"<seed:think>{SPECIAL_CALL}").calls == []
