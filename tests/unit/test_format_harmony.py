"""``harmony``: gpt-oss, messages on channels and calls addressed to ``functions.NAME``.

The tables are read through both paths by tests/unit/test_case_tables.py
and tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema, RenderOptions
from wrappers.detection import detect_format
from wrappers.harmony import HarmonyWrapper
from wrappers.registry import get_wrapper

NAME = "harmony"

# Sources of the real outputs below. LLAMA_CPP: the GPT-OSS block of test-chat.cpp
# (template models/templates/openai-gpt-oss-120b.jinja; e7e21164 is the newest
# stored commit of the file). VLLM: outputs rendered by openai_harmony in the tests.
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/e7e21164bdf5434e3453777fd27e68cdc0ebfe94/tests/test-chat.cpp"
VLLM = "https://github.com/vllm-project/vllm/blob/15c99cb111e626d885d7f54a0b57dc9ff10168db/tests/tool_parsers/test_openai_tool_parser.py"
COOKBOOK = "https://cookbook.openai.com/articles/openai-harmony"
# Its "LLM-jp-4.1" block (llm-jp-4.1-8b-thinking): GPT-OSS's messages with a space after
# each special token, parallel calls as messages separated by <|end|>.
LLAMA_CPP_LLM_JP = "https://github.com/ggml-org/llama.cpp/blob/0042e2079d3428ba7af410df553202aa7fdf8d7a/tests/test-chat.cpp"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "special_function",
        "parameters": {"type": "object", "properties": {"arg1": {"type": "integer"}}},
    },
    {
        "name": "get_current_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
    {
        "name": "get_user_location",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
    {"name": "empty_args", "parameters": {"type": "object", "properties": {}}},
]

SPECIAL: Call = ("special_function", {"arg1": 1})
TOKYO: Call = ("get_current_weather", {"location": "Tokyo"})
THINKING = "<|channel|>analysis<|message|>I'm\nthinking<|end|>"
ANALYSIS = (
    '<|channel|>analysis<|message|>User asks: "What is the weather in Tokyo?" '
    "We need to use get_current_weather tool.<|end|>"
)

REAL_OUTPUTS: list[Case] = [
    # LLAMA_CPP "Test tool calling in role header": the recipient before the channel.
    (
        "llama.cpp-recipient-in-role",
        " to=functions.special_function<|channel|>commentary <|constrain|>json<|message|>"
        '{"arg1": 1}',
        None,
        [SPECIAL],
    ),
    (
        "llama.cpp-recipient-in-role-analysis",
        ' to=functions.special_function<|channel|>analysis <|constrain|>json<|message|>{"arg1": 1}',
        None,
        [SPECIAL],
    ),
    # VLLM test_extract_tool_calls_multiple_tools (the first two, parallel).
    (
        "vllm-parallel",
        "<|start|>assistant<|channel|>commentary to=functions.get_current_weather "
        '<|constrain|>json<|message|>{"location": "Tokyo"}<|call|>'
        "<|start|>assistant<|channel|>commentary to=functions.get_user_location "
        '<|constrain|>json<|message|>{"location": "Tokyo"}<|call|>',
        None,
        [TOKYO, ("get_user_location", {"location": "Tokyo"})],
    ),
    # VLLM test_extract_tool_calls_multiple_tools: "empty_args" with "{}".
    (
        "vllm-empty-arguments",
        "<|start|>assistant<|channel|>commentary to=functions.empty_args <|constrain|>json"
        "<|message|>{}<|call|>",
        None,
        [("empty_args", {})],
    ),
    # LLAMA_CPP_LLM_JP "Tool call, recipient in channel header".
    (
        "llama.cpp-llm-jp-recipient-in-channel",
        '<|channel|> commentary to=functions.special_function<|message|> {"arg1": 1}',
        None,
        [SPECIAL],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM test_extract_tool_calls_single_tool: arguments across lines.
    (
        "arguments-on-several-lines",
        "<|channel|>commentary to=functions.get_current_weather <|constrain|>json<|message|>"
        '{\n"location": "Tokyo"\n}<|call|>',
        None,
        [TOKYO],
    ),
    # LLAMA_CPP "Tool call in commentary channel" without a content type.
    (
        "no-content-type",
        '<|channel|>commentary to=functions.special_function<|message|>{"arg1": 1}',
        None,
        [SPECIAL],
    ),
    (
        "bare-json-content-type",
        '<|channel|>commentary to=functions.special_function json<|message|>{"arg1": 1}<|call|>',
        None,
        [SPECIAL],
    ),
    (
        "trailing-comma-in-arguments",
        "<|channel|>commentary to=functions.special_function <|constrain|>json<|message|>"
        '{"arg1": 1,}<|call|>',
        None,
        [SPECIAL],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("plain-text", "Hello, world!\nWhat's up?"),
]

BROKEN: list[tuple[str, str]] = [
    (
        "arguments-not-json",
        "<|channel|>commentary to=functions.special_function <|constrain|>json<|message|>"
        "arg1 is one<|call|>",
    ),
]

REASONING: list[ReasoningCase] = [
    # LLAMA_CPP_LLM_JP "Reasoning + content".
    (
        "llama.cpp-llm-jp-analysis-then-final",
        "<|channel|> analysis<|message|> I'm\nthinking<|end|><|start|> assistant<|channel|> final"
        "<|message|> Hello, world!\nWhat's up?",
        "I'm\nthinking",
        "Hello, world!\nWhat's up?",
        [],
    ),
    # LLAMA_CPP_LLM_JP "Parallel tool calls separated by <|end|>".
    (
        "llama.cpp-llm-jp-parallel",
        "<|channel|> analysis<|message|> I'm\nthinking<|end|>"
        "<|start|> assistant to=functions.special_function<|channel|> commentary <|constrain|>  json"
        '<|message|> {"arg1": 1}<|end|>'
        "<|start|> assistant to=functions.special_function<|channel|> commentary <|constrain|>  json"
        '<|message|> {"arg1": 2}',
        "I'm\nthinking",
        None,
        [SPECIAL, ("special_function", {"arg1": 2})],
    ),
    ("final-channel-only", "<|channel|>final<|message|>Hello, world!", None, "Hello, world!", []),
    # LLAMA_CPP: analysis, then a final answer.
    (
        "llama.cpp-analysis-then-final",
        THINKING + "<|start|>assistant<|channel|>final<|message|>Hello, world!\nWhat's up?",
        "I'm\nthinking",
        "Hello, world!\nWhat's up?",
        [],
    ),
    # LLAMA_CPP: analysis, then a call.
    (
        "llama.cpp-analysis-then-call",
        THINKING + "<|start|>assistant<|channel|>commentary to=functions.special_function "
        '<|constrain|>json<|message|>{"arg1": 1}',
        "I'm\nthinking",
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP: a call on the analysis channel, recipient in the role slot.
    (
        "llama.cpp-call-on-analysis-recipient-in-role",
        THINKING + "<|start|>assistant to=functions.special_function<|channel|>analysis "
        '<|constrain|>json<|message|>{"arg1": 1}',
        "I'm\nthinking",
        None,
        [SPECIAL],
    ),
    # LLAMA_CPP: a commentary preamble, then the call.
    (
        "llama.cpp-preamble-then-call",
        THINKING + "<|start|>assistant<|channel|>commentary<|message|>Hello, world!\nWhat's up?"
        "<|end|><|start|>assistant<|channel|>commentary to=functions.special_function "
        '<|constrain|>json<|message|>{"arg1": 1}',
        "I'm\nthinking",
        "Hello, world!\nWhat's up?",
        [SPECIAL],
    ),
    # VLLM test_extract_tool_calls_with_content.
    (
        "vllm-call-then-final",
        ANALYSIS + "<|start|>assistant<|channel|>commentary to=functions.get_current_weather "
        '<|constrain|>json<|message|>{"location": "Tokyo"}<|call|>'
        "<|start|>assistant<|channel|>final<|message|>This tool call will get the weather.",
        'User asks: "What is the weather in Tokyo?" We need to use get_current_weather tool.',
        "This tool call will get the weather.",
        [TOKYO],
    ),
    (
        "cut-off-in-analysis",
        "<|channel|>analysis<|message|>I'm\nthink",
        "I'm\nthink",
        None,
        [],
    ),
]

WEATHER: list[FunctionSchema] = [
    {
        "name": "get_current_weather",
        "description": "Gets the current weather in the provided location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {
                    "type": "string",
                    "description": "The city and state, e.g. San Francisco, CA",
                },
                "format": {
                    "type": "string",
                    "enum": ["celsius", "fahrenheit"],
                    "default": "celsius",
                },
            },
            "required": ["location"],
        },
    },
    {"name": "get_location", "description": "Gets the location of the user."},
]

# COOKBOOK's "system message format" example (the tool part), with this conversation.
GOLDEN = (
    "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
    "Knowledge cutoff: 2024-06\nCurrent date: 2025-06-28\n\nReasoning: medium\n\n"
    "# Valid channels: analysis, commentary, final. Channel must be included for every message.\n"
    "Calls to these tools must go to the commentary channel: 'functions'.<|end|>"
    "<|start|>developer<|message|># Instructions\n\nUse a friendly tone.\n\n"
    "# Tools\n\n## functions\n\nnamespace functions {\n\n"
    "// Gets the current weather in the provided location.\n"
    "type get_current_weather = (_: {\n"
    "// The city and state, e.g. San Francisco, CA\n"
    "location: string,\n"
    'format?: "celsius" | "fahrenheit", // default: celsius\n'
    "}) => any;\n\n"
    "// Gets the location of the user.\ntype get_location = () => any;\n\n"
    "} // namespace functions<|end|>"
    "<|start|>user<|message|>What is the weather in Tokyo?<|end|>"
    "<|start|>assistant to=functions.get_current_weather<|channel|>commentary json<|message|>"
    '{"location": "Tokyo"}<|call|>'
    "<|start|>functions.get_current_weather to=assistant<|channel|>commentary<|message|>"
    '{"sunny": true, "temperature": 20}<|end|>'
    "<|start|>assistant"
)
MESSAGES = [
    {"role": "system", "content": "Use a friendly tone."},
    {"role": "user", "content": "What is the weather in Tokyo?"},
    *call_turns(
        [("get_current_weather", {"location": "Tokyo"})],
        ['{"sunny": true, "temperature": 20}'],
        ids=["call_1"],
        named_results=True,
    ),
]


def test_renders_the_harmony_layout() -> None:
    assert HarmonyWrapper(date="2025-06-28").render(MESSAGES, WEATHER).text == GOLDEN


def test_without_tools_or_system_there_is_no_developer_message() -> None:
    text = HarmonyWrapper(date="2025-06-28").render([{"role": "user", "content": "Hi"}], []).text
    assert "<|start|>developer" not in text and "Calls to these tools" not in text
    assert text.endswith("<|start|>user<|message|>Hi<|end|><|start|>assistant")


def test_detected_from_its_output() -> None:
    assert detect_format(REAL_OUTPUTS[2][1]) == NAME


def test_registered() -> None:
    assert_registered(NAME, HarmonyWrapper, ("gpt-oss",))
    assert isinstance(get_wrapper("gpt-oss-20b"), HarmonyWrapper)


def test_the_jinja_wrapper_knows_it_by_its_template_markers() -> None:
    from wrappers.template_detection import wrapper_for_template

    template = "{{- '<|start|>assistant<|channel|>' + channel + '<|message|>' }}"
    assert wrapper_for_template(template) == NAME


def test_a_required_call_grammar_takes_both_places_of_the_recipient() -> None:
    # llama.cpp's outputs with the recipient in the role slot, on either
    # channel, and in the channel form with or without a content type.
    from tests.support.llama_grammar import llama_cpp_matches

    prompt = HarmonyWrapper().render(
        [{"role": "user", "content": "go"}],
        FUNCTIONS,
        RenderOptions(grammar=True, call_required=True),
    )
    assert prompt.grammar is not None
    cases = ("recipient-in-role", "bare-json-content-type", "no-content-type")
    outputs = [
        text for name, text, _, _ in REAL_OUTPUTS + MESSY_OUTPUTS if any(c in name for c in cases)
    ]
    assert len(outputs) == 4
    for text in outputs:
        assert llama_cpp_matches(prompt.grammar, text.removesuffix("<|call|>") + "<|call|>"), text
    # The recipient in both places, or in neither, is not a call the parser reads.
    both = '<|channel|>commentary to=functions.special_function<|channel|>commentary<|message|>{"arg1": 1}<|call|>'
    assert not llama_cpp_matches(prompt.grammar, both)
