# DeepSeek's special tokens are spelled with full-width bars (U+FF5C); that is the point.
# ruff: noqa: RUF001, RUF002, RUF003
"""DeepSeek V3 / R1 and V3.1 tool calls, between full-width-bar special tokens.

V3, R1 (and R1's Qwen / Llama distills) write a call as its type, the name,
and the arguments in a JSON code fence::

    <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather
    ```json
    {"city": "Paris"}
    ```<｜tool▁call▁end｜><｜tool▁calls▁end｜>

V3.1 drops the type and the fence::

    <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>

Several calls follow each other inside one ``<｜tool▁calls▁begin｜>`` section.
One parser reads both. R1 thinks first (``<think>...</think>``, its template
opens the block itself); the base class moves that to ``reasoning_content``.

DeepSeek's own templates print no tool definitions. The renderers follow the
tool templates peers ship: SGLang's ``tool_chat_template_deepseekr1.jinja``
for V3 / R1 (vLLM carries the same file), and for V3.1 its official template
with the tool description its model card puts into the system prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.grammar import call_count, marked_calls_grammar
from wrappers.partial_json import parse_prefix, stable_dumps
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
CALLS_BEGIN = "<｜tool▁calls▁begin｜>"
CALLS_END = "<｜tool▁calls▁end｜>"
CALL_BEGIN = "<｜tool▁call▁begin｜>"
CALL_END = "<｜tool▁call▁end｜>"
SEP = "<｜tool▁sep｜>"
OUTPUTS_BEGIN = "<｜tool▁outputs▁begin｜>"
OUTPUTS_END = "<｜tool▁outputs▁end｜>"
OUTPUT_BEGIN = "<｜tool▁output▁begin｜>"
OUTPUT_END = "<｜tool▁output▁end｜>"

# SGLang's R1 tool template; "valid.## Tools" (no line break) is the template's.
R1_TOOLS_PREAMBLE = (
    "You are a helpful assistant with tool calling capabilities. When a tool call is needed, "
    "you MUST use the following format to issue the call:\n"
    f"{CALLS_BEGIN}{CALL_BEGIN}function{SEP}FUNCTION_NAME\n"
    '```json\n{"param1": "value1", "param2": "value2"}\n```'
    f"{CALL_END}{CALLS_END}\n\n"
    "Make sure the JSON is valid."
    "## Tools\n\n### Function\n\nYou have the following functions available:\n\n"
)
# DeepSeek-V3.1's model card ("ToolCall"), as SGLang's V3.1 tool template writes it.
V31_TOOLS_HEADER = "## Tools\nYou have access to the following tools:\n"
V31_TOOLS_FOOTER = (
    "\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n"
    f"{CALLS_BEGIN}{CALL_BEGIN}tool_call_name{SEP}tool_call_arguments{CALL_END}"
    "{{additional_tool_calls}}"
    f"{CALLS_END}\n\n"
    "Where:\n\n"
    "- `tool_call_name` must be an exact match to one of the available tools\n"
    "- `tool_call_arguments` must be valid JSON that strictly follows the tool's "
    "Parameters Schema\n"
    "- For multiple tool calls, chain them directly without separators or spaces\n"
)

# V3 / R1: after the separator, the name on its own line, then a ```json fence.
_FENCED_NAME = re.compile(r"\s*([^\s`{]+)\s*(?:```(?:json)?)?")
# The same, once the arguments' "{" has come (streaming: the name is then certain).
_FENCED_NAME_BEFORE_ARGUMENTS = re.compile(_FENCED_NAME.pattern + r"\s*(?=\{)")


def _to_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _system_prompt(system: str, turns: list[Turn]) -> str:
    """Every system message, joined by blank lines (the templates gather them all)."""
    parts = [system] if system else []
    parts += [t.content or "" for t in turns if t.kind == "other" and t.role == "system"]
    return "\n\n".join(parts)


def _after_reasoning(content: str) -> str:
    # Past reasoning is not shown to the model again.
    return content.split("</think>")[-1] if "</think>" in content else content


class DeepSeekWrapper(ToolFormatWrapper):
    """DeepSeek V3 / R1: ``function<｜tool▁sep｜>name`` and a fenced JSON object per call."""

    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(CALLS_BEGIN), re.escape(CALL_BEGIN))
    call_start: ClassVar[str] = CALLS_BEGIN
    grammar_trigger: ClassVar[str] = CALLS_BEGIN
    #: How a call is written between its markers (V3 / R1: type and a JSON fence).
    grammar_call_open: ClassVar[str] = CALL_BEGIN + "function" + SEP
    grammar_name_sep: ClassVar[str] = "\n```json\n"
    grammar_call_close: ClassVar[str] = "\n```" + CALL_END
    #: Between two calls (the template's newline).
    grammar_between: ClassVar[str] = "\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return marked_calls_grammar(
            functions,
            call_open=self.grammar_call_open,
            name_sep=self.grammar_name_sep,
            call_close=self.grammar_call_close,
            start=CALLS_BEGIN,
            end=CALLS_END,
            only=only,
            max_calls=call_count(parallel, only),
            between=self.grammar_between,
        )

    stop: ClassVar[tuple[str, ...]] = (EOS,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        system_prompt = _system_prompt(system, turns)
        if functions:
            tools = "".join(
                "\n```json\n" + _to_json({"type": "function", "function": dict(f)}) + "\n```\n"
                for f in functions
            )
            system_prompt += "\n\n" + R1_TOOLS_PREAMBLE + tools
        out = BOS + system_prompt
        last_user = in_results = False
        first_result = True
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                last_user = False
                out += OUTPUTS_BEGIN if first_result else "\n"
                out += OUTPUT_BEGIN + content + OUTPUT_END
                in_results, first_result = True, False
            elif turn.kind == "assistant" and turn.calls:
                if in_results:
                    out += OUTPUTS_END
                last_user = in_results = False
                first_result = True
                out += _after_reasoning(content) + CALLS_BEGIN
                out += "\n".join(
                    f"{CALL_BEGIN}function{SEP}{call.name}\n```json\n"
                    f"{_to_json(call.arguments)}\n```{CALL_END}"
                    for call in turn.calls
                )
                out += CALLS_END + EOS
            elif turn.kind == "assistant":
                out += (OUTPUTS_END if in_results else "") + _after_reasoning(content) + EOS
                last_user = in_results = False
            elif turn.role != "system":
                out += USER + content + ASSISTANT
                last_user, in_results = True, False
        if in_results:
            out += OUTPUTS_END
        elif not last_user:
            out += ASSISTANT
        return out

    def extract_calls(self, text: str) -> Extraction:
        start = text.find(CALLS_BEGIN)
        if start == -1:
            # Some outputs open the first call without the section marker.
            start = text.find(CALL_BEGIN)
        if start == -1:
            return Extraction(text)
        section_end = text.find(CALLS_END, start)
        section = text[start:] if section_end == -1 else text[start:section_end]
        after = "" if section_end == -1 else text[section_end + len(CALLS_END) :]
        calls: list[ExtractedCall] = []
        position = section.find(CALL_BEGIN)
        if position == -1:
            raise WrapperParseError(f"{CALLS_BEGIN} holds no call", text)
        while position != -1:
            call, end = _call_at(section, position + len(CALL_BEGIN), after_calls=bool(calls))
            calls.append(call)
            position = section.find(CALL_BEGIN, end)
        return Extraction(text[:start] + after, calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        if not region.startswith(CALLS_BEGIN):
            # A lone <｜tool▁call▁begin｜> opens the calls only if no section
            # marker ever follows: known at the end.
            return []
        section_end = region.find(CALLS_END)
        section = region if section_end == -1 else region[:section_end]
        calls: list[PartialCall] = []
        position = section.find(CALL_BEGIN)
        while position != -1:
            call, end = _call_so_far(section, position + len(CALL_BEGIN))
            if call is not None:
                calls.append(call)
            if end is None:
                break
            position = section.find(CALL_BEGIN, end)
        return calls


def _call_so_far(text: str, start: int) -> tuple[PartialCall | None, int | None]:
    """:func:`_call_at` on a call still being written: what is known of it, and
    where it ends (None: not yet)."""
    separator = text.find(SEP, start)
    if separator == -1:
        return None, None
    head = text[start:separator].strip()
    position = separator + len(SEP)
    after = text[position:].lstrip()
    if not after:
        return None, None
    if head == "function" and not after.startswith("{"):
        match = _FENCED_NAME_BEFORE_ARGUMENTS.match(text, position)
        if match is None:
            return None, None
        name, position = match.group(1), match.end()
    else:
        name = head
    found = parse_prefix(text, position)
    if not name or found is None or not isinstance(found.value, dict):
        return None, None
    call = PartialCall(name, stable_dumps(found.value))
    if not found.complete:
        return call, None
    # The next call is searched after the first end token, wherever that comes
    # (inside a later call's arguments, even): not known before it has come.
    close = text.find(CALL_END, found.end)
    return call, None if close == -1 else close + len(CALL_END)


def _call_at(text: str, start: int, *, after_calls: bool = False) -> tuple[ExtractedCall, int]:
    """The call whose body starts at ``text[start]`` (after ``<｜tool▁call▁begin｜>``).

    Broken arguments are mended as :func:`wrappers.tolerance.read_marked_json`
    does (a cut-off one only ``after_calls``: it follows complete ones).
    """
    separator = text.find(SEP, start)
    if separator == -1:
        raise WrapperParseError(f"a DeepSeek call has no {SEP}", text)
    head = text[start:separator].strip()
    position = separator + len(SEP)
    if head == "function" and not text[position:].lstrip().startswith("{"):
        # V3 / R1: the type before the separator, the name after it.
        match = _FENCED_NAME.match(text, position)
        if match is None:
            raise WrapperParseError("a DeepSeek call has no function name", text)
        name, position = match.group(1), match.end()
    else:
        name = head
    if not name:
        raise WrapperParseError("a DeepSeek call has no function name", text)
    try:
        arguments, end = read_marked_json(
            text, position, (CALL_END, CALL_BEGIN), cut_off=after_calls
        )
    except json.JSONDecodeError as exc:
        raise WrapperParseError(f"unreadable arguments of {name}: {exc}", text) from exc
    if not isinstance(arguments, dict):
        raise WrapperParseError(f"the arguments of {name} are not a JSON object", text)
    close = text.find(CALL_END, end)
    return ExtractedCall(name=name, arguments=arguments), (
        end if close == -1 else close + len(CALL_END)
    )


class DeepSeekV31Wrapper(DeepSeekWrapper):
    grammar_call_open: ClassVar[str] = CALL_BEGIN
    grammar_between: ClassVar[str] = ""
    grammar_name_sep: ClassVar[str] = SEP
    grammar_call_close: ClassVar[str] = CALL_END

    """DeepSeek V3.1: ``name<｜tool▁sep｜>{...}``, non-thinking mode (tools need it)."""

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        system_prompt = _system_prompt(system, turns)
        if functions:
            tools = "".join(
                f"\n### {f['name']}\nDescription: {f.get('description') or ''}\n\n"
                f"Parameters: {_to_json(f.get('parameters') or {})}\n"
                for f in functions
            )
            system_prompt += "\n\n" + V31_TOOLS_HEADER + tools + V31_TOOLS_FOOTER
        out = BOS + system_prompt
        last_user = in_results = False
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                last_user, in_results = False, True
                out += OUTPUT_BEGIN + content + OUTPUT_END
            elif turn.kind == "assistant":
                if last_user:
                    out += ASSISTANT + "</think>"
                if turn.calls:
                    out += content + CALLS_BEGIN
                    out += "".join(
                        f"{CALL_BEGIN}{call.name}{SEP}{_to_json(call.arguments)}{CALL_END}"
                        for call in turn.calls
                    )
                    out += CALLS_END + EOS
                else:
                    out += (content if in_results else content.split("</think>", 1)[-1]) + EOS
                last_user = in_results = False
            elif turn.role != "system":
                out += USER + content
                last_user, in_results = True, False
        if last_user:
            out += ASSISTANT + "</think>"
        return out


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="deepseek",
        factory=DeepSeekWrapper,
        aliases=("deepseek-v3", "deepseek-r1", "deepseek-r1-0528", "deepseek-r1-distill"),
        description="DeepSeek V3 / R1 <｜tool▁call▁begin｜>function<｜tool▁sep｜>name + fenced JSON",
        family="tool-call",
    ),
    WrapperEntry(
        name="deepseek-v3.1",
        factory=DeepSeekV31Wrapper,
        aliases=("deepseek-v3.1-terminus",),
        description="DeepSeek V3.1 <｜tool▁call▁begin｜>name<｜tool▁sep｜>{...}, non-thinking mode",
        family="tool-call",
    ),
]
