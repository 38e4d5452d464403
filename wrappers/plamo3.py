"""PLaMo 3 (Preferred Networks): calls in ``<|plamo:begin_tool_requests:plamo|>`` tags.

The output format of vLLM's ``vllm/tool_parsers/plamo3_tool_parser.py``::

    <|plamo:begin_tool_requests:plamo|><|plamo:begin_tool_request:plamo|>
    <|plamo:begin_tool_name:plamo|>get_weather<|plamo:end_tool_name:plamo|>
    <|plamo:begin_tool_arguments:plamo|><|plamo:constrain|>json<|plamo:msg|>{"city": "Tokyo"}
    <|plamo:end_tool_arguments:plamo|><|plamo:end_tool_request:plamo|>
    <|plamo:end_tool_requests:plamo|><|plamo:tag|>

(one line in the output). One request per call, the arguments a JSON object.
``<|plamo:tag|>`` ends the turn: nothing after it is read. Reasoning is a
``<|plamo:begin_think:plamo|>`` ... ``<|plamo:end_think:plamo|>`` block
(vLLM's ``plamo3`` reasoning parser), read as ``reasoning_content``.

fcproxy reads more than the reference parser, which drops every call of an
answer whose requests are not all complete: a call whose closing tags were
dropped, arguments without ``<|plamo:constrain|>json`` (OpenClaw's PLaMo
provider meets ``<|plamo:msg|>{...}`` alone in the text), broken JSON mended where
its end tag came, and complete calls standing next to one cut off.

The chat template was not at hand. The prompt is fcproxy's reconstruction:
PLaMo's ``<|plamo:op|>ROLE`` headers (PLaMo 2's published prompt format),
each turn ended by ``<|plamo:tag|>``, the tools as JSON lines and the call
format in the system turn, past calls as above, results in ``tool`` turns;
docs/wrappers.md says so too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError, arguments_as_json_string
from wrappers.conversation import Turn
from wrappers.grammar import call_count, marked_calls_grammar
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import (
    ExtractedCall,
    Extraction,
    ToolFormatWrapper,
    call_from_object,
    tools_json_lines,
)

REQUESTS, REQUESTS_END = "<|plamo:begin_tool_requests:plamo|>", "<|plamo:end_tool_requests:plamo|>"
REQUEST, REQUEST_END = "<|plamo:begin_tool_request:plamo|>", "<|plamo:end_tool_request:plamo|>"
NAME, NAME_END = "<|plamo:begin_tool_name:plamo|>", "<|plamo:end_tool_name:plamo|>"
ARGUMENTS = "<|plamo:begin_tool_arguments:plamo|>"
ARGUMENTS_END = "<|plamo:end_tool_arguments:plamo|>"
CONSTRAIN, MSG = "<|plamo:constrain|>json", "<|plamo:msg|>"
THINK, THINK_END = "<|plamo:begin_think:plamo|>", "<|plamo:end_think:plamo|>"
EOT = "<|plamo:tag|>"
OP = "<|plamo:op|>"
TOOLS_HEADER = (
    "\n\n# Tools\n\nYou may call one or more functions. The available functions, in JSONSchema "
    "format:\n"
)
TOOLS_FOOTER = (
    "\n\nTo call functions, answer with:\n"
    f"{REQUESTS}{REQUEST}{NAME}function-name{NAME_END}{ARGUMENTS}{CONSTRAIN}{MSG}"
    f'{{"parameter-name": "value"}}{ARGUMENTS_END}{REQUEST_END}{REQUESTS_END}'
)


def request_text(name: str, arguments: dict[str, object]) -> str:
    """One call as the model writes it."""
    return (
        f"{REQUEST}{NAME}{name}{NAME_END}{ARGUMENTS}{CONSTRAIN}{MSG}"
        f"{json.dumps(arguments, ensure_ascii=False)}{ARGUMENTS_END}{REQUEST_END}"
    )


def _skip(text: str, position: int, *tokens: str) -> int:
    """``position`` past whitespace and any of ``tokens``, in any order."""
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        token = next((t for t in tokens if text.startswith(t, position)), None)
        if token is None:
            return position
        position += len(token)


def read_request(text: str, start: int, *, after_calls: bool) -> tuple[ExtractedCall, int]:
    """The call whose request opens at ``text[start]``, and where it ends.

    Raises :class:`WrapperParseError` (or :class:`json.JSONDecodeError`) when
    the name or the arguments cannot be read; ``after_calls``: complete calls
    came first, so arguments cut off are mended (streaming sent the others).
    """
    position = _skip(text, start + len(REQUEST))
    if not text.startswith(NAME, position):
        raise WrapperParseError("a PLaMo tool request has no name", text)
    name_end = text.find(NAME_END, position)
    if name_end == -1:
        raise WrapperParseError("a PLaMo tool name is cut off", text)
    name = text[position + len(NAME) : name_end].strip()
    position = _skip(text, name_end + len(NAME_END))
    if not text.startswith(ARGUMENTS, position):
        raise WrapperParseError(f"the call to {name} has no arguments", text)
    position = _skip(text, position + len(ARGUMENTS), CONSTRAIN, MSG)
    value, end = read_marked_json(
        text, position, (ARGUMENTS_END, REQUEST_END, REQUESTS_END), cut_off=after_calls
    )
    call = call_from_object({"name": name, "arguments": value})
    return call, _skip(text, end, ARGUMENTS_END, REQUEST_END)


def extract_plamo_calls(text: str) -> Extraction:
    """Every request in ``text`` (inside its requests tags or not) and the text around."""
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (start := text.find(REQUEST, position)) != -1:
        block = text.rfind(REQUESTS, position, start)
        before = start if block == -1 or text[block + len(REQUESTS) : start].strip() else block
        content += text[position:before]
        call, position = read_request(text, start, after_calls=bool(calls))
        calls.append(call)
        position = _skip(text, position, REQUESTS_END)
    rest = text[position:]
    if REQUESTS in rest:
        raise WrapperParseError(f"{REQUESTS} holds no complete request", text)
    return Extraction(content + rest, calls)


class Plamo3Wrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = REQUESTS
    grammar_trigger: ClassVar[str] = REQUESTS
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (THINK, THINK_END, False)
    # A model that drops the outer tags still opens each call with a request.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        f"{re.escape(REQUESTS)}|{re.escape(REQUEST)}"
    )
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(REQUESTS), re.escape(REQUEST))
    stop: ClassVar[tuple[str, ...]] = (EOT,)

    def rewrite_output(self, text: str) -> str:
        # The turn ends at <|plamo:tag|>; the reasoning tokens are PLaMo's own.
        text = text.split(EOT, 1)[0]
        return text.replace(THINK, "<think>").replace(THINK_END, "</think>")

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, (THINK, THINK_END, EOT))

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            system += TOOLS_HEADER + tools_json_lines(functions) + TOOLS_FOOTER
        out = f"{OP}system\n{system.lstrip()}{EOT}\n" if system else ""
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "assistant":
                if turn.calls:
                    content += REQUESTS
                    content += "".join(request_text(c.name, c.arguments) for c in turn.calls)
                    content += REQUESTS_END
                out += f"{OP}assistant\n{content}{EOT}\n"
            elif turn.kind == "function":
                out += f"{OP}tool\n{content}{EOT}\n"
            else:
                out += f"{OP}{turn.role if turn.kind == 'other' else 'user'}\n{content}{EOT}\n"
        return out + f"{OP}assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return marked_calls_grammar(
            functions,
            call_open=REQUEST + NAME,
            name_sep=NAME_END + ARGUMENTS + CONSTRAIN + MSG,
            call_close=ARGUMENTS_END + REQUEST_END,
            start=REQUESTS,
            end=REQUESTS_END,
            only=only,
            max_calls=call_count(parallel, only),
        )

    def extract_calls(self, text: str) -> Extraction:
        return extract_plamo_calls(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # A call leaves whole once its arguments' end tag has come.
        end = region.rfind(ARGUMENTS_END)
        if end == -1:
            return []
        try:
            found = extract_plamo_calls(region[: end + len(ARGUMENTS_END)])
        except (WrapperParseError, ValueError):
            return []
        if found.content.replace(REQUESTS, "").strip():
            return []  # text between calls: parse() decides what it is
        return [PartialCall(c.name, arguments_as_json_string(c.arguments)) for c in found.calls]


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="plamo3",
        factory=Plamo3Wrapper,
        aliases=("plamo-3", "plamo", "pfn-plamo3"),
        description="PLaMo 3 <|plamo:begin_tool_requests:plamo|> requests, JSON arguments",
        family="tool-call",
    )
]
