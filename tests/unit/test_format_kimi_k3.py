"""``kimi-k3``: Kimi K3's XTML, ``<|open|>tools<|sep|><|open|>call tool="f" index="1"<|sep|>...``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.kimi_k3 import KimiK3Wrapper
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "kimi-k3"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM_PARSER = "https://github.com/vllm-project/vllm/blob/2d9567486f72b8eb97c3401f1653f3cc855f0853/vllm/tool_parsers/kimi_k3_tool_parser.py"
VLLM_TEST = "https://github.com/vllm-project/vllm/blob/b635426178304eb2cfc58d9ef606778f5a58cb20/tests/tool_parsers/test_kimi_k3_tool_parser.py"
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/181a4a8fb1af6142a7bf611dddd36fe34a3de3fe/models/templates/Kimi-K3.jinja"


def function(name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("python", code="string", opts="object"),
    function("get_weather", city="string", days="integer"),
    function("weather&alerts", city="string"),
]

OP, CL, SEP = "<|open|>", "<|close|>", "<|sep|>"
END = f"{CL}message{SEP}"


def arg(key: str, kind: str, value: str) -> str:
    return f'{OP}argument key="{key}" type="{kind}"{SEP}{value}{CL}argument{SEP}'


def call(name: str, index: int, *args: str) -> str:
    return f'{OP}call tool="{name}" index="{index}"{SEP}' + "".join(args) + f"{CL}call{SEP}"


def tools(*calls: str) -> str:
    return f"{OP}tools{SEP}" + "".join(calls) + f"{CL}tools{SEP}"


PARIS = call("get_weather", 1, arg("city", "string", "Paris"), arg("days", "number", "2"))
PARIS_CALL: Call = ("get_weather", {"city": "Paris", "days": 2})

REAL_OUTPUTS: list[Case] = [
    # VLLM_PARSER's docstring: a string argument as it is, an object as JSON.
    (
        "vllm-docstring",
        tools(
            call("python", 1, arg("code", "string", "print(1)"), arg("opts", "object", '{"a":1}'))
        ),
        None,
        [("python", {"code": "print(1)", "opts": {"a": 1}})],
    ),
    # The answer the template writes for a past turn with content and a call (TEMPLATE);
    # the prompt opened the response channel, so it starts with the content.
    (
        "template-content-then-call",
        f"Let me check.{CL}response{SEP}" + tools(PARIS) + END,
        "Let me check.",
        [PARIS_CALL],
    ),
    (
        "template-parallel",
        tools(PARIS, call("get_weather", 2, arg("city", "string", "Oslo"))) + END,
        None,
        [PARIS_CALL, ("get_weather", {"city": "Oslo"})],
    ),
    # An escaped attribute (TEMPLATE's escape_attr) and a raw string value kept as written.
    (
        "template-escaped-tool-name",
        tools(call("weather&amp;alerts", 1, arg("city", "string", " New York "))),
        None,
        [("weather&alerts", {"city": " New York "})],
    ),
    # TEMPLATE: arguments given as a JSON string are written as one json block.
    (
        "template-json-block",
        tools(
            f'{OP}call tool="get_weather" index="1"{SEP}{OP}json type="object"{SEP}'
            f'{{"city": "Paris", "days": 2}}{CL}json{SEP}{CL}call{SEP}'
        ),
        None,
        [PARIS_CALL],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # Both channels written out although the prompt opened the response channel.
    (
        "response-channel-written-out",
        f"{OP}response{SEP}On it.{CL}response{SEP}" + tools(PARIS) + END + "<|end_of_msg|>",
        "On it.",
        [PARIS_CALL],
    ),
    ("tools-channel-dropped", PARIS, None, [PARIS_CALL]),
    (
        "broken-json-block-mended",
        tools(
            f'{OP}call tool="get_weather" index="1"{SEP}{OP}json type="object"{SEP}'
            f"{{'city': 'Paris', 'days': 2,}}{CL}json{SEP}{CL}call{SEP}"
        ),
        None,
        [PARIS_CALL],
    ),
    (
        "integer-typed-as-a-string-is-typed-by-the-schema",
        tools(call("get_weather", 1, arg("days", "string", "3"))),
        None,
        [("get_weather", {"days": 3})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("plain", "Paris is sunny today."),
    ("xml-in-prose", "Use <b>bold</b> or <|open|> as text."),
]

BROKEN: list[tuple[str, str]] = [
    (
        "cut-off-in-a-call",
        f"{OP}tools{SEP}"
        + f'{OP}call tool="get_weather" index="1"{SEP}'
        + arg("city", "string", "Par"),
    ),
    ("tools-channel-without-a-call", f"{OP}tools{SEP}"),
    ("call-without-a-name", tools(f'{OP}call index="1"{SEP}{CL}call{SEP}')),
]

REASONING: list[ReasoningCase] = [
    # VLLM_TEST: a turn ending in the message-close marker.
    (
        "vllm-message-close",
        f"{OP}think{SEP}The user said hello.{CL}think{SEP}{OP}response{SEP}Hello{END}",
        "The user said hello.",
        "Hello",
        [],
    ),
    # A prompt that opened the think channel (the template's default): the answer starts in it.
    (
        "prompt-opened-think",
        f"check first{CL}think{SEP}{OP}response{SEP}On it.{CL}response{SEP}" + tools(PARIS) + END,
        "check first",
        "On it.",
        [PARIS_CALL],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"{OP}think{SEP}maybe " + tools(PARIS) + f"{CL}think{SEP}It is sunny.",
        "maybe " + tools(PARIS),
        "It is sunny.",
        [],
    ),
]

WEATHER: list[FunctionSchema] = [function("get_weather", city="string", days="integer")]
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns(
        [("get_weather", {"city": "Paris", "days": 2})],
        ["sunny"],
        ids=["call_1"],
        named_results=True,
    ),
]
# Rendered by hand from TEMPLATE with thinking=false (transformers' Jinja settings).
GOLDEN = (
    f'{OP}message role="system" type="tool-declare"{SEP}# Tools\n'
    "Here are the available tools, described in JSONSchema.\n\n```json\n"
    '[{"function":{"name":"get_weather","parameters":{"properties":{"city":{"type":"string"},'
    '"days":{"type":"integer"}},"type":"object"}},"type":"function"}]\n```'
    f"{END}<|end_of_msg|>"
    f'{OP}message role="system"{SEP}Be brief.{END}<|end_of_msg|>'
    f'{OP}message role="user"{SEP}Weather in Paris?{END}<|end_of_msg|>'
    f'{OP}message role="assistant"{SEP}{OP}response{SEP}{CL}response{SEP}'
    + tools(PARIS)
    + END
    + "<|end_of_msg|>"
    f'{OP}message role="tool" tool="get_weather" index="1"{SEP}sunny{END}<|end_of_msg|>'
    f'{OP}message role="assistant"{SEP}{OP}response{SEP}'
)


def test_renders_the_chat_template_layout() -> None:
    assert get_wrapper(NAME).render(MESSAGES, WEATHER).text == GOLDEN


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[1][1]) == NAME
    assert detect_format(PARIS) == NAME  # a call without its tools channel
    template = "{{- '<|open|>' + tag -}}{{- '<|sep|>' -}}{{- '<|close|>' + tag + '<|sep|>' -}}"
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, KimiK3Wrapper, ("kimi-k3-xtml",))
