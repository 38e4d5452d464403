"""``gemma4``: Gemma 4, ``<|tool_call>call:NAME{key:<|"|>text<|"|>}<tool_call|>``.

The tables below are read through both paths, with the other formats', by
tests/unit/test_case_tables.py (what each table means) and
tests/unit/test_stream_contract.py (streamed = one-shot).
"""

from __future__ import annotations

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.gemma4 import Gemma4Wrapper
from wrappers.registry import get_wrapper

NAME = "gemma4"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/027004de3715411197be51ced325705abcf740a7/tests/tool_parsers/test_gemma4_tool_parser.py"
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/75f1ba7389067a9f90082515e124c377a1e104b2/models/templates/gemma4.jinja"


def function(name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", location="string", unit="string"),
    function("get_time", location="string"),
    function("complex_function", nested="object", list="array"),
    function("set_status", is_active="boolean", count="integer", score="number"),
    function("get-weather", location="string"),
    function("weather.get", location="string"),
    function("get_status"),
]

LONDON: Call = ("get_weather", {"location": "London"})

REAL_OUTPUTS: list[Case] = [
    # VLLM TestExtractToolCalls.test_single_tool_call.
    (
        "vllm-single",
        '<|tool_call>call:get_weather{location:<|"|>London<|"|>}<tool_call|>',
        None,
        [LONDON],
    ),
    # VLLM test_multiple_arguments.
    (
        "vllm-two-arguments",
        '<|tool_call>call:get_weather{location:<|"|>San Francisco<|"|>,unit:<|"|>celsius<|"|>}'
        "<tool_call|>",
        None,
        [("get_weather", {"location": "San Francisco", "unit": "celsius"})],
    ),
    # VLLM test_text_before_tool_call.
    (
        "vllm-text-first",
        'Let me check the weather for you. <|tool_call>call:get_weather{location:<|"|>Paris<|"|>}'
        "<tool_call|>",
        "Let me check the weather for you.",
        [("get_weather", {"location": "Paris"})],
    ),
    # VLLM test_multiple_tool_calls (parallel).
    (
        "vllm-parallel",
        '<|tool_call>call:get_weather{location:<|"|>London<|"|>}<tool_call|>'
        '<|tool_call>call:get_time{location:<|"|>London<|"|>}<tool_call|>',
        None,
        [LONDON, ("get_time", {"location": "London"})],
    ),
    # VLLM test_nested_arguments.
    (
        "vllm-nested",
        '<|tool_call>call:complex_function{nested:{inner:<|"|>value<|"|>},'
        'list:[<|"|>a<|"|>,<|"|>b<|"|>]}<tool_call|>',
        None,
        [("complex_function", {"nested": {"inner": "value"}, "list": ["a", "b"]})],
    ),
    # VLLM test_tool_call_with_number_and_boolean.
    (
        "vllm-number-and-boolean",
        "<|tool_call>call:set_status{is_active:true,count:42,score:3.14}<tool_call|>",
        None,
        [("set_status", {"is_active": True, "count": 42, "score": 3.14})],
    ),
    # VLLM test_hyphenated_function_name / test_dotted_function_name / test_no_arguments.
    (
        "vllm-hyphenated-name",
        '<|tool_call>call:get-weather{location:<|"|>London<|"|>}<tool_call|>',
        None,
        [("get-weather", {"location": "London"})],
    ),
    (
        "vllm-dotted-name",
        '<|tool_call>call:weather.get{location:<|"|>London<|"|>}<tool_call|>',
        None,
        [("weather.get", {"location": "London"})],
    ),
    ("vllm-no-arguments", "<|tool_call>call:get_status{}<tool_call|>", None, [("get_status", {})]),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM TestParseGemma4Args: a comma inside a string, quoted dict keys, null.
    (
        "comma-in-string-quoted-key-null",
        '<|tool_call>call:complex_function{nested:{<|"|>3<|"|>:<|"|>new, text<|"|>},list:[null]}'
        "<tool_call|>",
        None,
        [("complex_function", {"nested": {"3": "new, text"}, "list": [None]})],
    ),
    (
        "end-of-turn-token",
        '<|tool_call>call:get_weather{location:<|"|>London<|"|>}<tool_call|><turn|>',
        None,
        [LONDON],
    ),
    (
        "json-quotes-instead-of-the-quote-token",
        '<|tool_call>call:get_weather{location:"London"}<tool_call|>',
        None,
        [LONDON],
    ),
    (
        "end-marker-left-out",
        '<|tool_call>call:get_weather{location:<|"|>London<|"|>}',
        None,
        [LONDON],
    ),
    (
        "a-json-call-in-the-block",
        '<|tool_call>{"name": "get_weather", "arguments": {"location": "London"}}<tool_call|>',
        None,
        [LONDON],
    ),
    (
        "multiline-string",
        '<|tool_call>call:get_weather{location:<|"|>Line one\nline "two"<|"|>}<tool_call|>',
        None,
        [("get_weather", {"location": 'Line one\nline "two"'})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_calls.
    ("vllm-prose", "Hello, how can I help you today?"),
    ("quote-token-in-prose", 'The token <|"|> quotes strings.'),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_incomplete_tool_call (vLLM keeps it as text; fcproxy retries a cut-off call).
    ("vllm-incomplete", '<|tool_call>call:get_weather{location:<|"|>London'),
    ("no-call-prefix", "<|tool_call>get_weather<tool_call|>"),
]

REASONING: list[ReasoningCase] = [
    (
        "thought-channel",
        "<|channel>thought\nThe user wants the weather.<channel|>"
        '<|tool_call>call:get_weather{location:<|"|>London<|"|>}<tool_call|>',
        "The user wants the weather.",
        None,
        [LONDON],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        '<|channel>thought\nmaybe <|tool_call>call:get_time{location:<|"|>Oslo<|"|>}<tool_call|>'
        "<channel|>It is noon.",
        'maybe <|tool_call>call:get_time{location:<|"|>Oslo<|"|>}<tool_call|>',
        "It is noon.",
        [],
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
                "days": {"type": "integer"},
            },
            "required": ["city"],
        },
    }
]

# Rendered by hand from TEMPLATE (add_generation_prompt, thinking off): the system
# turn declares the tools, a result follows its call inside the model's turn.
GOLDEN = (
    "<bos><|turn>system\nYou are a helpful assistant."
    '<|tool>declaration:get_weather{description:<|"|>Get the weather<|"|>,parameters:{properties:{'
    'city:{description:<|"|>City name<|"|>,type:<|"|>STRING<|"|>},'
    'days:{type:<|"|>INTEGER<|"|>},'
    'unit:{enum:[<|"|>celsius<|"|>,<|"|>fahrenheit<|"|>],type:<|"|>STRING<|"|>}},'
    'required:[<|"|>city<|"|>],type:<|"|>OBJECT<|"|>}}<tool|><turn|>\n'
    "<|turn>user\nWeather in Paris for 2 days?<turn|>\n"
    '<|turn>model\n<|tool_call>call:get_weather{city:<|"|>Paris<|"|>,days:2}<tool_call|>'
    '<|tool_response>response:get_weather{value:<|"|>sunny<|"|>}<tool_response|>'
    "<|channel>thought\n<channel|>"
)
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Weather in Paris for 2 days?"},
    *call_turns(
        [("get_weather", {"days": 2, "city": "Paris"})],
        ["sunny"],
        ids=["call_1"],
        named_results=True,
    ),
]


def test_renders_the_chat_template_layout() -> None:
    assert get_wrapper(NAME).render(MESSAGES, WEATHER).text == GOLDEN


def test_renders_a_plain_conversation_with_the_generation_prompt() -> None:
    text = get_wrapper(NAME).render([{"role": "user", "content": "Hi"}], []).text
    assert text == "<bos><|turn>user\nHi<turn|>\n<|turn>model\n<|channel>thought\n<channel|>"


def test_detected_from_its_output() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME


def test_registered() -> None:
    assert_registered(NAME, Gemma4Wrapper, ("gemma-4",))


def test_the_jinja_wrapper_knows_it_by_its_template_markers() -> None:
    from wrappers.template_detection import wrapper_for_template

    # A line of TEMPLATE: how it writes a past call.
    assert wrapper_for_template("{{- '<|tool_call>call:' + function['name'] + '{' -}}") == NAME
