"""MiniMax M2: ``<minimax:tool_call><invoke name="f"><parameter name="k">v</parameter></invoke>``.

The format of MiniMax-M2's chat template (llama.cpp
``models/templates/unsloth-MiniMax-M2.jinja``; vLLM
``vllm/tool_parsers/minimax_m2_tool_parser.py``). Turns open with
``]~b]ROLE`` and end with ``[e~[``; the tools are listed as JSON in the
system turn; the generation prompt opens a ``<think>`` block, so the answer
starts with the model's reasoning::

    ]~!b[]~b]system
    You are a helpful assistant.

    # Tools
    You may call one or more tools to assist with the user query.
    Here are the tools available in JSONSchema format:

    <tools>
    <tool>{"name": "get_weather", "parameters": {...}}</tool>
    </tools>

    When making tool calls, use XML format to invoke tools and pass parameters:

    <minimax:tool_call>
    <invoke name="tool-name-1">
    ...
    </minimax:tool_call>[e~[
    ]~b]user
    What is the weather in Paris?[e~[
    ]~b]ai
    <think>

and the model answers::

    The user wants the weather.</think>

    <minimax:tool_call>
    <invoke name="get_weather">
    <parameter name="city">Paris</parameter>
    </invoke>
    </minimax:tool_call>

Values are text, typed by the request's schema (:mod:`wrappers.invoke_calls`)
and trimmed of surrounding whitespace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import CallRecord, Turn
from wrappers.grammar import call_count
from wrappers.invoke_calls import InvokeFormat, extract_invokes, invoke_grammar, invokes_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction
from wrappers.xml_calls import XmlArgumentsWrapper, text_value

TOOL_CALL = "<minimax:tool_call>"
TOOL_CALL_END = "</minimax:tool_call>"
TURN_END = "[e~["
DEFAULT_SYSTEM = "You are a helpful assistant."
FORM = InvokeFormat(prefix="", block_open=TOOL_CALL, block_close=TOOL_CALL_END)
TOOLS_HEADER = (
    "\n\n# Tools\nYou may call one or more tools to assist with the user query.\n"
    "Here are the tools available in JSONSchema format:\n\n<tools>\n"
)
TOOLS_FOOTER = (
    "</tools>\n\nWhen making tool calls, use XML format to invoke tools and pass parameters:\n"
    f'\n{TOOL_CALL}\n<invoke name="tool-name-1">\n'
    '<parameter name="param-key-1">param-value-1</parameter>\n'
    '<parameter name="param-key-2">param-value-2</parameter>\n...\n</invoke>\n'
    f"{TOOL_CALL_END}"
)


class MiniMaxM2Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALL
    grammar_trigger: ClassVar[str] = TOOL_CALL
    # The prompt opens <think>: an answer is the rest of the block, then calls.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("<think>", "</think>", True)
    # A model that drops the block still opens each call with <invoke name=.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"<minimax:tool_call>|<invoke name=")
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(TOOL_CALL), r"<invoke\s+name")
    stop: ClassVar[tuple[str, ...]] = (TURN_END,)
    #: How the system turn says to write calls, after the tools (MiniMax M3 has its own).
    tools_footer: ClassVar[str] = TOOLS_FOOTER
    #: The open assistant turn; M2's opens its reasoning block.
    generation_prompt: ClassVar[str] = "]~b]ai\n<think>\n"

    def calls_text(self, calls: Sequence[CallRecord]) -> str:
        """A past turn's calls as the template writes them after the turn's text."""
        out = f"\n{TOOL_CALL}\n"
        for call in calls:
            out += f'<invoke name="{call.name}">\n'
            out += "".join(
                f'<parameter name="{key}">{text_value(value)}</parameter>\n'
                for key, value in call.arguments.items()
            )
            out += "</invoke>\n"
        return out + TOOL_CALL_END

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = "]~!b[]~b]system\n" + (system or DEFAULT_SYSTEM)
        if functions:
            out += TOOLS_HEADER
            out += "".join(
                f"<tool>{json.dumps(dict(f), ensure_ascii=False)}</tool>\n" for f in functions
            )
            out += self.tools_footer
        out += TURN_END + "\n"
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += "]~b]tool"
                out += f"\n<response>{turn.content or ''}</response>"
                if index + 1 == len(turns) or turns[index + 1].kind != "function":
                    out += TURN_END + "\n"
            elif turn.kind == "assistant":
                out += "]~b]ai\n" + (turn.content or "")
                if turn.calls:
                    out += self.calls_text(turn.calls)
                out += TURN_END + "\n"
            else:
                out += f"]~b]user\n{turn.content or ''}{TURN_END}\n"
        return out + self.generation_prompt

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return invoke_grammar(functions, FORM, only, max_calls=call_count(parallel, only))

    def extract_calls(self, text: str) -> Extraction:
        return extract_invokes(text, FORM)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return invokes_so_far(region, FORM, functions)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="minimax-m2",
        factory=MiniMaxM2Wrapper,
        aliases=("minimax", "minimax-m2.1", "minimax-m2.5"),
        description='MiniMax M2 <minimax:tool_call><invoke name="f"><parameter name="k">, ]~b] turns',
        family="tool-call",
    )
]
