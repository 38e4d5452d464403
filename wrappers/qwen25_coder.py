"""Qwen2.5-Coder's calls in ``<tools>`` tags: ``<tools>\\n{"name": ..., "arguments": {...}}\\n</tools>``.

Qwen2.5-Coder often writes Hermes' JSON call between ``<tools>`` tags
instead of ``<tool_call>`` (vLLM ``vllm/tool_parsers/qwen2_5_coder_tool_parser.py``,
and its template ``examples/tool_chat_template_qwen2_5_coder.jinja``, which
teaches that form with two examples)::

    <|im_start|>system
    You are Qwen, a helpful assistant.

    Available tools:
    {"name": "get_weather", ...}

    When you need to call a tool, use <tools> tags like these examples:
    ...<|im_end|>
    <|im_start|>user
    What is the weather in Paris?<|im_end|>
    <|im_start|>assistant

and the model answers, one block per call::

    <tools>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tools>

Results come back as ``<tool_response>`` blocks in a ``tool`` turn. (With
Qwen's own template, which asks for ``<tool_call>``, use ``hermes``.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.hermes import HermesWrapper
from wrappers.registry import WrapperEntry

TOOLS = "<tools>"
TOOLS_END = "</tools>"
DEFAULT_SYSTEM = "You are Qwen, a helpful assistant."
EXAMPLES = (
    "\nWhen you need to call a tool, use <tools> tags like these examples:\n\n"
    "User: What's the weather in Tokyo?\n"
    'Assistant: <tools>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tools>\n\n'
    "User: How about in Paris and Berlin?\n"
    'Assistant: <tools>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tools>\n'
    '<tools>\n{"name": "get_weather", "arguments": {"city": "Berlin"}}\n</tools>'
)


class Qwen25CoderWrapper(HermesWrapper):
    call_start: ClassVar[str] = TOOLS
    call_end: ClassVar[str] = TOOLS_END
    grammar_trigger: ClassVar[str] = TOOLS
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(re.escape(TOOLS) + r"\s*[{\[]")

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = "<|im_start|>system\n" + (system or DEFAULT_SYSTEM)
        if functions:
            listed = "".join(json.dumps(dict(f), ensure_ascii=False) + "\n" for f in functions)
            out += f"\n\nAvailable tools:\n{listed}{EXAMPLES}"
        out += "<|im_end|>\n"
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                if index and turns[index - 1].kind != "function":
                    out += "<|im_start|>tool\n"
                out += f"<tool_response>\n{turn.content or ''}\n</tool_response>\n"
                if index == len(turns) - 1 or turns[index + 1].kind != "function":
                    out += "<|im_end|>\n"
            elif turn.kind == "assistant" and turn.calls:
                out += "<|im_start|>assistant\n" + (turn.content or "").strip()
                for call in turn.calls:
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    out += f'{TOOLS}\n{{"name": {json.dumps(call.name)}, "arguments": {arguments}}}\n{TOOLS_END}\n'
                out += "<|im_end|>\n"
            else:
                out += f"<|im_start|>{turn.role}\n{turn.content or ''}<|im_end|>\n"
        return out + "<|im_start|>assistant\n"


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="qwen2.5-coder",
        factory=Qwen25CoderWrapper,
        aliases=("qwen25-coder", "qwen2.5-coder-tools", "qwen2_5_coder"),
        description='Qwen2.5-Coder <tools>{"name", "arguments"}</tools> blocks, vLLM\'s coder template',
        family="tool-call",
    )
]
