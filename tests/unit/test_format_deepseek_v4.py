"""``deepseek-v4`` and ``deepseek-v4.1``: DSML calls in V4's ``tool_calls`` / V4.1's spaced ``calls`` block.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py; both wrappers read every row.
"""
# ruff: noqa: RUF001, RUF003  (DeepSeek's tokens use full-width bars)

from __future__ import annotations

from tests.support.llama_grammar import LlamaCppGrammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.deepseek_v4 import DeepSeekV4Wrapper, DeepSeekV41Wrapper
from wrappers.detection import detect_format
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAMES = ["deepseek-v4", "deepseek-v4.1"]

# Sources of the real outputs below, and ENCODER of the rendering.
VLLM_V4 = "https://github.com/vllm-project/vllm/blob/023f36c62e71a247a9bacb7eb4cea5d55505cb63/tests/tool_parsers/test_deepseekv4_tool_parser.py"
VLLM_V41 = "https://github.com/vllm-project/vllm/blob/a7092f1e512ad76c6b0a378903d4ccb77e54af47/tests/parser/engine/test_deepseek_v41.py"
ENCODER = "https://github.com/vllm-project/vllm/blob/591f7b5eab1ab5be7e9a893926ebaa486974fea6/vllm/tokenizers/deepseek_v4_encoding.py"
ENCODER_V41 = "https://github.com/vllm-project/vllm/blob/6394ab4d1ab21fad703c6f9163612b5c7f9a2512/vllm/tokenizers/deepseek_v41_encoding.py"
# DeepSeek V4 wrapping a call's arguments in one "arguments" parameter: the minimal case in
# vLLM's fix, and the scalar variant reported against sglang.
VLLM_WRAPPED = (
    "https://github.com/vllm-project/vllm/pull/41241 (comment of 2026-05-06; issue 41240)"
)
SGLANG_WRAPPED = "https://github.com/sgl-project/sglang/issues/38924"

TC = "<｜DSML｜tool_calls>"
TC_END = "</｜DSML｜tool_calls>"
INV = '<｜DSML｜invoke name="'
INV_END = "</｜DSML｜invoke>"
PARAM = '<｜DSML｜parameter name="'
PARAM_END = "</｜DSML｜parameter>"


def function(name: str, **properties: object) -> FunctionSchema:
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", location={"type": "string"}, unit={"type": "string"}),
    function("search", query={"type": "string"}),
    function("add", x={"type": "number"}, y={"type": "number"}),
    function("run_command", command={"type": "string"}),
    function("forward", arguments={"type": "string"}),
]


def build_tool_call(name: str, params: dict[str, str]) -> str:
    """VLLM_V4's build_tool_call: string parameters, one per line."""
    body = "".join(f'{PARAM}{k}" string="true">{v}{PARAM_END}\n' for k, v in params.items())
    return f'{TC}\n{INV}{name}">\n{body}{INV_END}\n{TC_END}'


# VLLM_V41's CALLS: V4.1's spaced tags, parallel calls, JSON values.
CALLS_V41 = (
    '\n\n<｜DSML｜ calls>\n<｜DSML｜ invoke name="get_weather">\n'
    '<｜DSML｜ parameter name="city" string="true">杭州</｜DSML｜ parameter>\n'
    '<｜DSML｜ parameter name="count" string="false">42</｜DSML｜ parameter>\n'
    '</｜DSML｜ invoke>\n<｜DSML｜ invoke name="add">\n'
    '<｜DSML｜ parameter name="x" string="false">1.5</｜DSML｜ parameter>\n'
    '<｜DSML｜ parameter name="y" string="false">2.25</｜DSML｜ parameter>\n'
    "</｜DSML｜ invoke>\n</｜DSML｜ calls>"
)
V41_CALLS: list[Call] = [
    ("get_weather", {"city": "杭州", "count": 42}),
    ("add", {"x": 1.5, "y": 2.25}),
]
BEIJING: Call = ("get_weather", {"location": "Beijing", "unit": "celsius"})

REAL_OUTPUTS: list[Case] = [
    # VLLM_V4 test_extract_tool_calls.
    (
        "vllm-v4-text-first",
        "Let me check. "
        + build_tool_call("get_weather", {"location": "Beijing", "unit": "celsius"}),
        "Let me check.",
        [BEIJING],
    ),
    # VLLM_V4 test_streaming_extracts_complete_invokes.
    (
        "vllm-v4-single",
        build_tool_call("search", {"query": "deepseek v4"}),
        None,
        [("search", {"query": "deepseek v4"})],
    ),
    # VLLM_V41 test_registered_adapters_parse_complete_output (thinking off).
    ("vllm-v4.1-parallel", CALLS_V41, None, V41_CALLS),
    # VLLM_V41 test_registered_adapters_parse_parallel_calls_across_chunks.
    ("vllm-v4.1-text-first", "Checking." + CALLS_V41, "Checking.", V41_CALLS),
    # VLLM_V41 test_reasoning_adapter_controls_and_usage: an answer without calls.
    ("vllm-v4.1-no-call", "12", "12", []),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM_V4 test_function_calls_block_is_not_accepted: V3.2's block, which vLLM's V4
    # parser leaves as content; a V4 model prompted the V3.2 way writes it.
    (
        "v3.2-block",
        build_tool_call("search", {"query": "vllm"}).replace("tool_calls", "function_calls"),
        None,
        [("search", {"query": "vllm"})],
    ),
    # VLLM_WRAPPED: the whole arguments object in one "arguments" parameter.
    (
        "vllm-arguments-wrapper",
        f'{TC}{INV}get_weather">{PARAM}arguments" string="false">{{"location":"Beijing"}}'
        f"{PARAM_END}{INV_END}{TC_END}",
        None,
        [("get_weather", {"location": "Beijing"})],
    ),
    # SGLANG_WRAPPED: the scalar variant, for a tool that takes one argument.
    (
        "sglang-scalar-arguments-wrapper",
        f'{TC}\n{INV}run_command">\n{PARAM}arguments" string="true">ls -la{PARAM_END}\n'
        f"{INV_END}\n{TC_END}",
        None,
        [("run_command", {"command": "ls -la"})],
    ),
    (
        "input-wrapper-as-json-text",
        f'{TC}\n{INV}add">\n{PARAM}input" string="true">{{"x": 1.5, "y": "2"}}{PARAM_END}\n'
        f"{INV_END}\n{TC_END}",
        None,
        [("add", {"x": 1.5, "y": 2})],
    ),
    # A tool whose parameter is called "arguments" keeps it.
    (
        "a-real-arguments-parameter",
        f'{TC}\n{INV}forward">\n{PARAM}arguments" string="true">-v{PARAM_END}\n{INV_END}\n{TC_END}',
        None,
        [("forward", {"arguments": "-v"})],
    ),
    (
        "invokes-without-their-block",
        f'{INV}search">\n{PARAM}query" string="true">vllm{PARAM_END}\n{INV_END}',
        None,
        [("search", {"query": "vllm"})],
    ),
    (
        "end-of-sentence",
        build_tool_call("search", {"query": "vllm"}) + "<｜end▁of▁sentence｜>",
        None,
        [("search", {"query": "vllm"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("prose", "The weather in Beijing is sunny."),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off-inside-the-invoke", f'{TC}\n{INV}search">\n{PARAM}query" string="true">vl'),
]

REASONING: list[ReasoningCase] = [
    # VLLM_V41 test_registered_adapters_parse_complete_output (thinking on: the
    # prompt opened the block).
    ("vllm-v4.1-thinking", "Plan.</think>" + CALLS_V41, "Plan.", None, V41_CALLS),
    (
        "calls-in-closed-thinking",
        "<think>maybe " + build_tool_call("search", {"query": "x"}) + "</think>No need.",
        "maybe " + build_tool_call("search", {"query": "x"}),
        "No need.",
        [],
    ),
]

WEATHER: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "days": {"type": "integer"}},
        },
    }
]
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather?"},
    *call_turns([("get_weather", {"location": "SF", "days": 2})], ["sunny"], ids=["call_1"]),
]
SCHEMA_LINE = (
    '{"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", '
    '"properties": {"location": {"type": "string"}, "days": {"type": "integer"}}}}'
)


def tools_section(p: str, block: str) -> str:
    return (
        "## Tools\n\nYou have access to a set of tools to help answer the user's question. You "
        f'can invoke tools by writing a "<{p}{block}>" block like the following:\n\n'
        f'<{p}{block}>\n<{p}invoke name="$TOOL_NAME">\n'
        f'<{p}parameter name="$PARAMETER_NAME" string="true|false">$PARAMETER_VALUE</{p}parameter>'
        f'\n...\n</{p}invoke>\n<{p}invoke name="$TOOL_NAME2">\n...\n</{p}invoke>\n</{p}{block}>\n\n'
        'String parameters should be specified as is and set `string="true"`. For all other types '
        '(numbers, booleans, arrays, objects), pass the value in JSON format and set `string="false"`.'
        "\n\nIf thinking_mode is enabled (triggered by <think>), you MUST output your complete "
        "reasoning inside <think>...</think> BEFORE any tool calls or final response.\n\n"
        "Otherwise, output directly after </think> with tool calls or final response.\n\n"
        f"### Available Tool Schemas\n\n{SCHEMA_LINE}\n\n"
        "You MUST strictly follow the above defined tool name and parameter schemas to invoke tool "
        "calls.\n"
    )


def call_turn(p: str, block: str) -> str:
    return (
        f'\n\n<{p}{block}>\n<{p}invoke name="get_weather">\n'
        f'<{p}parameter name="location" string="true">SF</{p}parameter>\n'
        f'<{p}parameter name="days" string="false">2</{p}parameter>\n'
        f"</{p}invoke>\n</{p}{block}><｜end▁of▁sentence｜>"
    )


# ENCODER's encode_messages(thinking_mode="chat") of MESSAGES, the tools given as
# vLLM's DeepSeek V4 tokenizer gives them (a system message of their own, first).
GOLDEN_V4 = (
    "<｜begin▁of▁sentence｜>\n\n"
    + tools_section("｜DSML｜", "tool_calls")
    + "Be brief.<｜User｜>Weather?<｜Assistant｜></think>"
    + call_turn("｜DSML｜", "tool_calls")
    + "<｜User｜><tool_result>sunny</tool_result><｜Assistant｜></think>"
)
# ENCODER_V41 read for the same conversation: <｜System｜>, the client's system text,
# then the tools; the tags spaced after the DSML token.
GOLDEN_V41 = (
    "<｜begin▁of▁sentence｜><｜System｜>Be brief.\n\n"
    + tools_section("｜DSML｜ ", "calls")
    + "<｜User｜>Weather?<｜Assistant｜></think>"
    + call_turn("｜DSML｜ ", "calls")
    + "<｜User｜><tool_result>sunny</tool_result><｜Assistant｜></think>"
)


def test_renders_what_the_v4_encoder_renders() -> None:
    assert get_wrapper("deepseek-v4").render(MESSAGES, WEATHER).text == GOLDEN_V4


def test_renders_what_the_v41_encoder_renders() -> None:
    assert get_wrapper("deepseek-v4.1").render(MESSAGES, WEATHER).text == GOLDEN_V41


def test_results_and_the_next_question_are_one_user_message() -> None:
    # ENCODER's merge_tool_messages: results and the user's text, joined by blank lines.
    messages = [*MESSAGES, {"role": "user", "content": "Thanks"}]
    text = get_wrapper("deepseek-v4").render(messages, WEATHER).text
    assert text.endswith(
        "<｜User｜><tool_result>sunny</tool_result>\n\nThanks<｜Assistant｜></think>"
    )


def test_without_tools_or_system_the_prompt_is_the_turns() -> None:
    messages = [{"role": "user", "content": "hi"}]
    for name in NAMES:
        text = get_wrapper(name).render(messages, []).text
        assert text == "<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜></think>"


def test_the_grammar_is_each_versions_block() -> None:
    for wrapper, p, block in (
        (DeepSeekV4Wrapper(), "｜DSML｜", "tool_calls"),
        (DeepSeekV41Wrapper(), "｜DSML｜ ", "calls"),
    ):
        text = wrapper.call_grammar(WEATHER, None, parallel=False)
        assert text is not None
        grammar = LlamaCppGrammar(text)
        answer = call_turn(p, block).removeprefix("\n\n").removesuffix("<｜end▁of▁sentence｜>")
        assert grammar.matches(answer)
        assert not grammar.matches(answer.replace(">2<", ">two<"))


def test_detected_from_its_output_and_its_template() -> None:
    # The calls read the same whatever the version: auto names the first DSML reader.
    assert detect_format(REAL_OUTPUTS[1][1]) is not None
    assert wrapper_for_template('{%- set tool_calls_block_name = "tool_calls" -%}｜DSML｜') == (
        "deepseek-v4"
    )
    assert wrapper_for_template('"<{{ dsml_token }} calls>" <｜DSML｜ invoke') == "deepseek-v4.1"


def test_registered() -> None:
    assert_registered("deepseek-v4", DeepSeekV4Wrapper, ("deepseek-v4-flash",))
    assert_registered("deepseek-v4.1", DeepSeekV41Wrapper, ("deepseek-v41",))
