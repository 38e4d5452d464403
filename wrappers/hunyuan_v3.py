"""Tencent HY v3 (Hy3-preview): ``<tool_calls>`` blocks of ``<tool_call>NAME<tool_sep>`` calls.

The format of Hy3-preview's chat template (``chat_template.jinja`` of
``tencent/Hy3-preview``; vLLM ``vllm/tool_parsers/hy_v3_tool_parser.py``).
The system text comes first, then the tools as JSON lines in ``<tools>``
and how to call them; the reasoning effort follows a
``<｜reasoning_mode｜>`` token (``no_think`` unless configured). Turns open
with ``<｜hy_User｜>`` / ``<｜hy_Assistant｜>``; the answer opens with an empty
``<think></think>`` when thinking is off::

    <｜hy_begin▁of▁sentence｜># Tools
    ...
    At the end of function call returns, you should print </tool_calls><｜reasoning_mode｜>reasoning_effort:no_think<｜hy_User｜>What is the weather in Paris?<｜hy_Assistant｜><think></think>

and the model answers (:mod:`wrappers.hy_arg_calls`)::

    <tool_calls>
    <tool_call>get_weather<tool_sep>
    <arg_key>city</arg_key>
    <arg_value>Paris</arg_value>
    </tool_call>
    </tool_calls>

Results go back in one ``<tool_responses>`` block of ``<tool_response>`` tags.
With ``reasoning_effort`` ``low`` or ``high`` the prompt opens ``<think>`` and
the reasoning up to ``</think>`` goes to ``reasoning_content``.
"""
# ruff: noqa: RUF001, RUF002  (Hunyuan's tokens use full-width bars)

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.hy_arg_calls import CALLS_OPEN, HyTags, extract_hy_calls, hy_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, tools_json_lines
from wrappers.xml_calls import XmlArgumentsWrapper

BOS = "<｜hy_begin▁of▁sentence｜>"
USER = "<｜hy_User｜>"
ASSISTANT = "<｜hy_Assistant｜>"
EOS = "<｜hy_eos｜>"
REASONING_MODE = "<｜reasoning_mode｜>"
EFFORTS = ("high", "low", "no_think")


class HunyuanV3Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = "<tool_calls>"
    grammar_trigger: ClassVar[str] = "<tool_calls>"
    #: A HY v3 call: a name closed by <tool_sep> (Hunyuan A13B's <tool_calls> holds JSON).
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"<tool_call>\s*[^\s<{\[]+\s*<tool_sep>")
    stream_openers: ClassVar[tuple[str, ...]] = (CALLS_OPEN.pattern, r"<tool_call(?::[^\s<>]+)?>")
    stop: ClassVar[tuple[str, ...]] = (EOS,)

    def __init__(self, reasoning_effort: str = "no_think") -> None:
        self.reasoning_effort = reasoning_effort if reasoning_effort in EFFORTS else "no_think"

    @property
    def tags(self) -> HyTags:
        """How this checkpoint spells its calls (HY v4 overrides it)."""
        return HyTags()

    def think(self, text: str, *, closed: bool = True) -> str:
        close = self.tags.token("/think") if closed else ""
        return self.tags.token("think") + text + close

    def tools_text(self, system: str, functions: Sequence[FunctionSchema]) -> str:
        """The template's tool section, after the system text."""
        t = self.tags
        return (
            ("\n\n" if system else "")
            + "# Tools\n\nYou may call one or more functions to assist with the user query."
            + "\n\nYou are provided with function signatures within <tools></tools> XML tags:"
            + f"\n<tools>\n{tools_json_lines(functions)}\n</tools>\n\n"
            + f"For function call returns, you should first print {t.token('tool_calls')}\n"
            + "For each function call, you should return object like:\n"
            + t.head("{function-name}")
            + "".join(
                before + f"{{arg-value-{i}}}" + after
                for i, (before, after) in enumerate(
                    (t.argument("{arg-key-1}"), t.argument("{arg-key-2}")), start=1
                )
            )
            + f"...\n{t.token('/tool_call')}\n"
            + f"At the end of function call returns, you should print {t.token('/tool_calls')}"
            + self.effort_text()
        )

    def effort_text(self) -> str:
        return f"{REASONING_MODE}reasoning_effort:{self.reasoning_effort}"

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        # The template gathers every system message into the system text.
        system += "".join(
            t.content or "" for t in turns if t.kind == "other" and t.role == "system"
        )
        out = BOS + system
        out += self.tools_text(system, functions) if functions else self.effort_text()
        in_results, first_result = False, True
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "function":
                if first_result:
                    out += "<tool_responses>\n"
                    first_result = False
                out += f"<tool_response>\n{content}\n</tool_response>\n"
                in_results = True
                continue
            if turn.kind == "other" and turn.role == "system":
                continue
            if in_results:
                out += "</tool_responses>"
                in_results = False
            if turn.kind == "assistant":
                out += ASSISTANT + self.think("") + content
                if turn.calls:
                    first_result = True
                    calls = [(call.name, call.arguments) for call in turn.calls]
                    out += self.tags.calls(calls) + EOS
                elif index + 1 < len(turns):
                    out += EOS
            else:
                out += USER + content
        if in_results:
            out += "</tool_responses>"
        if turns and turns[-1].kind == "assistant":
            return out
        # low / high: the prompt opens the reasoning block; no_think closes it empty.
        return out + ASSISTANT + self.think("", closed=self.reasoning_effort == "no_think")

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return self.tags.grammar(functions, only, parallel=parallel)

    def extract_calls(self, text: str) -> Extraction:
        return extract_hy_calls(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return hy_calls_so_far(region, functions)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="hunyuan-v3",
        factory=HunyuanV3Wrapper,
        aliases=("hy3", "hy_v3", "hy-v3", "hy3-preview", "hunyuan3"),
        description="Tencent HY v3 <tool_calls><tool_call>NAME<tool_sep><arg_key>k</arg_key><arg_value>v",
        family="tool-call",
    )
]
