"""InternLM2 / 2.5: ``<|action_start|><|plugin|>{"name": ..., "parameters": {...}}<|action_end|>``.

The format of InternLM2's tool template (vLLM
``examples/tool_chat_template_internlm2_tool.jinja``; parser
``vllm/tool_parsers/internlm2_tool_parser.py``). ChatML turns; the tools are
one JSON list in a ``system name=<|plugin|>`` turn, results come back in an
``environment name=<|plugin|>`` turn::

    <|im_start|>system name=<|plugin|>
    [{"name": "get_weather", "parameters": {...}}]<|im_end|>
    <|im_start|>user
    What is the weather in Paris?<|im_end|>
    <|im_start|>assistant

and the model answers::

    Let me check.<|action_start|><|plugin|>
    {"name": "get_weather", "parameters": {"city": "Paris"}}<|action_end|>

The arguments come as ``parameters`` (the model's) or ``arguments`` (the
template's history); each call has its own action block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import json_call_grammar
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper

ACTION_START = "<|action_start|>"
PLUGIN = "<|plugin|>"
ACTION_END = "<|action_end|>"
IM_END = "<|im_end|>"
# The plugin token is sometimes dropped (vLLM's parser test has such an output).
_OPENER = re.compile(re.escape(ACTION_START) + r"\s*(?:" + re.escape(PLUGIN) + r")?")


class InternLM2Wrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = ACTION_START
    grammar_trigger: ClassVar[str] = ACTION_START + PLUGIN
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(ACTION_START),)
    stop: ClassVar[tuple[str, ...]] = (IM_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = f"<|im_start|>system\n{system}{IM_END}\n" if system else ""
        if functions:
            listed = ", ".join(json.dumps(dict(f), ensure_ascii=False) for f in functions)
            out += f"<|im_start|>system name={PLUGIN}\n[{listed}]{IM_END}\n"
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "assistant":
                out += "<|im_start|>assistant\n" + content
                for call in turn.calls:
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    out += f'{ACTION_START}{PLUGIN}\n{{"name": "{call.name}", '
                    out += f'"arguments": {arguments}}}{ACTION_END}'
            elif turn.kind == "function":
                out += f"<|im_start|>environment name={PLUGIN}\n{content}"
            else:
                out += f"<|im_start|>{turn.role}\n{content}"
            out += f"{IM_END}\n"
        return out + "<|im_start|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # One call: InternLM2 was trained on one action per answer.
        return json_call_grammar(
            functions,
            prefix=f"{ACTION_START}{PLUGIN}\n",
            suffix=ACTION_END,
            only=only,
            arguments_key="parameters",
        )

    def extract_calls(self, text: str) -> Extraction:
        return json_calls_after_markers(text, (_OPENER,), end_markers=(ACTION_END,))

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return marked_calls_so_far(region, (_OPENER,), end_markers=(ACTION_END,))


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="internlm2",
        factory=InternLM2Wrapper,
        aliases=("internlm", "internlm2.5", "internlm2_5", "internlm-2"),
        description='InternLM2 <|action_start|><|plugin|>{"name", "parameters"}<|action_end|>',
        family="tool-call",
    )
]
