"""``glm4``: GLM-4.5 / 4.6, ``<tool_call>name`` and ``<arg_key>`` / ``<arg_value>`` pairs."""

from __future__ import annotations

import pytest

from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import (
    Case,
    ReasoningCase,
    assert_registered,
    golden_text,
    rendering,
    variants,
)
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.glm4 import Glm4Wrapper

NAME = "glm4"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/13e48c2bd449aafc4b60d0783d30e072f3201805/tests/tool_use/test_glm4_moe_tool_parser.py"
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/98d5e8ba8a2642710c9871d05ac1033a3328b884/tests/test-chat.cpp"
VLLM_GLM47 = "https://github.com/vllm-project/vllm/blob/a6bac3a65f7ff0772bfb03e03c0376c5e5a9ad01/tests/tool_parsers/test_glm47_moe_tool_parser.py"
VLLM_GLM47_STRAY = "https://github.com/vllm-project/vllm/blob/6acf0c21a7fdac47e7781c7cf626830540ea485f/tests/parser/engine/test_glm47_stray_tool_call.py"
# Poolside's models write GLM's calls (vLLM's poolside_v1 parser).
VLLM_POOLSIDE = "https://github.com/vllm-project/vllm/blob/2a8137f637c3827eff3dd1a61223274e67fb8851/tests/tool_parsers/test_poolside_v1_tool_parser.py"
# Spark 3 writes them flush against the tags; vLLM has no test file for its parser,
# the rows follow the parser's own pattern (<arg_key>k</arg_key><arg_value>v</arg_value>).
VLLM_SPARK3 = "https://github.com/vllm-project/vllm/blob/81efe7883f30582696b69f9b9ea93c4819a8c608/vllm/tool_parsers/spark3_tool_parser.py"
# Ling 3 writes GLM-4.7's calls (vLLM's ling3 parser subclasses its glm47_moe one).
VLLM_LING3 = "https://github.com/vllm-project/vllm/blob/24e11f559a3376b8253037830e5384a3e0deb58b/tests/parser/engine/test_ling3.py"
VLLM_GLM47 = "https://github.com/vllm-project/vllm/blob/14f7a27c776bd0c423bbc155b25ce21ee5a839da/tests/parser/engine/test_glm47_moe.py"
SGLANG_LING3 = "https://github.com/sgl-project/sglang/blob/27dbce0ee7d8ae8feaa7399290b1e7bdc1edb5bc/python/sglang/srt/function_call/ling3_detector.py"
# Its "Spark2.5" block: GLM-4.7's flush calls, values typed by the schema.
LLAMA_CPP_SPARK25 = "https://github.com/ggml-org/llama.cpp/blob/0042e2079d3428ba7af410df553202aa7fdf8d7a/tests/test-chat.cpp"


def function(function_name: str, **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {"name": function_name, "parameters": {"type": "object", "properties": properties}}


# The tools the outputs below were answering.
FUNCTIONS: list[FunctionSchema] = [
    function("get_current_weather", city="string", state="string", unit="string"),
    function("get_weather", city="string", date="string"),
    function("special_function", arg1="integer"),
    function("special_function_with_opt", arg1="integer", arg2="integer"),
    function("send_message", recipient="string", message="string", priority="string"),
    function("set_options", flags="array", enabled="boolean", ratio="number"),
    function("get_current_date"),
    function("write_file", content="string", mode="integer"),
    function("ping"),
    # LLAMA_CPP_SPARK25's tools.
    function("magic_int", ref="integer", name="string"),
    function("amount", orig="number"),
    function("toggle", enabled="boolean"),
    function("set_config", config="object"),
    function("nested_args", tags="array", entries="array"),
    function("empty_args"),
]

SPECIAL: Call = ("special_function", {"arg1": 1})
DALLAS: Call = ("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})
BEIJING: Call = ("get_weather", {"city": "Beijing", "date": "2025-08-01"})

# VLLM's outputs, indented as in its test file.
DALLAS_CALL = (
    "<tool_call>get_current_weather\n    <arg_key>city</arg_key>\n    <arg_value>Dallas</arg_value>\n"
    "    <arg_key>state</arg_key>\n    <arg_value>TX</arg_value>\n"
    "    <arg_key>unit</arg_key>\n    <arg_value>fahrenheit</arg_value>\n    </tool_call>"
)
BEIJING_CALL = (
    "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n"
    "<arg_key>date</arg_key>\n<arg_value>2025-08-01</arg_value>\n</tool_call>"
)

# VLLM_POOLSIDE's _write_file_tool content.
CODE = "    def f():\n        return 1\n"

REAL_OUTPUTS: list[Case] = [
    # VLLM test_extract_tool_calls "single_tool_call" (GLM-4.5).
    ("vllm-single", DALLAS_CALL, None, [DALLAS]),
    # VLLM "multiple_tool_calls".
    (
        "vllm-parallel",
        DALLAS_CALL + "\n    " + DALLAS_CALL.replace("Dallas", "Orlando").replace("TX", "FL"),
        None,
        [DALLAS, ("get_current_weather", {"city": "Orlando", "state": "FL", "unit": "fahrenheit"})],
    ),
    # VLLM "tool_call_with_chinese_content" (its prose is English in the file).
    (
        "vllm-text-first",
        "I will help you get the weather."
        + BEIJING_CALL.replace("\n<arg", "\n    <arg").replace("\n</tool", "\n    </tool"),
        "I will help you get the weather.",
        [BEIJING],
    ),
    # VLLM test_extract_tool_calls_empty_arguments.
    (
        "vllm-no-arguments",
        "<tool_call>get_current_time\n</tool_call>",
        None,
        [("get_current_time", {})],
    ),
    # VLLM test_extract_tool_calls_mixed_content: text between the calls stays content
    # (vLLM keeps only the text before the first call).
    (
        "vllm-mixed-content",
        "I will help you get the weather info.\n\n"
        + BEIJING_CALL
        + "\n\nmeaningwhile, I will also check the weather in Shanghai.\n\n"
        + BEIJING_CALL.replace("Beijing", "Shanghai"),
        "I will help you get the weather info.\n\n\n\nmeaningwhile, I will also check the weather "
        "in Shanghai.",
        [BEIJING, ("get_weather", {"city": "Shanghai", "date": "2025-08-01"})],
    ),
    # VLLM test_extract_tool_calls_special_characters.
    (
        "vllm-send-message",
        "<tool_call>send_message\n<arg_key>recipient</arg_key>\n<arg_value>Amy</arg_value>\n"
        "<arg_key>message</arg_key>\n<arg_value>It is a nice day</arg_value>\n"
        "<arg_key>priority</arg_key>\n<arg_value>high</arg_value>\n</tool_call>",
        None,
        [("send_message", {"recipient": "Amy", "message": "It is a nice day", "priority": "high"})],
    ),
    # LLAMA_CPP lines 3706-3709 (GLM-4.6): the integer is typed by the schema.
    (
        "llama.cpp-glm-4.6",
        "<tool_call>special_function\n<arg_key>arg1</arg_key>\n<arg_value>1</arg_value>\n</tool_call>",
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP lines 3759-3766 (GLM-4.7-Flash): no line breaks, parallel calls.
    (
        "llama.cpp-glm-4.7-flash-parallel",
        "<tool_call>special_function<arg_key>arg1</arg_key><arg_value>1</arg_value></tool_call>"
        "<tool_call>special_function_with_opt<arg_key>arg1</arg_key><arg_value>1</arg_value>"
        "<arg_key>arg2</arg_key><arg_value>2</arg_value></tool_call>",
        None,
        [SPECIAL, ("special_function_with_opt", {"arg1": 1, "arg2": 2})],
    ),
    # VLLM_GLM47 (GLM-4.7's parser) test_zero_arg_inline: a call without arguments, one line.
    (
        "vllm-glm4.7-zero-args",
        "<tool_call>get_current_date</tool_call>",
        None,
        [("get_current_date", {})],
    ),
    # VLLM_GLM47 test_zero_arg_newline.
    (
        "vllm-glm4.7-zero-args-newline",
        "<tool_call>get_current_date\n</tool_call>",
        None,
        [("get_current_date", {})],
    ),
    # VLLM_GLM47 test_args_same_line: GLM-4.7 writes no line breaks.
    (
        "vllm-glm4.7-same-line",
        "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Beijing</arg_value></tool_call>",
        None,
        [("get_weather", {"city": "Beijing"})],
    ),
    # VLLM_GLM47 test_content_before.
    (
        "vllm-glm4.7-content-before",
        "Checking.<tool_call>get_current_date</tool_call>",
        "Checking.",
        [("get_current_date", {})],
    ),
    # VLLM_GLM47 test_multiple.
    (
        "vllm-glm4.7-parallel",
        "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Beijing</arg_value></tool_call>"
        "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Shanghai</arg_value></tool_call>",
        None,
        [("get_weather", {"city": "Beijing"}), ("get_weather", {"city": "Shanghai"})],
    ),
    # VLLM_GLM47 test_whitespace_content_none: blank text before the call is no content.
    (
        "vllm-glm4.7-blank-before",
        "  \n  <tool_call>get_current_date</tool_call>",
        None,
        [("get_current_date", {})],
    ),
    # VLLM_POOLSIDE test_string_arg_preserves_whitespace: the indent stays (vLLM also keeps
    # the value's last newline; fcproxy drops one newline around a value as layout).
    (
        "vllm-poolside-code-value",
        f"<tool_call>write_file\n<arg_key>content</arg_key>\n<arg_value>{CODE}</arg_value>\n"
        "</tool_call>",
        None,
        [("write_file", {"content": CODE.removesuffix("\n")})],
    ),
    # VLLM_POOLSIDE test_non_string_arg_still_deserialized: " 420 " is the integer.
    (
        "vllm-poolside-padded-integer",
        "<tool_call>write_file\n<arg_key>content</arg_key>\n<arg_value>hi</arg_value>\n"
        "<arg_key>mode</arg_key>\n<arg_value> 420 </arg_value>\n</tool_call>",
        None,
        [("write_file", {"content": "hi", "mode": 420})],
    ),
    # VLLM_POOLSIDE test_no_newline_after_name_non_streaming.
    (
        "vllm-poolside-flush",
        "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>",
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    # VLLM_POOLSIDE test_function_name_with_internal_whitespace_still_parses.
    (
        "vllm-poolside-spaced-name",
        "<tool_call>  get weather  <arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>",
        None,
        [("get weather", {"city": "Paris"})],
    ),
    # VLLM_SPARK3's format: parallel calls flush against the tags, JSON values typed.
    (
        "spark3-parallel",
        "Checking.<tool_call>get_weather<arg_key>city</arg_key><arg_value>Oslo</arg_value>"
        '</tool_call><tool_call>set_options<arg_key>flags</arg_key><arg_value>["a"]</arg_value>'
        "<arg_key>enabled</arg_key><arg_value>false</arg_value></tool_call>",
        "Checking.",
        [("get_weather", {"city": "Oslo"}), ("set_options", {"flags": ["a"], "enabled": False})],
    ),
    # VLLM_SPARK3 keeps a string value as written (no strip).
    (
        "spark3-spaces-kept",
        "<tool_call>send_message<arg_key>message</arg_key><arg_value>  hi  </arg_value></tool_call>",
        None,
        [("send_message", {"message": "  hi  "})],
    ),
    # VLLM_LING3 test_ling3_tool_call_without_newline (Ling 3).
    (
        "vllm-ling3-no-newline",
        "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Beijing</arg_value></tool_call>",
        None,
        [("get_weather", {"city": "Beijing"})],
    ),
    # VLLM_LING3 test_ling3_tool_call_without_args.
    ("vllm-ling3-no-arguments", "<tool_call>ping</tool_call>", None, [("ping", {})]),
    # LLAMA_CPP_SPARK25: text, then six calls flush against each other (strings, numbers,
    # a boolean, JSON objects and lists, a call without arguments).
    (
        "llama.cpp-spark2.5-six-calls",
        "Preparing updates."
        "<tool_call>magic_int<arg_key>ref</arg_key><arg_value>42</arg_value>"
        "<arg_key>name</arg_key><arg_value>上海</arg_value></tool_call>"
        "<tool_call>amount<arg_key>orig</arg_key><arg_value>2.5</arg_value></tool_call>"
        "<tool_call>toggle<arg_key>enabled</arg_key><arg_value>true</arg_value></tool_call>"
        "<tool_call>set_config<arg_key>config</arg_key>"
        '<arg_value>{"source": "spark", "options": {"strict": true}}</arg_value></tool_call>'
        '<tool_call>nested_args<arg_key>tags</arg_key><arg_value>["alpha", "测试"]</arg_value>'
        '<arg_key>entries</arg_key><arg_value>[{"id": 1, "label": "first"}, '
        '{"id": 2, "label": "第二"}]</arg_value></tool_call>'
        "<tool_call>empty_args</tool_call>",
        "Preparing updates.",
        [
            ("magic_int", {"ref": 42, "name": "上海"}),
            ("amount", {"orig": 2.5}),
            ("toggle", {"enabled": True}),
            ("set_config", {"config": {"source": "spark", "options": {"strict": True}}}),
            (
                "nested_args",
                {
                    "tags": ["alpha", "测试"],
                    "entries": [{"id": 1, "label": "first"}, {"id": 2, "label": "第二"}],
                },
            ),
            ("empty_args", {}),
        ],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM_GLM47_STRAY test_two_stray_then_real / test_stray_with_args (vLLM issue 60703):
    # a stray opener right before the call is not a call of its own.
    (
        "vllm-glm4.7-stray-openers",
        "text <tool_call><tool_call>get_current_date</tool_call>",
        "text",
        [("get_current_date", {})],
    ),
    (
        "vllm-glm4.7-stray-opener-with-arguments",
        "prose <tool_call><tool_call>get_weather<arg_key>city</arg_key><arg_value>BJ</arg_value>"
        "</tool_call>",
        "prose",
        [("get_weather", {"city": "BJ"})],
    ),
    # VLLM_GLM47_STRAY test_stray_then_real_call.
    (
        "vllm-glm4.7-opener-in-prose",
        "Fetching. I will issue a <tool_call>get_current_date</tool_call>",
        "Fetching. I will issue a",
        [("get_current_date", {})],
    ),
    (
        "json-values-as-glm-writes-them",
        '<tool_call>set_options\n<arg_key>flags</arg_key>\n<arg_value>["a", "b"]</arg_value>\n'
        "<arg_key>enabled</arg_key>\n<arg_value>true</arg_value>\n"
        "<arg_key>ratio</arg_key>\n<arg_value>0.5</arg_value>\n</tool_call>",
        None,
        [("set_options", {"flags": ["a", "b"], "enabled": True, "ratio": 0.5})],
    ),
    (
        "a-multiline-value",
        "<tool_call>send_message\n<arg_key>message</arg_key>\n<arg_value>Hi,\nsee you</arg_value>\n"
        "</tool_call>",
        None,
        [("send_message", {"message": "Hi,\nsee you"})],
    ),
    (
        "end-tokens",
        "<tool_call>special_function\n<arg_key>arg1</arg_key>\n<arg_value>1</arg_value>\n</tool_call>"
        "<|observation|>",
        None,
        [SPECIAL],
    ),
]

MESSY_OUTPUTS += [
    # SGLANG_LING3: Ling 3 may write the newline after the name escaped.
    (
        "ling3-escaped-newline-after-the-name",
        "<tool_call>get_weather\\n<arg_key>city</arg_key>\n<arg_value>Oslo</arg_value>\n</tool_call>",
        None,
        [("get_weather", {"city": "Oslo"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-prose", "This is a test"),
    ("html", "Wrap it in <b>bold</b>."),
]

BROKEN: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_incomplete_tool_call: cut off before </tool_call>.
    (
        "vllm-incomplete",
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n"
        "<arg_key>date</arg_key>\n<arg_value>2025-08-01</arg_value>",
    ),
    # VLLM test_extract_tool_calls_malformed_xml: a key without its closing tag.
    (
        "vllm-malformed",
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Seattle</arg_value>\n"
        "<arg_key>incomplete_arg\n<arg_value>value</arg_value>\n</tool_call>",
    ),
    ("hermes-json-inside", '<tool_call>\n{"name": "get_weather", "arguments": {}}\n</tool_call>'),
    # VLLM_POOLSIDE test_whitespace_only_tool_call_name_is_rejected and
    # test_whitespace_padded_tool_call_is_not_quadratic: no name (vLLM leaves them as content).
    ("vllm-poolside-blank-name", "<tool_call>   </tool_call>"),
    ("vllm-poolside-padded-junk", "<tool_call>" + " " * 4096 + "<x</tool_call>"),
]

REASONING: list[ReasoningCase] = [
    # VLLM test_extract_tool_calls_with_thinking_tags (vLLM leaves the block in the content).
    (
        "vllm-thinking",
        "<think>I want to get the weather.</think>\n\nI will help you get the weather.\n"
        + BEIJING_CALL,
        "I want to get the weather.",
        "I will help you get the weather.",
        [BEIJING],
    ),
    # LLAMA_CPP lines 3744-3748 (GLM-4.7-Flash): the template opened the block.
    (
        "llama.cpp-forced-open-thinking",
        "I'm\nthinking</think><tool_call>special_function<arg_key>arg1</arg_key><arg_value>1</arg_value>"
        "</tool_call>",
        "I'm\nthinking",
        None,
        [SPECIAL],
    ),
    # VLLM_GLM47 test_tool_call_without_think_end (GLM-4.7, and Ling 3 on its parser):
    # a call ends a reasoning block that was never closed.
    (
        "glm-4.7-call-ends-the-thought",
        "<think>Oslo, then.<tool_call>get_weather<arg_key>city</arg_key>"
        "<arg_value>Oslo</arg_value></tool_call>",
        "Oslo, then.",
        None,
        [("get_weather", {"city": "Oslo"})],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        "<think>maybe <tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Oslo</arg_value>\n"
        "</tool_call></think>It is sunny.",
        "maybe <tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Oslo</arg_value>\n"
        "</tool_call>",
        "It is sunny.",
        [],
    ),
]


@pytest.mark.parametrize("variant", variants())
def test_renders_what_the_chat_template_renders(variant: str) -> None:
    assert rendering(NAME, variant) == golden_text(NAME, variant)


def test_past_non_string_values_are_json() -> None:
    assert "<arg_key>days</arg_key>\n<arg_value>3</arg_value>" in rendering(NAME)


def test_detection_tells_it_from_hermes() -> None:
    assert detect_format(BEIJING_CALL) == NAME
    assert detect_format("<tool_call>get_current_time\n</tool_call>") == NAME
    assert detect_format('<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>') == "hermes"


def test_registered() -> None:
    assert_registered(NAME, Glm4Wrapper, ("glm-4.5", "glm-4.6"))
