"""``solar-open-100b``: Upstage Solar Open, ``<|tool_call:begin|>ID<|tool_call:name|>NAME<|tool_call:args|>{...}``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py. The chat template was not at hand: the
rendering tests check what the sources say of it (below), not a golden.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.solar_open import SolarOpenWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "solar-open-100b"

# Sources. UPSTAGE: Upstage's tool parser as mlx-openai-server ships it (a call's
# tokens; the text before the first call is content; calls back to back).
UPSTAGE = "https://github.com/cubist38/mlx-openai-server/blob/1a07b68caeced865440b9b2b2ce3f77d35ae40e1/app/parsers/solar_open.py"
# VLLM_REASONING: the Solar Open reasoning parser's tests in a vLLM fork: whole
# outputs (reasoning message, then the answer's message of content or calls), the
# low-effort answer starting at <|content|>, and the generation prompt
# "<|begin|>assistant" (test_high_effort_prompt_not_ended).
VLLM_REASONING = "https://github.com/oesni/vllm/blob/65d930dcf9dcb66bcaa520c7e7f69ad9b07e9da9/tests/reasoning/test_solar_open_reasoning_parser.py"
# LLAMA_CPP: llama.cpp detects the template by its <|tool_response:begin|>,
# <|tool_response:name|> and <|tool_response:result|> tokens.
LLAMA_CPP = (
    "ggml-org/llama.cpp common/chat.cpp, common_chat_templates_apply_jinja: the Solar Open"
    " check before common_chat_params_init_solar_open (COMMON_CHAT_FORMAT_SOLAR_OPEN, January 2026)"
)

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
]

SEOUL = (
    "<|tool_call:begin|>a1b2c3d4e5<|tool_call:name|>get_weather"
    '<|tool_call:args|>{"city": "Seoul"}<|tool_call:end|>'
)
SEOUL_CALL: Call = ("get_weather", {"city": "Seoul"})
TIME = (
    "<|tool_call:begin|>a1b2c3d4e5<|tool_call:name|>get_time<|tool_call:args|>{}<|tool_call:end|>"
)

REAL_OUTPUTS: list[Case] = [
    # VLLM_REASONING test_tool_calls_only.
    ("vllm-tool-calls-only", f"<|tool_calls|>{TIME}", None, [("get_time", {})]),
    # VLLM_REASONING test_content_only (reasoning_effort low: no reasoning message).
    ("vllm-low-effort-content", "<|content|>Hello!", "Hello!", []),
    # UPSTAGE reads the calls one after another to the end of the section.
    (
        "upstage-parallel",
        f"<|tool_calls|>{SEOUL}{TIME}<|calls|>",
        None,
        [SEOUL_CALL, ("get_time", {})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # A text message ended by <|flush|> (not content).
    ("flushed-text", "Plain answer.<|flush|>", "Plain answer.", []),
    # Text before the calls, ended by <|flush|> (Upstage's parser reads it as content).
    (
        "content-flushed-before-calls",
        "Checking the weather.<|flush|><|tool_calls|><|tool_call:begin|><|tool_call:name|>"
        'get_weather<|tool_call:args|>{"city": "Seoul"}<|tool_call:end|><|calls|>',
        "Checking the weather.",
        [SEOUL_CALL],
    ),
    # A content message, then a calls message: both in one answer.
    (
        "content-message-then-calls-message",
        "<|content|>Let me check.\n<|end|><|begin|>assistant<|tool_calls|>" + SEOUL,
        "Let me check.",
        [SEOUL_CALL],
    ),
    (
        "no-begin-token-nor-id",
        '<|tool_call:name|>get_weather<|tool_call:args|>{"city": "Seoul"}',
        None,
        [SEOUL_CALL],
    ),
    (
        "end-token-missing",
        "<|tool_calls|><|tool_call:begin|>1<|tool_call:name|>get_weather"
        '<|tool_call:args|>{"city": "Seoul"}<|calls|>',
        None,
        [SEOUL_CALL],
    ),
    (
        "broken-json-in-the-call",
        "<|tool_calls|><|tool_call:begin|>1<|tool_call:name|>get_weather"
        "<|tool_call:args|>{'city': 'Seoul',}<|tool_call:end|>",
        None,
        [SEOUL_CALL],
    ),
    (
        "calls-on-lines",
        f"<|tool_calls|>\n{SEOUL}\n{TIME}\n<|calls|>",
        None,
        [SEOUL_CALL, ("get_time", {})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("plain", "It is sunny in Seoul today."),
]

BROKEN: list[tuple[str, str]] = [
    (
        "arguments-cut-off",
        '<|tool_calls|><|tool_call:begin|>1<|tool_call:name|>get_weather<|tool_call:args|>{"city": "Seo',
    ),
]

REASONING: list[ReasoningCase] = [
    # VLLM_REASONING test_reasoning_and_tool_calls.
    (
        "vllm-reasoning-then-calls",
        "<|think|>I should call a tool.<|end|><|begin|>assistant<|tool_calls|>" + SEOUL,
        "I should call a tool.",
        None,
        [SEOUL_CALL],
    ),
    # VLLM_REASONING test_reasoning_and_content.
    (
        "vllm-reasoning-then-content",
        "<|think|>Let me think.<|end|><|begin|>assistant<|content|>The answer is 42.",
        "Let me think.",
        "The answer is 42.",
        [],
    ),
    # VLLM_REASONING test_truncated_reasoning: max_tokens reached in the thought.
    ("vllm-truncated-reasoning", "<|think|>Still thinking", "Still thinking", None, []),
    (
        "a-call-in-the-thought-is-not-a-call",
        f"<|think|>maybe {SEOUL}<|end|><|begin|>assistant<|content|>Sunny.",
        f"maybe {SEOUL}",
        "Sunny.",
        [],
    ),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Seoul?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "x",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Seoul"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "x", "content": "sunny"},
]


def test_renders_turns_tools_calls_and_results_with_the_templates_tokens() -> None:
    text = SolarOpenWrapper().render(MESSAGES, FUNCTIONS[:1]).text
    assert text.startswith("<|begin|>system<|content|>Be brief.\n\n")
    assert '<|tools:begin|>{"type": "function", "function": {"name": "get_weather"' in text
    assert "<|begin|>user<|content|>Weather in Seoul?<|end|>" in text
    # A past call as the model writes one (ids: the calls' positions).
    assert (
        "<|begin|>assistant<|tool_calls|><|tool_call:begin|>0<|tool_call:name|>get_weather"
        '<|tool_call:args|>{"city": "Seoul"}<|tool_call:end|><|calls|>'
    ) in text
    # LLAMA_CPP's markers of the template, the result answering call 0.
    assert (
        "<|begin|>tool<|tool_response:begin|>0<|tool_response:name|>get_weather"
        "<|tool_response:result|>sunny<|tool_response:end|><|end|>"
    ) in text
    # VLLM_REASONING: the prompt ends with the generation header.
    assert text.endswith("<|end|><|begin|>assistant")


def test_a_rendered_past_call_reads_back() -> None:
    text = SolarOpenWrapper().render(MESSAGES[:3], FUNCTIONS[:1]).text
    # The last calls message (the system turn shows the format too).
    past = text[text.rindex("<|tool_calls|>") : text.rindex("<|calls|>") + len("<|calls|>")]
    parsed = SolarOpenWrapper().parse(past, FUNCTIONS)
    assert [(c.name, c.arguments) for c in parsed.tool_calls] == [
        ("get_weather", '{"city": "Seoul"}')
    ]


def test_without_tools_or_system_there_is_no_system_turn() -> None:
    text = SolarOpenWrapper().render([{"role": "user", "content": "Hi"}], []).text
    assert text == "<|begin|>user<|content|>Hi<|end|><|begin|>assistant"


def test_the_grammar_writes_a_calls_message() -> None:
    text = SolarOpenWrapper().call_grammar(FUNCTIONS, None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(f"<|tool_calls|>{SEOUL}{TIME}<|calls|>")
    assert not grammar.matches(
        '<|tool_calls|><|tool_call:begin|>1<|tool_call:name|>get_weather<|tool_call:args|>{"city": 1}'
        "<|tool_call:end|><|calls|>"
    )


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    template = (
        "{{- '<|tool_response:begin|>' + id + '<|tool_response:name|>' + name"
        " + '<|tool_response:result|>' }}"
    )
    assert wrapper_for_template(template) == NAME


def test_registered() -> None:
    assert_registered(NAME, SolarOpenWrapper, ("solar-open", "solar_open"))
