"""``hunyuan-v4``: Tencent HY v4, HY v3's calls flush, without ``<tool_sep>``, tokens suffixed.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""
# ruff: noqa: RUF001  (Hunyuan's tokens use full-width bars)

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.hunyuan_v4 import HunyuanV4Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "hunyuan-v4"

# Source of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/212dfd8bfd6c0fe5c87898aeee89efe7df4ec509/tests/tool_parsers/test_hy_v4_tool_parser.py"

# VLLM's SUFFIX, TOOLS and TYPED_TOOL.
SUFFIX = ":opensource"
FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
    {"name": "get_current_date", "parameters": {"type": "object", "properties": {}}},
    {
        "name": "typed",
        "parameters": {
            "type": "object",
            "properties": {
                "s": {"type": "string"},
                "i": {"type": "integer"},
                "b": {"type": "boolean"},
                "n": {"type": "number"},
                "arr": {"type": "array"},
                "obj": {"type": "object"},
                "alias_int": {"type": "int"},
                "alias_list": {"type": "list"},
                "prefix_uint": {"type": "uint32"},
                "one_of": {"oneOf": [{"type": "number"}]},
                "untyped": {},
            },
        },
    },
]


def arg(key: str, value: str, suffix: str = SUFFIX) -> str:
    """VLLM's ``arg``."""
    return f"<arg_key{suffix}>{key}</arg_key{suffix}><arg_value{suffix}>{value}</arg_value{suffix}>"


def call(name: str, args: str = "", suffix: str = SUFFIX) -> str:
    return f"<tool_call{suffix}>{name}{args}</tool_call{suffix}>"


def block(body: str, suffix: str = SUFFIX) -> str:
    return f"<tool_calls{suffix}>{body}</tool_calls{suffix}>"


BEIJING: Call = ("get_weather", {"city": "Beijing"})
TODAY: Call = ("get_current_date", {})

REAL_OUTPUTS: list[Case] = [
    # VLLM TestExtractToolCalls.
    (
        "vllm-values-typed-from-schema",
        "sure!" + block(call("get_weather", arg("city", "Beijing") + arg("days", "3"))),
        "sure!",
        [("get_weather", {"city": "Beijing", "days": 3})],
    ),
    ("vllm-zero-arg-call", block(call("get_current_date")), None, [TODAY]),
    (
        "vllm-multiple-calls-keep-their-order",
        block(call("get_weather", arg("city", "A")) + call("get_current_date")),
        None,
        [("get_weather", {"city": "A"}), TODAY],
    ),
    (
        "vllm-non-ascii",
        block(call("get_weather", arg("city", "北京"))),
        None,
        [("get_weather", {"city": "北京"})],
    ),
    # VLLM test_regex_metacharacters_in_suffix.
    (
        "vllm-metacharacters-in-suffix",
        block(call("get_current_date", suffix=":a+b(c"), suffix=":a+b(c"),
        None,
        [TODAY],
    ),
    # VLLM TestDetectTokenSuffix: a checkpoint without a suffix.
    (
        "vllm-unsuffixed",
        block(call("get_weather", arg("city", "Beijing", ""), ""), ""),
        None,
        [BEIJING],
    ),
    # VLLM test_structural_tokens_split_across_deltas' output.
    (
        "vllm-layout-inside-block",
        "hi" + block("\n  " + call("get_weather", arg("city", "Beijing"))),
        "hi",
        [BEIJING],
    ),
    # VLLM TestArgumentValueTypes.test_value_coercion (the rows fcproxy types the
    # same way; union types are tried in their declared order here).
    *[
        (
            f"vllm-typed-{key}-{i}",
            block(call("typed", arg(key, raw))),
            None,
            [("typed", {key: want})],
        )
        for i, (key, raw, want) in enumerate(
            [
                ("s", "Beijing", "Beijing"),
                ("s", "", ""),
                ("i", "3", 3),
                ("i", "-7", -7),
                ("b", "true", True),
                ("b", "True", True),
                ("b", "false", False),
                ("n", "5", 5),
                ("n", "5.5", 5.5),
                ("n", "1e3", 1000.0),
                ("arr", '["a", "b"]', ["a", "b"]),
                ("obj", '{"k": 1}', {"k": 1}),
                ("alias_int", "7", 7),
                ("alias_list", "[1]", [1]),
                ("prefix_uint", "42", 42),
                ("one_of", "2.5", 2.5),
                ("untyped", "v", "v"),
                # test_unparsable_value_is_kept_as_text, test_unknown_argument_is_kept_as_text.
                ("i", "notanint", "notanint"),
                ("b", "yes", "yes"),
                ("arr", "notjson", "notjson"),
                ("nope", "v", "v"),
            ]
        )
    ],
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM MALFORMED, which its lenient mode recovers: the block never closed; junk
    # after the arguments.
    (
        "vllm-missing-tool-calls-end",
        f"<tool_calls{SUFFIX}>" + call("get_current_date"),
        None,
        [TODAY],
    ),
    (
        "vllm-unparsed-argument-payload",
        block(
            f"<tool_call{SUFFIX}>get_weather" + arg("city", "X") + "JUNK" + f"</tool_call{SUFFIX}>"
        ),
        None,
        [("get_weather", {"city": "X"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call, test_content_only_stream_never_buffers.
    ("vllm-plain", "A plain response."),
    ("vllm-plain-stream", "Plain answer."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM MALFORMED that no reading pairs up: a call never closed, no name, a key
    # without its value.
    ("vllm-unbalanced-tool-call", block(f"<tool_call{SUFFIX}>get_weather" + arg("city", "X"))),
    ("vllm-empty-function-name", block(call(""))),
    (
        "vllm-unbalanced-arg-tags",
        block(
            f"<tool_call{SUFFIX}>get_weather<arg_key{SUFFIX}>city</arg_key{SUFFIX}>"
            f"</tool_call{SUFFIX}>"
        ),
    ),
]

REASONING: list[ReasoningCase] = [
    # The checkpoint's <think> token carries its suffix (vLLM's hy_v4 reasoning parser).
    (
        "suffixed-think-then-call",
        f"<think{SUFFIX}>Need the date.</think{SUFFIX}>" + block(call("get_current_date")),
        "Need the date.",
        None,
        [TODAY],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"<think{SUFFIX}>" + block(call("get_current_date")) + f"</think{SUFFIX}>Monday.",
        block(call("get_current_date")),
        "Monday.",
        [],
    ),
]


def test_renders_hy_turns_with_the_checkpoints_tokens() -> None:
    messages = [
        {"role": "user", "content": "Date?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "get_current_date", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "content": "Monday"},
    ]
    text = HunyuanV4Wrapper(token_suffix=SUFFIX).render(messages, FUNCTIONS[1:2]).text
    assert f"you should first print <tool_calls{SUFFIX}>\n" in text
    assert text.endswith(
        f"<｜hy_User｜>Date?<｜hy_Assistant｜><think{SUFFIX}></think{SUFFIX}>"
        + block(call("get_current_date"))
        + "<｜hy_eos｜><tool_responses>\n<tool_response>\nMonday\n</tool_response>\n"
        f"</tool_responses><｜hy_Assistant｜><think{SUFFIX}></think{SUFFIX}>"
    )


def test_the_grammar_writes_the_checkpoints_tokens_flush() -> None:
    text = HunyuanV4Wrapper(token_suffix=SUFFIX).call_grammar(FUNCTIONS[:2], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(block(call("get_weather", arg("city", "A") + arg("days", "2"))))
    assert not grammar.matches(block(call("get_weather", arg("days", "two"))))


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert detect_format(REAL_OUTPUTS[5][1]) == NAME  # unsuffixed, in its block
    assert wrapper_for_template("{{- '<tool_call:' ~ suffix ~ '>' }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, HunyuanV4Wrapper, ("hy4", "hy_v4"))
