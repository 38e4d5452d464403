"""NVIDIA Nemotron Nano v2: ``<TOOLCALL>[{"name": ..., "arguments": {...}}]</TOOLCALL>``.

The format of NVIDIA-Nemotron-Nano-9B-v2's chat template (llama.cpp
``models/templates/NVIDIA-Nemotron-Nano-v2.jinja``, parser tests in
``tests/chat-parsers/test-nemotron-v2.cpp``). Turns open with
``<SPECIAL_10>System`` / ``<SPECIAL_11>User`` / ``<SPECIAL_11>Assistant`` and
an assistant turn ends with ``<SPECIAL_12>``; the tools are a JSON list in
``<AVAILABLE_TOOLS>``; results come back in one ``<TOOL_RESPONSE>[...]``
user turn; the generation prompt opens ``<think>``::

    <SPECIAL_10>System
    You can use the following tools to assist the user if required:
    <AVAILABLE_TOOLS>[{"name": "get_weather", ...}]</AVAILABLE_TOOLS>
    ...
    <SPECIAL_11>User
    What is the weather in Paris?
    <SPECIAL_11>Assistant
    <think>

and the model answers, after its reasoning::

    <TOOLCALL>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</TOOLCALL>
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

TOOLCALL = "<TOOLCALL>"
TOOLCALL_END = "</TOOLCALL>"
TURN_END = "<SPECIAL_12>"
TOOLS_INSTRUCTIONS = (
    "You can use the following tools to assist the user if required:\n<AVAILABLE_TOOLS>["
)
TOOLS_FOOTER = (
    "]</AVAILABLE_TOOLS>\n\n"
    "If you decide to call any tool(s), use the following format:\n"
    '<TOOLCALL>[{{"name": "tool_name1", "arguments": "tool_args1"}}, '
    '{{"name": "tool_name2", "arguments": "tool_args2"}}]</TOOLCALL>\n\n'
    "The user will execute tool-calls and return responses from tool(s) in this format:\n"
    '<TOOL_RESPONSE>[{{"tool_response1"}}, {{"tool_response2"}}]</TOOL_RESPONSE>\n\n'
    "Based on the tool responses, you can call additional tools if needed, correct tool calls "
    "if any errors are found, or just respond to the user."
)


def calls_json(turn: Turn) -> str:
    # The template writes each call by hand: {"name": "...", "arguments": <tojson>}.
    return ", ".join(
        f'{{"name": "{c.name}", "arguments": {json.dumps(c.arguments, ensure_ascii=False)}}}'
        for c in turn.calls
    )


class NemotronWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOLCALL
    grammar_trigger: ClassVar[str] = TOOLCALL
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"<TOOLCALL>\s*[\[{]")
    stop: ClassVar[tuple[str, ...]] = (TURN_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        system = system.strip()
        out = "<SPECIAL_10>System\n" + system
        if functions:
            out += ("\n\n" if system else "") + TOOLS_INSTRUCTIONS
            out += ", ".join(json.dumps(dict(f), ensure_ascii=False) for f in functions)
            out += TOOLS_FOOTER
        out += "\n\n"
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += "<SPECIAL_11>User\n<TOOL_RESPONSE>["
                out += turn.content or ""
                if index + 1 < len(turns) and turns[index + 1].kind == "function":
                    out += ", "
                else:
                    out += "]</TOOL_RESPONSE>\n\n"
            elif turn.kind == "assistant":
                content = (turn.content or "").strip()
                out += "<SPECIAL_11>Assistant\n" + content
                if turn.calls:
                    out += (
                        "\n\n" if content else ""
                    ) + f"{TOOLCALL}[{calls_json(turn)}]{TOOLCALL_END}"
                out += f"\n{TURN_END}\n\n"
            else:
                out += f"<SPECIAL_11>User\n{(turn.content or '').strip()}\n"
        return out + "<SPECIAL_11>Assistant\n<think>\n\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=TOOLCALL,
            suffix=TOOLCALL_END,
            only=only,
            max_calls=call_count(parallel, only),
            as_list=True,
        )

    def extract_calls(self, text: str) -> Extraction:
        return json_calls_after_markers(text, (TOOLCALL,), end_markers=(TOOLCALL_END,))

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return marked_calls_so_far(region, (TOOLCALL,), end_markers=(TOOLCALL_END,))


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="nemotron",
        factory=NemotronWrapper,
        aliases=("nemotron-nano-v2", "nemotron-nano-9b-v2", "nemotron-v2"),
        description='NVIDIA Nemotron Nano v2 <TOOLCALL>[{"name", "arguments"}]</TOOLCALL>',
        family="tool-call",
    )
]
