"""Liquid LFM2 tool calls: a Python list between ``<|tool_call_start|>`` and ``<|tool_call_end|>``.

The prompt is LFM2's chat template: ChatML turns, the tools as JSON in the
system turn between ``<|tool_list_start|>`` and ``<|tool_list_end|>``, and
the model answers (LFM2 model card)::

    <|tool_call_start|>[get_candidate_status(candidate_id="12345")]<|tool_call_end|>Checking the current status of candidate ID 12345.

Several calls share the list. The list is read with :mod:`ast`, literals
only; a JSON list of ``{"name", "arguments"}`` objects between the same
markers (what llama.cpp's older LFM2 prompt asked for) is read too. Results
go back as ``tool`` turns wrapped in ``<|tool_response_start|>`` /
``<|tool_response_end|>``. The template prints only a message's text, so past
calls are written into the assistant turn as the model writes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.grammar import call_count
from wrappers.json_calls import find_json_calls
from wrappers.python_calls import NotACallList, parse_call_list, python_calls_grammar
from wrappers.pythonic import call_list
from wrappers.registry import WrapperEntry
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

CALL_START = "<|tool_call_start|>"
CALL_END = "<|tool_call_end|>"
IM_END = "<|im_end|>"
_EMPTY_LIST = re.compile(r"\[\s*\]")


def calls_between_markers(payload: str, text: str) -> list[ExtractedCall]:
    """The calls between the markers: a Python list, or JSON call objects."""
    stripped = payload.strip()
    if _EMPTY_LIST.fullmatch(stripped):
        return []  # "[]": the model decided to call nothing
    if stripped.startswith("{") or stripped.replace(" ", "").startswith("[{"):
        found = find_json_calls(stripped, repair=False)
        if found.calls and not found.content.strip(" \n[],"):
            return found.calls
    try:
        return parse_call_list(stripped)
    except NotACallList as exc:
        raise WrapperParseError(f"unreadable LFM2 tool call: {exc}", text) from exc


class Lfm2Wrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = CALL_START
    grammar_trigger: ClassVar[str] = CALL_START
    stop: ClassVar[tuple[str, ...]] = (IM_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        system_prompt = system
        if functions:
            tools = ", ".join(
                json.dumps({"type": "function", "function": dict(f)}, ensure_ascii=False)
                for f in functions
            )
            system_prompt += ("\n" if system_prompt else "") + (
                f"List of tools: <|tool_list_start|>[{tools}]<|tool_list_end|>"
            )
        out = "<|startoftext|>"
        if system_prompt:
            out += f"<|im_start|>system\n{system_prompt}{IM_END}\n"
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                role, content = "tool", f"<|tool_response_start|>{content}<|tool_response_end|>"
            elif turn.kind == "assistant":
                role = "assistant"
                if turn.calls:
                    content = CALL_START + call_list(turn.calls) + CALL_END + content
            else:
                role = turn.role
            out += f"<|im_start|>{role}\n{content}{IM_END}\n"
        return out + "<|im_start|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return python_calls_grammar(
            functions,
            only=only,
            max_calls=call_count(parallel, only),
            start=CALL_START,
            end=CALL_END,
        )

    def extract_calls(self, text: str) -> Extraction:
        content = ""
        calls: list[ExtractedCall] = []
        position = 0
        while (start := text.find(CALL_START, position)) != -1:
            content += text[position:start]
            end = text.find(CALL_END, start)
            payload = text[start + len(CALL_START) : len(text) if end == -1 else end]
            calls.extend(calls_between_markers(payload, text))
            position = len(text) if end == -1 else end + len(CALL_END)
        return Extraction(content + text[position:], calls)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="lfm2",
        factory=Lfm2Wrapper,
        aliases=("lfm2.5", "lfm-2", "liquid-lfm2"),
        description="Liquid LFM2 <|tool_call_start|>[f(a=1)]<|tool_call_end|>, ChatML turns",
        family="tool-call",
    )
]
