"""``hunyuan-v3``: Tencent HY v3 (Hy3-preview), ``<tool_call>NAME<tool_sep>`` calls in ``<tool_calls>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""
# ruff: noqa: RUF001  (Hunyuan's tokens use full-width bars)

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.hunyuan_v3 import HunyuanV3Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "hunyuan-v3"

# Sources of the real outputs below (and TEMPLATE, of the rendering: a copy of
# tencent/Hy3-preview's chat_template.jinja).
VLLM = "https://github.com/vllm-project/vllm/blob/41c5903d049b80b83a6e570f52f0f55e31316e49/tests/tool_parsers/test_hy_v3_tool_parser.py"
TEMPLATE = "https://github.com/Fisher-Ju/Hy3-preview/blob/f06e5e76997fce4e674dff1f94d431e3b9cc2f75/chat_template.jinja"

FUNCTIONS: list[FunctionSchema] = [
    # VLLM mock_request's tools.
    {"name": "get_current_date", "parameters": {}},
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "date": {"type": "string"}},
        },
    },
    {"name": "count", "parameters": {"type": "object", "properties": {"n": {"type": "int"}}}},
]

DATE_INLINE = "<tool_calls><tool_call>get_current_date<tool_sep></tool_call></tool_calls>"
DATE = "<tool_calls>\n<tool_call>get_current_date<tool_sep>\n</tool_call>\n</tool_calls>"
BEIJING = (
    "<tool_call>get_weather<tool_sep>\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n"
    "<arg_key>date</arg_key>\n<arg_value>2026-03-30</arg_value>\n</tool_call>\n"
)
BEIJING_CALL: Call = ("get_weather", {"city": "Beijing", "date": "2026-03-30"})
TODAY: Call = ("get_current_date", {})

REAL_OUTPUTS: list[Case] = [
    # VLLM TestHYV3ExtractToolCalls.
    ("vllm-zero-arg-inline", DATE_INLINE, None, [TODAY]),
    ("vllm-zero-arg-newline", DATE, None, [TODAY]),
    (
        "vllm-args-same-line",
        "<tool_calls><tool_call>get_weather<tool_sep><arg_key>city</arg_key><arg_value>Beijing"
        "</arg_value><arg_key>date</arg_key><arg_value>2026-03-30</arg_value></tool_call>"
        "</tool_calls>",
        None,
        [BEIJING_CALL],
    ),
    ("vllm-args-with-newlines", f"<tool_calls>\n{BEIJING}</tool_calls>", None, [BEIJING_CALL]),
    ("vllm-content-before", f"Checking.{DATE}", "Checking.", [TODAY]),
    (
        "vllm-multiple",
        f"<tool_calls>\n{BEIJING}{BEIJING.replace('Beijing', 'Hangzhou')}</tool_calls>",
        None,
        [BEIJING_CALL, ("get_weather", {"city": "Hangzhou", "date": "2026-03-30"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    ("end-of-turn-token", DATE + "<｜hy_eos｜>", None, [TODAY]),
    ("without-the-block", BEIJING, None, [BEIJING_CALL]),
    ("block-never-closed", f"<tool_calls>\n{BEIJING}", None, [BEIJING_CALL]),
    # The schema's type written as "int" (vLLM's HY parsers read the aliases).
    (
        "type-alias-int",
        "<tool_calls><tool_call>count<tool_sep><arg_key>n</arg_key><arg_value>3</arg_value>"
        "</tool_call></tool_calls>",
        None,
        [("count", {"n": 3})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call.
    ("vllm-plain", "This is a plain response."),
]

BROKEN: list[tuple[str, str]] = [
    ("call-cut-off", "<tool_calls>\n<tool_call>get_weather<tool_sep>\n<arg_key>city</arg_key>"),
    ("block-without-a-call", "<tool_calls>\n</tool_calls>"),
]

REASONING: list[ReasoningCase] = [
    # reasoning_effort low / high: the prompt opens <think> (TEMPLATE).
    ("reasoning-first", f"Need the date.</think>{DATE}", "Need the date.", None, [TODAY]),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"<think>{DATE}</think>It is Monday.",
        DATE,
        "It is Monday.",
        [],
    ),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns(
        [("get_weather", {"city": "Paris", "date": "today"}), ("get_current_date", {})],
        ["sunny", "Monday"],
        content="Checking.",
    ),
]
# TEMPLATE rendered with jinja2 (transformers' tojson, add_generation_prompt).
GOLDEN = (
    "<｜hy_begin▁of▁sentence｜>Be brief.\n\n# Tools\n\n"
    "You may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    '{"type": "function", "function": {"name": "get_current_date", "parameters": {}}}\n'
    '{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", '
    '"parameters": {"type": "object", "properties": {"city": {"type": "string"}, '
    '"date": {"type": "string"}}}}}\n</tools>\n\n'
    "For function call returns, you should first print <tool_calls>\n"
    "For each function call, you should return object like:\n"
    "<tool_call>{function-name}<tool_sep>\n<arg_key>{arg-key-1}</arg_key>\n"
    "<arg_value>{arg-value-1}</arg_value>\n<arg_key>{arg-key-2}</arg_key>\n"
    "<arg_value>{arg-value-2}</arg_value>\n...\n</tool_call>\n"
    "At the end of function call returns, you should print "
    "</tool_calls><｜reasoning_mode｜>reasoning_effort:no_think"
    "<｜hy_User｜>Weather in Paris?<｜hy_Assistant｜><think></think>Checking.<tool_calls>\n"
    "<tool_call>get_weather<tool_sep>\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n"
    "<arg_key>date</arg_key>\n<arg_value>today</arg_value>\n</tool_call>\n"
    "<tool_call>get_current_date<tool_sep>\n</tool_call>\n</tool_calls><｜hy_eos｜>"
    "<tool_responses>\n<tool_response>\nsunny\n</tool_response>\n"
    "<tool_response>\nMonday\n</tool_response>\n</tool_responses>"
    "<｜hy_Assistant｜><think></think>"
)


def test_renders_the_chat_template_layout() -> None:
    assert HunyuanV3Wrapper().render(MESSAGES, FUNCTIONS[:2]).text == GOLDEN


def test_without_tools_the_reasoning_effort_ends_the_system_text() -> None:
    # TEMPLATE rendered with reasoning_effort="high": the prompt opens <think>.
    text = HunyuanV3Wrapper("high").render([{"role": "user", "content": "Hi"}], []).text
    assert text == (
        "<｜hy_begin▁of▁sentence｜><｜reasoning_mode｜>reasoning_effort:high"
        "<｜hy_User｜>Hi<｜hy_Assistant｜><think>"
    )


def test_the_grammar_is_one_block_in_the_templates_layout() -> None:
    text = HunyuanV3Wrapper().call_grammar(FUNCTIONS[:2], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(f"<tool_calls>\n{BEIJING}</tool_calls>")
    assert grammar.matches(DATE)
    assert not grammar.matches("<tool_calls>\n</tool_calls>")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    template = "{%- set toolsep_token = '<tool_sep>' %}{%- set argkey_begin_token = '<arg_key>' %}"
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, HunyuanV3Wrapper, ("hy3", "hy_v3", "hy3-preview"))
