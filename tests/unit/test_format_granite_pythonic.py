"""``granite-pythonic``: IBM Granite's bare Python calls, one per line (vLLM's ``granite_pythonic``).

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import Case, assert_registered, rendering
from wrappers.base import FunctionSchema
from wrappers.conversation import CallRecord
from wrappers.detection import detect_format
from wrappers.granite import GraniteWrapper
from wrappers.granite_pythonic import GranitePythonicWrapper

NAME = "granite-pythonic"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/0054014259d3518f6c91ba52121f4bfef759b380/tests/tool_parsers/test_granite_pythonic_tool_parser.py"


def function(function_name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": function_name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", location="string", unit="string"),
    function("search_web", query="string"),
    function("list_files"),
    function("set_alarm", hour="integer", days="array", loud="boolean"),
]

PARIS: Call = ("get_weather", {"location": "Paris"})

REAL_OUTPUTS: list[Case] = [
    # VLLM test_single_call.
    (
        "vllm-single",
        'get_weather(location="San Francisco", unit="celsius")',
        None,
        [("get_weather", {"location": "San Francisco", "unit": "celsius"})],
    ),
    # VLLM test_multiple_calls.
    (
        "vllm-parallel",
        'get_weather(location="Paris")\nsearch_web(query="vLLM release notes")',
        None,
        [PARIS, ("search_web", {"query": "vLLM release notes"})],
    ),
    # VLLM test_no_args_call.
    ("vllm-no-arguments", "list_files()", None, [("list_files", {})]),
    # VLLM test_mixed_content_and_call.
    (
        "vllm-text-first",
        'Sure, let me check the weather.\nget_weather(location="London")',
        "Sure, let me check the weather.",
        [("get_weather", {"location": "London"})],
    ),
    # VLLM test_streaming_single_call: a trailing newline.
    (
        "vllm-trailing-newline",
        'get_weather(location="Berlin")\n',
        None,
        [("get_weather", {"location": "Berlin"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "python-literals",
        "set_alarm(hour=7, days=['mon', 'tue'], loud=True)",
        None,
        [("set_alarm", {"hour": 7, "days": ["mon", "tue"], "loud": True})],
    ),
    (
        "granite-s-own-list",
        '<|tool_call|>[{"arguments": {"location": "Paris"}, "name": "get_weather"}]',
        None,
        [PARIS],
    ),
    (
        "a-code-line-that-is-not-a-literal-call-stays-content",
        'Use print(x) to see it.\nprint(x)\nget_weather(location="Paris")',
        "Use print(x) to see it.\nprint(x)",
        [PARIS],
    ),
    ("end-of-text-token", 'get_weather(location="Paris")<|end_of_text|>', None, [PARIS]),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_plain_text_passthrough.
    ("vllm-plain", "I don't need to call any tools to answer this."),
    # VLLM test_streaming_plain_text.
    ("vllm-plain-newline", "Hello, how can I help you today?\n"),
]

BROKEN: list[tuple[str, str]] = [
    ("granite-s-list-cut-off", '<|tool_call|>[{"arguments": {"location": "Par'),
]


def test_renders_granite_s_prompt_with_past_calls_as_lines() -> None:
    # Granite's prompt (vLLM serves this parser with Granite's template; granite's
    # golden is that template rendered), past calls as the model writes them.
    calls = [
        CallRecord("get_weather", {"city": "Paris", "unit": "celsius"}),
        CallRecord("get_forecast", {"city": "Tokyo", "days": 3}),
    ]
    lines = 'get_weather(city="Paris", unit="celsius")\nget_forecast(city="Tokyo", days=3)'
    assert GranitePythonicWrapper().past_calls(calls) == lines
    granite = rendering("granite")
    assert GraniteWrapper().past_calls(calls) in granite
    assert rendering(NAME) == granite.replace(GraniteWrapper().past_calls(calls), lines)


def test_the_grammar_is_call_lines() -> None:
    text = GranitePythonicWrapper().call_grammar(FUNCTIONS[:2], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches('get_weather(location="Paris", unit="celsius")\nsearch_web(query="x")')
    assert not grammar.matches('[get_weather(location="Paris")]')


def test_auto_takes_an_answer_of_call_lines_only() -> None:
    assert detect_format(REAL_OUTPUTS[1][1]) == NAME
    assert detect_format(REAL_OUTPUTS[3][1]) is None  # prose first: no marker to go by


def test_registered() -> None:
    assert_registered(NAME, GranitePythonicWrapper, ("granite_pythonic",))
