"""Moonshot Kimi K2 tool calls: ids like ``functions.get_weather:0`` between special tokens.

The prompt is Kimi K2 Instruct's chat template: the tools as one JSON list in
a ``tool_declare`` system turn, ``<|im_user|>`` / ``<|im_assistant|>`` /
``<|im_system|>`` turns, and the model answers::

    <|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>

The call id names the function and counts the calls of the conversation from
0; a result turn starts with ``## Return of <id>``. fcproxy's wrappers do not
see the client's call ids, so they are numbered the same way again.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.grammar import GrammarBuilder, call_count, calls_grammar, json_arguments, literal
from wrappers.partial_json import parse_prefix, stable_dumps
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

SECTION_BEGIN = "<|tool_calls_section_begin|>"
SECTION_END = "<|tool_calls_section_end|>"
CALL_BEGIN = "<|tool_call_begin|>"
ARGUMENT_BEGIN = "<|tool_call_argument_begin|>"
CALL_END = "<|tool_call_end|>"
IM_END = "<|im_end|>"
DEFAULT_SYSTEM = "You are Kimi, an AI assistant created by Moonshot AI."
# Seen in the wild (vLLM's kimi_k2 parser reads it too): "call" for "calls".
_SECTION_BEGINS = (SECTION_BEGIN, "<|tool_call_section_begin|>")
_SECTION_ENDS = (SECTION_END, "<|tool_call_section_end|>")
_CALL_ID = re.compile(r"(?:functions\.)?(?P<name>.+?)(?::\d+)?")


def call_id(name: str, index: int) -> str:
    return f"functions.{name}:{index}"


class KimiK2Wrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "<\\|tool_calls_section_begin\\|>",
        "<\\|tool_call_begin\\|>",
        "<\\|tool_call_section_begin\\|>",
    )
    call_start: ClassVar[str] = SECTION_BEGIN
    grammar_trigger: ClassVar[str] = SECTION_BEGIN
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("<think>", "</think>", False)
    stop: ClassVar[tuple[str, ...]] = (IM_END,)
    # Kimi K2 Thinking may open its call section inside an unclosed <think>.
    calls_end_reasoning: ClassVar[bool] = True

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        if functions:
            tools = [{"type": "function", "function": dict(f)} for f in functions]
            out += f"<|im_system|>tool_declare<|im_middle|>{json.dumps(tools, ensure_ascii=False)}{IM_END}"
        if system:
            out += f"<|im_system|>system<|im_middle|>{system}{IM_END}"
        else:
            # The template's default system turn is followed by a line break (its
            # "{% endif %}" keeps one); kept, since that is what the model was shown.
            out += f"<|im_system|>system<|im_middle|>{DEFAULT_SYSTEM}{IM_END}\n"
        counter = 0
        pending: deque[str] = deque()  # ids of calls whose results have not come back yet
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "assistant":
                out += f"<|im_assistant|>{turn.name or 'assistant'}<|im_middle|>{content}"
                if turn.calls:
                    out += SECTION_BEGIN
                    for call in turn.calls:
                        pending.append(call_id(call.name, counter))
                        counter += 1
                        arguments = json.dumps(call.arguments, ensure_ascii=False)
                        out += f"{CALL_BEGIN}{pending[-1]}{ARGUMENT_BEGIN}{arguments}{CALL_END}"
                    out += SECTION_END
            elif turn.kind == "function":
                returned = (
                    pending.popleft() if pending else call_id(turn.name or "unknown", counter)
                )
                out += f"<|im_system|>{turn.name or 'tool'}<|im_middle|>## Return of {returned}\n{content}"
            elif turn.kind == "user":
                out += f"<|im_user|>{turn.name or 'user'}<|im_middle|>{content}"
            else:
                out += f"<|im_system|>{turn.name or turn.role}<|im_middle|>{content}"
            out += IM_END
        return out + "<|im_assistant|>assistant<|im_middle|>"

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        end, _ = _first(region, _SECTION_ENDS)
        section = region if end == -1 else region[:end]
        calls: list[PartialCall] = []
        position = section.find(CALL_BEGIN)
        while position != -1:
            call, after = _call_so_far(section, position + len(CALL_BEGIN))
            if call is None:
                break
            calls.append(call)
            if after is None:
                break
            position = section.find(CALL_BEGIN, after)
        return calls

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
            # The id counts the conversation's calls: any number reads back.
            head = literal(f"{CALL_BEGIN}functions.{function['name']}:")
            arguments = json_arguments(builder, index, function)
            return f"{head} [0-9]{{1,3}} {literal(ARGUMENT_BEGIN)} {arguments} {literal(CALL_END)}"

        return calls_grammar(
            functions,
            write,
            only=only,
            max_calls=call_count(parallel, only),
            start=literal(SECTION_BEGIN),
            end=literal(SECTION_END),
        )

    def extract_calls(self, text: str) -> Extraction:
        start, _ = _first(text, (*_SECTION_BEGINS, CALL_BEGIN))
        if start == -1:
            return Extraction(text)
        end, end_marker = _first(text, _SECTION_ENDS, start)
        section = text[start:] if end == -1 else text[start:end]
        after = "" if end == -1 else text[end + len(end_marker) :]
        calls: list[ExtractedCall] = []
        position = section.find(CALL_BEGIN)
        if position == -1:
            raise WrapperParseError("a Kimi tool-call section holds no call", text)
        while position != -1:
            call, position = _call_at(section, position + len(CALL_BEGIN), after_calls=bool(calls))
            calls.append(call)
            position = section.find(CALL_BEGIN, position)
        return Extraction(text[:start] + after, calls)


def _first(text: str, markers: Sequence[str], start: int = 0) -> tuple[int, str]:
    hits = [(text.find(m, start), m) for m in markers]
    found = [hit for hit in hits if hit[0] != -1]
    return min(found) if found else (-1, "")


def _call_so_far(text: str, start: int) -> tuple[PartialCall | None, int | None]:
    """:func:`_call_at` on a call still being written: what is known of it, and
    where it ends (None: not yet)."""
    argument = text.find(ARGUMENT_BEGIN, start)
    if argument == -1:
        return None, None
    match = _CALL_ID.fullmatch(text[start:argument].strip())
    found = parse_prefix(text, argument + len(ARGUMENT_BEGIN))
    if match is None or found is None or not isinstance(found.value, dict):
        return None, None
    call = PartialCall(match.group("name"), stable_dumps(found.value))
    if not found.complete:
        return call, None
    # The next call is searched after the first end token, wherever that comes
    # (inside a later call's arguments, even): not known before it has come.
    close = text.find(CALL_END, found.end)
    return call, None if close == -1 else close + len(CALL_END)


def _call_at(text: str, start: int, *, after_calls: bool = False) -> tuple[ExtractedCall, int]:
    """The call at ``text[start]`` and where it ends; broken arguments mended as
    :func:`wrappers.tolerance.read_marked_json` does (a cut-off one only
    ``after_calls``: it follows complete ones)."""
    argument = text.find(ARGUMENT_BEGIN, start)
    if argument == -1:
        raise WrapperParseError(f"a Kimi call has no {ARGUMENT_BEGIN}", text)
    match = _CALL_ID.fullmatch(text[start:argument].strip())
    if match is None:
        raise WrapperParseError("a Kimi call has no function name", text)
    name = match.group("name")
    try:
        arguments, end = read_marked_json(
            text, argument + len(ARGUMENT_BEGIN), (CALL_END, CALL_BEGIN), cut_off=after_calls
        )
    except json.JSONDecodeError as exc:
        raise WrapperParseError(f"unreadable arguments of {name}: {exc}", text) from exc
    if not isinstance(arguments, dict):
        raise WrapperParseError(f"the arguments of {name} are not a JSON object", text)
    close = text.find(CALL_END, end)
    return ExtractedCall(name=name, arguments=arguments), (
        end if close == -1 else close + len(CALL_END)
    )


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="kimi-k2",
        factory=KimiK2Wrapper,
        aliases=("kimi", "kimi-k2-instruct", "kimi-k2-thinking"),
        description="Kimi K2 <|tool_call_begin|>functions.name:0<|tool_call_argument_begin|>{...}",
        family="tool-call",
    )
]
