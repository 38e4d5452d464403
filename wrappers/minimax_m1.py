"""MiniMax-M1: one ``{"name": ..., "arguments": {...}}`` per line in ``<tool_calls>`` tags.

The format of vLLM's template for the model
(``examples/tool_chat_template_minimax_m1.jinja``; parser
``vllm/tool_parsers/minimax_tool_parser.py``)::

    <begin_of_document><beginning_of_sentence>system ai_setting=MiniMax AI
    You are a helpful assistant created by Minimax based on MiniMax-M1 model.<end_of_sentence>
    <beginning_of_sentence>system tool_setting=tools
    You are provided with these tools:
    <tools>
    {"type": "function", "function": {"name": "get_weather", ...}}
    </tools>
    ...<end_of_sentence>
    <beginning_of_sentence>user name=user
    What is the weather in Paris?<end_of_sentence>
    <beginning_of_sentence>ai name=MiniMax AI

and the model answers (after its ``<think>`` block)::

    <tool_calls>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    {"name": "get_weather", "arguments": {"city": "Rome"}}
    </tool_calls>

Several calls share one block, one object per line (Hermes' reader takes
them). Results come back as ``tool name=tools`` messages. The template drops
an assistant's text next to its calls; fcproxy keeps it before the block.
(MiniMax M2 writes XML invoke blocks: ``minimax-m2``.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, calls_grammar, json_call, literal
from wrappers.hermes import HermesWrapper
from wrappers.registry import WrapperEntry

TOOL_CALLS = "<tool_calls>"
TOOL_CALLS_END = "</tool_calls>"
END = "<end_of_sentence>"
DEFAULT_SYSTEM = "You are a helpful assistant created by Minimax based on MiniMax-M1 model."
TOOLS_OUTRO = (
    "</tools>\n\nIf you need to call tools, please respond with <tool_calls></tool_calls> XML "
    "tags, and provide tool-name and json-object of arguments, following the format below:\n"
    '<tool_calls>\n{"name": <tool-name>, "arguments": <args-json-object>}\n...\n</tool_calls>'
)


def message(header: str, content: str) -> str:
    return f"<beginning_of_sentence>{header}\n{content}{END}\n"


class MiniMaxM1Wrapper(HermesWrapper):
    call_start: ClassVar[str] = TOOL_CALLS
    call_end: ClassVar[str] = TOOL_CALLS_END
    grammar_trigger: ClassVar[str] = TOOL_CALLS
    # Objects, one per line; Hunyuan, Jamba and Apriel write a JSON list in the same tags.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(re.escape(TOOL_CALLS) + r"\s*\{")
    stop: ClassVar[tuple[str, ...]] = (END,)
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("<think>", "</think>", False)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = "<begin_of_document>" + message(
            "system ai_setting=MiniMax AI", system.strip() or DEFAULT_SYSTEM
        )
        if functions:
            tools = "".join(
                json.dumps({"type": "function", "function": dict(f)}, ensure_ascii=False) + "\n"
                for f in functions
            )
            out += message(
                "system tool_setting=tools",
                f"You are provided with these tools:\n<tools>\n{tools}{TOOLS_OUTRO}",
            )
        for turn in turns:
            content = (turn.content or "").strip()
            if turn.kind == "function":
                out += message("tool name=tools", f"tool result: {turn.content or ''}\n\n")
            elif turn.kind == "assistant" and turn.calls:
                calls = "".join(
                    json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False)
                    + "\n"
                    for c in turn.calls
                )
                text = f"{content}\n" if content else ""
                out += message("ai name=MiniMax AI", f"{text}{TOOL_CALLS}\n{calls}{TOOL_CALLS_END}")
            elif turn.kind == "assistant":
                out += message("ai name=MiniMax AI", content)
            else:
                out += message("user name=user", content)
        return out + "<beginning_of_sentence>ai name=MiniMax AI\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # One block, a call per line (Hermes' grammar writes a block per call).
        return calls_grammar(
            functions,
            json_call(),
            only=only,
            max_calls=call_count(parallel, only),
            start=literal(f"{TOOL_CALLS}\n"),
            separator=literal("\n"),
            end=literal(f"\n{TOOL_CALLS_END}"),
        )


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="minimax-m1",
        factory=MiniMaxM1Wrapper,
        aliases=("minimax-m1-40k", "minimax-m1-80k"),
        description='MiniMax-M1 <tool_calls> with one {"name", "arguments"} per line',
        family="tool-call",
    )
]
