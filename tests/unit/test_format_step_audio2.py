"""``step-audio-2``: StepFun Step-Audio 2, ``<tool_call>function\\nNAME\\n{...}</tool_call>``.

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
from wrappers.step_audio2 import StepAudio2Wrapper
from wrappers.template_detection import wrapper_for_template

NAME = "step-audio-2"

# Sources: the reference parser (its format comment and its reading of a call) and
# the tokenizer whose rendering of past calls and turns is the prompt's golden.
VLLM = "https://github.com/vllm-project/vllm/blob/484a5a5a5b478858ce8b091fbfe201c0fbaae08f/vllm/tool_parsers/step_audio_2_tool_parser.py"
VLLM_TOKENIZER = "https://github.com/vllm-project/vllm/blob/09f811293a9e8a161d2a26ef9e59537edccf9b6c/vllm/tokenizers/step_audio_2.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "forecast_weather",
        "description": "Weather forecast",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
    {
        "name": "search",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
    },
    {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
]

# VLLM's format comment: "function\nforecast_weather\n{"location": "shanghai"}".
SHANGHAI = '<tool_call>function\nforecast_weather\n{"location": "shanghai"}</tool_call>'
SHANGHAI_CALL: Call = ("forecast_weather", {"location": "shanghai"})
SEARCH = '<tool_call>function\nsearch\n{"query": "weather"}</tool_call>'

REAL_OUTPUTS: list[Case] = [
    ("vllm-format-comment", SHANGHAI, None, [SHANGHAI_CALL]),
    # VLLM extract_tool_calls: text before, calls back to back, text after them.
    (
        "vllm-text-and-parallel-calls",
        f"Let me check.{SHANGHAI}{SEARCH}",
        "Let me check.",
        [SHANGHAI_CALL, ("search", {"query": "weather"})],
    ),
    (
        "vllm-no-arguments",
        "<tool_call>function\nget_time\n{}</tool_call>",
        None,
        [("get_time", {})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    ("end-of-turn", SHANGHAI + "<|EOT|>", None, [SHANGHAI_CALL]),
    (
        "without-the-type-line",
        '<tool_call>forecast_weather\n{"location": "shanghai"}</tool_call>',
        None,
        [SHANGHAI_CALL],
    ),
    (
        "closing-tag-missing",
        '<tool_call>function\nforecast_weather\n{"location": "shanghai"}',
        None,
        [SHANGHAI_CALL],
    ),
    (
        "broken-json-in-the-call",
        "<tool_call>function\nforecast_weather\n{'location': 'shanghai',}</tool_call>",
        None,
        [SHANGHAI_CALL],
    ),
    (
        "calls-on-lines",
        f"{SHANGHAI}\n{SEARCH}",
        None,
        [SHANGHAI_CALL, ("search", {"query": "weather"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("plain", "It is sunny in Shanghai today."),
    # Hermes' JSON in the same tag is not this format's call (it reads as content).
    ("hermes-json-tag", '<tool_call>\n{"name": "unknown_tool", "arguments": {}}\n</tool_call>'),
]

BROKEN: list[tuple[str, str]] = [
    ("arguments-cut-off", '<tool_call>function\nforecast_weather\n{"location": "shan'),
]

REASONING: list[ReasoningCase] = [
    # Step-Audio 2 mini Think reasons first in <think> tags.
    (
        "think-then-call",
        f"<think>Need the forecast.</think>\n{SHANGHAI}",
        "Need the forecast.",
        None,
        [SHANGHAI_CALL],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"<think>{SHANGHAI}</think>Sunny.",
        SHANGHAI,
        "Sunny.",
        [],
    ),
]

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Weather in Shanghai?"},
    *call_turns(
        [SHANGHAI_CALL, ("search", {"query": "weather"})], ["sunny", "found"], content="Checking."
    ),
]
# VLLM_TOKENIZER's apply_chat_template_no_trans for MESSAGES (results named by
# the call their tool_call_id answers).
GOLDEN = (
    "<|BOT|>system\nYou are a helpful assistant.<|EOT|><|BOT|>tool_json_schemas\n"
    '[{"type": "function", "function": {"name": "forecast_weather", "description": "Weather forecast", '
    '"parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]<|EOT|>'
    "<|BOT|>human\nWeather in Shanghai?<|EOT|><|BOT|>assistant\nChecking."
    f"{SHANGHAI}{SEARCH}<|EOT|>"
    "<|BOT|>function_output\nforecast_weather\nsunny<|EOT|>"
    "<|BOT|>function_output\nsearch\nfound<|EOT|><|BOT|>assistant\n"
)


def test_renders_the_tokenizers_layout() -> None:
    assert StepAudio2Wrapper().render(MESSAGES, FUNCTIONS[:1]).text == GOLDEN


def test_without_a_system_message_the_tools_turn_follows_an_open_system_turn() -> None:
    # VLLM_TOKENIZER writes "<|BOT|>system\n" and no end of turn before the tools.
    text = StepAudio2Wrapper().render([{"role": "user", "content": "Hi"}], FUNCTIONS[2:]).text
    assert text.startswith("<|BOT|>system\n<|BOT|>tool_json_schemas\n[")
    assert StepAudio2Wrapper().render([{"role": "user", "content": "Hi"}], []).text == (
        "<|BOT|>human\nHi<|EOT|><|BOT|>assistant\n"
    )


def test_the_grammar_writes_calls_back_to_back() -> None:
    text = StepAudio2Wrapper().call_grammar(FUNCTIONS[:2], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(SHANGHAI + SEARCH)
    assert not grammar.matches('<tool_call>function\nforecast_weather\n{"location": 1}</tool_call>')


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{{ '<|BOT|>tool_json_schemas\\n' + tools | tojson }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, StepAudio2Wrapper, ("step_audio_2", "stepaudio2"))
