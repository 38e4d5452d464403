"""MiroMind MiroThinker: MCP-style ``<use_mcp_tool>`` blocks at the end of a turn.

MiroThinker (llama.cpp ``models/templates/MiroThinker-v1.jinja``) is told
about its tools as MCP servers and answers, after its ``<think>`` block::

    <use_mcp_tool>
    <server_name>generic-extras</server_name>
    <tool_name>get_weather</tool_name>
    <arguments>
    {"city": "Paris"}
    </arguments>
    </use_mcp_tool>

The arguments are JSON (mended as every format's are); the server name is
not part of the call. MiroMind's own parser for vLLM
(``apps/lobehub-compatibility/MirothinkerToolParser.py``) reads one call
per block and several blocks as parallel calls; the template's call macro
writes several calls in one block, which is read too.

The prompt is the template's: ChatML, the MCP instructions and the tools
grouped under the server the template assigns by name (``tool-python``,
``search_and_scrape_webpage``, ``jina_scrape_llm_summary``,
``generic-extras``) as the system turn, the client's system message as a
second one, ``<tool_response>`` results in user turns. What is
reconstructed: jinja2 cannot render that template (an ``if`` it never
closes), its past calls are written with the call macro it defines (the
template's own fallback writes Qwen's ``<tool_call>`` instead, which is not
what the model writes), and every result is sent (the template replaces
all but the last five by a placeholder).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.grammar import GrammarBuilder, call_count, calls_grammar, json_arguments, literal
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

USE_TOOL = "<use_mcp_tool>"
USE_TOOL_END = "</use_mcp_tool>"
ARGUMENTS_END = "</arguments>"
IM_END = "<|im_end|>"
_CALL = re.compile(r"<tool_name>\s*(.*?)\s*</tool_name>\s*<arguments>\s*", re.DOTALL)

TOOLS_PROMPT = (
    "In this environment you have access to a set of tools you can use to answer the user's "
    "question. \n\nYou only have access to the tools provided below. You can only use one tool "
    "per message, and will receive the result of that tool in the user's next response. You use "
    "tools step-by-step to accomplish a given task, with each tool-use informed by the result of "
    "the previous tool-use. \n\n# Tool-Use Formatting Instructions \n\nTool-use is formatted using "
    "XML-style tags. The tool-use is enclosed in <use_mcp_tool></use_mcp_tool> and each parameter "
    "is similarly enclosed within its own set of tags.\n\nThe Model Context Protocol (MCP) "
    "connects to servers that provide additional tools and resources to extend your capabilities. "
    "You can use the server's tools via the `use_mcp_tool`.\n\nDescription: \nRequest to use a "
    "tool provided by a MCP server. Each MCP server can provide multiple tools with different "
    "capabilities. Tools have defined input schemas that specify required and optional "
    "parameters.\n\nParameters:\n- server_name: (required) The name of the MCP server providing "
    "the tool\n- tool_name: (required) The name of the tool to execute\n- arguments: (required) A "
    "JSON object containing the tool's input parameters, following the tool's input schema, "
    "quotes within string must be properly escaped, ensure it's valid JSON\n\nUsage:\n"
    "<use_mcp_tool>\n<server_name>server name here</server_name>\n<tool_name>tool name here"
    '</tool_name>\n<arguments>\n{\n"param1": "value1",\n"param2": "value2 \\"escaped string\\""\n}'
    "\n</arguments>\n</use_mcp_tool>\n\nImportant Notes:\n- Tool-use must be placed **at the end** "
    "of your response, **top-level**, and not nested within other tags.\n- Always adhere to this "
    "format for the tool use to ensure proper parsing and execution.\n\nString and scalar "
    "parameters should be specified as is, while lists and objects should use JSON format. Note "
    "that spaces for string values are not stripped. The output is not expected to be valid XML "
    "and is parsed with regular expressions.\nHere are the functions available in JSONSchema "
    "format:\n\n"
)
NO_TOOLS_PROMPT = (
    "In this environment you have access to a set of tools you can use to answer the user's "
    "question.  \n\nImportant Notes:\n- Tool-use must be placed **at the end** of your response, "
    "**top-level**, and not nested within other tags.\n- Always adhere to this format for the "
    "tool use to ensure proper parsing and execution.\n\nString and scalar parameters should be "
    "specified as is, while lists and objects should use JSON format. Note that spaces for string "
    "values are not stripped. The output is not expected to be valid XML and is parsed with "
    "regular expressions.\n\n"
)
OBJECTIVE = (
    "# General Objective\n\nYou accomplish a given task iteratively, breaking it down into clear "
    "steps and working through them methodically.\n\n"
)
SERVERS = ("tool-python", "search_and_scrape_webpage", "jina_scrape_llm_summary", "generic-extras")


def server_of(name: str) -> str:
    """The MCP server the template files a tool under, by its name."""
    if "_sandbox" in name or name.startswith("run_") or "python" in name:
        return "tool-python"
    if "_search" in name:
        return "search_and_scrape_webpage"
    if name == "scrape_and_extract_info":
        return "jina_scrape_llm_summary"
    return "generic-extras"


def render_tools(functions: Sequence[FunctionSchema]) -> str:
    out = ""
    for server in SERVERS:
        for f in functions:
            if server_of(f["name"]) == server:
                # The template never records the last server: each tool gets the header.
                schema = json.dumps(f.get("parameters", {}), ensure_ascii=False)
                out += (
                    f"\n## Server name: {server}\n### Tool name: {f['name']}\n"
                    f"Description: {f.get('description', '')}\nInput JSON schema: {schema}\n\n"
                )
    return out


def calls_block(calls: Sequence[tuple[str, Any]]) -> str:
    """The template's call macro: one block of server, tool name and JSON arguments."""
    body = "".join(
        f"\n<server_name>{server_of(name)}</server_name>\n<tool_name>{name}</tool_name>\n"
        f"<arguments>\n{json.dumps(arguments, ensure_ascii=False)}\n</arguments>"
        for name, arguments in calls
    )
    return f"\n{USE_TOOL}{body}\n{USE_TOOL_END}"


def _calls_in(block: str, *, complete_only: bool) -> list[ExtractedCall]:
    calls: list[ExtractedCall] = []
    for match in _CALL.finditer(block):
        closed = block.find(ARGUMENTS_END, match.end()) != -1
        if complete_only and not closed:
            break
        arguments, _ = read_marked_json(block, match.end(), (ARGUMENTS_END,))
        if not isinstance(arguments, dict):
            raise WrapperParseError("MiroThinker's arguments are not a JSON object", block)
        calls.append(ExtractedCall(match.group(1), arguments))
    return calls


def read_blocks(text: str, *, complete_only: bool = False) -> Extraction:
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (start := text.find(USE_TOOL, position)) != -1:
        content += text[position:start]
        end = text.find(USE_TOOL_END, start)
        block = text[start + len(USE_TOOL) : end if end != -1 else len(text)]
        found = _calls_in(block, complete_only=complete_only)
        if not found and not complete_only:
            raise WrapperParseError("a <use_mcp_tool> block holds no readable call", text)
        calls += found
        if end == -1:
            return Extraction(content, calls)
        position = end + len(USE_TOOL_END)
    return Extraction(content + text[position:], calls)


class MiroThinkerWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = USE_TOOL
    grammar_trigger: ClassVar[str] = USE_TOOL
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("<think>", "</think>", False)
    stop: ClassVar[tuple[str, ...]] = (IM_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            head = TOOLS_PROMPT + render_tools(functions) + "\n" + OBJECTIVE
            out = f"<|im_start|>system\n{head}{IM_END}\n"
            if system:
                out += f"<|im_start|>system\n{system}{IM_END}\n"
        else:
            out = f"<|im_start|>system\n{system or NO_TOOLS_PROMPT}{IM_END}\n"
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += "<|im_start|>user"
                out += f"\n<tool_response>\n{content}\n</tool_response>"
                if index + 1 == len(turns) or turns[index + 1].kind != "function":
                    out += IM_END + "\n"
            elif turn.kind == "assistant":
                calls = [(c.name, c.arguments) for c in turn.calls]
                block = calls_block(calls) if calls else ""
                out += f"<|im_start|>assistant\n<think>\n\n</think>\n\n{content.lstrip()}{block}"
                out += IM_END + "\n"
            else:
                role = turn.role if turn.kind == "other" else "user"
                out += f"<|im_start|>{role}\n{content}{IM_END}\n"
        return out + "<|im_start|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        def call(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
            name = function["name"]
            head = (
                f"{USE_TOOL}\n<server_name>{server_of(name)}</server_name>\n"
                f"<tool_name>{name}</tool_name>\n<arguments>\n"
            )
            tail = f"\n{ARGUMENTS_END}\n{USE_TOOL_END}"
            return f"{literal(head)} {json_arguments(builder, index, function)} {literal(tail)}"

        return calls_grammar(
            functions,
            call,
            only=only,
            max_calls=call_count(parallel, only),
            separator=literal("\n"),
        )

    def extract_calls(self, text: str) -> Extraction:
        return read_blocks(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # Each call leaves whole once its </arguments> has come.
        found = read_blocks(region, complete_only=True)
        return [
            PartialCall(c.name, json.dumps(c.arguments, ensure_ascii=False)) for c in found.calls
        ]


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="mirothinker",
        factory=MiroThinkerWrapper,
        aliases=("mirothinker-v1", "mirothinker-v1.0", "mirothinker-v1.5", "miromind"),
        description="MiroMind MiroThinker <use_mcp_tool><server_name>...<tool_name>f</tool_name><arguments>{...}",
        family="tool-call",
    )
]
