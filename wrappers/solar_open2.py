"""Upstage Solar Open 2: ``<|tool_call:start|>`` calls of ``<|tool_arg:...|>`` pairs.

The output format of vLLM's ``vllm/tool_parsers/solar_open2_tool_parser.py``::

    <|tool_call:start|>get_weather
    <|tool_arg:start|>city<|tool_arg:value|>Seoul<|tool_arg:end|>
    <|tool_call:end|>

The name is the rest of the start token's line. Values are text, kept as
written and typed by the request's schema (:mod:`wrappers.xml_calls`).
As the reference parser reads it, a dropped ``<|tool_arg:end|>`` ends the
value at the next argument or at the call's end, a dropped
``<|tool_call:end|>`` ends the call at the next one, the first of a repeated
argument wins, and a block whose name line never ends (another call starts
first) is not a call. Reasoning comes first in ``<|think:start|>`` /
``<|think:end|>``, read as ``reasoning_content``.

The chat template was not at hand. The prompt is fcproxy's reconstruction of
its layout: ``<|im:start|>ROLE<|im:content|>...<|im:end|>`` turns, the client's
system prompt under ``## System Prompt`` and the tools as ``<|tool:start|>``
JSON blocks with the call format in the system turn, past calls as above after
an empty reasoning block, results as ``<|tool_response:start|>`` blocks in a
``tool`` turn. The generation prompt does not open the reasoning block (the
model opens it; fcproxy's streaming knows only ``<think>`` as a prompt's open
block); docs/wrappers.md says so too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, WrapperParseError, arguments_as_json_string
from wrappers.conversation import Turn
from wrappers.grammar import call_count, calls_grammar, keyed_call, literal, text_values
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import ExtractedCall, Extraction
from wrappers.xml_calls import XmlArgumentsWrapper, typed_arguments

CALL, CALL_END = "<|tool_call:start|>", "<|tool_call:end|>"
ARG, VALUE, ARG_END = "<|tool_arg:start|>", "<|tool_arg:value|>", "<|tool_arg:end|>"
THINK, THINK_END = "<|think:start|>", "<|think:end|>"
TURN, CONTENT, TURN_END = "<|im:start|>", "<|im:content|>", "<|im:end|>"
TOOL, TOOL_END = "<|tool:start|>", "<|tool:end|>"
RESPONSE, RESPONSE_END = "<|tool_response:start|>", "<|tool_response:end|>"

_S, _E = re.escape(CALL), re.escape(CALL_END)
# A call: its name line, then its body up to the end token or the next call. A
# name or body never crosses a call boundary, so one dropped token cannot
# swallow the calls after it; a call still open at the end is not matched.
_CALL_BLOCK = re.compile(
    rf"{_S}((?:(?!{_S}|{_E})[^\n])*?)\n((?:(?!{_S}|{_E}).)*)(?:{_E}|(?={_S}))", re.DOTALL
)
_A, _V, _AE = re.escape(ARG), re.escape(VALUE), re.escape(ARG_END)
# An argument: its name up to the value token, its value up to the end token,
# the next argument, or the end of the call.
_ARGUMENT = re.compile(rf"{_A}((?:(?!{_A}).)*?){_V}((?:(?!{_AE}|{_A}).)*)", re.DOTALL)

TOOLS_HEADER = (
    "## Tools\n- You may invoke one or more tools to assist with the user's query.\n\n"
    "### Available Tools\n"
)
TOOLS_FOOTER = (
    "\n### Tool Call Instruction\n"
    "- If using a tool, any reasoning must strictly precede the call. Do not append any text "
    "after the tool call.\n"
    "- If no tool is required, answer directly from your knowledge without ever mentioning the "
    "availability or absence of tools.\n"
    f"- Each tool call MUST use this following format: {CALL}{{example-tool-name}}\n"
    f"{ARG}{{example-key-name-1}}{VALUE}{{example-value-1}}{ARG_END}\n"
    f"{ARG}{{example-key-name-2}}{VALUE}{{example-value-2}}{ARG_END}\n{CALL_END}\n"
)


def _value_text(value: Any) -> str:
    """A past argument as written: strings as they are, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _call(name: str, body: str) -> ExtractedCall:
    arguments: dict[str, str] = {}
    for match in _ARGUMENT.finditer(body):
        # A repeated argument: the first value stands (streaming sent it).
        arguments.setdefault(match.group(1).strip(), match.group(2))
    return ExtractedCall(name.strip(), arguments)


def extract_solar_calls(text: str) -> Extraction:
    """The calls in ``text`` and the text around them.

    A call that never completes (no name line, cut off) is not content: it is
    dropped when complete calls stand beside it, and raises
    :class:`WrapperParseError` alone (the pipeline retries).
    """
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    for match in _CALL_BLOCK.finditer(text):
        content += _outside_calls(text[position : match.start()])
        if match.group(1).strip():
            calls.append(_call(match.group(1), match.group(2)))
        position = match.end()
    rest = text[position:]
    if CALL in rest and not calls:
        raise WrapperParseError(f"a {CALL} call is cut off", text)
    return Extraction(content + _outside_calls(rest), calls)


def _outside_calls(text: str) -> str:
    """``text`` without a call that never became one (from its start token on)."""
    start = text.find(CALL)
    return text if start == -1 else text[:start]


class SolarOpen2Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = CALL
    grammar_trigger: ClassVar[str] = CALL
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (THINK, THINK_END, False)
    stop: ClassVar[tuple[str, ...]] = (TURN_END,)

    def rewrite_output(self, text: str) -> str:
        return text.replace(THINK, "<think>").replace(THINK_END, "</think>")

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, (THINK, THINK_END))

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        head = f"## System Prompt\n\n{system}" if system else ""
        if functions:
            tools = "".join(
                f"{TOOL}{json.dumps({'type': 'function', 'function': dict(f)}, ensure_ascii=False)}"
                f"{TOOL_END}\n"
                for f in functions
            )
            head += ("\n\n" if head else "") + TOOLS_HEADER + tools + TOOLS_FOOTER
        out = f"{TURN}system{CONTENT}{head}{TURN_END}\n" if head else ""
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += f"{TURN}tool{CONTENT}"
                else:
                    out += "\n"
                out += f"{RESPONSE}{turn.content or ''}{RESPONSE_END}"
                if index + 1 == len(turns) or turns[index + 1].kind != "function":
                    out += f"\n{TURN_END}\n"
            elif turn.kind == "assistant":
                calls = "\n".join(
                    f"{CALL}{call.name}\n"
                    + "".join(
                        f"{ARG}{key}{VALUE}{_value_text(value)}{ARG_END}\n"
                        for key, value in call.arguments.items()
                    )
                    + CALL_END
                    for call in turn.calls
                )
                out += f"{TURN}assistant{CONTENT}{THINK}{THINK_END}{turn.content or ''}{calls}"
                out += ("\n" if turn.calls else "") + f"{TURN_END}\n"
            else:
                role = turn.role if turn.kind == "other" else "user"
                out += f"{TURN}{role}{CONTENT}{turn.content or ''}{TURN_END}\n"
        return out + f"{TURN}assistant{CONTENT}"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        def member(key: str, value: str) -> str:
            return f"{literal(f'{ARG}{key}{VALUE}')} {value} {literal(ARG_END + chr(10))}"

        write = keyed_call(
            lambda name: literal(f"{CALL}{name}\n"), member, literal(CALL_END), text_values(ARG_END)
        )
        return calls_grammar(
            functions,
            write,
            only=only,
            max_calls=call_count(parallel, only),
            separator=literal("\n"),
        )

    def extract_calls(self, text: str) -> Extraction:
        return extract_solar_calls(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # A call leaves whole once it has ended (its end token, or the next call).
        schemas = {f.get("name"): f for f in functions}
        calls: list[PartialCall] = []
        for match in _CALL_BLOCK.finditer(region):
            if not match.group(1).strip():
                continue
            call = _call(match.group(1), match.group(2))
            arguments = json.loads(arguments_as_json_string(call.arguments))
            typed = typed_arguments(arguments, schemas.get(call.name))
            calls.append(PartialCall(call.name, json.dumps(typed, ensure_ascii=False)))
        return calls


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="solar-open2",
        factory=SolarOpen2Wrapper,
        aliases=("solar-open-2", "solar_open2", "upstage-solar-open2"),
        description="Upstage Solar Open 2 <|tool_call:start|>f\\n<|tool_arg:start|>k<|tool_arg:value|>v",
        family="tool-call",
    )
]
