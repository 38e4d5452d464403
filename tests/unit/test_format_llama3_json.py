"""``llama3-json``: Llama 3.1-3.3 ``{"name", "parameters"}`` calls, Meta's chat template."""

from __future__ import annotations

import pytest

from tests.unit.format_checks import (
    Sample,
    golden,
    read,
    rendered,
    template_rendering,
)
from tests.unit.tool_call_conversation import CALLS, FUNCTIONS, VARIANTS
from wrappers.llama3_json import TOOLS_INSTRUCTIONS, Llama3JSONWrapper
from wrappers.registry import find_entry, get_wrapper

NAME = "llama3-json"

# Sources of the real outputs below.
META_31 = "https://github.com/meta-llama/llama-models/blob/a9c89c471f793423afd4cc3ca8671d6e56fe64cb/models/llama3_1/prompt_format.md"
META_32 = "https://github.com/meta-llama/llama-models/blob/a9c89c471f793423afd4cc3ca8671d6e56fe64cb/models/llama3_2/text_prompt_format.md"
LLAMA_CPP = "https://github.com/ggml-org/llama.cpp/blob/1eeb523c3e0c7ffbd59469f5463dcbdecba3535e/tests/test-chat.cpp"
VLLM = "https://github.com/vllm-project/vllm/blob/1e499e36c5828a75c6ca8b76631d264be1187005/tests/tool_parsers/test_llama3_json_tool_parser.py"

PRIME_CODE = (
    "def is_prime(n):\n    if n <= 1\n        return False\n"
    "    for i in range(2, int(n**0.5) + 1):\n        if n % i == 0:\n"
    "            return False\n    return True\n\nprint(is_prime(7))  # Output: True"
)

# (id, raw output, content, calls)
REAL_OUTPUTS: list[Sample] = [
    # META_31, "JSON based tool calling", Model Response Format (Llama 3.1 8B).
    (
        "meta-3.1-json-call",
        '<|python_tag|>{\n    "type": "function",\n    "name": "trending_songs",\n'
        '    "parameters": {\n        "n": "10",\n        "genre": "all"\n    }\n}<|eom_id|>',
        None,
        [("trending_songs", {"n": "10", "genre": "all"})],
    ),
    # META_31, "Builtin Tool Calling" (brave_search).
    (
        "meta-3.1-builtin-tool",
        '<|python_tag|>brave_search.call(query="latest price of 1oz gold")<|eom_id|>',
        None,
        [("brave_search", {"query": "latest price of 1oz gold"})],
    ),
    # META_31, "Builtin Code Interpreter" (the model's code, its missing colon included).
    (
        "meta-3.1-code",
        f"<|python_tag|>{PRIME_CODE}<|eom_id|>",
        None,
        [("python", {"code": PRIME_CODE})],
    ),
    # META_32, "Zero shot function calling E2E format" (Llama 3.2 3B).
    (
        "meta-3.2-python-tag-pythonic",
        '<|python_tag|>[get_weather(city="San Francisco", metric="celsius")]<|eot_id|>',
        None,
        [("get_weather", {"city": "San Francisco", "metric": "celsius"})],
    ),
    # META_32, "Zero shot function calling" (no tag, several calls).
    (
        "meta-3.2-pythonic-parallel",
        "[get_weather(city='San Francisco', metric='celsius'), "
        "get_weather(city='Seattle', metric='celsius')]<|eot_id|>",
        None,
        [
            ("get_weather", {"city": "San Francisco", "metric": "celsius"}),
            ("get_weather", {"city": "Seattle", "metric": "celsius"}),
        ],
    ),
    # LLAMA_CPP line 1118 (COMMON_CHAT_FORMAT_LLAMA_3_X).
    (
        "llama.cpp-llama-3.x",
        '{"name": "special_function", "parameters": {"arg1": 1}}',
        None,
        [("special_function", {"arg1": 1})],
    ),
    # LLAMA_CPP lines 1124-1126 (Llama 3.1 built-in tools).
    (
        "llama.cpp-code-interpreter",
        "<|python_tag|>code_interpreter.call(code=\"print('hey')\")",
        None,
        [("code_interpreter", {"code": "print('hey')"})],
    ),
    (
        "llama.cpp-python-builtin",
        "<|python_tag|>python.call(code=\"print('hey')\")",
        None,
        [("python", {"code": "print('hey')"})],
    ),
    # VLLM test_extract_tool_calls_simple (prose kept as content here).
    (
        "vllm-prose-around",
        'Here is the result: {"name": "getOpenIncidentsTool", "parameters": {}} '
        "Would you like to know more?",
        "Here is the result:  Would you like to know more?",
        [("getOpenIncidentsTool", {})],
    ),
    # VLLM test_extract_tool_calls_with_arguments_key.
    (
        "vllm-arguments-key",
        '{"name": "searchTool", "arguments": {"query": "test"}}',
        None,
        [("searchTool", {"query": "test"})],
    ),
    # VLLM test_extract_tool_calls_multiple_json (parallel calls joined by ";").
    (
        "vllm-semicolons",
        '{"name": "searchTool", "parameters": {"query": "test1"}}; '
        '{"name": "getOpenIncidentsTool", "parameters": {}}; '
        '{"name": "searchTool", "parameters": {"query": "test2"}}',
        None,
        [
            ("searchTool", {"query": "test1"}),
            ("getOpenIncidentsTool", {}),
            ("searchTool", {"query": "test2"}),
        ],
    ),
    # VLLM test_extract_tool_calls_multiple_json_with_whitespace.
    (
        "vllm-semicolons-spaced",
        '{"name": "searchTool", "parameters": {"query": "test1"}} ; '
        '{"name": "getOpenIncidentsTool", "parameters": {}}',
        None,
        [("searchTool", {"query": "test1"}), ("getOpenIncidentsTool", {})],
    ),
    # VLLM test_extract_tool_calls_streaming_parallel_separators ("\n").
    (
        "vllm-newline-separated",
        '{"name": "searchTool", "parameters": {"query": "test1"}}\n'
        '{"name": "getOpenIncidentsTool", "parameters": {}}',
        None,
        [("searchTool", {"query": "test1"}), ("getOpenIncidentsTool", {})],
    ),
    # VLLM test_extract_tool_calls_with_quotes_and_brackets_in_string.
    (
        "vllm-brackets-in-strings",
        '{"name": "searchTool", "parameters": {"query": "test {value} [complex]",'
        '"nested": {"inner": "more {brackets}"}}}',
        None,
        [
            (
                "searchTool",
                {"query": "test {value} [complex]", "nested": {"inner": "more {brackets}"}},
            )
        ],
    ),
    # VLLM test_extract_tool_calls_with_escaped_quotes_in_nested_json.
    (
        "vllm-escaped-quotes",
        '{"name": "parserTool", "parameters": {"text": "He said \\"Hello {world}\\""}}',
        None,
        [("parserTool", {"text": 'He said "Hello {world}"'})],
    ),
    # VLLM test_extract_tool_calls_brace_in_trailing_text.
    (
        "vllm-brace-in-trailing-text",
        '{"name": "searchTool", "parameters": {"query": "test"}} I used {searchTool} for this.',
        "I used {searchTool} for this.",
        [("searchTool", {"query": "test"})],
    ),
    # VLLM test_extract_tool_calls_json_fragment_in_trailing_text.
    (
        "vllm-json-fragment-after",
        '{"name": "searchTool", "parameters": {"query": "test"}} '
        'The arguments I passed were {"query": "test"}',
        'The arguments I passed were {"query": "test"}',
        [("searchTool", {"query": "test"})],
    ),
]

MESSY_OUTPUTS: list[Sample] = [
    # Only the closing braces missing (the answer stopped there): mended (issue 13).
    (
        "closers-missing-after-tag",
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "code-fence",
        '```json\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n```',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "prose-then-tag",
        'Let me check.<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>',
        "Let me check.",
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "parallel-after-tag",
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}; '
        '{"name": "get_forecast", "parameters": {"city": "Tokyo", "days": 3}}',
        None,
        [("get_weather", {"city": "Paris"}), ("get_forecast", {"city": "Tokyo", "days": 3})],
    ),
    (
        # A bare JSON call stays a call when a tag follows it (streamed at once, it must).
        "bare-call-then-tag",
        '{"name": "get_weather", "parameters": {"city": "Paris"}}\n'
        '<|python_tag|>brave_search.call(query="Paris weather")<|eom_id|>',
        None,
        [("get_weather", {"city": "Paris"}), ("brave_search", {"query": "Paris weather"})],
    ),
    (
        "openai-spelling",
        '{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "arguments-as-a-json-string",
        '{"name": "get_weather", "parameters": "{\\"city\\": \\"Paris\\"}"}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "unknown-function-is-still-returned",
        '{"name": "book_flight", "parameters": {"to": "Rome"}}<|eot_id|>',
        None,
        [("book_flight", {"to": "Rome"})],
    ),
    (
        "call-in-reasoning-is-not-a-call",
        '<think>I could call {"name": "get_forecast", "parameters": {"city": "Oslo", "days": 1}}'
        '</think>{"name": "get_weather", "parameters": {"city": "Paris"}}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("prose", "The capital of France is Paris."),
    ("prose-with-end-of-turn", "The capital of France is Paris.<|eot_id|>"),
    ("json-that-is-not-a-call", 'Here you go: {"name": "Alice", "age": 3}'),
    # VLLM test_extract_tool_calls_missing_parameters_and_arguments_key / _missing_name_key.
    ("vllm-no-arguments-key", '{"name": "toolWithoutParams"}'),
    ("vllm-no-name-key", '{"parameters": {}}'),
    ("braces-in-prose", "Use {curly} braces in the template, like {a: 1}."),
    ("brackets-in-prose", "See [1] and [2] for details."),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off-after-tag", '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Par'),
    ("bad-json", '{"name": "get_weather", "parameters": {"city": }}'),
    # VLLM test_extract_tool_calls_invalid_json: vLLM answers with the text; fcproxy raises
    # on purpose, so that the pipeline retries a call the model botched.
    ("vllm-invalid-json", '{"name": "invalidTool", "parameters": {invalid json}'),
    ("json-after-tag-is-not-a-call", '<|python_tag|>{"foo": 1}'),
    ("cut-off-pythonic-list", '<|python_tag|>[get_weather(city="Paris"'),
]


def test_reasoning_is_split_off() -> None:
    result = read(NAME, "<think>The user wants the weather.</think>It is sunny.")
    assert (result.reasoning, result.content, result.calls) == (
        "The user wants the weather.",
        "It is sunny.",
        [],
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_the_conversation_as_metas_template_does(variant: str) -> None:
    # golden_formats/llama3-json*.txt: Meta's Llama 3.1 template (generate_format_goldens.py),
    # given the parallel calls as one message per call, as fcproxy hands them over.
    assert rendered(NAME, variant) == golden(NAME, variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_golden_is_what_the_template_renders(variant: str) -> None:
    assert template_rendering(NAME, variant) == golden(NAME, variant)


def test_history_calls_read_back_as_the_calls_they_were() -> None:
    # Each call of the history is an assistant turn of its own.
    turns = rendered(NAME).split("<|start_header_id|>assistant<|end_header_id|>\n\n")[1:3]
    calls = [read(NAME, turn).calls[0] for turn in turns]
    assert calls == [(name, arguments) for _, name, arguments in CALLS]


def test_without_functions_there_is_no_tool_prompt() -> None:
    prompt = Llama3JSONWrapper().render_chat("Be brief.", [], [])
    assert prompt == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
        "Be brief.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_a_conversation_opened_by_the_assistant_gets_the_tools_in_a_user_turn_of_their_own() -> (
    None
):
    # MemGPT opens with the agent's own call; the template would glue the tools onto it.
    messages = [
        {"role": "system", "content": "You are MemGPT."},
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
        {"role": "function", "name": "get_weather", "content": '{"temperature": 18}'},
    ]
    prompt = get_wrapper(NAME).render(messages, FUNCTIONS).text
    tools_turn = "<|start_header_id|>user<|end_header_id|>\n\n" + TOOLS_INSTRUCTIONS
    assert tools_turn in prompt
    tools_end = prompt.index("<|eot_id|>", prompt.index(tools_turn))
    assert prompt[tools_end:].startswith(
        "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        '{"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|>'
    )


def test_the_date_line_can_be_set() -> None:
    assert "Today Date: 01 Jan 2025\n" in Llama3JSONWrapper(date="01 Jan 2025").render_chat(
        "", [], []
    )


@pytest.mark.parametrize(
    "alias", ["llama3-json", "llama3.1", "Llama-3.2", "llama3.3", "llama3.1-json"]
)
def test_is_registered_under_llama_names(alias: str) -> None:
    entry = find_entry(alias)
    assert entry is not None and entry.name == NAME and entry.family == "tool-call"
    wrapper = get_wrapper(alias)
    assert isinstance(wrapper, Llama3JSONWrapper)
    assert wrapper.supports_parallel_calls
    assert wrapper.stop_sequences() == ["<|eot_id|>", "<|eom_id|>", "<|end_of_text|>"]


def test_memgpts_llama3_keeps_its_name() -> None:
    entry = find_entry("llama3")
    assert entry is not None and entry.family == "memgpt"
