"""``minicpm5``: MiniCPM5, ``<function name="f"><param name="k">v</param></function>``.

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
from wrappers.minicpm5 import MiniCPM5Wrapper
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "minicpm5"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/efe6fa5511c1bbd3ae7ef19e3e2867a811097a0f/tests/tool_parsers/test_minicpm5xml_tool_parser.py"
MODEL_CARD = "https://github.com/OpenBMB/MiniCPM#with-tool-calling"
TEMPLATE = "https://github.com/mengqin/llama.cpp/blob/2be97ce9c1f7250eeb4ee6eb429f2b6155da3dce/models/templates/openbmb-MiniCPM5-1B.jinja"


def function(name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": name, "parameters": {"type": "object", "properties": properties}}


FUNCTIONS: list[FunctionSchema] = [
    function("get_weather", city="string", date="string"),
    function("sum_values", nums="array", exact="boolean"),
    function("get_current_weather", city="string", state="string", unit="string"),
    function("noop", note="string"),
    function("get_forecast", city="string", days="integer"),
]

SHANGHAI: Call = ("get_weather", {"city": "上海", "date": "2024-06-27"})

REAL_OUTPUTS: list[Case] = [
    # VLLM test_single_call_with_surrounding_text (fcproxy keeps the text around as content).
    (
        "vllm-surrounding-text",
        'Intro before.\n<function name="get_weather"><param name="city">上海</param>'
        '<param name="date">2024-06-27</param></function>\nOutro after.\n',
        "Intro before.\n\nOutro after.",
        [SHANGHAI],
    ),
    # VLLM test_cdata_multiline.
    (
        "vllm-cdata-multiline",
        '<function name="get_weather"><param name="city"><![CDATA[北\n京]]></param>'
        '<param name="date">2024-06-27</param></function>\n',
        None,
        [("get_weather", {"city": "北\n京", "date": "2024-06-27"})],
    ),
    # VLLM test_collapsed_function_and_param_tags.
    (
        "vllm-collapsed-tags",
        '<functionname="get_weather"><paramname="city">上海</param>'
        '<paramname="date">2024-06-27</param></function>\n',
        None,
        [SHANGHAI],
    ),
    # VLLM test_collapsed_tags_current_weather.
    (
        "vllm-collapsed-three-parameters",
        '<functionname="get_current_weather"><paramname="city">Dallas</param>'
        '<paramname="state">TX</param><paramname="unit">fahrenheit</param></function>',
        None,
        [("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})],
    ),
    # VLLM test_non_string_types: typed by the schema.
    (
        "vllm-non-string-types",
        '<function name="sum_values"><param name="nums">[1, 2, 3]</param>'
        '<param name="exact">true</param></function>\n',
        None,
        [("sum_values", {"nums": [1, 2, 3], "exact": True})],
    ),
    # VLLM test_multiple_calls_interleaved_text (parallel calls; the text stays content).
    (
        "vllm-parallel-with-text",
        'Head\n<function name="get_weather"><param name="city">北京</param></function>\nTXT\n'
        '<function name="sum_values"><param name="nums">[7,8,9]</param>'
        '<param name="exact">false</param></function>\nTail\n',
        "Head\n\nTXT\n\nTail",
        [("get_weather", {"city": "北京"}), ("sum_values", {"nums": [7, 8, 9], "exact": False})],
    ),
    # VLLM test_no_required_and_zero_param_valid.
    ("vllm-no-parameters", '<function name="noop"></function>\n', None, [("noop", {})]),
    # MODEL_CARD's example call.
    (
        "model-card",
        '<function name="get_weather"><param name="city">Beijing</param></function>',
        None,
        [("get_weather", {"city": "Beijing"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "template-layout-with-newlines",
        '<function name="get_forecast">\n  <param name="city">Tokyo</param>\n'
        '  <param name="days"> 3 </param>\n</function>',
        None,
        [("get_forecast", {"city": "Tokyo", "days": 3})],
    ),
    (
        "single-quoted-attributes",
        "<function name='get_weather'><param name='city'>Oslo</param></function>",
        None,
        [("get_weather", {"city": "Oslo"})],
    ),
    (
        "cdata-holding-tags",
        '<function name="noop"><param name="note"><![CDATA[a </param> b & <c>]]></param>'
        "</function>",
        None,
        [("noop", {"note": "a </param> b & <c>"})],
    ),
    (
        "back-to-back-calls",
        '<function name="get_forecast"><param name="city">Rome</param></function>'
        '<function name="get_forecast"><param name="city">Bern</param>'
        '<param name="days">2</param></function>',
        None,
        [("get_forecast", {"city": "Rome"}), ("get_forecast", {"city": "Bern", "days": 2})],
    ),
    (
        "end-of-turn",
        '<function name="get_weather"><param name="city">Oslo</param></function><|im_end|>',
        None,
        [("get_weather", {"city": "Oslo"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call.
    ("vllm-plain", "How can I help you?"),
    ("qwen3-coder-style-tag-in-prose", "Write <function=...> for Qwen3-Coder."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_incomplete_missing_function_end (cut off before </function>).
    (
        "vllm-missing-function-end",
        '<function name="get_weather"><param name="city">北京</param>',
    ),
]

REASONING: list[ReasoningCase] = [
    # The template opens <think> when thinking is on: the answer starts in it.
    (
        "prompt-opened-think",
        "Check the weather first.\n</think>\n\n"
        '<function name="get_weather"><param name="city">Oslo</param></function>',
        "Check the weather first.",
        None,
        [("get_weather", {"city": "Oslo"})],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        '<think>maybe <function name="get_weather"><param name="city">Oslo</param></function>'
        "</think>It is sunny.",
        'maybe <function name="get_weather"><param name="city">Oslo</param></function>',
        "It is sunny.",
        [],
    ),
]

WEATHER: list[FunctionSchema] = [function("get_forecast", city="string", days="integer")]
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns(
        [("get_forecast", {"city": "Paris\nFrance", "days": 2})], ["sunny"], ids=["call_1"]
    ),
]
# TEMPLATE rendered with transformers' environment (trim_blocks, lstrip_blocks), its
# bos_token left out (the upstream adds it).
GOLDEN = (
    "<|im_start|>system\nBe brief.\n\n# Tools\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    '{"type": "function", "function": {"name": "get_forecast", "parameters": {"type": "object", '
    '"properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}}\n</tools>\n\n'
    "Tool usage guidelines:\n- You may call zero or more functions. If no function calls are "
    "needed, just answer normally and do not include any <function ... </function>.\n"
    "- When calling a function, return an XML object within <function ... </function> using:\n"
    '<function name="function-name"><param name="param-name">param-value</param></function>\n'
    "- param-value may be multi-line. If it contains <, & or newline characters, wrap it in a "
    'CDATA block: <param name="param-name"><![CDATA[...multi-line value...]]></param>'
    "<|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n"
    '<|im_start|>assistant\n<function name="get_forecast"><param name="city">'
    '<![CDATA[Paris\nFrance]]></param><param name="days">2</param></function><|im_end|>\n'
    "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
    "<|im_start|>assistant\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert get_wrapper(NAME).render(MESSAGES, WEATHER).text == GOLDEN


def test_the_grammar_allows_the_calls_only() -> None:
    text = get_wrapper(NAME).call_grammar(WEATHER, None, parallel=True)  # type: ignore[attr-defined]
    assert text is not None
    grammar = Grammar(text)
    call = '<function name="get_forecast"><param name="city">Paris</param><param name="days">2</param></function>'
    assert grammar.matches(call)
    assert grammar.matches(call + call)
    assert not grammar.matches(call.replace('"days">2', '"days">two'))
    assert not grammar.matches("Sure. " + call)


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert detect_format(REAL_OUTPUTS[2][1]) == NAME  # collapsed tags
    template = "{{- '<function name=\"' ~ tool_call.name ~ '\">' }}{{- '<param name=\"' ~ k }}"
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, MiniCPM5Wrapper, ("minicpm",))
