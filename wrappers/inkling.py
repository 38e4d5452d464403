"""Thinking Machines Inkling: typed message blocks, ``<|content_invoke_tool_json|>{"name", "args"}``.

Every part of an Inkling turn is a block of its own, opened by a role token
and a content-kind token and closed by ``<|end_message|>``; the model's turn
ends with ``<|content_model_end_sampling|>``. A call is a model message named
after the function, its payload ``{"name": ..., "args": {...}}``::

    <|message_system|>tool_declare<|content_xml|>[{"description":"Get the weather","name":"get_weather","parameters":{...},"type":"function"}]<|end_message|>
    <|message_system|><|content_text|>Be brief.<|end_message|>
    <|message_user|><|content_text|>What is the weather in Paris?<|end_message|>

(one line here, none in the prompt) and the model answers::

    <|message_model|><|content_thinking|>The user wants the weather.<|end_message|>
    <|message_model|>get_weather<|content_invoke_tool_json|>{"name":"get_weather","args":{"city":"Paris"}}<|end_message|><|content_model_end_sampling|>

A thinking block is reasoning; text blocks (and the ``invoke_tool_text`` /
``tool_error`` kinds, which vLLM shows as text) are content; the function
name between ``<|message_model|>`` and the call block is the header, not
content; several call messages are parallel calls (vLLM
``vllm/parser/inkling.py``). The prompt is the Inkling chat template's
(``inkling.jinja`` of lightseekorg/tokenspeed, "validated against the
reference TMLv0 renderer snapshot"): the tool declaration first, the leading
system messages, then the turns; it adds no generation prompt, as the model
writes its own ``<|message_model|>``. What it writes that fcproxy does not:
the ``Thinking effort level`` message (only when a client passes
``reasoning_effort`` to the template) and past reasoning (fcproxy's
conversation carries none).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import (
    GrammarBuilder,
    call_count,
    calls_grammar,
    json_call,
    literal,
)
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import Extraction, ToolFormatWrapper

MESSAGE_MODEL = "<|message_model|>"
MESSAGE_USER = "<|message_user|>"
MESSAGE_SYSTEM = "<|message_system|>"
MESSAGE_TOOL = "<|message_tool|>"
CONTENT_TEXT = "<|content_text|>"
CONTENT_THINKING = "<|content_thinking|>"
CONTENT_XML = "<|content_xml|>"
INVOKE_TOOL_JSON = "<|content_invoke_tool_json|>"
INVOKE_TOOL_TEXT = "<|content_invoke_tool_text|>"
TOOL_ERROR = "<|content_tool_error|>"
END_MESSAGE = "<|end_message|>"
END_SAMPLING = "<|content_model_end_sampling|>"

#: Content kinds whose text is shown: vLLM renders raw and error tool blocks as text.
_VISIBLE = (CONTENT_TEXT, INVOKE_TOOL_TEXT, TOOL_ERROR)
_KINDS = (*_VISIBLE, CONTENT_THINKING, INVOKE_TOOL_JSON)
_TOKENS = (*_KINDS, MESSAGE_MODEL, END_MESSAGE, END_SAMPLING)
_SPLIT = re.compile("(" + "|".join(re.escape(token) for token in _TOKENS) + ")")
#: What a message header holds: the function's name (or nothing).
_HEADER = re.compile(r"\s*[\w.:/-]*\s*")
_ARGUMENT_KEYS = ("args", "arguments", "parameters")


def _compact(value: Any) -> str:
    # The template's tojson(sort_keys=True, separators=[",", ":"], ensure_ascii=False).
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def tool_declaration(functions: Sequence[FunctionSchema]) -> str:
    """The system message that declares the tools, as the template writes it."""
    specs = ",".join(
        _compact(
            {
                "description": f.get("description") or "",
                "name": f["name"],
                "parameters": f.get("parameters") or {},
                "type": "function",
            }
        )
        for f in functions
    )
    return f"{MESSAGE_SYSTEM}tool_declare{CONTENT_XML}[{specs}]{END_MESSAGE}"


def as_think_blocks(text: str) -> str:
    """Inkling's blocks in the shape the shared reader takes.

    The thinking blocks become one ``<think>...</think>`` block ahead of the
    rest (vLLM joins them into one reasoning text too), a text block is its
    text, a call block stays (marker, JSON, ``<|end_message|>``); role tokens,
    headers and the end-of-sampling token go. Text outside any block is
    content, as in vLLM's parser: only a name right before a content-kind
    token is a header. A call opened inside a thinking block ends it (vLLM
    does the same).
    """
    parts = _SPLIT.split(text)
    thinking: list[str] = []
    out: list[str] = []
    state = "header"  # the model writes (or the prompt ends with) <|message_model|>
    for index, part in enumerate(parts):
        if index % 2 == 0:
            following = parts[index + 1] if index + 1 < len(parts) else ""
            if state == "header" and following in _KINDS and _HEADER.fullmatch(part):
                continue
            (thinking if state == "thinking" else out).append(part)
        elif part == MESSAGE_MODEL:
            state = "header" if state in ("header", "between") else state
        elif part == CONTENT_THINKING:
            state = "thinking"
        elif part == INVOKE_TOOL_JSON:
            out.append(INVOKE_TOOL_JSON)
            state = "call"
        elif part in _VISIBLE:
            state = "text"
        else:  # END_MESSAGE or END_SAMPLING close whatever block is open
            if state == "call":
                out.append(END_MESSAGE)
            state = "between"
    rest = "".join(out)
    if not thinking and state != "thinking":
        return rest
    # Still thinking with nothing else written: the block stays open (streaming).
    closed = state != "thinking" or bool(rest)
    return "<think>" + "".join(thinking) + ("</think>" if closed else "") + rest


class InklingWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = INVOKE_TOOL_JSON
    #: Under ``auto`` with a text-or-call grammar: free text up to the call block.
    grammar_trigger: ClassVar[str] = INVOKE_TOOL_JSON
    #: A thinking message may come before the calls.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (
        MESSAGE_MODEL + CONTENT_THINKING,
        END_MESSAGE,
        False,
    )
    stop: ClassVar[tuple[str, ...]] = (END_SAMPLING,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = tool_declaration(functions) if functions else ""
        if system:
            out += f"{MESSAGE_SYSTEM}{CONTENT_TEXT}{system}{END_MESSAGE}"
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                # The template names a result only after the message's own name.
                out += f"{MESSAGE_TOOL}{turn.name or ''}{CONTENT_TEXT}{content}{END_MESSAGE}"
            elif turn.kind == "assistant":
                if content or not turn.calls:
                    out += f"{MESSAGE_MODEL}{CONTENT_TEXT}{content}{END_MESSAGE}"
                for call in turn.calls:
                    payload = f'{{"name":{json.dumps(call.name, ensure_ascii=False)},"args":{_compact(call.arguments)}}}'
                    out += f"{MESSAGE_MODEL}{call.name}{INVOKE_TOOL_JSON}{payload}{END_MESSAGE}"
                out += END_SAMPLING
            elif turn.kind == "user":
                out += f"{MESSAGE_USER}{CONTENT_TEXT}{content}{END_MESSAGE}"
            else:
                out += f"{MESSAGE_SYSTEM}{CONTENT_TEXT}{content}{END_MESSAGE}"
        return out

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        payload = json_call("name", "args")

        def call(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
            # The header's name is optional (vLLM's docstring writes none).
            head = (
                f"{literal(MESSAGE_MODEL)} {literal(function['name'])}? {literal(INVOKE_TOOL_JSON)}"
            )
            return f"{head} {payload(builder, index, function)} {literal(END_MESSAGE)}"

        return calls_grammar(functions, call, only=only, max_calls=call_count(parallel, only))

    def lazy_grammar_triggers(self, functions: Sequence[FunctionSchema]) -> list[str]:
        # A text answer opens with <|message_model|> too: a call is known by its
        # header, named after one of the functions or not at all.
        named = [f"{MESSAGE_MODEL}{f['name']}{INVOKE_TOOL_JSON}" for f in functions]
        return [*named, MESSAGE_MODEL + INVOKE_TOOL_JSON]

    def rewrite_output(self, text: str) -> str:
        return as_think_blocks(text)

    def whole_tokens(self, text: str) -> str | None:
        text = without_partial_suffix(text, _TOKENS)
        # A name after <|message_model|> (or opening the answer) is a header if a
        # content-kind token follows it: wait for what follows.
        ends = [found + len(token) for token in _TOKENS if (found := text.rfind(token)) != -1]
        last = max(ends, default=0)
        at_header = not last or text[:last].endswith(MESSAGE_MODEL)
        return text[:last] if at_header and _HEADER.fullmatch(text[last:]) else text

    def extract_calls(self, text: str) -> Extraction:
        return json_calls_after_markers(
            text, (INVOKE_TOOL_JSON,), end_markers=(END_MESSAGE,), argument_keys=_ARGUMENT_KEYS
        )

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return marked_calls_so_far(
            region, (INVOKE_TOOL_JSON,), end_markers=(END_MESSAGE,), argument_keys=_ARGUMENT_KEYS
        )


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="inkling",
        factory=InklingWrapper,
        aliases=("inkling-small", "thinkingmachines-inkling", "tml-inkling"),
        description='Thinking Machines Inkling <|message_model|>f<|content_invoke_tool_json|>{"name", "args"}<|end_message|>',
        family="tool-call",
    )
]
