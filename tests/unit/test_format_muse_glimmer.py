"""``muse-glimmer``: Muse Glimmer, ``to=RECIPIENT<|message|>`` messages with ATEM ``<atem:invoke>`` calls.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.muse_glimmer import MuseGlimmerWrapper, channel_text, recipient_name
from wrappers.template_detection import wrapper_for_template

NAME = "muse-glimmer"

# Source of the real outputs below (its raw turns, as vLLM's parsers receive them).
VLLM = "https://github.com/vllm-project/vllm/blob/99a10304dce8945119bd0b1a072297803c52a749/tests/tool_use/test_muse_glimmer.py"


def function(name: str, **properties: object) -> FunctionSchema:
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


STRING, INTEGER = {"type": "string"}, {"type": "integer"}
FUNCTIONS: list[FunctionSchema] = [
    function("weather.get", city=STRING, units=STRING),
    function("math.add", a=INTEGER, b=INTEGER),
    function("math.mul", a=INTEGER, b=INTEGER),
    function("api.call", payload={"type": "object"}, flag={"type": "boolean"}),
    function("read.read", path=STRING),
    function("get_weather", city=STRING),
]


def call(name: str, *parameters: tuple[str, str]) -> str:
    body = "".join(f'<atem:parameter name="{k}">{v}</atem:parameter>\n' for k, v in parameters)
    return (
        f'<atem:function_calls>\n<atem:invoke name="{name}">\n{body}</atem:invoke>\n'
        "</atem:function_calls>"
    )


def to(recipient: str) -> str:
    return f"<|start|>assistant to={recipient}<|message|>"


PARIS: Call = ("get_weather", {"city": "Paris"})
READ = call("read.read", ("path", "/etc/hostname"))

REAL_OUTPUTS: list[Case] = [
    # VLLM test_single_tool_call_after_reasoning (vLLM's tool parser sees it whole).
    (
        "vllm-single-after-reasoning",
        "to=self<|message|>Let me check the weather.<|eom|>"
        + to("weather.get")
        + call("weather.get", ("city", "Paris"), ("units", "celsius"))
        + "<|eot|>",
        None,
        [("weather.get", {"city": "Paris", "units": "celsius"})],
    ),
    # VLLM test_parallel_calls_across_eom_boundaries.
    (
        "vllm-parallel-across-eom",
        to("math.add")
        + call("math.add", ("a", "1"), ("b", "2"))
        + "<|eom|>"
        + to("math.mul")
        + call("math.mul", ("a", "3"), ("b", "4"))
        + "<|eot|>",
        None,
        [("math.add", {"a": 1, "b": 2}), ("math.mul", {"a": 3, "b": 4})],
    ),
    # VLLM test_json_object_array_and_bool_params_decode.
    (
        "vllm-json-values",
        to("api.call")
        + call("api.call", ("payload", '{"nested": [1, 2, 3]}'), ("flag", "true"))
        + "<|eot|>",
        None,
        [("api.call", {"payload": {"nested": [1, 2, 3]}, "flag": True})],
    ),
    # VLLM RAW_TOOLCALL (the first header without "<|start|>assistant").
    (
        "vllm-raw-toolcall",
        " to=self<|message|>I should read the hostname file to answer.<|eom|>"
        + to("read.read")
        + READ,
        None,
        [("read.read", {"path": "/etc/hostname"})],
    ),
    # VLLM test_doubled_bare_name_collapses, test_trailing_segment_unambiguous,
    # test_exact_match_kept.
    (
        "vllm-doubled-bare-name",
        to("get_weather.get_weather") + call("get_weather.get_weather", ("city", "Paris")),
        None,
        [PARIS],
    ),
    (
        "vllm-trailing-segment",
        to("foo.get_weather") + call("foo.get_weather", ("city", "Paris")),
        None,
        [PARIS],
    ),
    ("vllm-exact-name", to("get_weather") + call("get_weather", ("city", "Paris")), None, [PARIS]),
]

MESSY_OUTPUTS: list[Case] = [
    # No framing at all (vLLM's parser scans the whole text then).
    ("without-framing", call("get_weather", ("city", "Paris")), None, [PARIS]),
    (
        "string-values-keep-their-spaces",
        to("read.read") + call("read.read", ("path", " a b ")),
        None,
        [("read.read", {"path": " a b "})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_plain_content_without_framing_passes_through.
    ("vllm-plain", "Just a direct answer."),
]

BROKEN: list[tuple[str, str]] = [
    ("invoke-cut-off", to("read.read") + '<atem:function_calls>\n<atem:invoke name="read.read">\n'),
]

REASONING: list[ReasoningCase] = [
    # VLLM test_echoed_invoke_in_reasoning_is_not_parsed.
    (
        "vllm-echoed-invoke-in-reasoning",
        'to=self<|message|>I could call <atem:invoke name="evil.fn">'
        '<atem:parameter name="x">1</atem:parameter></atem:invoke> '
        "but I will not.<|eom|>" + to("user") + "The answer is 42.<|eot|>",
        'I could call <atem:invoke name="evil.fn"><atem:parameter name="x">1</atem:parameter>'
        "</atem:invoke> but I will not.",
        "The answer is 42.",
        [],
    ),
    # VLLM test_plain_answer_yields_no_tool_calls, RAW_ANSWER.
    (
        "vllm-plain-answer",
        "to=user<|message|>Just a plain answer.<|eot|>",
        None,
        "Just a plain answer.",
        [],
    ),
    (
        "vllm-raw-answer",
        " to=self<|message|>Think about it.<|eom|>" + to("user") + "The answer is 42.<|eot|>",
        "Think about it.",
        "The answer is 42.",
        [],
    ),
    # VLLM test_reasoning_then_parallel_calls.
    (
        "vllm-reasoning-then-parallel",
        " to=self<|message|>need two calls<|eom|>"
        + to("math.add")
        + call("math.add", ("a", "1"))
        + "<|eom|>"
        + to("math.mul")
        + call("math.mul", ("a", "3"))
        + "<|eot|>",
        "need two calls",
        None,
        [("math.add", {"a": 1}), ("math.mul", {"a": 3})],
    ),
    # VLLM RAW_TRUNCATED: the reasoning never closed; the invoke in it is no call.
    (
        "vllm-truncated-reasoning",
        " to=self<|message|>Maybe I should call " + READ + " but wait",
        "Maybe I should call " + READ + " but wait",
        None,
        [],
    ),
]


def test_the_framing_becomes_reasoning_and_answer() -> None:
    assert channel_text(
        " to=self<|message|>a<|eom|><|start|>assistant to=user<|message|>b<|eot|>"
    ) == ("<think>a</think>b")


def test_a_name_binds_to_the_registered_tool_only_where_unambiguous() -> None:
    # VLLM test_trailing_segment_ambiguous_left_alone, test_no_registered_tools_passthrough.
    assert recipient_name("x.get", ["weather.get", "time.get"]) == "x.get"
    assert recipient_name("get_weather.get_weather", []) == "get_weather.get_weather"


MESSAGES = [
    {"role": "user", "content": "Weather?"},
    *call_turns([("weather.get", {"city": "Paris"})], ["sunny"]),
]


def test_renders_the_protocols_messages() -> None:
    text = MuseGlimmerWrapper().render(MESSAGES, FUNCTIONS[:2]).text
    assert text.startswith(
        "<|begin_of_text|><|start|>system<|message|>You are a helpful AI assistant.\n"
        "Knowledge cutoff: 2026-01-04.\n\nReasoning strength: high.\n\n"
        "In this environment you have access to a set of tools"
    )
    assert '// Tool metadata\n{"name": "weather", "description": ""}\n{"name": "math", ' in text
    assert text.endswith(
        '\n\n# Valid recipients: "self", "weather.*", "math.*", "user".<|eot|>'
        "<|start|>user<|message|>Weather?<|eot|>"
        + to("weather.get")
        + call("weather.get", ("city", "Paris"))
        + "<|eom|><|start|>tool weather.get<|message|>"
        '<tool_output name="weather.get">\nsunny\n</tool_output><|eot|><|start|>assistant'
    )


def test_the_grammar_writes_each_call_as_a_message() -> None:
    text = MuseGlimmerWrapper().call_grammar(FUNCTIONS[:2], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    first = " to=weather.get<|message|>" + call("weather.get", ("city", "Paris"))
    second = " to=math.add<|message|>" + call("math.add", ("a", "1"), ("b", "2"))
    assert grammar.matches(first + "<|eom|><|start|>assistant" + second)
    assert not grammar.matches(" to=math.add<|message|>" + call("math.add", ("a", "one")))


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{{- '<atem:function_calls>' }}{{- '<|message|>' }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, MuseGlimmerWrapper, ("muse_glimmer", "museglimmer"))
