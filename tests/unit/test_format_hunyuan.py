"""``hunyuan-a13b``: Tencent Hunyuan A13B, ``<tool_calls>[...]</tool_calls>``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""
# ruff: noqa: RUF001, RUF003  (the template is Chinese: full-width punctuation)

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import TODAY
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema, RenderOptions
from wrappers.detection import detect_format
from wrappers.hunyuan import HunyuanWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "hunyuan-a13b"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/3b12500c9761c8854350f1c096ac58def1834836/tests/tool_parsers/test_hunyuan_a13b_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/630fe7e7a7a4f13533d4c130804bff933130f1fd/examples/tool_chat_template_hunyuan_a13b.jinja"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "metric": {"type": "string"}},
        },
    },
    {"name": "register_user", "parameters": {"type": "object", "properties": {}}},
    {"name": "complex_tool", "parameters": {"type": "object", "properties": {}}},
]

SF: Call = ("get_weather", {"city": "San Francisco", "metric": "celsius"})
SF_JSON = '{"name": "get_weather", "arguments": {"city": "San Francisco", "metric": "celsius"}}'

REAL_OUTPUTS: list[Case] = [
    # VLLM "Single tool call, no content".
    ("vllm-single", f"<tool_calls>[{SF_JSON}]</tool_calls>", None, [SF]),
    # VLLM "Multiple tool calls".
    (
        "vllm-parallel",
        f'<tool_calls>[{SF_JSON}, {{"name": "register_user", "arguments": {{"name": "John Doe", '
        '"age": 37, "address": {"city": "San Francisco", "state": "CA"}, "role": null, '
        '"passed_test": true, "aliases": ["John", "Johnny"]}}]</tool_calls>',
        None,
        [
            SF,
            (
                "register_user",
                {
                    "name": "John Doe",
                    "age": 37,
                    "address": {"city": "San Francisco", "state": "CA"},
                    "role": None,
                    "passed_test": True,
                    "aliases": ["John", "Johnny"],
                },
            ),
        ],
    ),
    # VLLM "Content before tool call".
    (
        "vllm-content-first",
        'I will call the tool now. <tool_calls>[{"name": "get_weather", "arguments": '
        '{"city": "Boston"}}]</tool_calls>',
        "I will call the tool now.",
        [("get_weather", {"city": "Boston"})],
    ),
    # VLLM "Content after tool call" (vLLM drops it; fcproxy keeps it as content).
    (
        "vllm-content-after",
        '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Seattle"}}]</tool_calls>'
        "\nThank you!",
        "Thank you!",
        [("get_weather", {"city": "Seattle"})],
    ),
    # VLLM nested arguments.
    (
        "vllm-nested",
        '<tool_calls>[{"name": "complex_tool", "arguments": {"level1": {"level2": {"level3": '
        '{"value": 123}}}}}]</tool_calls>',
        None,
        [("complex_tool", {"level1": {"level2": {"level3": {"value": 123}}}})],
    ),
    # VLLM streaming case: the call closes Hunyuan's answer channel.
    (
        "vllm-in-the-answer-channel",
        '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Boston"}}]</tool_calls>'
        "\n</answer>",
        None,
        [("get_weather", {"city": "Boston"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    ("plain-answer-opens-with-its-prefix", "助手：北京今天晴。<|eos|>", "北京今天晴。", []),
    (
        "answer-tags-around-the-call",
        f"<answer>\n<tool_calls>[{SF_JSON}]</tool_calls>\n</answer>",
        None,
        [SF],
    ),
    (
        "trailing-comma-in-the-list",
        f"<tool_calls>[{SF_JSON},]</tool_calls>",
        None,
        [SF],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM "No tool call".
    ("vllm-plain", "How can I help you today?"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Bos'),
]

REASONING: list[ReasoningCase] = [
    (
        "think-then-answer-channel",
        "<think>\n需要查询天气。\n</think>\n<answer>\n"
        '<tool_calls>[{"name": "get_weather", "arguments": {"city": "北京"}}]</tool_calls>\n'
        "</answer>",
        "需要查询天气。",
        None,
        [("get_weather", {"city": "北京"})],
    ),
]

MESSAGES = [
    {"role": "user", "content": "北京天气如何？"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "北京"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "晴"},
]
# TEMPLATE rendered with transformers' Jinja settings, strftime_now frozen at TODAY.
GOLDEN = (
    "<|startoftext|>你是一位函数组合专家。你会得到一个问题和一组可能的函数。根据问题，你需要进行一个或多个函数/工具调用以实现目的。\n"
    "如果没有一个函数可以使用，请直接使用自然语言回复用户，以助手：开头。\n"
    "如果给定的问题缺少函数所需的参数，请使用自然语言进行提问，向用户询问必要信息，以助手：开头。\n"
    "如果调用结果已经足够回答用户问题，请对历史结果进行总结，使用自然语言回复用户，以助手：开头。\n"
    "你应该只在工具调用部分返回函数调用。如果你决定调用任何函数，你必须将其格式化为<tool_calls>"
    '[{"name": "func_name1", "arguments": {"argument1": "value1", "argument2": "value2"}},...]'
    "</tool_calls>。你不应该在回复中包含任何其他文本。以下是你可以调用的函数列表，格式为JSON。\n\n"
    '[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", '
    '"properties": {"city": {"type": "string"}}}}}]\n'
    "\n如果你决定返回函数调用，请将其格式化为<tool_calls>"
    '[{"name": "func_name1", "arguments": {"argument1": "value1", "argument2": "value2"}},...]'
    "</tool_calls>，不得包含其他文本。\n否则，请参考开头说的三种情况，以助手：开头进行回复。\n\n"
    "当前时间：2025-07-26 00:00:00 星期六<|extra_4|>用户：北京天气如何？<|extra_0|>"
    '<tool_calls>[{"name": "get_weather", "arguments": {"city": "北京"}}]</tool_calls><|eos|>'
    "<tool_response>晴</tool_response><|extra_0|>"
)
WEATHER = FUNCTIONS[:1]
WEATHER_CITY: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]


def test_renders_the_chat_template_layout() -> None:
    assert HunyuanWrapper(now=TODAY).render(MESSAGES, WEATHER_CITY).text == GOLDEN


def test_the_grammar_allows_a_list_of_calls() -> None:
    text = HunyuanWrapper().call_grammar(WEATHER_CITY, None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    one = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    assert grammar.matches(f"<tool_calls>[{one}]</tool_calls>")
    assert not grammar.matches(f"<tool_calls>[{one.replace('Paris', '')[:-3]}]</tool_calls>")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{% set content = content + '<|extra_0|>' %}<tool_calls>") == NAME


def test_registered() -> None:
    assert_registered(NAME, HunyuanWrapper, ("hunyuan",))


def test_without_tools_the_template_writes_only_its_tokens() -> None:
    # TEMPLATE's other branch: no instructions, no 用户： / 助手： prefixes.
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
    ]
    assert HunyuanWrapper().render(messages, []).text == (
        "<|startoftext|>Be brief.<|extra_4|>Hi<|extra_0|>Hello<|eos|><|startoftext|>Bye<|extra_0|>"
    )


def test_a_required_call_grammar_takes_the_think_and_answer_channels_around_it() -> None:
    # What the model writes (vLLM's hunyuan_a13b reasoning parser: "<think>\n",
    # "\n</think>\n<answer>\n", "\n</answer>"), whether it thinks or not.
    from tests.support.llama_grammar import llama_cpp_matches

    wrapper = HunyuanWrapper()
    prompt = wrapper.render(
        [{"role": "user", "content": "北京天气如何？"}],
        FUNCTIONS,
        RenderOptions(grammar=True, call_required=True),
    )
    assert prompt.grammar is not None
    thought = REASONING[0][1]
    not_thought = "<think>\n\n</think>\n<answer>\n" + thought.split("<answer>\n")[1]
    in_the_channel = next(text for name, text, _, _ in REAL_OUTPUTS if "answer-channel" in name)
    for text in (thought, not_thought, in_the_channel):
        assert llama_cpp_matches(prompt.grammar, text), text
        assert [c.name for c in wrapper.parse(text, FUNCTIONS).tool_calls] == ["get_weather"]
    # The channel holds only the calls.
    assert not llama_cpp_matches(prompt.grammar, thought.replace("<answer>\n", "<answer>\nOk. "))
