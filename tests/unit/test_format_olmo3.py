"""``olmo3``: AI2 OLMo 3, Python calls one per line in ``<function_calls>`` tags.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.olmo3 import Olmo3Wrapper
from wrappers.registry import get_wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "olmo3"

# Sources of the real outputs below (and TEMPLATE, of the rendering).
VLLM = "https://github.com/vllm-project/vllm/blob/b8e2ae53118788825a047d2cd6fc2288266eeeaa/tests/tool_parsers/test_olmo3_tool_parser.py"
TEMPLATE = "https://github.com/vllm-project/vllm/blob/2e30b474731f235b021ecf9821124116786dfce5/examples/tool_chat_template_olmo3.jinja"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "metric": {"type": "string"}},
        },
    },
    {"name": "register_user", "parameters": {"type": "object", "properties": {}}},
    {"name": "do_something_cool", "parameters": {"type": "object", "properties": {}}},
]

SIMPLE = "get_weather(city='San Francisco', metric='celsius')"
SIMPLE_CALL: Call = ("get_weather", {"city": "San Francisco", "metric": "celsius"})
MORE_TYPES = (
    "register_user(name='John Doe', age=37, address={'city': 'San Francisco', 'state': 'CA'}, "
    "role=None, passed_test=True, aliases=['John', 'Johnny'])"
)
MORE_TYPES_CALL: Call = (
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


def block(*calls: str) -> str:
    return "<function_calls>" + "\n".join(calls) + "</function_calls>"


REAL_OUTPUTS: list[Case] = [
    # VLLM "simple".
    ("vllm-simple", block(SIMPLE), None, [SIMPLE_CALL]),
    # VLLM "more_types".
    ("vllm-more-types", block(MORE_TYPES), None, [MORE_TYPES_CALL]),
    # VLLM "more_types_json_literals".
    (
        "vllm-json-literals",
        block(MORE_TYPES.replace("None", "null").replace("True", "true")),
        None,
        [MORE_TYPES_CALL],
    ),
    # VLLM "parameterless", "empty_dict", "empty_list".
    ("vllm-parameterless", block("get_weather()"), None, [("get_weather", {})]),
    (
        "vllm-empty-dict",
        block("do_something_cool(additional_data={})"),
        None,
        [("do_something_cool", {"additional_data": {}})],
    ),
    (
        "vllm-empty-list",
        block("do_something_cool(steps=[])"),
        None,
        [("do_something_cool", {"steps": []})],
    ),
    # VLLM "escaped_string".
    (
        "vllm-escaped-string",
        block(r"get_weather(city='Martha\'s Vineyard', metric='\"cool units\"')"),
        None,
        [("get_weather", {"city": "Martha's Vineyard", "metric": '"cool units"'})],
    ),
    # VLLM "parallel_calls" (one call per line).
    ("vllm-parallel", block(SIMPLE, MORE_TYPES), None, [SIMPLE_CALL, MORE_TYPES_CALL]),
    # TEMPLATE's layout: the tags on their own lines.
    (
        "template-layout",
        "<function_calls>\nget_weather(city='Paris')\nget_weather(city='Rome')\n</function_calls>",
        None,
        [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "a-list-between-the-tags",
        block("[get_weather(city='Paris'), get_weather(city='Rome')]"),
        None,
        [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})],
    ),
    (
        "prose-before-and-end-of-turn",
        "Let me look.\n" + block(SIMPLE) + "<|im_end|>",
        "Let me look.",
        [SIMPLE_CALL],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_no_tool_call.
    ("vllm-plain", "How can I help you today?"),
    ("python-in-prose", "Call get_weather(city='Paris') yourself."),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", "<function_calls>get_weather(city='San"),
    ("not-python", block("get_weather(city=")),
    ("not-a-call", block("import os")),
]

REASONING: list[ReasoningCase] = [
    (
        "think-then-call",
        "<think>The user wants the weather.</think>" + block(SIMPLE),
        "The user wants the weather.",
        None,
        [SIMPLE_CALL],
    ),
]

MESSAGES = [
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns(
        [
            ("get_weather", {"city": "Paris", "days": 2}),
            ("get_weather", {"city": "Rome", "rain": True}),
        ],
        [" sunny ", "rain"],
        ids=["call_1", "call_2"],
        named_results=True,
    ),
]
# TEMPLATE rendered by hand (transformers' Jinja settings), its bos_token left out.
GOLDEN = (
    "<|im_start|>system\nYou are a helpful function-calling AI assistant.\n\n"
    "You have access to the following functions. To call functions, respond with a pythonic "
    "function call wrapped in <function_calls></function_calls> XML tags.\n\n"
    "For example, to call a function named 'get_weather' with parameters city='New York' and "
    "units='celsius', respond with:\n<function_calls>\nget_weather(city='New York', "
    "units='celsius')\n</function_calls>\n\nYou can call multiple functions by putting each "
    "call on a new line within the tags:\n<function_calls>\nfunction1(param1='value1')\n"
    "function2(param2='value2')\n</function_calls>\n\nHere are the available functions:\n"
    '<functions>\n{"name": "get_weather", "parameters": {"type": "object", "properties": '
    '{"city": {"type": "string"}, "metric": {"type": "string"}}}}\n</functions><|im_end|>\n'
    "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
    "<|im_start|>assistant\n<function_calls>\nget_weather(city='Paris', days=2)\n"
    "get_weather(city='Rome', rain=true)\n</function_calls><|im_end|>\n"
    "<|im_start|>tool\nFunction get_weather returned:\nsunny<|im_end|>\n"
    "<|im_start|>tool\nFunction get_weather returned:\nrain<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def test_renders_the_chat_template_layout() -> None:
    assert get_wrapper(NAME).render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_without_tools_the_system_turn_says_so() -> None:
    text = get_wrapper(NAME).render([{"role": "user", "content": "Hi"}], []).text
    assert text.startswith(
        "<|im_start|>system\nYou are a helpful function-calling AI assistant.\n"
        "You do not currently have access to any functions.<|im_end|>\n"
    )


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template('{{- "\\n<function_calls>\\nget_weather(...)" }}') == NAME


def test_registered() -> None:
    assert_registered(NAME, Olmo3Wrapper, ("olmo-3",))
