"""``apertus``: Swiss AI Apertus, ``<|tools_prefix|>[{"name": {args}}]<|tools_suffix|>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.apertus import ApertusWrapper
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.template_detection import wrapper_for_template

NAME = "apertus"

# Sources of the real outputs below, and of the rendering.
VLLM = "https://github.com/vllm-project/vllm/blob/266c3ccc1d53a28e59a1ea6fc49ab9918d4fb693/tests/tool_parsers/test_apertus_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/0ef53991514932a70db242d4ff0085b462223def/examples/tool_chat_template_apertus.jinja"


def function(name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", location="string", unit="string"),
    function("get_time", location="string"),
    function("complex_function", nested="object", list="array"),
    function("f", a="integer"),
]

LONDON: Call = ("get_weather", {"location": "London"})

REAL_OUTPUTS: list[Case] = [
    # VLLM TestExtractToolCalls.test_single_tool_call.
    (
        "vllm-single",
        '<|tools_prefix|>[{"get_weather": {"location": "London"}}]<|tools_suffix|>',
        None,
        [LONDON],
    ),
    # VLLM test_multiple_arguments.
    (
        "vllm-two-arguments",
        '<|tools_prefix|>[{"get_weather": {"location": "San Francisco", "unit": "celsius"}}]'
        "<|tools_suffix|>",
        None,
        [("get_weather", {"location": "San Francisco", "unit": "celsius"})],
    ),
    # VLLM test_text_before_tool_call.
    (
        "vllm-text-first",
        "Let me check the weather for you. "
        '<|tools_prefix|>[{"get_weather": {"location": "Paris"}}]<|tools_suffix|>',
        "Let me check the weather for you.",
        [("get_weather", {"location": "Paris"})],
    ),
    # VLLM test_multiple_tool_calls (parallel).
    (
        "vllm-parallel",
        '<|tools_prefix|>[{"get_weather": {"location": "London"}}, '
        '{"get_time": {"location": "London"}}]<|tools_suffix|>',
        None,
        [LONDON, ("get_time", {"location": "London"})],
    ),
    # VLLM test_nested_arguments.
    (
        "vllm-nested",
        '<|tools_prefix|>[{"complex_function": {"nested": {"inner": "value"}, '
        '"list": ["a", "b"]}}]<|tools_suffix|>',
        None,
        [("complex_function", {"nested": {"inner": "value"}, "list": ["a", "b"]})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM test_incomplete_tool_call: the closers and the suffix are missing.
    (
        "vllm-missing-closers",
        '<|tools_prefix|>[{"get_weather": {"location": "London"}',
        None,
        [LONDON],
    ),
    # VLLM test_missing_tool_suffix.
    (
        "vllm-missing-suffix",
        '<|tools_prefix|>[{"get_weather": {"location": "San Francisco", "unit": "celsius"}}]',
        None,
        [("get_weather", {"location": "San Francisco", "unit": "celsius"})],
    ),
    # VLLM test_streaming_partial_tag_buffering: content, then the call.
    (
        "vllm-content-then-call",
        'Content<|tools_prefix|>[{"f": {"a": 1}}]<|tools_suffix|>',
        "Content",
        [("f", {"a": 1})],
    ),
    (
        "end-of-turn",
        '<|tools_prefix|>[{"f": {"a": 1}}]<|tools_suffix|><|assistant_end|>',
        None,
        [("f", {"a": 1})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_calls.
    ("vllm-prose", "Hello, how can I help you today?"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off-in-a-string", '<|tools_prefix|>[{"get_weather": {"location": "Lon'),
    ("not-a-call-object", '<|tools_prefix|>[{"get_weather": "London"}]<|tools_suffix|>'),
]

REASONING: list[ReasoningCase] = [
    (
        "think-block-set-aside",
        "<think>Check the time.</think>"
        '<|tools_prefix|>[{"get_time": {"location": "London"}}]<|tools_suffix|>',
        "Check the time.",
        None,
        [("get_time", {"location": "London"})],
    ),
]

WEATHER: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    }
]
MESSAGES = [
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns([("get_weather", {"city": "Paris"})], ['{"sunny": true}'], content="", ids=["c1"]),
]
# Rendered by hand from TEMPLATE (no system message: the default one, with its date).
GOLDEN = (
    "<s><|system_start|>You are Apertus, a helpful assistant created by the SwissAI initiative.\n"
    "Knowledge cutoff: 2024-04\nCurrent date: 2025-09-02<|system_end|>"
    "<|developer_start|>Deliberation: disabled\nTool Capabilities:\n"
    "// Get the weather\ntype get_weather = (_: {\n// City name\ncity: string,\n"
    'unit?: "celsius" | "fahrenheit"\n}) => any;<|developer_end|>'
    "<|user_start|>Weather in Paris?<|user_end|>"
    '<|assistant_start|><|tools_prefix|>[{"get_weather": {"city": "Paris"}}]<|tools_suffix|>'
    '[{"sunny": true}]<|assistant_start|>'
)


def test_renders_the_chat_template_layout() -> None:
    assert ApertusWrapper(date="2025-09-02").render(MESSAGES, WEATHER).text == GOLDEN


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{%- set tool_calls_token = '<|tools_prefix|>' -%}") == NAME


def test_registered() -> None:
    assert_registered(NAME, ApertusWrapper, ("apertus-8b",))
