"""``mirothinker``: MiroMind MiroThinker, MCP-style ``<use_mcp_tool>`` blocks.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py. No parser test of MiroMind's publishes the
model's outputs: the rows are written in the layout its parser reads (PARSER)
and its template's call macro writes (TEMPLATE).
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.mirothinker import MiroThinkerWrapper, server_of
from wrappers.template_detection import wrapper_for_template

NAME = "mirothinker"

PARSER = "https://github.com/MiroMindAI/MiroThinker/blob/a786a7a7a858914d71faa7bbff2dce3295c49c31/apps/lobehub-compatibility/MirothinkerToolParser.py"
TEMPLATE = "https://github.com/ggml-org/llama.cpp/blob/02e67012e5507f213cb4502c733f34eca66f4cc4/models/templates/MiroThinker-v1.jinja"

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "google_search",
        "description": "Search the web",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
    {
        "name": "run_python_code",
        "description": "Run Python",
        "parameters": {"type": "object", "properties": {"code": {"type": "string"}}},
    },
    {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
]


def block(server: str, name: str, arguments: str) -> str:
    """One call as PARSER's docstring and TEMPLATE's call macro lay it out."""
    return (
        f"<use_mcp_tool>\n<server_name>{server}</server_name>\n<tool_name>{name}</tool_name>\n"
        f"<arguments>\n{arguments}\n</arguments>\n</use_mcp_tool>"
    )


SEARCH: Call = ("google_search", {"q": "MiroThinker"})
SEARCH_BLOCK = block("search_and_scrape_webpage", "google_search", '{"q": "MiroThinker"}')

REAL_OUTPUTS: list[Case] = [
    ("single", SEARCH_BLOCK, None, [SEARCH]),
    (
        "text-first",
        "I will search for it.\n\n" + SEARCH_BLOCK,
        "I will search for it.",
        [SEARCH],
    ),
    # PARSER reads each block; several blocks are parallel calls.
    (
        "two-blocks",
        SEARCH_BLOCK + "\n" + block("tool-python", "run_python_code", '{"code": "print(1)"}'),
        None,
        [SEARCH, ("run_python_code", {"code": "print(1)"})],
    ),
    # TEMPLATE's call macro writes several calls in one block.
    (
        "two-calls-in-one-block",
        "<use_mcp_tool>\n<server_name>search_and_scrape_webpage</server_name>\n"
        '<tool_name>google_search</tool_name>\n<arguments>\n{"q": "MiroThinker"}\n</arguments>\n'
        "<server_name>generic-extras</server_name>\n<tool_name>get_weather</tool_name>\n"
        '<arguments>\n{"city": "Paris"}\n</arguments>\n</use_mcp_tool>',
        None,
        [SEARCH, ("get_weather", {"city": "Paris"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # PARSER mends broken JSON with json_repair; so do fcproxy's readers.
    (
        "trailing-comma",
        block("generic-extras", "get_weather", '{"city": "Paris",}'),
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "no-whitespace",
        "<use_mcp_tool><server_name>generic-extras</server_name><tool_name>get_weather"
        '</tool_name><arguments>{"city": "Paris"}</arguments></use_mcp_tool>',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    (
        "end-of-turn",
        SEARCH_BLOCK + "<|im_end|>",
        None,
        [SEARCH],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    ("prose", "The answer is 42."),
]

BROKEN: list[tuple[str, str]] = [
    (
        "cut-off-in-the-arguments",
        "<use_mcp_tool>\n<server_name>generic-extras</server_name>\n<tool_name>get_weather"
        '</tool_name>\n<arguments>\n{"city": "Par',
    ),
    ("opened-and-cut-off", "Let me search.\n<use_mcp_tool>\n<server_name>search"),
]

REASONING: list[ReasoningCase] = [
    (
        "think-then-call",
        "<think>\nI need to search.\n</think>\n\n" + SEARCH_BLOCK,
        "I need to search.",
        None,
        [SEARCH],
    ),
]

MESSAGES = [
    {"role": "system", "content": "Be thorough."},
    {"role": "user", "content": "What is MiroThinker?"},
    *call_turns([("google_search", {"q": "MiroThinker"})], ["A research agent."]),
]


def test_renders_the_templates_mcp_prompt() -> None:
    text = MiroThinkerWrapper().render(MESSAGES, FUNCTIONS).text
    assert text.startswith(
        "<|im_start|>system\nIn this environment you have access to a set of tools you can use "
        "to answer the user's question. \n\nYou only have access to the tools provided below."
    )
    # TEMPLATE's server order: tool-python first, then search, then the rest.
    python = text.index("## Server name: tool-python\n### Tool name: run_python_code\n")
    search = text.index("## Server name: search_and_scrape_webpage\n### Tool name: google_search")
    extras = text.index("## Server name: generic-extras\n### Tool name: get_weather\n")
    assert python < search < extras
    assert (
        '\nInput JSON schema: {"type": "object", "properties": {"city": {"type": "string"}}}\n'
        in (text)
    )
    assert "# General Objective\n\nYou accomplish a given task iteratively" in text
    assert text.endswith(
        "<|im_start|>system\nBe thorough.<|im_end|>\n"
        "<|im_start|>user\nWhat is MiroThinker?<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\n\n" + SEARCH_BLOCK + "<|im_end|>\n"
        "<|im_start|>user\n<tool_response>\nA research agent.\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_servers_follow_the_templates_naming_rules() -> None:
    assert server_of("e2b_sandbox_exec") == "tool-python"
    assert server_of("run_command") == "tool-python"
    assert server_of("google_search") == "search_and_scrape_webpage"
    assert server_of("scrape_and_extract_info") == "jina_scrape_llm_summary"
    assert server_of("get_weather") == "generic-extras"


def test_the_grammar_is_one_block_per_call() -> None:
    text = MiroThinkerWrapper().call_grammar(FUNCTIONS, None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(SEARCH_BLOCK)
    assert not grammar.matches(SEARCH_BLOCK.replace("search_and_scrape_webpage", "x"))


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(SEARCH_BLOCK) == NAME
    assert wrapper_for_template('{{- "\\n<use_mcp_tool>" }}') == NAME


def test_registered() -> None:
    assert_registered(NAME, MiroThinkerWrapper, ("mirothinker-v1",))
