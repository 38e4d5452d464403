"""IBM Granite 3.x tool calls: ``<|tool_call|>[{"arguments": {...}, "name": "..."}]``.

The prompt is Granite 3.3's chat template (``ibm-granite/granite-3.3-2b-instruct``)::

    <|start_of_role|>system<|end_of_role|>{system prompt}<|end_of_text|>
    <|start_of_role|>available_tools<|end_of_role|>[
        {
            "type": "function",
            "function": {...}
        }
    ]<|end_of_text|>
    <|start_of_role|>user<|end_of_role|>What is the weather in Paris?<|end_of_text|>
    <|start_of_role|>assistant<|end_of_role|>

and the model answers with ``<|tool_call|>`` and a JSON list of calls (Granite
writes ``arguments`` before ``name``). Granite 3.1 / 3.2 write ``<tool_call>``
as text instead of the special token; both are read. Results go back in
``tool`` turns. The template prints only a message's text, so past calls are
written into the assistant turn the way the model wrote them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import CallRecord, Turn
from wrappers.grammar import call_count, json_call_grammar
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper

TOOL_CALL = "<|tool_call|>"
# Phi-4-mini's calls share the marker; its closing token is dropped too.
_MARKERS = (TOOL_CALL, "<tool_call>")
_END_MARKERS = ("<|/tool_call|>", "</tool_call>")
END = "<|end_of_text|>"
TOOLS_INSTRUCTIONS = (
    " You are a helpful assistant with access to the following tools. When a tool is required "
    "to answer the user's query, respond only with <|tool_call|> followed by a JSON list of "
    "tools used. If a tool does not exist in the provided list of tools, notify the user that "
    "you do not have the ability to fulfill the request."
)


def today() -> str:
    """Today as Granite's template writes it (``strftime_now('%B %d, %Y')``)."""
    return datetime.now().strftime("%B %d, %Y")


def default_system(with_tools: bool) -> str:
    """Granite's own system prompt, used when the request has none (it carries today's date)."""
    intro = (
        f"Knowledge Cutoff Date: April 2024. Today's Date: {today()}. "
        "You are Granite, developed by IBM."
    )
    return intro + (TOOLS_INSTRUCTIONS if with_tools else " You are a helpful AI assistant.")


def role_turn(role: str, content: str) -> str:
    return f"<|start_of_role|>{role}<|end_of_role|>{content}{END}\n"


class GraniteWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "<\\|tool_call\\|>",
        "<tool_call>",
        "\\[\\s*\\{",
    )
    call_start: ClassVar[str] = TOOL_CALL
    grammar_trigger: ClassVar[str] = TOOL_CALL
    #: Granite 3.1 / 3.2 write ``<tool_call>`` as text, then the list (Hermes writes an object).
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"(?:<\|tool_call\|>|<tool_call>)\s*\[")
    stop: ClassVar[tuple[str, ...]] = (END,)

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=TOOL_CALL,
            suffix="",
            only=only,
            as_list=True,
            max_calls=call_count(parallel, only),
        )

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = role_turn("system", system or default_system(bool(functions)))
        if functions:
            tools = [{"type": "function", "function": dict(f)} for f in functions]
            out += role_turn("available_tools", json.dumps(tools, indent=4, ensure_ascii=False))
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                out += role_turn("tool", content)
            elif turn.kind == "assistant":
                if turn.calls:
                    content += self.past_calls(turn.calls)
                out += role_turn("assistant", content)
            else:
                out += role_turn(turn.role if turn.kind == "other" else "user", content)
        return out + "<|start_of_role|>assistant<|end_of_role|>"

    def past_calls(self, calls: Sequence[CallRecord]) -> str:
        """Past calls as the model writes them (the template prints only a message's text)."""
        listed = [{"arguments": c.arguments, "name": c.name} for c in calls]
        return TOOL_CALL + json.dumps(listed, ensure_ascii=False)

    def extract_calls(self, text: str) -> Extraction:
        return json_calls_after_markers(text, _MARKERS, end_markers=_END_MARKERS)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return marked_calls_so_far(region, _MARKERS, end_markers=_END_MARKERS)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="granite",
        factory=GraniteWrapper,
        aliases=("granite3", "granite-3", "granite-3.1", "granite-3.2", "granite-3.3"),
        description="IBM Granite 3.x <|tool_call|>[{...}] after Granite's role tokens",
        family="tool-call",
    )
]
