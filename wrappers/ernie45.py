"""Baidu ERNIE 4.5 (Thinking): Hermes calls, ``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>``.

The output format is vLLM's ``vllm/tool_parsers/ernie45_tool_parser.py``
(its docstring: ``abc\\n</think>\\n\\n\\n<tool_call>\\ndef\\n</tool_call>\\n``):
reasoning that ends with ``</think>`` (the prompt opens it), then Hermes
``<tool_call>`` blocks, or a plain answer, which ERNIE may wrap in
``<response>...</response>`` (layout, not content)::

    The user wants the weather.
    </think>

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Beijing"}}
    </tool_call>

The ERNIE-4.5-21B-A3B-Thinking chat template was not at hand. The turns
follow the ERNIE 4.5 models' template (``<|begin_of_sentence|>``, the
system text, ``User: ...\\n`` and ``Assistant: ...<|end_of_sentence|>``);
the tools, the call instructions and ``<tool_response>`` results are
written as Hermes states them, since the model answers in Hermes' blocks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.hermes import TOOLS_POSTAMBLE, TOOLS_PREAMBLE, HermesWrapper
from wrappers.registry import WrapperEntry
from wrappers.streaming import without_partial_suffix
from wrappers.tool_format import tools_json_lines

BEGIN = "<|begin_of_sentence|>"
END = "<|end_of_sentence|>"
RESPONSE_TAGS = ("<response>", "</response>")


def without_response_tags(text: str) -> str:
    for tag in RESPONSE_TAGS:
        text = text.replace(tag, "")
    return text


class Ernie45Wrapper(HermesWrapper):
    stop: ClassVar[tuple[str, ...]] = (END,)
    # ERNIE 4.5 Thinking's answer starts inside the reasoning its template
    # opened (vLLM's tests): text up to </think> may come first.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("", "</think>", False)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = BEGIN
        if functions:
            # Hermes' instructions open with a blank line after the system text.
            tools = TOOLS_PREAMBLE.lstrip("\n") + tools_json_lines(functions) + TOOLS_POSTAMBLE
            system = f"{system}\n\n{tools}" if system else tools
        if system:
            out += f"{system}\n"
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "function":
                # Consecutive results share one user turn.
                if index == 0 or turns[index - 1].kind != "function":
                    out += "User: "
                out += f"<tool_response>\n{content}\n</tool_response>\n"
            elif turn.kind == "assistant":
                for call in turn.calls:
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    content += (
                        f'\n<tool_call>\n{{"name": "{call.name}", "arguments": {arguments}}}'
                        "\n</tool_call>"
                    )
                out += f"Assistant: {content.lstrip()}{END}"
            else:
                out += f"User: {content}\n"
        return out + "Assistant: "

    def rewrite_output(self, text: str) -> str:
        return without_response_tags(text)

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, RESPONSE_TAGS)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="ernie4.5",
        factory=Ernie45Wrapper,
        aliases=(
            "ernie",
            "ernie-4.5",
            "ernie45",
            "ernie-4.5-thinking",
            "ernie-4.5-21b-a3b-thinking",
        ),
        description="Baidu ERNIE 4.5 (Thinking) <tool_call>{...}</tool_call> after </think>, User:/Assistant: turns",
        family="tool-call",
    )
]
