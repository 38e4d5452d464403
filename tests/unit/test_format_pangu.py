"""``pangu``: openPangu, a JSON list of calls between ``[unused11]`` and ``[unused12]``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

# ruff: noqa: RUF001  (openPangu's turns use a full-width colon)

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.pangu import PanguWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "pangu"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/3db36c33a8a7aab73f357250196d72f55dccf9ae/tests/tool_parsers/test_pangu_tool_parser.py"
VLLM_V2 = "https://github.com/vllm-project/vllm/blob/25d5396f165b510645e967b5483f8792d371bc35/tests/tool_parsers/test_openpanguv2_tool_parser.py"


def function(function_name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": function_name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", city="string", metric="string"),
    function(
        "register_user",
        name="string",
        age="integer",
        address="object",
        role="null",
        passed_test="boolean",
        aliases="array",
    ),
    function("complex_tool", level1="object"),
    function("search", query="string"),
    function("device_control_a"),
]

START, END = "<|tool_call_start|>", "<|tool_call_end|>"
SF: Call = ("get_weather", {"city": "San Francisco", "metric": "celsius"})
JOHN: Call = (
    "register_user",
    {
        "name": "John Doe",
        "age": 37,
        "address": {"city": "San Francisco", "state": "CA"},
        "role": None,
        "passed_test": True,
        "aliases": ["John", "Johnny"],
    },
)
JOHN_JSON = (
    '{"name": "register_user", "arguments": {"name": "John Doe", "age": 37, "address": '
    '{"city": "San Francisco", "state": "CA"}, "role": null, "passed_test": true, '
    '"aliases": ["John", "Johnny"]}}'
)
SF_JSON = '{"name": "get_weather", "arguments": {"city": "San Francisco", "metric": "celsius"}}'
BEIJING: Call = ("get_weather", {"city": "Beijing"})

REAL_OUTPUTS: list[Case] = [
    # VLLM "Single tool call, no content" (the markers of tokenizers that have them).
    ("vllm-single", f"{START}[{SF_JSON}]{END}", None, [SF]),
    # VLLM "Multiple tool calls".
    ("vllm-parallel", f"{START}[{SF_JSON}, {JOHN_JSON}]{END}", None, [SF, JOHN]),
    # VLLM "Content before tool call".
    (
        "vllm-text-first",
        f'I will call the tool now. {START}[{{"name": "get_weather", "arguments": '
        f'{{"city": "Boston"}}}}]{END}',
        "I will call the tool now.",
        [("get_weather", {"city": "Boston"})],
    ),
    # VLLM "Content after tool call" (vLLM drops it; fcproxy keeps it as content).
    (
        "vllm-text-after",
        f'{START}[{{"name": "get_weather", "arguments": {{"city": "Seattle"}}}}]{END}\nThank you!',
        "Thank you!",
        [("get_weather", {"city": "Seattle"})],
    ),
    # VLLM nested arguments.
    (
        "vllm-nested",
        f'{START}[{{"name": "complex_tool", "arguments": {{"level1": {{"level2": {{"level3": '
        f'{{"value": 123}}}}}}}}}}]{END}',
        None,
        [("complex_tool", {"level1": {"level2": {"level3": {"value": 123}}}})],
    ),
    # VLLM "Multiple tool calls", the first without arguments.
    (
        "vllm-parallel-no-arguments",
        f'{START}[{{"name": "get_weather", "arguments": {{}}}}, {JOHN_JSON}]{END}',
        None,
        [("get_weather", {}), JOHN],
    ),
    # VLLM streaming case: newlines inside the markers.
    (
        "vllm-newlines",
        f'some content\n{START}\n[{{"name": "device_control_a", "arguments": {{}}}}]\n{END}',
        "some content",
        [("device_control_a", {})],
    ),
    # VLLM_V2 test_extract_tool_calls_single_tool.
    (
        "vllm-v2-thought-first",
        f'Thought: I need to check weather.{START}[{{"name": "get_weather", "arguments": '
        f'{{"city": "Beijing"}}}}]{END}',
        "Thought: I need to check weather.",
        [BEIJING],
    ),
    # VLLM_V2 test_extract_tool_calls_multiple_tools.
    (
        "vllm-v2-parallel",
        f'Let me help you.{START}[{{"name": "get_weather", "arguments": {{"city": "Beijing"}}}}, '
        f'{{"name": "search", "arguments": {{"query": "weather forecast"}}}}]{END}',
        "Let me help you.",
        [BEIJING, ("search", {"query": "weather forecast"})],
    ),
    # openPangu-Embedded's own markers (vLLM's parser falls back on them).
    (
        "unused-tokens",
        '[unused11][{"name": "get_weather", "arguments": {"city": "Beijing"}}][unused12]',
        None,
        [BEIJING],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM_V2 test_extract_tool_calls_invalid_single_object: vLLM wants the list;
    # fcproxy reads the lone object.
    (
        "vllm-v2-object-without-the-list",
        f'Thought: I need to check weather.{START}{{"name": "get_weather", "arguments": '
        f'{{"city": "Beijing"}}}}{END}',
        "Thought: I need to check weather.",
        [BEIJING],
    ),
    (
        "parameters-for-arguments",
        '[unused11][{"name": "search", "parameters": {"query": "rain"}}][unused12]',
        None,
        [("search", {"query": "rain"})],
    ),
    (
        "end-of-turn-token",
        '[unused11][{"name": "get_weather", "arguments": {"city": "Beijing"}}][unused12][unused10]',
        None,
        [BEIJING],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM "No tool call".
    ("vllm-plain", "How can I help you today?"),
    # VLLM_V2 test_extract_tool_calls_no_tool_call.
    ("vllm-v2-plain", "Hello, I am an AI assistant."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM_V2 test_extract_tool_calls_json_parse_error (vLLM: content; fcproxy retries).
    ("vllm-v2-double-colon", f'{START}[{{"name":: "error"}}]{END}'),
]

REASONING: list[ReasoningCase] = [
    (
        "reasoning-between-unused16-and-unused17",
        "[unused16]The user wants Beijing.[unused17]"
        '[unused11][{"name": "get_weather", "arguments": {"city": "Beijing"}}][unused12]',
        "The user wants Beijing.",
        None,
        [BEIJING],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        '[unused16]maybe [unused11][{"name": "get_weather", "arguments": {}}][unused12]'
        "[unused17]It is sunny.",
        'maybe [unused11][{"name": "get_weather", "arguments": {}}][unused12]',
        "It is sunny.",
        [],
    ),
]


def test_renders_openpangu_turns_with_the_call_format() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Beijing?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Beijing"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "content": "sunny"},
    ]
    text = PanguWrapper().render(messages, FUNCTIONS[:1]).text
    assert text.startswith("[unused9]系统：Be brief.\n\n# Tools\n\n")
    past = '[unused11][{"name": "get_weather", "arguments": {"city": "Beijing"}}][unused12]'
    assert text.endswith(
        "[unused10][unused9]用户：Weather in Beijing?[unused10]"
        f"[unused9]助手：{past}[unused10][unused9]工具：sunny[unused10][unused9]助手："
    )
    # Without a system prompt the template still writes an empty system turn (model card).
    assert PanguWrapper().render([{"role": "user", "content": "Hi"}], []).text == (
        "[unused9]系统：[unused10][unused9]用户：Hi[unused10][unused9]助手："
    )


def test_the_grammar_is_one_list_between_the_unused_tokens() -> None:
    text = PanguWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(
        '[unused11][{"name": "get_weather", "arguments": {"city": "Beijing"}}][unused12]'
    )
    assert not grammar.matches('[{"name": "get_weather", "arguments": {"city": "Beijing"}}]')


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[-1][1]) == NAME
    assert wrapper_for_template("{{ '[unused9]助手：' }}[unused11]") == NAME


def test_registered() -> None:
    assert_registered(NAME, PanguWrapper, ("openpangu", "openpangu-embedded"))
