"""NAVER HyperCLOVA X SEED Think 32B: GLM's ``<tool_call>`` blocks with JSON values.

The output format of vLLM's ``vllm/tool_parsers/hyperclovax_seed_think_tool_parser.py``
(the 14B model writes another format: ``hyperclovax-seed-think``)::

    The user wants the weather.</think>

    <tool_call>get_current_weather
    <arg_key>location</arg_key>
    <arg_value>"Seoul"</arg_value>
    </tool_call><|im_end|>

GLM's layout (:mod:`wrappers.glm4`), each value written as JSON: a string
in quotes. A value that is one JSON string is read as that string (vLLM's
parser decodes every value); the rest are typed by the schema as GLM's. The
prompt opens the reasoning block, so the output starts inside it. Under a
required call the model may answer ``[{"name": ..., "parameters": {...}}]``
instead: bare JSON, read by the tolerance every format has.

The 32B model's chat template was not at hand. The prompt uses ChatML turns
with the tools as JSON lines and GLM's call instructions in the system turn,
past calls with JSON values, results in ``tool`` turns, and the answer opened
with ``<think>``: fcproxy's rendering of the documented output format, said
here and in docs/wrappers.md.

``auto`` tells these calls from GLM's by a quoted value; this module is
registered before :mod:`wrappers.glm4` for that (equal openers are tried in
registration order). A call with no string value reads the same either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers import arg_key_calls
from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.glm4 import TAGS, Glm4Wrapper
from wrappers.registry import WrapperEntry
from wrappers.tool_format import tools_json_lines

IM_END = "<|im_end|>"
TOOLS_HEADER = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
TOOLS_FOOTER = (
    "\n</tools>\n\nFor each function call, output the function name and arguments within the "
    "following XML format, each value as JSON:\n<tool_call>{function-name}\n"
    "<arg_key>{arg-key-1}</arg_key>\n<arg_value>{arg-value-1}</arg_value>\n...\n</tool_call>"
)
# A whole value that is one JSON string (the quotes and escapes are the model's JSON).
_JSON_STRING_VALUE = re.compile(r'(<arg_value>)\s*("(?:[^"\\]|\\.)*")\s*(</arg_value>)', re.DOTALL)


def _decoded(match: re.Match[str]) -> str:
    try:
        value = json.loads(match.group(2))
    except json.JSONDecodeError:
        return match.group(0)
    return f"{match.group(1)}{value}{match.group(3)}"


def call_block(name: str, arguments: dict[str, Any]) -> str:
    """One call as the model writes it: GLM's layout, values as JSON."""
    pairs = "".join(
        f"\n<arg_key>{key}</arg_key>\n<arg_value>{json.dumps(value, ensure_ascii=False)}</arg_value>"
        for key, value in arguments.items()
    )
    return f"<tool_call>{name}{pairs}\n</tool_call>"


class HyperClovaX32BWrapper(Glm4Wrapper):
    # A GLM call whose value is quoted: tells these calls from GLM's in auto detection.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r'<tool_call>\s*[^\s<{\[]+\s*<arg_key>[^<]*</arg_key>\s*<arg_value>\s*"'
    )
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("", "</think>", True)
    stop: ClassVar[tuple[str, ...]] = (IM_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            system += TOOLS_HEADER + tools_json_lines(functions) + TOOLS_FOOTER
        out = f"<|im_start|>system\n{system.lstrip()}{IM_END}\n" if system.strip() else ""
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "assistant":
                blocks = "\n".join(call_block(c.name, c.arguments) for c in turn.calls)
                content = "\n".join(part for part in (content.strip(), blocks) if part)
                out += f"<|im_start|>assistant\n{content}{IM_END}\n"
            elif turn.kind == "function":
                out += f"<|im_start|>tool\n{content}{IM_END}\n"
            else:
                role = turn.role if turn.kind == "other" else "user"
                out += f"<|im_start|>{role}\n{content}{IM_END}\n"
        return out + "<|im_start|>assistant\n<think>\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return arg_key_calls.call_grammar(
            functions, TAGS, only, parallel=parallel, values=arg_key_calls.JSON_IN_TAGS
        )

    def rewrite_output(self, text: str) -> str:
        return _JSON_STRING_VALUE.sub(_decoded, text)

    def whole_tokens(self, text: str) -> str | None:
        # A value that is (or may become) a JSON string waits for its closing tag,
        # then it is decoded; one that is not streams as GLM's do.
        start = text.rfind("<arg_value>")
        if start == -1 or "</arg_value>" in text[start:]:
            return text
        value = text[start + len("<arg_value>") :].lstrip()
        return text[:start] if not value or value.startswith('"') else text


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="hyperclovax-seed-think-32b",
        factory=HyperClovaX32BWrapper,
        aliases=("hyperclovax-32b", "hyperclovax-seed-think-glm"),
        description='HyperCLOVA X SEED Think 32B <tool_call>f<arg_key>k</arg_key><arg_value>"v"',
        family="tool-call",
    )
]
