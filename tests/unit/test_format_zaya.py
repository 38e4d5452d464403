"""``zaya``: Zyphra ZAYA1, Qwen3-Coder's XML calls in ``<zyphra_tool_call>`` tags.

No output of the model is published with its parser (vLLM has no test file for
``zaya_xml``): the rows below are written in the tags and layout vLLM's parser
reads (PARSER), the layout of the Qwen3 XML parser it is built on.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.template_detection import wrapper_for_template
from wrappers.zaya import ZayaWrapper

NAME = "zaya"

PARSER = "https://github.com/vllm-project/vllm/blob/3eb44ddec1a1a37cbe38e96dbf2e7089524e5cc8/vllm/tool_parsers/zaya_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        },
    },
    {
        "name": "file_write",
        "parameters": {"type": "object", "properties": {"content": {"type": "string"}}},
    },
]


def block(name: str, **arguments: str) -> str:
    parameters = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in arguments.items())
    return f"<zyphra_tool_call>\n<function={name}>\n{parameters}</function>\n</zyphra_tool_call>"


PARIS: Call = ("get_weather", {"city": "Paris", "days": 3})

REAL_OUTPUTS: list[Case] = [
    # PARSER's tags and Qwen3-Coder's layout.
    ("single", block("get_weather", city="Paris", days="3"), None, [PARIS]),
    (
        "text-first",
        "Let me check.\n" + block("get_weather", city="Paris", days="3"),
        "Let me check.",
        [PARIS],
    ),
    (
        "parallel",
        block("get_weather", city="Paris", days="3")
        + "\n"
        + block("get_weather", city="Rome", days="1"),
        None,
        [PARIS, ("get_weather", {"city": "Rome", "days": 1})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # Flush against the tags, as PARSER also reads them.
    (
        "flush-values",
        "<zyphra_tool_call><function=file_write><parameter=content>a\nb</parameter>"
        "</function></zyphra_tool_call>",
        None,
        [("file_write", {"content": "a\nb"})],
    ),
    (
        "closing-tag-cut-off",
        "<zyphra_tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "</function>",
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "end-of-turn",
        block("get_weather", city="Paris", days="3") + "<|im_end|>",
        None,
        [PARIS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("prose", "It is sunny in Paris."),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off-inside-a-value", "<zyphra_tool_call>\n<function=get_weather>\n<parameter=city>\nPa"),
]

REASONING: list[ReasoningCase] = [
    (
        "think-then-call",
        "<think>The user wants the weather.</think>\n"
        + block("get_weather", city="Paris", days="3"),
        "The user wants the weather.",
        None,
        [PARIS],
    ),
]

MESSAGES = [
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns([("get_weather", {"city": "Paris", "days": 3})], ["sunny"]),
]


def test_renders_qwen3_coders_layout_with_zyphras_tags() -> None:
    text = ZayaWrapper().render(MESSAGES, FUNCTIONS[:1]).text
    assert text.startswith("<|im_start|>system\n\n\n# Tools\n\nYou have access to the following")
    assert "nested within <zyphra_tool_call></zyphra_tool_call> XML tags" in text
    assert "<tool_call>" not in text
    assert text.endswith(
        "<|im_start|>assistant\n" + block("get_weather", city="Paris", days="3") + "<|im_end|>\n"
        "<|im_start|>user\n<zyphra_tool_response>\nsunny\n</zyphra_tool_response>\n<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_the_grammar_writes_zyphras_tags() -> None:
    text = ZayaWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(block("get_weather", city="Paris", days="3"))
    assert not grammar.matches(
        block("get_weather", city="Paris", days="3").replace("zyphra_tool_call", "tool_call")
    )


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(block("get_weather", city="Paris", days="3")) == NAME
    assert wrapper_for_template("{{- '<zyphra_tool_call>\\n<function=' }}<parameter=") == NAME


def test_registered() -> None:
    assert_registered(NAME, ZayaWrapper, ("zaya1", "zaya-xml"))
