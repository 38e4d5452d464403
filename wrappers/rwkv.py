"""RWKV: a call is a fenced JSON object after ``**Tool Call:**``.

The output format of vLLM's ``vllm/tool_parsers/rwkv_tool_parser.py``::

    **Tool Call:**
    ```json
    {
      "name": "get_weather",
      "arguments": {"city": "Paris"}
    }
    ```

one such block per call, on consecutive lines. Older RWKV fine-tunes write
``<tool_call>`` and a JSON (or Python dict) object on the next line without
a closing tag; that reads too. A bare fenced ```` ```json ```` call without
the marker is read by the tolerance every format has (when its name is one of
the request's tools). vLLM's parser also renames some arguments for one
agent's ``read`` / ``edit`` tools (``filePath`` to ``path``); fcproxy returns
the arguments as the model wrote them.

RWKV's chat template was not at hand. The prompt uses RWKV's plain
``User: ...`` / ``Assistant: ...`` turns separated by a blank line (a blank
line inside a message is written as one line break, since it would end the
message), with the tools and the call format in a ``System:`` turn and the
results as ``Tool:`` turns: fcproxy's rendering of the documented output
format, said here and in docs/wrappers.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, json_call_grammar
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper, tools_json_lines

MARKER = "**Tool Call:**"
LEGACY_MARKER = "<tool_call>"
LEGACY_END = "</tool_call>"
FENCE_OPEN = "```json\n"
FENCE_CLOSE = "\n```"
MARKERS = (MARKER, LEGACY_MARKER)
TURN_END = "\n\n"
CALL_INSTRUCTIONS = (
    "\n\n# Tools\n\nYou may call one or more functions. The available functions, in JSONSchema "
    "format:\n{tools}\n\nTo call a function, answer with one block per call:\n"
    f'{MARKER}\n{FENCE_OPEN}{{"name": "function-name", "arguments": {{...}}}}{FENCE_CLOSE}'
)


def call_block(name: str, arguments: dict[str, Any]) -> str:
    """One call as the model writes it (vLLM's tests of its parser: indented JSON)."""
    payload = json.dumps({"name": name, "arguments": arguments}, indent=2, ensure_ascii=False)
    return f"{MARKER}\n{FENCE_OPEN}{payload}{FENCE_CLOSE}"


def _message(text: str) -> str:
    # A blank line ends an RWKV message: one inside a message becomes a line break.
    return re.sub(r"\n\s*\n", "\n", text.strip())


class RwkvWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = MARKER
    grammar_trigger: ClassVar[str] = MARKER
    stream_openers: ClassVar[tuple[str, ...]] = tuple(re.escape(m) for m in MARKERS)
    stop: ClassVar[tuple[str, ...]] = ("\n\nUser:",)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            system += CALL_INSTRUCTIONS.replace("{tools}", tools_json_lines(functions))
        out = f"System: {_message(system)}{TURN_END}" if system.strip() else ""
        for turn in turns:
            content = _message(turn.content or "")
            if turn.kind == "assistant":
                content = "\n".join(
                    part
                    for part in (content, *(call_block(c.name, c.arguments) for c in turn.calls))
                    if part
                )
                out += f"Assistant: {content}{TURN_END}"
            elif turn.kind == "function":
                out += f"Tool: {content}{TURN_END}"
            else:
                role = turn.role.capitalize() if turn.kind == "other" else "User"
                out += f"{role}: {content}{TURN_END}"
        return out + "Assistant:"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=f"{MARKER}\n{FENCE_OPEN}",
            suffix=FENCE_CLOSE,
            only=only,
            max_calls=call_count(parallel, only),
        )

    def extract_calls(self, text: str) -> Extraction:
        return json_calls_after_markers(text, MARKERS, end_markers=(LEGACY_END,))

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return marked_calls_so_far(region, MARKERS, end_markers=(LEGACY_END,))


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="rwkv",
        factory=RwkvWrapper,
        aliases=("rwkv-7", "rwkv7", "rwkv-g1"),
        description='RWKV **Tool Call:** and a ```json {"name": ..., "arguments": ...} block',
        family="tool-call",
    )
]
