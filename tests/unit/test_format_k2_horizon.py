"""``k2-horizon``: K2 Horizon (IFM), GLM-style key / value calls in ``<ifm|tool_calls>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

import json

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.k2_horizon import K2HorizonWrapper, calls_block
from wrappers.template_detection import wrapper_for_template

NAME = "k2-horizon"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/0d2bafa9f1680325f0734530342c1385a55626c6/tests/tool_parsers/test_k2_horizon_tool_parser.py"
SGLANG = "https://github.com/sgl-project/sglang/blob/acc109af699c27103c4c0e188375d5e92de056bc/test/registered/function_call/test_k2v3_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "lookup",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "limit": {"type": "integer"},
                "enabled": {"type": "boolean"},
            },
        },
    },
    {"name": "ping", "parameters": {"type": "object", "properties": {}}},
    {"name": "study_args", "parameters": {"type": "object", "properties": {}}},
    {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
]


def _group(*calls: str, prefix: str = "", suffix: str = "") -> str:
    # VLLM's _group: one group, the calls on their own lines.
    return prefix + "<ifm|tool_calls>" + "\n".join(calls) + "</ifm|tool_calls>" + suffix


def _json_call(name: str, arguments: dict[str, object]) -> str:
    return f"<ifm|tool_call>{json.dumps({'name': name, 'arguments': arguments})}</ifm|tool_call>"


def _xml_call(name: str, arguments: list[tuple[str, str]], *, typed: bool = False) -> str:
    # VLLM's _xml_call; typed: the xml_typed form (limit an integer, the rest strings).
    parts = [f"<ifm|tool_call>{name}"]
    for key, value in arguments:
        parts.append(f"<ifm|arg_key>{key}</ifm|arg_key>")
        if typed:
            kind = "integer" if key == "limit" else "string"
            parts.append(f"<ifm|arg_type>{kind}</ifm|arg_type>")
        parts.append(f"<ifm|arg_value>{value}</ifm|arg_value>")
    parts.append("</ifm|tool_call>")
    return "".join(parts)


TOKYO: Call = ("get_weather", {"city": "Tokyo"})

REAL_OUTPUTS: list[Case] = [
    # VLLM test_xml_default_parses_multiple_calls_and_coerces_schema.
    (
        "vllm-xml-parallel",
        _group(
            _xml_call("lookup", [("query", "123"), ("limit", "3")]),
            _xml_call("ping", []),
            prefix="Before ",
            suffix=" after.",
        ),
        "Before  after.",
        [("lookup", {"query": "123", "limit": 3}), ("ping", {})],
    ),
    # VLLM test_request_level_format_overrides "json": a string typed by the schema.
    ("vllm-json", _group(_json_call("lookup", {"limit": "2"})), None, [("lookup", {"limit": 2})]),
    # VLLM test_request_level_format_overrides "xml_typed".
    (
        "vllm-xml-typed",
        _group(_xml_call("lookup", [("query", "weather"), ("limit", "2")], typed=True)),
        None,
        [("lookup", {"query": "weather", "limit": 2})],
    ),
    # VLLM test_auto_required_and_named_use_ifm_parser.
    (
        "vllm-json-boolean",
        _group(_json_call("lookup", {"enabled": "true"})),
        None,
        [("lookup", {"enabled": True})],
    ),
    # VLLM test_character_split_streaming (xml).
    (
        "vllm-text-around",
        _group(_xml_call("lookup", [("limit", "2")]), prefix="Before", suffix="after"),
        "Beforeafter",
        [("lookup", {"limit": 2})],
    ),
    # VLLM test_whitespace_only_surrounding_content_is_not_preserved.
    (
        "vllm-whitespace-around",
        _group(_xml_call("ping", []), prefix=" \n", suffix="\t "),
        None,
        [("ping", {})],
    ),
    # SGLANG test_single_call: no group.
    ("sglang-no-group", _xml_call("get_weather", [("city", "Tokyo")]), None, [TOKYO]),
    # SGLANG test_arg_type_string_keeps_numeric_as_string (no schema type: the text stays).
    (
        "sglang-typed-string",
        "<ifm|tool_call>study_args<ifm|arg_key>user_id</ifm|arg_key>"
        "<ifm|arg_type>string</ifm|arg_type><ifm|arg_value>12345</ifm|arg_value></ifm|tool_call>",
        None,
        [("study_args", {"user_id": "12345"})],
    ),
    # SGLANG test_json_arguments_as_string: double-encoded arguments.
    (
        "sglang-json-arguments-as-a-string",
        '<ifm|tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Tokyo\\"}"}'
        "</ifm|tool_call>",
        None,
        [TOKYO],
    ),
    # SGLANG test_json_list_of_tool_calls: a list in one call tag.
    (
        "sglang-json-list",
        '<ifm|tool_call>[{"name": "get_weather", "arguments": {"city": "Tokyo"}},'
        ' {"name": "get_weather", "arguments": {"city": "Osaka"}}]</ifm|tool_call>',
        None,
        [TOKYO, ("get_weather", {"city": "Osaka"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "the-group-never-closed",
        "<ifm|tool_calls>" + _xml_call("get_weather", [("city", "Tokyo")]),
        None,
        [TOKYO],
    ),
    ("end-of-turn-token", calls_block([TOKYO]) + "<|ifm|im_end|>", None, [TOKYO]),
    (
        "json-with-a-trailing-comma",
        _group('<ifm|tool_call>{"name": "lookup", "arguments": {"limit": 2,}}</ifm|tool_call>'),
        None,
        [("lookup", {"limit": 2})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("plain", "The capital of France is Paris."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_malformed_and_incomplete_input_is_content (vLLM: content; fcproxy retries).
    ("vllm-cut-off", "<ifm|tool_calls><ifm|tool_call>ping"),
    ("vllm-junk-in-the-group", _group("junk")),
]

REASONING: list[ReasoningCase] = [
    # The prompt opened <ifm|think>: the output starts inside it.
    (
        "the-prompt-opened-the-block",
        "The user wants Tokyo.</ifm|think>" + calls_block([TOKYO]),
        "The user wants Tokyo.",
        None,
        [TOKYO],
    ),
    # SGLANG test_ifm_reasoning_prefix_is_stripped.
    (
        "sglang-reasoning-then-the-group",
        "<ifm|think>need lookup</ifm|think>\n<ifm|tool_calls>\n"
        + _xml_call("get_weather", [("city", "Tokyo")])
        + "\n</ifm|tool_calls>",
        "need lookup",
        None,
        [TOKYO],
    ),
    # SGLANG test_all_three_effort_blocks_are_stripped.
    *[
        (
            f"sglang-{think}",
            f"<ifm|{think}>reasoning</ifm|{think}>" + _xml_call("get_weather", [("city", "Tokyo")]),
            "reasoning",
            None,
            [TOKYO],
        )
        for think in ("think_fast", "think_faster")
    ],
    (
        "a-call-in-the-thought-is-not-a-call",
        "maybe " + _xml_call("get_weather", [("city", "Oslo")]) + "</ifm|think>It is sunny.",
        "maybe " + _xml_call("get_weather", [("city", "Oslo")]),
        "It is sunny.",
        [],
    ),
]


def test_renders_ifm_turns_with_the_tools_and_an_open_think_block() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Tokyo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "content": "sunny"},
    ]
    text = K2HorizonWrapper().render(messages, FUNCTIONS[2:]).text
    assert text.startswith("<|ifm|begin_of_text|><|ifm|im_start|>system\n# Tools\n")
    assert "<ifm|tools>\n[{" in text and "\n\nBe brief.<|ifm|im_end|>" in text
    block = calls_block([TOKYO])
    assert block == (
        "<ifm|tool_calls>\n<ifm|tool_call>get_weather\n<ifm|arg_key>city</ifm|arg_key>\n"
        "<ifm|arg_value>Tokyo</ifm|arg_value>\n</ifm|tool_call>\n</ifm|tool_calls>"
    )
    assert text.endswith(
        "<|ifm|im_start|>user\nWeather in Tokyo?<|ifm|im_end|>"
        f"<|ifm|im_start|>assistant\n<ifm|think>\n</ifm|think>\n{block}<|ifm|im_end|>"
        "<|ifm|im_start|>tool\nsunny<|ifm|im_end|><|ifm|im_start|>assistant\n<ifm|think>\n"
    )
    # What the prompt shows reads back as the call.
    assert [c.name for c in K2HorizonWrapper().parse(block, FUNCTIONS).tool_calls] == [
        "get_weather"
    ]


def test_the_grammar_is_one_group_after_the_opened_think_block() -> None:
    wrapper = K2HorizonWrapper()
    text = wrapper.call_grammar(FUNCTIONS[2:], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(calls_block([TOKYO, ("get_weather", {"city": "Osaka"})]))
    assert not grammar.matches(_xml_call("get_weather", [("city", "Tokyo")]))  # no group


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert detect_format(_xml_call("ping", [])) == NAME
    assert wrapper_for_template("{{- '<ifm|tool_calls>' }}<ifm|arg_key>") == NAME


def test_registered() -> None:
    assert_registered(NAME, K2HorizonWrapper, ("k2_horizon", "ifm"))
