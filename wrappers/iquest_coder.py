"""iQuest Coder V2: GLM's key / value calls inside ``<iquestcoder_tool_call>``.

The output format of vLLM's ``vllm/tool_parsers/iquest_coder_v2_tool_parser.py``::

    <iquestcoder_tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></iquestcoder_tool_call>

one block per call, flush or with newlines around the name and the pairs;
values are text, typed by the request's schema (a string parameter keeps its
text, the rest read as JSON), as vLLM's parser does. Reasoning comes first in
``<think>``; the template may open the block, and a call ends a block left
open (vLLM's iQuest reasoning parser stops at the call token).

(iQuest Coder V1 writes Qwen3-Coder's ``<function=...>`` calls: ``qwen3-coder``
reads them.)

iQuest Coder V2's chat template was not at hand. The prompt uses ChatML turns
with the tools as JSON lines and the call format stated in the system turn:
fcproxy's rendering of the documented output format, said here and in
docs/wrappers.md. With the model's own template, use the ``jinja`` wrapper:
its marker detection picks this parser.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers import arg_key_calls
from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, tools_json_lines
from wrappers.xml_calls import XmlArgumentsWrapper

CALL_OPEN = "<iquestcoder_tool_call>"
CALL_CLOSE = "</iquestcoder_tool_call>"
TAGS = arg_key_calls.ArgKeyTags(CALL_OPEN, CALL_CLOSE)
IM_END = "<|im_end|>"
CALL_INSTRUCTIONS = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
    "{tools}\n</tools>\n\nFor each function call, output the function name and arguments "
    f"within the following format:\n{CALL_OPEN}{{function-name}}<arg_key>{{arg-key-1}}</arg_key>"
    f"<arg_value>{{arg-value-1}}</arg_value>...{CALL_CLOSE}"
)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def call_text(name: str, arguments: dict[str, Any]) -> str:
    """One call as the model writes it (flush, as in vLLM's tests of its parser)."""
    pairs = "".join(
        f"<arg_key>{key}</arg_key><arg_value>{_value(value)}</arg_value>"
        for key, value in arguments.items()
    )
    return f"{CALL_OPEN}{name}{pairs}{CALL_CLOSE}"


class IquestCoderV2Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = CALL_OPEN
    grammar_trigger: ClassVar[str] = CALL_OPEN
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("<think>", "</think>", False)
    calls_end_reasoning: ClassVar[bool] = True
    stop: ClassVar[tuple[str, ...]] = (IM_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            system += CALL_INSTRUCTIONS.replace("{tools}", tools_json_lines(functions))
        out = f"<|im_start|>system\n{system.lstrip()}{IM_END}\n" if system else ""
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                out += f"<|im_start|>tool\n{content}{IM_END}\n"
            elif turn.kind == "assistant":
                content += "".join(call_text(c.name, c.arguments) for c in turn.calls)
                out += f"<|im_start|>assistant\n{content}{IM_END}\n"
            else:
                role = turn.role if turn.kind == "other" else "user"
                out += f"<|im_start|>{role}\n{content}{IM_END}\n"
        return out + "<|im_start|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return arg_key_calls.call_grammar(functions, TAGS, only, parallel=parallel, layout="")

    def extract_calls(self, text: str) -> Extraction:
        return arg_key_calls.extract_calls(text, TAGS)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return arg_key_calls.calls_so_far(region, TAGS, functions)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="iquest-coder-v2",
        factory=IquestCoderV2Wrapper,
        aliases=("iquestcoder-v2", "iquest-coder-2"),
        description="iQuest Coder V2 <iquestcoder_tool_call>f<arg_key>k</arg_key><arg_value>v",
        family="tool-call",
    )
]
