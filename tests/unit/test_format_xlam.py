"""``xlam``: Salesforce xLAM-2, one JSON list ``[{"name": ..., "arguments": {...}}]``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase
from wrappers.base import FunctionSchema
from wrappers.registry import find_entry, get_wrapper
from wrappers.template_detection import wrapper_for_template
from wrappers.xlam import XLAMWrapper

NAME = "xlam"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/91f3c5bd4ebc8efccd2808afc27e04722181f247/tests/tool_parsers/test_xlam_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/31106f4f486decd092d235ea4b8a729ce5342158/examples/tool_chat_template_xlam_qwen.jinja"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_current_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "state": {"type": "string"},
                "unit": {"type": "string"},
            },
        },
    }
]

DALLAS: Call = ("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})
ORLANDO: Call = ("get_current_weather", {"city": "Orlando", "state": "FL", "unit": "fahrenheit"})
DALLAS_JSON = (
    '{"name": "get_current_weather", "arguments": {"city": "Dallas", "state": "TX", '
    '"unit": "fahrenheit"}}'
)
ORLANDO_JSON = (
    '{"name": "get_current_weather", "arguments": {"city": "Orlando", "state": "FL", '
    '"unit": "fahrenheit"}}'
)

REAL_OUTPUTS: list[Case] = [
    # VLLM test_extract_tool_calls "parallel_tool_calls".
    ("vllm-parallel", f"[{DALLAS_JSON}, {ORLANDO_JSON}]", None, [DALLAS, ORLANDO]),
    # VLLM "single_tool_with_json_code_block".
    (
        "vllm-json-code-block",
        f"I'll help you with that.\n```json\n[{DALLAS_JSON}]\n```",
        "I'll help you with that.",
        [DALLAS],
    ),
    # VLLM "single_tool_with_tool_calls_tag".
    (
        "vllm-after-tool-calls-marker",
        f"I'll check the weather for you.[TOOL_CALLS][{DALLAS_JSON}]",
        "I'll check the weather for you.",
        [DALLAS],
    ),
    # VLLM "single_tool_with_tool_call_xml_tags".
    (
        "vllm-in-tool-call-tags",
        f"I'll help you check the weather.<tool_call>[{DALLAS_JSON}]</tool_call>",
        "I'll help you check the weather.",
        [DALLAS],
    ),
    # VLLM test_extract_tool_calls_list_structure.
    (
        "vllm-list-structure",
        '[{"name": "get_current_weather", "arguments": {"city": "Seattle", "state": "WA", '
        '"unit": "celsius"}}]',
        None,
        [("get_current_weather", {"city": "Seattle", "state": "WA", "unit": "celsius"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    ("one-object-without-the-list", DALLAS_JSON, None, [DALLAS]),
    (
        "trailing-comma-and-cut-off-list",
        f"[{DALLAS_JSON[:-1]},}}, {ORLANDO_JSON}",
        None,
        [DALLAS, ORLANDO],
    ),
    ("end-of-turn", f"[{DALLAS_JSON}]<|im_end|>", None, [DALLAS]),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-plain", "This is a test"),
    ("a-list-in-prose", "Pick one of [1, 2, 3]."),
]

REASONING: list[ReasoningCase] = [
    # VLLM "single_tool_with_think_tag" (fcproxy sets the thought aside as reasoning).
    (
        "vllm-think-tag",
        f"<think>I'll help you with that.</think>[{DALLAS_JSON}]",
        "I'll help you with that.",
        None,
        [DALLAS],
    ),
]

MESSAGES = [
    {"role": "user", "content": "Weather in Dallas?"},
    *call_turns(
        [("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})],
        ["sunny"],
        ids=["call_1"],
    ),
]
# TEMPLATE rendered by hand (transformers' Jinja settings), past arguments as an object.
GOLDEN = (
    "<|im_start|>system\nYou are a helpful assistant. You are developed by Salesforce xLAM "
    "team.\nYou have access to a set of tools. When using tools, make calls in a single JSON "
    'array: \n\n[{"name": "tool_call_name", "arguments": {"arg1": "value1", "arg2": '
    '"value2"}}, ... (additional parallel tool calls as needed)]\n\nIf no tool is suitable, '
    "state that explicitly. If the user's input lacks required parameters, ask for "
    "clarification. Do not interpret or respond until tool results are returned. Once they "
    "are available, process them or make additional calls if needed. For tasks that don't "
    "require tools, such as casual conversation or general advice, respond directly in plain "
    "text. The available tools are:\n\n"
    '{\n    "type": "function",\n    "function": {\n        "name": "get_current_weather",\n'
    '        "parameters": {\n            "type": "object",\n            "properties": {\n'
    '                "city": {\n                    "type": "string"\n                },\n'
    '                "state": {\n                    "type": "string"\n                },\n'
    '                "unit": {\n                    "type": "string"\n                }\n'
    "            }\n        }\n    }\n}\n\n<|im_end|>\n"
    "<|im_start|>user\nWeather in Dallas?<|im_end|>\n"
    f"<|im_start|>assistant\n[{DALLAS_JSON}]<|im_end|>\n"
    "<|im_start|>tool\nsunny<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert get_wrapper(NAME).render(MESSAGES, FUNCTIONS).text == GOLDEN


def test_a_system_message_replaces_the_default_and_its_instructions() -> None:
    text = (
        get_wrapper(NAME)
        .render([{"role": "system", "content": " Be brief. "}, *MESSAGES], FUNCTIONS)
        .text
    )
    assert text.startswith('<|im_start|>system\nBe brief.\n{\n    "type": "function"')


def test_the_grammar_allows_a_list_of_calls_only() -> None:
    text = get_wrapper(NAME).call_grammar(FUNCTIONS, None, parallel=True)  # type: ignore[attr-defined]
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(f"[{DALLAS_JSON}, {ORLANDO_JSON}]")
    assert not grammar.matches(DALLAS_JSON)
    assert not grammar.matches(f"Sure: [{DALLAS_JSON}]")


def test_auto_reads_its_list_and_the_jinja_wrapper_picks_it() -> None:
    raw = f"[{DALLAS_JSON}, {ORLANDO_JSON}]"
    auto = get_wrapper("auto").parse(raw, FUNCTIONS)
    assert [c.arguments for c in auto.tool_calls] == [
        c.arguments for c in get_wrapper(NAME).parse(raw, FUNCTIONS).tool_calls
    ]
    assert len(auto.tool_calls) == 2
    template = "{% set format_instruction %}You have access to a set of tools. When using tools, make calls in a single JSON array: {% endset %}"
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    entry = find_entry(NAME)
    assert entry is not None and entry.family == "tool-call"
    assert type(get_wrapper("xlam-2")) is XLAMWrapper
