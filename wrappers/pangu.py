"""Huawei openPangu: a JSON list of calls between ``[unused11]`` and ``[unused12]``.

The output format of vLLM's ``vllm/tool_parsers/pangu_tool_parser.py`` and
``openpangu_v2_tool_parser.py``::

    [unused11][{"name": "get_weather", "arguments": {"city": "Paris"}}][unused12]

openPangu-Embedded's vocabulary spells the markers ``[unused11]`` /
``[unused12]``; tokenizers that have them write ``<|tool_call_start|>`` /
``<|tool_call_end|>`` instead (LFM2's markers, whose reader this one reuses),
and ``parameters`` may stand for ``arguments``. Reasoning is written between
``[unused16]`` and ``[unused17]`` and goes to ``reasoning_content``; a turn
ends with ``[unused10]``.

The turns are openPangu's (its model card prints them):
``[unused9]系统：...[unused10][unused9]用户：...[unused10][unused9]助手：``, results in
``[unused9]工具：...[unused10]`` turns. The tool-calling template was not at
hand: the tools and the call format are stated in the system turn, fcproxy's
rendering of the documented output format, said here and in docs/wrappers.md.
"""

# ruff: noqa: RUF001, RUF002  (openPangu's turns use a full-width colon)

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, json_call_grammar
from wrappers.lfm2 import CALL_END, CALL_START, Lfm2Wrapper
from wrappers.registry import WrapperEntry
from wrappers.streaming import without_partial_suffix
from wrappers.tool_format import Extraction, tools_json_lines

CALLS_OPEN = "[unused11]"
CALLS_CLOSE = "[unused12]"
THINK_OPEN = "[unused16]"
THINK_CLOSE = "[unused17]"
TURN_START = "[unused9]"
TURN_END = "[unused10]"
ROLES = {"system": "系统", "user": "用户", "assistant": "助手", "tool": "工具"}
CALL_INSTRUCTIONS = (
    "\n\n# Tools\n\nYou may call one or more functions. The available functions, in JSONSchema "
    "format:\n{tools}\n\nTo call functions, answer with a JSON list of the calls:\n"
    f'{CALLS_OPEN}[{{"name": "function-name", "arguments": {{...}}}}]{CALLS_CLOSE}'
)


def turn(role: str, content: str) -> str:
    """One openPangu turn (a full-width colon after the role)."""
    return f"{TURN_START}{ROLES.get(role, role)}：{content}{TURN_END}"


class PanguWrapper(Lfm2Wrapper):
    call_start: ClassVar[str] = CALLS_OPEN
    grammar_trigger: ClassVar[str] = CALLS_OPEN
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(CALLS_OPEN), re.escape(CALL_START))
    stop: ClassVar[tuple[str, ...]] = (TURN_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            system += CALL_INSTRUCTIONS.replace("{tools}", tools_json_lines(functions))
        out = turn("system", system.lstrip())
        for item in turns:
            content = item.content or ""
            if item.kind == "assistant":
                if item.calls:
                    calls = [{"name": c.name, "arguments": c.arguments} for c in item.calls]
                    content += CALLS_OPEN + json.dumps(calls, ensure_ascii=False) + CALLS_CLOSE
                out += turn("assistant", content)
            elif item.kind == "function":
                out += turn("tool", content)
            else:
                out += turn(item.role if item.kind == "other" else "user", content)
        return out + f"{TURN_START}{ROLES['assistant']}："

    def rewrite_output(self, text: str) -> str:
        return text.replace(THINK_OPEN, "<think>").replace(THINK_CLOSE, "</think>")

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, (THINK_OPEN, THINK_CLOSE))

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=CALLS_OPEN,
            suffix=CALLS_CLOSE,
            only=only,
            max_calls=call_count(parallel, only),
            as_list=True,
        )

    def extract_calls(self, text: str) -> Extraction:
        # One reader for both spellings of the markers.
        return super().extract_calls(
            text.replace(CALLS_OPEN, CALL_START).replace(CALLS_CLOSE, CALL_END)
        )


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="pangu",
        factory=PanguWrapper,
        aliases=("openpangu", "openpangu-embedded", "openpangu-v2", "pangu-embedded"),
        description='openPangu [unused11][{"name": "f", "arguments": {...}}][unused12]',
        family="tool-call",
    )
]
