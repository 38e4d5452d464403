"""NAVER HyperCLOVA X SEED Think 14B: ``<|im_start|>assistant -> tool/function_call\\n[{...}]``.

The format of vLLM's template for the model
(``examples/tool_chat_template_hyperclovax_seed_think_14b.jinja``; parser
``vllm/tool_parsers/hyperclovax_seed_think_14b_tool_parser.py``). ChatML
turns with role suffixes: the tools are one JSON list in a ``tool_list``
turn, the generation prompt is ``<|im_start|>assistant`` without a newline,
and the model picks its channel by what it writes next::

    /think
    The user wants the weather.<|im_end|>
    <|im_start|>assistant -> tool/function_call
    [{"name": "get_weather", "arguments": {"city": "Paris"}}]<|im_end|><|stop|>

(``/think``: reasoning, ``\\n``: an answer, `` -> tool/function_call``: the
calls, a JSON list; ``parameters`` reads as ``arguments``). Results come
back in ``tool/function_call`` turns; an answer ends ``<|endofturn|>``.
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
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import Extraction, ToolFormatWrapper

CALL_ROLE = " -> tool/function_call\n"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
THINK = "/think"
#: Layout tokens between the channels of one answer; none of them is content.
LAYOUT = (f"{IM_START}assistant", IM_END, "<|stop|>", "<|endofturn|>")
_MARKER = re.compile(r"-> tool/function_call\n?")


def as_channels(text: str) -> str:
    """The answer with ``/think ...<|im_end|>`` as a ``<think>`` block and the layout removed."""
    stripped = text.lstrip("\n")
    if stripped.startswith(THINK):
        rest = stripped[len(THINK) :].lstrip("\n")
        end = rest.find(IM_END)
        text = "<think>" + (
            rest if end == -1 else rest[:end] + "</think>" + rest[end + len(IM_END) :]
        )
    for token in LAYOUT:
        text = text.replace(token, "")
    return text


class HyperCLOVAXWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = "-> tool/function_call"
    stream_openers: ClassVar[tuple[str, ...]] = (r"-> tool/function_call",)
    grammar_trigger: ClassVar[str] = CALL_ROLE
    stop: ClassVar[tuple[str, ...]] = ("<|endofturn|>", "<|stop|>")
    #: Its reasoning turn, after which the calls open a turn of their own.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (
        f"{THINK}\n",
        f"{IM_END}\n{IM_START}assistant",
        False,
    )

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        listed = []
        for function in functions:
            item = f'{{"name": "{function["name"]}", "description": "{function.get("description") or ""}"'
            if "parameters" in function:
                item += ', "parameters": ' + json.dumps(function["parameters"], ensure_ascii=False)
            listed.append(item + "}")
        out = (
            f"{IM_START}tool_list\n"
            + (f"[{', '.join(listed)}]" if functions else "")
            + f"{IM_END}\n"
        )
        if system or turns:
            out += f"{IM_START}system\n{system}{IM_END}\n"
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                out += f"{IM_START}tool/function_call\n{content}{IM_END}\n"
            elif turn.kind == "assistant":
                if content:
                    out += f"{IM_START}assistant\n{content.strip(chr(10))}{IM_END}"
                    out += "\n" if turn.calls else "<|endofturn|>\n"
                if turn.calls:
                    calls = ", ".join(
                        f'{{"name": "{c.name}", "arguments": {json.dumps(c.arguments, ensure_ascii=False)}}}'
                        for c in turn.calls
                    )
                    out += f"{IM_START}assistant{CALL_ROLE}[{calls}]{IM_END}<|stop|>\n"
            else:
                out += f"{IM_START}{turn.role}\n{content}{IM_END}\n"
        return out + f"{IM_START}assistant"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=CALL_ROLE,
            suffix=IM_END,
            only=only,
            max_calls=call_count(parallel, only),
            as_list=True,
        )

    def rewrite_output(self, text: str) -> str:
        return as_channels(text)

    def whole_tokens(self, text: str) -> str | None:
        if THINK.startswith(text.lstrip("\n")):
            return None  # reasoning or an answer: what comes next decides
        return without_partial_suffix(text, LAYOUT)

    def extract_calls(self, text: str) -> Extraction:
        return json_calls_after_markers(text, (_MARKER,))

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return marked_calls_so_far(region, (_MARKER,))


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="hyperclovax-seed-think",
        factory=HyperCLOVAXWrapper,
        aliases=("hyperclovax", "hyperclova-x", "hyperclovax-seed-think-14b"),
        description="NAVER HyperCLOVA X SEED Think <|im_start|>assistant -> tool/function_call\\n[{...}]",
        family="tool-call",
    )
]
