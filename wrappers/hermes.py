"""Hermes / Qwen 2.5 tool calls: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``.

The format of NousResearch's Hermes 2 Pro / Hermes 3 and of Qwen 2.5, QwQ and
Qwen 3 (their chat templates share it). The prompt is rendered as Qwen 2.5's
chat template does (``tokenizer_config.json`` of Qwen/Qwen2.5-7B-Instruct)::

    <|im_start|>system
    {system prompt}

    # Tools

    You may call one or more functions to assist with the user query.

    You are provided with function signatures within <tools></tools> XML tags:
    <tools>
    {"type": "function", "function": {"name": "get_weather", ...}}
    </tools>

    For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
    <tool_call>
    {"name": <function-name>, "arguments": <args-json-object>}
    </tool_call><|im_end|>
    <|im_start|>user
    What is the weather in Paris?<|im_end|>
    <|im_start|>assistant

and the model answers, with any number of calls (parallel calls)::

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tool_call>

Results go back as a user turn of ``<tool_response>`` blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.grammar import call_count, json_call_grammar
from wrappers.partial_json import parse_prefix
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, partial_call
from wrappers.tolerance import calls_in_block
from wrappers.tool_format import (
    ExtractedCall,
    Extraction,
    ToolFormatWrapper,
    call_from_object,
    decode_json_at,
    tools_json_lines,
)

#: Calls one constrained answer may hold: a small model under a grammar that
#: allows "one more call" forever can repeat itself until max_tokens.
DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
TOOLS_PREAMBLE = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
TOOLS_POSTAMBLE = (
    "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)


class HermesWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = "<tool_call>"
    grammar_trigger: ClassVar[str] = "<tool_call>"
    # GLM 4.5 and Qwen3-Coder open calls with <tool_call> too, followed by a
    # name or <function=...>; Hermes' is followed by JSON.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"<tool_call>\s*[{\[]")
    call_end: ClassVar[str] = "</tool_call>"
    #: What the model writes between the tags and the JSON (the grammar writes it).
    call_layout: ClassVar[str] = "\n"
    stop: ClassVar[tuple[str, ...]] = ("<|im_end|>", "<|endoftext|>")

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        system = system or DEFAULT_SYSTEM
        if functions:
            out = f"<|im_start|>system\n{system}{TOOLS_PREAMBLE}"
            out += tools_json_lines(functions) + TOOLS_POSTAMBLE + "<|im_end|>\n"
        else:
            out = f"<|im_start|>system\n{system}<|im_end|>\n"
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                # Consecutive results share one user turn.
                if index == 0 or turns[index - 1].kind != "function":
                    out += "<|im_start|>user"
                out += f"\n<tool_response>\n{turn.content or ''}\n</tool_response>"
                if index == len(turns) - 1 or turns[index + 1].kind != "function":
                    out += "<|im_end|>\n"
            elif turn.kind == "assistant" and turn.calls:
                out += "<|im_start|>assistant"
                if turn.content:
                    out += f"\n{turn.content}"
                for call in turn.calls:
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    out += f'\n<tool_call>\n{{"name": "{call.name}", "arguments": {arguments}}}\n</tool_call>'
                out += "<|im_end|>\n"
            else:
                role = turn.role if turn.role in ("user", "assistant", "system") else "user"
                out += f"<|im_start|>{role}\n{turn.content or ''}<|im_end|>\n"
        return out + "<|im_start|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=self.call_start + self.call_layout,
            suffix=self.call_layout + self.call_end,
            only=only,
            max_calls=call_count(parallel, only),
        )

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        calls: list[PartialCall] = []
        position = 0
        while region.startswith(self.call_start, position):
            found = parse_prefix(region, position + len(self.call_start))
            if found is None or not isinstance(found.value, dict):
                break
            call = partial_call(found.value)
            if call is not None:
                calls.append(call)
            if not found.complete:
                break
            close = region.find(self.call_end, found.end)
            if close == -1 or region[found.end : close].strip():
                # More in the block (several calls in one): read when it is whole.
                break
            position = close + len(self.call_end)
            while position < len(region) and region[position].isspace():
                position += 1
        return calls

    def extract_calls(self, text: str) -> Extraction:
        first = text.find(self.call_start)
        if first == -1:
            return Extraction(text)
        content = text[:first]
        calls: list[ExtractedCall] = []
        position = first
        while position != -1:
            start = position + len(self.call_start)
            if text.find(self.call_end, start) == -1 and not calls:
                # Cut off, and the only call: unreadable, so the pipeline retries.
                # (Next to complete calls a cut-off one is mended: they stand.)
                try:
                    value, end = decode_json_at(text, start)
                except json.JSONDecodeError as exc:
                    raise WrapperParseError(
                        f"unreadable JSON after <tool_call>: {exc}", text
                    ) from exc
                found = [call_from_object(value)]
            else:
                try:
                    # Broken JSON mended, several calls in one block (wrappers.tolerance).
                    found, end = calls_in_block(text, start, self.call_end)
                except json.JSONDecodeError as exc:
                    raise WrapperParseError(
                        f"unreadable JSON after <tool_call>: {exc}", text
                    ) from exc
            calls.extend(found)
            close = text.find(self.call_end, end)
            after = close + len(self.call_end) if close != -1 else end
            position = text.find(self.call_start, after)
            content += text[after : position if position != -1 else len(text)]
        return Extraction(content, calls)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="hermes",
        factory=HermesWrapper,
        aliases=("qwen", "qwen2.5", "qwen3", "qwq", "hermes-2-pro", "hermes-3"),
        description="Hermes / Qwen 2.5-3 <tool_call>{...}</tool_call>, ChatML turns, parallel calls",
        family="tool-call",
    )
]
