"""``functiongemma``: FunctionGemma, ``<start_function_call>call:NAME{k:<escape>v<escape>}<end_function_call>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.functiongemma import FunctionGemmaWrapper
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "functiongemma"

# Source of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/26c3628ca8265f4f5007ed8e3e28ac66dd23c8ae/tests/tool_parsers/test_functiongemma_tool_parser.py"


def function(name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", location="string", unit="string"),
    function("get_time", timezone="string"),
    function("search", query="string", limit="integer", sort="string"),
    function("toggle", enabled="boolean", count="integer"),
]

REAL_OUTPUTS: list[Case] = [
    # VLLM TestExtractToolCalls.test_single_tool_call.
    (
        "vllm-single",
        "<start_function_call>call:get_weather{location:<escape>London<escape>}<end_function_call>",
        None,
        [("get_weather", {"location": "London"})],
    ),
    # VLLM test_multiple_arguments.
    (
        "vllm-two-arguments",
        "<start_function_call>call:get_weather{location:<escape>San Francisco<escape>,"
        "unit:<escape>celsius<escape>}<end_function_call>",
        None,
        [("get_weather", {"location": "San Francisco", "unit": "celsius"})],
    ),
    # VLLM test_text_before_tool_call.
    (
        "vllm-text-first",
        "Let me check the weather for you. "
        "<start_function_call>call:get_weather{location:<escape>Paris<escape>}<end_function_call>",
        "Let me check the weather for you.",
        [("get_weather", {"location": "Paris"})],
    ),
    # VLLM test_multiple_tool_calls (parallel).
    (
        "vllm-parallel",
        "<start_function_call>call:get_weather{location:<escape>London<escape>}<end_function_call>"
        "<start_function_call>call:get_time{timezone:<escape>UTC<escape>}<end_function_call>",
        None,
        [("get_weather", {"location": "London"}), ("get_time", {"timezone": "UTC"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM TestParseArguments / streaming: numbers and booleans quoted, typed by the schema.
    (
        "quoted-numbers-typed-by-the-schema",
        "<start_function_call>call:search{query:<escape>python<escape>,limit:<escape>10<escape>,"
        "sort:<escape>relevance<escape>}<end_function_call>",
        None,
        [("search", {"query": "python", "limit": 10, "sort": "relevance"})],
    ),
    (
        "quoted-boolean",
        "<start_function_call>call:toggle{enabled:<escape>true<escape>,count:<escape>42<escape>}"
        "<end_function_call>",
        None,
        [("toggle", {"enabled": True, "count": 42})],
    ),
    (
        "end-of-turn",
        "<start_function_call>call:get_time{timezone:<escape>UTC<escape>}<end_function_call>"
        "<end_of_turn>",
        None,
        [("get_time", {"timezone": "UTC"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_calls.
    ("vllm-prose", "Hello, how can I help you today?"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", "<start_function_call>call:get_weather{location:<escape>Lon"),
]

REASONING: list[ReasoningCase] = [
    (
        "think-block-set-aside",
        "<think>The user wants the time.</think>"
        "<start_function_call>call:get_time{timezone:<escape>UTC<escape>}<end_function_call>",
        "The user wants the time.",
        None,
        [("get_time", {"timezone": "UTC"})],
    ),
]

WEATHER: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]
MESSAGES = [
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns(
        [("get_weather", {"city": "Paris"})], ["sunny"], ids=["call_1"], named_results=True
    ),
]
GOLDEN = (
    "<bos><start_of_turn>developer\n"
    "You are a model that can do function calling with the following functions"
    "<start_function_declaration>declaration:get_weather{description:<escape>Get the weather"
    "<escape>,parameters:{properties:{city:{type:<escape>STRING<escape>}},"
    "required:[<escape>city<escape>],type:<escape>OBJECT<escape>}}<end_function_declaration>"
    "<end_of_turn>\n"
    "<start_of_turn>user\nWeather in Paris?<end_of_turn>\n"
    "<start_of_turn>model\n<start_function_call>call:get_weather{city:<escape>Paris<escape>}"
    "<end_function_call><start_function_response>response:get_weather{value:<escape>sunny"
    "<escape>}<end_function_response><end_of_turn>\n"
    "<start_of_turn>model\n"
)


def test_renders_gemma_turns_with_declarations_and_responses() -> None:
    assert get_wrapper(NAME).render(MESSAGES, WEATHER).text == GOLDEN


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{{- '<start_function_call>call:' + name }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, FunctionGemmaWrapper, ("function-gemma",))
