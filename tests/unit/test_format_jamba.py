"""``jamba``: AI21 Jamba, ``<tool_calls>[...]</tool_calls>`` in ``<|bom|><|assistant|>`` messages.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.jamba import JambaWrapper
from wrappers.template_detection import wrapper_for_template

NAME = "jamba"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/045d7575500e01e0f4a7ff84e039a9f7f7dc3bd0/tests/tool_parsers/test_jamba_tool_parser.py"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_current_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "state": {"type": "string"},
                "unit": {"type": "string"},
            },
        },
    },
]

DALLAS: Call = ("get_current_weather", {"city": "Dallas", "state": "TX", "unit": "fahrenheit"})
ORLANDO: Call = ("get_current_weather", {"city": "Orlando", "state": "FL", "unit": "fahrenheit"})
DALLAS_JSON = '{"name": "get_current_weather", "arguments": {"city": "Dallas", "state": "TX", "unit": "fahrenheit"}}'
ORLANDO_JSON = '{"name": "get_current_weather", "arguments": {"city": "Orlando", "state": "FL", "unit": "fahrenheit"}}'

REAL_OUTPUTS: list[Case] = [
    # VLLM single_tool.
    ("vllm-single", f" <tool_calls>[\n    {DALLAS_JSON}\n]</tool_calls>", None, [DALLAS]),
    # VLLM single_tool_with_content.
    (
        "vllm-content-first",
        f" Sure! let me call the tool for you.<tool_calls>[\n    {DALLAS_JSON}\n]</tool_calls>",
        "Sure! let me call the tool for you.",
        [DALLAS],
    ),
    # VLLM parallel_tools.
    (
        "vllm-parallel",
        f" <tool_calls>[\n    {DALLAS_JSON},\n    {ORLANDO_JSON}\n]</tool_calls>",
        None,
        [DALLAS, ORLANDO],
    ),
    # VLLM test_extract_tool_calls_streaming_arguments_in_single_delta, joined.
    (
        "vllm-compact",
        '<tool_calls>[{"name": "get_current_weather", "arguments": {"city": "Dallas", "state": "TX"}}]'
        "</tool_calls>",
        None,
        [("get_current_weather", {"city": "Dallas", "state": "TX"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "end-of-message-token-and-trailing-comma",
        f" <tool_calls>[\n    {DALLAS_JSON},\n]</tool_calls><|eom|>",
        None,
        [DALLAS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-plain", "This is a test"),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", '<tool_calls>[{"name": "get_current_weather", "arguments": {"city": "Dal'),
]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Dallas?"},
    *call_turns([("get_current_weather", {"city": "Dallas"})], ["sunny"]),
]


def test_renders_jambas_messages() -> None:
    # A single user turn without a system message, as ai21labs/Jamba-tiny-dev's
    # template renders it (the rendering public prompt renderers check theirs
    # against, token for token with transformers): an empty system message first.
    text = JambaWrapper().render([{"role": "user", "content": "Hello, how are you?"}], []).text
    assert text == (
        "<|startoftext|><|bom|><|system|> <|eom|><|bom|><|user|> Hello, how are you?<|eom|>"
        "<|bom|><|assistant|>"
    )


def test_renders_tools_calls_and_results() -> None:
    text = JambaWrapper().render(MESSAGES, FUNCTIONS).text
    assert text.startswith(
        "<|startoftext|><|bom|><|system|> Be brief.\n\n<tool_definitions>\n# Tools\n\n"
        '## Functions\n\n{\n  "name": "get_current_weather",\n'
    )
    assert text.endswith(
        "\n}\n</tool_definitions><|eom|><|bom|><|user|> Weather in Dallas?<|eom|>"
        '<|bom|><|assistant|> <tool_calls>[\n    {"name": "get_current_weather", "arguments": '
        '{"city": "Dallas"}}\n]</tool_calls><|eom|><|bom|><|tool|> sunny<|eom|><|bom|><|assistant|>'
    )


def test_the_grammar_is_one_list() -> None:
    text = JambaWrapper().call_grammar(FUNCTIONS, None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(f"<tool_calls>[{DALLAS_JSON}, {ORLANDO_JSON}]</tool_calls>")
    assert not grammar.matches(f"<tool_calls>{DALLAS_JSON}</tool_calls>")


def test_detected_from_its_output_and_its_template() -> None:
    # Hunyuan's calls are written the same way; auto reads them with its reader.
    assert detect_format(REAL_OUTPUTS[0][1]) == "hunyuan-a13b"
    assert wrapper_for_template("{{ '<|bom|>' }}<tool_definitions>") == NAME


def test_registered() -> None:
    assert_registered(NAME, JambaWrapper, ("jamba-1.5", "jamba-mini"))
