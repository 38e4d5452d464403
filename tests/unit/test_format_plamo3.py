"""``plamo3``: PLaMo 3, ``<|plamo:begin_tool_requests:plamo|>`` requests with JSON arguments.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

import json

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.plamo3 import Plamo3Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "plamo3"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/952ecbf0902ba70f3f447d61446280f5febcc4b0/tests/tool_parsers/test_plamo3_tool_parser.py"
# Its tags (BEGIN_TOOL_ARGS_TAG, EOT_TAG, the think tags).
VLLM_TAGS = "https://github.com/vllm-project/vllm/blob/3febd5208df5efd59d643cfdbe0509a26984ccdb/vllm/reasoning/plamo3_reasoning_parser.py"
# An agent's PLaMo provider, whose tests quote the markup PLaMo's API leaves in the text.
OPENCLAW = "https://github.com/openclaw/openclaw/blob/ef5e477ec18a6403e53484801e54ff443293af57/extensions/plamo/index.test.ts"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": name,
        "parameters": {"type": "object", "properties": {k: {"type": t} for k, t in props}},
    }
    for name, props in (
        ("get_weather", [("city", "string")]),
        ("echo", [("text", "string")]),
        ("sum", [("a", "integer"), ("b", "integer")]),
        ("read", [("path", "string")]),
    )
]

REQUESTS, REQUESTS_END = "<|plamo:begin_tool_requests:plamo|>", "<|plamo:end_tool_requests:plamo|>"
EOT = "<|plamo:tag|>"
TOKYO: Call = ("get_weather", {"city": "Tokyo"})


def request(
    name: str, arguments: str, *, opener: str = "<|plamo:constrain|>json<|plamo:msg|>"
) -> str:
    # VLLM's _tool_call.
    return (
        "<|plamo:begin_tool_request:plamo|>"
        f"<|plamo:begin_tool_name:plamo|>{name}<|plamo:end_tool_name:plamo|>"
        f"<|plamo:begin_tool_arguments:plamo|>{opener}{arguments}"
        "<|plamo:end_tool_arguments:plamo|><|plamo:end_tool_request:plamo|>"
    )


def requests(*calls: str) -> str:
    # VLLM's _tool_requests.
    return f"{REQUESTS}{''.join(calls)}{REQUESTS_END}{EOT}"


REAL_OUTPUTS: list[Case] = [
    # VLLM test_extract_tool_calls: text, then one call.
    (
        "vllm-text-then-call",
        "Checking the weather." + requests(request("get_weather", '{"city": "Tokyo"}')),
        "Checking the weather.",
        [TOKYO],
    ),
    # VLLM test_extract_tool_calls: two requests in one block.
    (
        "vllm-parallel",
        requests(request("echo", '{"text": "hi"}'), request("sum", '{"a": 1, "b": 2}')),
        None,
        [("echo", {"text": "hi"}), ("sum", {"a": 1, "b": 2})],
    ),
    # VLLM test_streaming_content_then_tool_call.
    (
        "vllm-streamed",
        "Checking the weather."
        + REQUESTS
        + request("get_weather", '{"city": "Tokyo"}')
        + REQUESTS_END
        + EOT,
        "Checking the weather.",
        [TOKYO],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM test_extract_tool_calls_rejects_incomplete_request: a complete request without
    # the closing <|plamo:end_tool_requests:plamo|> (vLLM drops it; fcproxy keeps the call).
    (
        "vllm-closing-tag-dropped",
        "Before tools." + REQUESTS + request("sum", '{"a": 1}'),
        "Before tools.",
        [("sum", {"a": 1})],
    ),
    # OPENCLAW "normalizes inline PLaMo tool markup into tool calls": <|plamo:msg|> alone.
    (
        "msg-without-constrain",
        requests(request("read", '{"path":"README.md"}', opener="<|plamo:msg|>")),
        None,
        [("read", {"path": "README.md"})],
    ),
    ("outer-tags-dropped", request("get_weather", '{"city": "Tokyo"}'), None, [TOKYO]),
    (
        "trailing-comma",
        requests(request("get_weather", '{"city": "Tokyo",}')),
        None,
        [TOKYO],
    ),
    # Cut off after a complete call: it stands, the cut one keeps what was written.
    (
        "cut-off-after-a-call",
        REQUESTS
        + request("echo", '{"text": "hi"}')
        + "<|plamo:begin_tool_request:plamo|><|plamo:begin_tool_name:plamo|>sum"
        "<|plamo:end_tool_name:plamo|><|plamo:begin_tool_arguments:plamo|>"
        '<|plamo:constrain|>json<|plamo:msg|>{"a": 1, "b": 2',
        None,
        [("echo", {"text": "hi"}), ("sum", {"a": 1, "b": 2})],
    ),
    # VLLM test_extract_tool_calls: nothing after the turn's end is read.
    ("vllm-nothing-after-the-turn-end", f"Regular response{EOT}ignored", "Regular response", []),
    # VLLM test_extract_tool_calls_rejects_incomplete_request: arguments cut off where only
    # closers are missing are mended (vLLM drops the call).
    (
        "vllm-only-closers-missing",
        "Before tools."
        + REQUESTS
        + "<|plamo:begin_tool_request:plamo|><|plamo:begin_tool_name:plamo|>broken"
        "<|plamo:end_tool_name:plamo|><|plamo:begin_tool_arguments:plamo|>"
        '<|plamo:constrain|>json<|plamo:msg|>{"a": 1',
        "Before tools.",
        [("broken", {"a": 1})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls: plain answers.
    ("vllm-plain", "Regular response"),
    # VLLM "Answer<|plamo:begin_": an unfinished tag (vLLM drops it from the content).
    ("vllm-unfinished-tag", "Answer<|plamo:begin_"),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_rejects_incomplete_request: requests cut off (the last
    # one here after its key: where only closers are missing fcproxy mends it, above).
    *[
        (f"vllm-incomplete-{index}", "Before tools." + REQUESTS + incomplete)
        for index, incomplete in enumerate(
            [
                "",
                "<|plamo:begin_tool_request:plamo|>",
                "<|plamo:begin_tool_request:plamo|><|plamo:begin_tool_name:plamo|>broken",
                "<|plamo:begin_tool_request:plamo|><|plamo:begin_tool_name:plamo|>broken"
                "<|plamo:end_tool_name:plamo|>",
                "<|plamo:begin_tool_request:plamo|><|plamo:begin_tool_name:plamo|>broken"
                "<|plamo:end_tool_name:plamo|><|plamo:begin_tool_arguments:plamo|>"
                '<|plamo:constrain|>json<|plamo:msg|>{"a": ',
            ]
        )
    ],
]

REASONING: list[ReasoningCase] = [
    # VLLM_TAGS: reasoning in PLaMo's think tags, then a call.
    (
        "think-then-call",
        "<|plamo:begin_think:plamo|>deciding<|plamo:end_think:plamo|>"
        + requests(request("get_weather", '{"city": "Tokyo"}')),
        "deciding",
        None,
        [TOKYO],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        "<|plamo:begin_think:plamo|>maybe "
        + request("echo", '{"text": "hi"}')
        + "<|plamo:end_think:plamo|>No call needed.",
        "maybe " + request("echo", '{"text": "hi"}'),
        "No call needed.",
        [],
    ),
]


def test_renders_plamo_turns_with_the_call_format() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Tokyo?"},
        *call_turns([TOKYO], ["sunny"]),
    ]
    text = Plamo3Wrapper().render(messages, FUNCTIONS[:1]).text
    assert text.startswith("<|plamo:op|>system\nBe brief.\n\n# Tools\n\n")
    assert text.endswith(
        "<|plamo:op|>user\nWeather in Tokyo?<|plamo:tag|>\n<|plamo:op|>assistant\n"
        + REQUESTS
        + request("get_weather", json.dumps({"city": "Tokyo"}))
        + REQUESTS_END
        + "<|plamo:tag|>\n<|plamo:op|>tool\nsunny<|plamo:tag|>\n<|plamo:op|>assistant\n"
    )
    # What the prompt shows reads back as the call.
    shown = text.split("<|plamo:op|>assistant\n")[1].split(EOT)[0]
    assert Plamo3Wrapper().parse(shown, FUNCTIONS).tool_calls[0].name == "get_weather"


def test_the_grammar_is_one_requests_block() -> None:
    text = Plamo3Wrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    call = request("get_weather", '{"city": "Tokyo"}')
    assert grammar.matches(REQUESTS + call + call + REQUESTS_END)
    assert not grammar.matches(REQUESTS + REQUESTS_END)


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert detect_format(request("echo", "{}")) == NAME
    assert wrapper_for_template("{{- '<|plamo:begin_tool_name:plamo|>' + name }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, Plamo3Wrapper, ("plamo-3", "plamo"))
