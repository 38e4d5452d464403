"""``inkling``: Thinking Machines Inkling, typed message blocks and ``{"name", "args"}`` calls.

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
from wrappers.inkling import InklingWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "inkling"

# Sources of the real outputs below, and TEMPLATE of the rendering.
VLLM = "https://github.com/vllm-project/vllm/blob/86aee33dbbea72fb80124c3580abc15fc0c88b95/tests/parser/engine/test_inkling.py"
TEMPLATE = "https://github.com/lightseekorg/tokenspeed/blob/bdb8becd784f0b5ccd35e6b5d2aa0b8108cf2427/python/tokenspeed/runtime/chat_templates/inkling.jinja"

MSG_MODEL = "<|message_model|>"
TEXT = "<|content_text|>"
THINK = "<|content_thinking|>"
TOOL_JSON = "<|content_invoke_tool_json|>"
END = "<|end_message|>"
END_SAMPLING = "<|content_model_end_sampling|>"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
    {"name": "write_file", "parameters": {"type": "object", "properties": {}}},
]


def tool_block(name: str, args: str) -> str:
    """VLLM's ``_tool_block``: one call block as the model writes it."""
    return f'{TOOL_JSON}{{"name":"{name}","args":{args}}}{END}'


SF: Call = ("get_weather", {"city": "SF"})

REAL_OUTPUTS: list[Case] = [
    # VLLM TestNonStreaming.test_plain_text.
    ("vllm-plain-text", f"{TEXT}hello world{END}", "hello world", []),
    # VLLM test_tool_header_name_is_not_visible_content: the message's name is its header.
    ("vllm-header-name", "get_weather" + tool_block("get_weather", '{"city":"SF"}'), None, [SF]),
    # VLLM test_parallel_tool_calls.
    (
        "vllm-parallel",
        tool_block("a", "{}") + MSG_MODEL + tool_block("b", '{"x":[1,2]}'),
        None,
        [("a", {}), ("b", {"x": [1, 2]})],
    ),
    # VLLM test_nested_args: a "}" inside a string does not end the call.
    (
        "vllm-nested-args",
        tool_block("f", '{"q":{"deep":{"list":[{"k":"v"}]}},"s":"a}b"}'),
        None,
        [("f", {"q": {"deep": {"list": [{"k": "v"}]}}, "s": "a}b"})],
    ),
    # VLLM test_invoke_tool_text_is_visible_text / test_tool_error_is_visible_text.
    ("vllm-invoke-tool-text", f"<|content_invoke_tool_text|>do something{END}", "do something", []),
    ("vllm-tool-error", f"<|content_tool_error|>boom{END}", "boom", []),
    # VLLM test_text_after_tool_call.
    (
        "vllm-text-after-call",
        tool_block("f", "{}") + f"{MSG_MODEL}{TEXT}done{END}",
        "done",
        [("f", {})],
    ),
    # VLLM TestStreaming.test_chunk_invariance_tool_call.
    (
        "vllm-text-then-call",
        f"{TEXT}Check this.{END}{MSG_MODEL}"
        + tool_block("get_weather", '{"city":"San Francisco"}'),
        "Check this.",
        [("get_weather", {"city": "San Francisco"})],
    ),
    # VLLM test_prose_marker_without_token_ids_is_structural: a marker in the text is a marker.
    ("vllm-marker-in-text", f"{TEXT}see {TEXT} token{END}", "see  token", []),
]

MESSY_OUTPUTS: list[Case] = [
    # The template adds no generation prompt: the model writes its own header, and
    # ends its turn with the end-of-sampling token.
    (
        "own-header-and-end-of-sampling",
        f"{MSG_MODEL}get_weather" + tool_block("get_weather", '{"city":"SF"}') + END_SAMPLING,
        None,
        [SF],
    ),
    # Sorted keys, as a renderer that sorts the payload writes it.
    (
        "args-before-name",
        f'{MSG_MODEL}write_file{TOOL_JSON}{{"args":{{"path":"x.txt"}},"name":"write_file"}}{END}',
        None,
        [("write_file", {"path": "x.txt"})],
    ),
    (
        "arguments-key",
        f'{TOOL_JSON}{{"name": "get_weather", "arguments": {{"city": "SF"}}}}{END}',
        None,
        [SF],
    ),
    (
        "trailing-comma-and-single-quotes",
        f"{TOOL_JSON}{{'name': 'get_weather', 'args': {{'city': 'SF',}}}}{END}",
        None,
        [SF],
    ),
    (
        "no-end-message-before-end-of-sampling",
        f'{TOOL_JSON}{{"name":"get_weather","args":{{"city":"SF"}}}}{END_SAMPLING}',
        None,
        [SF],
    ),
    (
        "bare-json-without-blocks",
        '{"name": "get_weather", "arguments": {"city": "SF"}}',
        None,
        [SF],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("prose", "The weather in Paris is sunny today."),
    ("json-that-is-not-a-call", 'The settings are {"city": "SF"}.'),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off-inside-a-value", f'{TOOL_JSON}{{"name":"get_weather","args":{{"city":"S'),
    ("cut-off-after-the-marker", f"{TEXT}Let me check.{END}{MSG_MODEL}get_weather{TOOL_JSON}"),
]

REASONING: list[ReasoningCase] = [
    # VLLM test_reasoning_text_tool.
    (
        "vllm-reasoning-text-call",
        f"{THINK}I should check the weather.{END}{MSG_MODEL}{TEXT}Let me check.{END}{MSG_MODEL}"
        + tool_block("get_weather", '{"city":"SF"}'),
        "I should check the weather.",
        "Let me check.",
        [SF],
    ),
    # VLLM test_end_sampling_closes_blocks.
    (
        "vllm-end-sampling-closes-blocks",
        f"{THINK}hm{END}{MSG_MODEL}{TEXT}hi{END_SAMPLING}",
        "hm",
        "hi",
        [],
    ),
    # VLLM test_multiple_reasoning_blocks_concatenate.
    (
        "vllm-reasoning-blocks-join",
        f"{THINK}one{END}{MSG_MODEL}{TEXT}mid{END}{MSG_MODEL}{THINK}two{END}",
        "onetwo",
        "mid",
        [],
    ),
    # VLLM inkling_config: a call opened inside an unclosed thinking block ends it.
    (
        "call-inside-an-unclosed-thinking-block",
        f"{THINK}I should check." + tool_block("get_weather", '{"city":"SF"}'),
        "I should check.",
        None,
        [SF],
    ),
    # A call written inside a closed thinking block is reasoning, not a call.
    (
        "json-call-in-closed-thinking",
        f'{THINK}maybe {{"name": "get_weather", "arguments": {{"city": "SF"}}}}{END}'
        f"{MSG_MODEL}{TEXT}It is sunny.{END}",
        'maybe {"name": "get_weather", "arguments": {"city": "SF"}}',
        "It is sunny.",
        [],
    ),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    *call_turns([("get_weather", {"city": "Paris"})], ["sunny"]),
    {"role": "assistant", "content": "Sunny."},
    {"role": "user", "content": "Thanks"},
]
# TEMPLATE rendered with jinja2 (its test's tojson), the past call's arguments
# given as an object (the template copies a string of arguments as it is; fcproxy
# writes them compact, as the template writes an object).
GOLDEN = (
    '<|message_system|>tool_declare<|content_xml|>[{"description":"Get the weather",'
    '"name":"get_weather","parameters":{"properties":{"city":{"type":"string"}},'
    '"required":["city"],"type":"object"},"type":"function"}]<|end_message|>'
    "<|message_system|><|content_text|>Be brief.<|end_message|>"
    "<|message_user|><|content_text|>Weather in Paris?<|end_message|>"
    "<|message_model|>get_weather<|content_invoke_tool_json|>"
    '{"name":"get_weather","args":{"city":"Paris"}}<|end_message|><|content_model_end_sampling|>'
    "<|message_tool|><|content_text|>sunny<|end_message|>"
    "<|message_model|><|content_text|>Sunny.<|end_message|><|content_model_end_sampling|>"
    "<|message_user|><|content_text|>Thanks<|end_message|>"
)


def test_renders_what_the_chat_template_renders() -> None:
    assert InklingWrapper().render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_without_tools_there_is_no_declaration_and_no_generation_prompt() -> None:
    # TEMPLATE: "add_generation_prompt deliberately emits no suffix".
    text = InklingWrapper().render([{"role": "user", "content": "hi"}], []).text
    assert text == "<|message_user|><|content_text|>hi<|end_message|>"


def test_the_grammar_is_call_messages() -> None:
    text = InklingWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    one = f"{MSG_MODEL}get_weather" + tool_block("get_weather", '{"city":"SF"}')
    assert grammar.matches(one)
    assert grammar.matches(one + one)
    # The header may be left out, not named after another function.
    assert grammar.matches(MSG_MODEL + tool_block("get_weather", '{"city":"SF"}'))
    assert not grammar.matches(
        f"{MSG_MODEL}write_file" + one.removeprefix(MSG_MODEL + "get_weather")
    )


def test_a_text_answer_does_not_trigger_the_lazy_grammar() -> None:
    triggers = InklingWrapper().lazy_grammar_triggers(FUNCTIONS)
    assert f"{MSG_MODEL}get_weather{TOOL_JSON}" in triggers
    assert not any(f"{MSG_MODEL}{TEXT}Sunny.{END}".startswith(t) for t in triggers)


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format("get_weather" + tool_block("get_weather", '{"city":"SF"}')) == NAME
    template = '<|message_model|>{{ fn.name }}<|content_invoke_tool_json|>{"name":'
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, InklingWrapper, ("inkling-small",))
