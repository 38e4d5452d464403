"""Phi-4-mini tool calls: ``functools[{"name": ..., "arguments": {...}}, ...]``.

The prompt is Phi-4-mini-instruct's chat template, which reads the tools
from the system message (Microsoft's model card: "The user should provide the
available tools in the system prompt, wrapped by <|tool|> and <|/tool|>
tokens")::

    <|system|>You are a helpful assistant with some tools.<|tool|>[{"name": "get_weather", ...}]<|/tool|><|end|><|user|>What is the weather in Paris?<|end|><|assistant|>

and the model answers with ``functools`` and a JSON list of calls (the
format vLLM's and llama.cpp's Phi-4-mini parsers read). Phi-4-mini also
writes ``<|tool_call|>[...]<|/tool_call|>``, sometimes without the closing
token or the brackets (as the Berkeley Function-Calling Leaderboard's Phi
handler records); both are read. The template prints only a message's text,
so past calls are written into the assistant turn as the model writes them,
and results go back as ``tool`` turns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, json_call_grammar
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper

FUNCTOOLS = "functools["
TOOL_CALL = "<|tool_call|>"
TOOL_CALL_END = "<|/tool_call|>"
END = "<|end|>"
# "functools" alone is prose about Python's module: only with the list after it.
_FUNCTOOLS_MARKER = re.compile(r"functools(?=\[)")
#: The model card's system prompt for tool use, when the request has none.
DEFAULT_SYSTEM = "You are a helpful assistant with some tools."


class Phi4MiniWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "functools",
        "<\\|tool_call\\|>",
    )
    call_start: ClassVar[str] = FUNCTOOLS
    grammar_trigger: ClassVar[str] = FUNCTOOLS
    stop: ClassVar[tuple[str, ...]] = (END, "<|endoftext|>")

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        if functions:
            tools = json.dumps([dict(f) for f in functions])
            out += f"<|system|>{system or DEFAULT_SYSTEM}<|tool|>{tools}<|/tool|>{END}"
        elif system:
            out += f"<|system|>{system}{END}"
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                role = "tool"
            elif turn.kind == "assistant":
                role = "assistant"
                if turn.calls:
                    content += "functools" + json.dumps(
                        [{"name": c.name, "arguments": c.arguments} for c in turn.calls],
                        ensure_ascii=False,
                    )
            else:
                role = turn.role if turn.kind == "other" else "user"
            out += f"<|{role}|>{content}{END}"
        return out + "<|assistant|>"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix="functools",
            suffix="",
            only=only,
            max_calls=call_count(parallel, only),
            as_list=True,
        )

    def extract_calls(self, text: str) -> Extraction:
        return json_calls_after_markers(
            text, (_FUNCTOOLS_MARKER, TOOL_CALL), end_markers=(TOOL_CALL_END,)
        )

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return marked_calls_so_far(
            region, (_FUNCTOOLS_MARKER, TOOL_CALL), end_markers=(TOOL_CALL_END,)
        )


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="phi4",
        factory=Phi4MiniWrapper,
        aliases=("phi-4-mini", "phi4-mini", "phi-4-mini-instruct"),
        description="Phi-4-mini functools[{...}] (or <|tool_call|>), tools in the system turn",
        family="tool-call",
    )
]
