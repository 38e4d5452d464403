"""AI21 Jamba 1.5-1.7: ``<tool_calls>[{"name": ..., "arguments": {...}}]</tool_calls>``.

The output format of vLLM's ``vllm/tool_parsers/jamba_tool_parser.py``: one
JSON list of calls between ``<tool_calls>`` tags, after optional text::

     Sure! let me call the tool for you.<tool_calls>[
        {"name": "get_current_weather", "arguments": {"city": "Dallas"}}
    ]</tool_calls>

Messages are ``<|bom|><|ROLE|> TEXT<|eom|>`` after ``<|startoftext|>``;
the system message (empty when the request has none) comes first, the tools
after its text in a ``<tool_definitions>`` block, as the Jamba model cards
describe the template::

    <|startoftext|><|bom|><|system|> Be brief.

    <tool_definitions>
    # Tools

    ## Functions

    {
      "name": "get_weather",
      ...
    }
    </tool_definitions><|eom|><|bom|><|user|> Weather in Paris?<|eom|><|bom|><|assistant|>

The template itself was not at hand: the layout of several tool definitions
and of results (a ``<|bom|><|tool|>`` message each) is fcproxy's rendering of
that description.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.hunyuan import (
    TOOL_CALLS,
    TOOL_CALLS_END,
    extract_tool_calls_list,
    tool_calls_list_grammar,
    tool_calls_list_so_far,
)
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper

START = "<|startoftext|>"
EOM = "<|eom|>"


def message(role: str, content: str) -> str:
    return f"<|bom|><|{role}|> {content}{EOM}"


class JambaWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALLS
    grammar_trigger: ClassVar[str] = TOOL_CALLS
    stop: ClassVar[tuple[str, ...]] = (EOM, "<|endoftext|>")

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            definitions = "\n\n".join(
                json.dumps(dict(f), ensure_ascii=False, indent=2) for f in functions
            )
            tools = (
                f"<tool_definitions>\n# Tools\n\n## Functions\n\n{definitions}\n</tool_definitions>"
            )
            system = f"{system}\n\n{tools}" if system else tools
        out = START + message("system", system)
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                out += message("tool", content)
            elif turn.kind == "assistant":
                if turn.calls:
                    calls = ",\n".join(
                        "    "
                        + json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False)
                        for c in turn.calls
                    )
                    content += f"{TOOL_CALLS}[\n{calls}\n]{TOOL_CALLS_END}"
                out += message("assistant", content)
            else:
                out += message("user", content)
        return out + "<|bom|><|assistant|>"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return tool_calls_list_grammar(functions, only, parallel=parallel)

    def extract_calls(self, text: str) -> Extraction:
        return extract_tool_calls_list(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return tool_calls_list_so_far(region)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="jamba",
        factory=JambaWrapper,
        aliases=("jamba-1.5", "jamba-1.6", "jamba-1.7", "jamba-mini", "jamba-large", "ai21-jamba"),
        description='AI21 Jamba <tool_calls>[{"name", "arguments"}]</tool_calls>, <|bom|><|role|> messages',
        family="tool-call",
    )
]
