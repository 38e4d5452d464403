"""Upstage Solar Open (100B): ``<|tool_call:begin|>ID<|tool_call:name|>NAME<|tool_call:args|>{...}``.

The output format of Upstage's Solar Open parsers (their vLLM plug-in, ported to
mlx-openai-server's ``app/parsers/solar_open.py``; llama.cpp's ``solar_open``
format). The answer is a message of its own, after an optional reasoning
message; calls are JSON objects, several back to back::

    <|think|>The user wants the weather.<|end|><|begin|>assistant<|tool_calls|><|tool_call:begin|>a1b2c3d4e5<|tool_call:name|>get_weather<|tool_call:args|>{"city": "Seoul"}<|tool_call:end|><|calls|>

and a text answer is ``<|content|>`` and the text (``<|begin|>assistant<|content|>Hi!``).
Reasoning (``<|think|>`` up to its ``<|end|>``) goes to ``reasoning_content``;
with ``reasoning_effort`` low the template has written an empty one and the
output starts at ``<|content|>``. Upstage's parser also reads content before
the calls ended by ``<|flush|>`` (``Checking.<|flush|><|tool_calls|>...``), and a
call whose id is empty. ``<|flush|>`` ends a text message (calls may still
follow it, so generation does not stop there); ``<|calls|>`` ends an answer of
calls, and generation stops there.

The chat template (llama.cpp's ``models/templates/upstage-Solar-Open-100B.jinja``)
was not at hand. The prompt is fcproxy's reconstruction from the tokens the
parsers and tests name: ``<|begin|>ROLE<|content|>...<|end|>`` turns, the tools as
JSON lines in a ``<|tools:begin|>`` block of the system turn with the call
format, past calls as above (ids are the calls' positions in the conversation:
fcproxy does not see the client's), results as ``<|tool_response:begin|>ID
<|tool_response:name|>NAME<|tool_response:result|>...<|tool_response:end|>``
blocks in a ``tool`` turn (the markers llama.cpp detects the template by), and
the generation prompt ``<|begin|>assistant`` (the model opens its reasoning).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import GrammarBuilder, call_count, calls_grammar, json_arguments, literal
from wrappers.marked_json_calls import headed_json_calls, headed_json_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import Extraction, ToolFormatWrapper

BEGIN, END, CONTENT = "<|begin|>", "<|end|>", "<|content|>"
ASSISTANT = BEGIN + "assistant"
THINK, FLUSH = "<|think|>", "<|flush|>"
TOOL_CALLS, CALLS_END = "<|tool_calls|>", "<|calls|>"
CALL, NAME, ARGS, CALL_END = (
    "<|tool_call:begin|>",
    "<|tool_call:name|>",
    "<|tool_call:args|>",
    "<|tool_call:end|>",
)
TOOLS, TOOLS_END = "<|tools:begin|>", "<|tools:end|>"
RESPONSE, RESPONSE_NAME, RESPONSE_RESULT, RESPONSE_END = (
    "<|tool_response:begin|>",
    "<|tool_response:name|>",
    "<|tool_response:result|>",
    "<|tool_response:end|>",
)
#: The message tokens the answer's text is read without (the calls' are read by the calls).
_MESSAGE_TOKENS = (ASSISTANT, BEGIN, CONTENT, FLUSH, END, TOOL_CALLS, CALLS_END)
# A call's head: its id (none, or the begin token left out), its name, the args token.
_NOT_A_TOKEN = r"(?:(?!<\|).)*?"
_HEAD = re.compile(
    rf"(?:{re.escape(CALL)}{_NOT_A_TOKEN})?{re.escape(NAME)}\s*({_NOT_A_TOKEN})\s*{re.escape(ARGS)}",
    re.DOTALL,
)

TOOLS_HEADER = "# Tools\nYou may call one or more of these tools to answer the user:\n"
CALL_FORMAT = (
    f"To call tools, answer with {TOOL_CALLS} and for each call "
    f'{CALL}{{id}}{NAME}{{tool-name}}{ARGS}{{"argument": "value"}}{CALL_END}, '
    f"then {CALLS_END}.\n"
)


def _message_text(text: str) -> str:
    """The output in the shared reader's shape: ``<think>`` reasoning, then the answer's text and calls."""
    start = text.find(THINK)
    if start != -1 and not text[:start].strip():
        close = text.find(END, start)
        reasoning = text[start + len(THINK) : len(text) if close == -1 else close]
        rest = "" if close == -1 else text[close + len(END) :]
        text = f"<think>{reasoning}" + ("" if close == -1 else f"</think>{rest}")
    for token in _MESSAGE_TOKENS:
        text = text.replace(token, "")
    return text


def extract_solar_open_calls(text: str) -> Extraction:
    """Every call in ``text`` (the message tokens removed) and the text around them."""
    return headed_json_calls(text, _HEAD, CALL_END, (CALL_END, CALL, NAME))


def solar_open_calls_so_far(region: str) -> list[PartialCall]:
    """The calls in ``region`` as far as they are written (arguments as a JSON prefix)."""
    return headed_json_calls_so_far(region, _HEAD, CALL_END, end_required=False)


class SolarOpenWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = CALL
    grammar_trigger: ClassVar[str] = TOOL_CALLS
    #: A Solar Open call: its name and args tokens (the begin token and the id may be missing).
    call_pattern: ClassVar[re.Pattern[str]] = _HEAD
    stream_openers: ClassVar[tuple[str, ...]] = (_HEAD.pattern,)
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (THINK, END + ASSISTANT, False)
    stop: ClassVar[tuple[str, ...]] = (CALLS_END,)

    def rewrite_output(self, text: str) -> str:
        return _message_text(text)

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, (*_MESSAGE_TOKENS, THINK))

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        head = system
        if functions:
            tools = "\n".join(
                json.dumps({"type": "function", "function": dict(f)}, ensure_ascii=False)
                for f in functions
            )
            head += (
                "\n\n" if head else ""
            ) + f"{TOOLS_HEADER}{TOOLS}{tools}{TOOLS_END}\n{CALL_FORMAT}"
        out = f"{BEGIN}system{CONTENT}{head}{END}" if head else ""
        counter = 0
        pending: deque[tuple[str, str]] = deque()  # (id, name) of calls not yet answered
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "assistant":
                if content or not turn.calls:
                    out += f"{ASSISTANT}{CONTENT}{content}{END}"
                if turn.calls:
                    out += ASSISTANT + TOOL_CALLS
                    for call in turn.calls:
                        pending.append((str(counter), call.name))
                        counter += 1
                        arguments = json.dumps(call.arguments, ensure_ascii=False)
                        out += f"{CALL}{pending[-1][0]}{NAME}{call.name}{ARGS}{arguments}{CALL_END}"
                    out += CALLS_END
            elif turn.kind == "function":
                call_id, name = pending.popleft() if pending else ("", turn.name or "tool")
                if index == 0 or turns[index - 1].kind != "function":
                    out += f"{BEGIN}tool"
                out += (
                    f"{RESPONSE}{call_id}{RESPONSE_NAME}{turn.name or name}"
                    f"{RESPONSE_RESULT}{content}{RESPONSE_END}"
                )
                if index + 1 == len(turns) or turns[index + 1].kind != "function":
                    out += END
            else:
                role = turn.role if turn.kind == "other" else "user"
                out += f"{BEGIN}{role}{CONTENT}{content}{END}"
        return out + ASSISTANT

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
            # Any short id reads back (the template writes ten letters and digits).
            arguments = json_arguments(builder, index, function)
            head = literal(f"{NAME}{function['name']}{ARGS}")
            return f"{literal(CALL)} [a-zA-Z0-9]{{0,16}} {head} {arguments} {literal(CALL_END)}"

        return calls_grammar(
            functions,
            write,
            only=only,
            max_calls=call_count(parallel, only),
            start=literal(TOOL_CALLS),
            end=literal(CALLS_END),
        )

    def extract_calls(self, text: str) -> Extraction:
        return extract_solar_open_calls(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return solar_open_calls_so_far(region)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="solar-open-100b",
        factory=SolarOpenWrapper,
        aliases=("solar-open", "solar_open", "solar-open-100b-instruct", "upstage-solar-open"),
        description="Upstage Solar Open <|tool_call:begin|>id<|tool_call:name|>f<|tool_call:args|>{...}",
        family="tool-call",
    )
]
