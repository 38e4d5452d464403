"""GLM-4.5 / 4.6 tool calls: ``<tool_call>name`` and ``<arg_key>`` / ``<arg_value>`` pairs.

The prompt is GLM-4.6's chat template (GLM-4.5's lays out tools the same
way): ``[gMASK]<sop>``, the tools as JSON lines in a ``<|system|>`` turn,
``<|user|>`` / ``<|assistant|>`` turns, and the model answers::

    <tool_call>get_weather
    <arg_key>city</arg_key>
    <arg_value>Paris</arg_value>
    </tool_call>

one block per call. Values are text, converted by the function's schema
(:mod:`wrappers.xml_calls`); GLM writes non-string values as JSON. Results
go back in an ``<|observation|>`` turn of ``<tool_response>`` blocks.
GLM-4.5+ think first (``<think>...</think>``); every past assistant turn shows
an empty ``<think></think>``, as the template writes it.

Telling it apart from Hermes / Qwen 2.5, whose JSON calls also open with
``<tool_call>`` (``auto`` detection, :mod:`wrappers.detection`): detection
matches ``call_pattern``, a function name right after the tag, and tries
openers of equal length in registration order, so ``wrappers.glm4`` is
registered before ``wrappers.hermes``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers import arg_key_calls
from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, tools_json_lines
from wrappers.xml_calls import XmlArgumentsWrapper

PREFIX = "[gMASK]<sop>"
TOOL_CALL = "<tool_call>"
TOOL_CALL_END = "</tool_call>"
TOOLS_HEADER = (
    "<|system|>\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
TOOLS_FOOTER = (
    "\n</tools>\n\nFor each function call, output the function name and arguments within the "
    "following XML format:\n<tool_call>{function-name}\n<arg_key>{arg-key-1}</arg_key>\n"
    "<arg_value>{arg-value-1}</arg_value>\n<arg_key>{arg-key-2}</arg_key>\n"
    "<arg_value>{arg-value-2}</arg_value>\n...\n</tool_call>"
)
TAGS = arg_key_calls.ArgKeyTags(TOOL_CALL, TOOL_CALL_END)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _split_reasoning(content: str) -> tuple[str, str]:
    """(reasoning, answer) of a past assistant turn that kept its ``<think>`` block."""
    if "</think>" not in content:
        return "", content
    reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
    return reasoning, content.split("</think>")[-1].lstrip("\n")


class Glm4Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALL
    grammar_trigger: ClassVar[str] = TOOL_CALL
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("<think>", "</think>", False)
    #: GLM-4.7 and Ling 3 start a call without closing their reasoning first
    #: (vLLM's glm47_moe / ling3 parsers end the reasoning at <tool_call>).
    calls_end_reasoning: ClassVar[bool] = True
    #: What detection matches: a GLM call, with or without arguments (a Hermes
    #: call has JSON after the tag).
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"<tool_call>\s*[^\s<{\[]+\s*(?:<arg_key>|</tool_call>)"
    )
    stop: ClassVar[tuple[str, ...]] = ("<|user|>", "<|observation|>", "<|endoftext|>")

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = PREFIX
        if functions:
            out += TOOLS_HEADER + tools_json_lines(functions) + TOOLS_FOOTER
        if system:
            out += "<|system|>\n" + system
        last_user = max((i for i, t in enumerate(turns) if t.kind == "user"), default=-1)
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "assistant":
                reasoning, content = _split_reasoning(content)
                shown = reasoning.strip() if index > last_user else ""
                out += f"<|assistant|>\n<think>{shown}</think>"
                if content.strip():
                    out += "\n" + content.strip()
                for call in turn.calls:
                    out += "\n" + TOOL_CALL + call.name
                    out += "".join(
                        f"\n<arg_key>{key}</arg_key>\n<arg_value>{_value(value)}</arg_value>"
                        for key, value in call.arguments.items()
                    )
                    out += "\n" + TOOL_CALL_END
            elif turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += "<|observation|>"
                out += f"\n<tool_response>\n{content}\n</tool_response>"
            elif turn.role == "system":
                out += "<|system|>\n" + content
            else:
                out += "<|user|>\n" + content
        return out + "<|assistant|>"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return arg_key_calls.call_grammar(functions, TAGS, only, parallel=parallel)

    def extract_calls(self, text: str) -> Extraction:
        return arg_key_calls.extract_calls(text, TAGS)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return arg_key_calls.calls_so_far(region, TAGS, functions)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="glm4",
        factory=Glm4Wrapper,
        aliases=("glm-4.5", "glm-4.5-air", "glm-4.6", "glm-4.7", "glm4-moe"),
        description="GLM-4.5 / 4.6 <tool_call>name<arg_key>k</arg_key><arg_value>v</arg_value>",
        family="tool-call",
    )
]
