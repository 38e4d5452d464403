"""Salesforce xLAM: calls as one JSON list, ``[{"name": ..., "arguments": {...}}, ...]``.

The format of the xLAM-2 function-calling models (vLLM
``examples/tool_chat_template_xlam_qwen.jinja`` and ``..._xlam_llama.jinja``;
parser ``vllm/tool_parsers/xlam_tool_parser.py``). The Qwen-based models
use ChatML; without a system message the template writes xLAM's own,
with the instruction to answer with one JSON list, and each tool as indented
JSON::

    <|im_start|>system
    You are a helpful assistant. You are developed by Salesforce xLAM team.
    You have access to a set of tools. When using tools, make calls in a single JSON array: ...

    {
        "type": "function",
        ...
    }

    <|im_end|>
    <|im_start|>user
    What is the weather in Paris?<|im_end|>
    <|im_start|>assistant

and the model answers::

    [{"name": "get_weather", "arguments": {"city": "Paris"}}]

The list has no marker of its own; models also put it in a code fence, after
``[TOOL_CALLS]`` or between ``<tool_call>`` tags (vLLM's parser reads all of
them), and results come back in ``tool`` turns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.generic_json import IM_END, IM_START, GenericJSONWrapper
from wrappers.grammar import call_count, json_call_grammar
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction

DEFAULT_SYSTEM = "You are a helpful assistant. You are developed by Salesforce xLAM team."
FORMAT_INSTRUCTION = (
    "You have access to a set of tools. When using tools, make calls in a single JSON array: "
    '\n\n[{"name": "tool_call_name", "arguments": {"arg1": "value1", "arg2": "value2"}}, '
    "... (additional parallel tool calls as needed)]\n\nIf no tool is suitable, state that "
    "explicitly. If the user's input lacks required parameters, ask for clarification. Do not "
    "interpret or respond until tool results are returned. Once they are available, process "
    "them or make additional calls if needed. For tasks that don't require tools, such as "
    "casual conversation or general advice, respond directly in plain text. "
    "The available tools are:"
)
#: Markers other formats put around the list; xLAM models write them too.
WRAPPING_MARKERS = ("[TOOL_CALLS]", "<tool_call>", "</tool_call>")


def without_wrapping_markers(text: str) -> str:
    for marker in WRAPPING_MARKERS:
        text = text.replace(marker, "")
    return text


class XLAMWrapper(GenericJSONWrapper):
    #: The call list opens so (generic-json's "{" would not start its grammar).
    grammar_trigger: ClassVar[str] = '[{"name"'
    # No call_start: the list has no marker, so `auto` reads it with the JSON
    # fallback (the same reading) rather than claiming every JSON list as xLAM's.
    stream_openers: ClassVar[tuple[str, ...]] = (
        *GenericJSONWrapper.stream_openers,
        "<tool_call>",
    )

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = f"{IM_START}system\n"
        if system:
            out += system.strip() + "\n"
        else:
            out += DEFAULT_SYSTEM + "\n"
            if functions:
                out += FORMAT_INSTRUCTION + "\n\n"
        for function in functions:
            tool = {"type": "function", "function": dict(function)}
            out += json.dumps(tool, ensure_ascii=False, indent=4) + "\n\n"
        out += f"{IM_END}\n"
        for turn in turns:
            if turn.kind == "function":
                out += f"{IM_START}tool\n{turn.content or ''}{IM_END}\n"
            elif turn.kind == "assistant" and turn.calls:
                calls = ", ".join(
                    json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False)
                    for c in turn.calls
                )
                out += f"{IM_START}assistant\n[{calls}]{IM_END}\n"
            else:
                out += f"{IM_START}{turn.role}\n{(turn.content or '').strip()}{IM_END}\n"
        return out + f"{IM_START}assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # The answer is the list itself, as the system prompt asks for it.
        calls = call_count(parallel, only)
        return json_call_grammar(
            functions, prefix="", suffix="", only=only, max_calls=calls, as_list=True
        )

    def extract_calls(self, text: str) -> Extraction:
        found = super().extract_calls(without_wrapping_markers(text))
        return found if found.calls else Extraction(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return super().partial_calls(without_wrapping_markers(region), functions)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="xlam",
        factory=XLAMWrapper,
        aliases=("xlam-2", "llama-xlam-2", "xlam-2-fc-r"),
        description='Salesforce xLAM-2: one JSON list [{"name", "arguments"}], ChatML',
        family="tool-call",
    )
]
