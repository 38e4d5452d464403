"""Meituan LongCat-Flash: ``<longcat_tool_call>{"name": ..., "arguments": {...}}</longcat_tool_call>``.

Hermes' calls under LongCat's own tag (vLLM
``vllm/tool_parsers/longcat_tool_parser.py`` is Hermes' parser with these
markers), one block per call. The prompt follows LongCat-Flash's documented
layout (its template reference: ``SYSTEM:{system_prompt} [Round 0]
USER:{query} ASSISTANT:``, each answer ending ``</longcat_s>``, and the tool
description before a ``## Messages`` line)::

    # Tools
    You have access to the following tools:

    {"type": "function", "function": {"name": "get_weather", ...}}

    **Note**: For each function call, return a json object with function name and arguments within <longcat_tool_call></longcat_tool_call> XML tags as follows:
    ...
    ## Messages
    SYSTEM:Be brief. [Round 0] USER:What is the weather in Paris? ASSISTANT:

and the model answers::

    <longcat_tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</longcat_tool_call>

The chat template itself was not at hand: the tool description's wording
and the results, sent as the next round's user turn in
``<longcat_tool_response>`` tags, are fcproxy's rendering of that layout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.hermes import HermesWrapper
from wrappers.registry import WrapperEntry
from wrappers.tool_format import tools_json_lines

TOOL_CALL = "<longcat_tool_call>"
TOOL_CALL_END = "</longcat_tool_call>"
END = "</longcat_s>"
TOOLS_INTRO = "# Tools\nYou have access to the following tools:\n\n"
TOOLS_NOTE = (
    "\n\n**Note**: For each function call, return a json object with function name and arguments "
    "within <longcat_tool_call></longcat_tool_call> XML tags as follows:\n<longcat_tool_call>\n"
    '{"name": <function-name>, "arguments": <args-dict>}\n</longcat_tool_call>\n'
    "When multiple functions need to be called simultaneously, each function call should be "
    "wrapped in its own <longcat_tool_call> tag and placed consecutively.\n\n## Messages\n"
)


class LongCatWrapper(HermesWrapper):
    call_start: ClassVar[str] = TOOL_CALL
    call_end: ClassVar[str] = TOOL_CALL_END
    # Flush against the tags, as vLLM's tests of its parser show.
    call_layout: ClassVar[str] = ""
    grammar_trigger: ClassVar[str] = TOOL_CALL
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(re.escape(TOOL_CALL) + r"\s*[{\[]")
    stop: ClassVar[tuple[str, ...]] = (END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        head = TOOLS_INTRO + tools_json_lines(functions) + TOOLS_NOTE if functions else ""
        out = f"SYSTEM:{system}" if system else ""
        rounds = 0
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "assistant":
                for call in turn.calls:
                    written = json.dumps(
                        {"name": call.name, "arguments": call.arguments}, ensure_ascii=False
                    )
                    content += f"{TOOL_CALL}{written}{TOOL_CALL_END}"
                out += f" ASSISTANT:{content}{END}"
                continue
            if turn.kind == "function":
                text = f"<longcat_tool_response>{content}</longcat_tool_response>"
                # Consecutive results share one round.
                if index and turns[index - 1].kind == "function":
                    out += text
                    continue
            else:
                text = content
            out += f" [Round {rounds}] USER:{text}"
            rounds += 1
        return head + out.lstrip(" ") + " ASSISTANT:"


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="longcat",
        factory=LongCatWrapper,
        aliases=(
            "longcat-flash",
            "longcat-flash-chat",
            "longcat-flash-thinking",
            "longcat-flash-lite",
        ),
        description='Meituan LongCat-Flash <longcat_tool_call>{"name", "arguments"}</longcat_tool_call>',
        family="tool-call",
    )
]
