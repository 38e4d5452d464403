"""GLM-4.5 / 4.6 tool calls: ``<tool_call>name`` and ``<arg_key>`` / ``<arg_value>`` pairs.

The prompt is GLM-4.6's chat template (GLM-4.5's lays out tools the same
way): ``[gMASK]<sop>``, the tools as JSON lines in a ``<|system|>`` turn,
``<|user|>`` / ``<|assistant|>`` turns, and the model answers::

    <tool_call>get_weather
    <arg_key>city</arg_key>
    <arg_value>Paris</arg_value>
    </tool_call>

one block per call. Values are text, converted by the function's schema
(:mod:`wrappers.xml_calls`); GLM writes non-string values as JSON. Results
go back in an ``<|observation|>`` turn of ``<tool_response>`` blocks.
GLM-4.5+ think first (``<think>...</think>``); every past assistant turn shows
an empty ``<think></think>``, as the template writes it.

Telling it apart from Hermes / Qwen 2.5, whose JSON calls also open with
``<tool_call>`` (``auto`` detection, :mod:`wrappers.detection`): detection
matches ``call_pattern``, a function name right after the tag, and tries
openers of equal length in registration order, so ``wrappers.glm4`` is
registered before ``wrappers.hermes``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.grammar import call_count, calls_grammar, keyed_call, literal, text_values
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import ExtractedCall, Extraction, tools_json_lines
from wrappers.xml_calls import XmlArgumentsWrapper, arguments_so_far, strip_layout_newlines

PREFIX = "[gMASK]<sop>"
TOOL_CALL = "<tool_call>"
TOOL_CALL_END = "</tool_call>"
ARG_KEY = "<arg_key>"
TOOLS_HEADER = (
    "<|system|>\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
TOOLS_FOOTER = (
    "\n</tools>\n\nFor each function call, output the function name and arguments within the "
    "following XML format:\n<tool_call>{function-name}\n<arg_key>{arg-key-1}</arg_key>\n"
    "<arg_value>{arg-value-1}</arg_value>\n<arg_key>{arg-key-2}</arg_key>\n"
    "<arg_value>{arg-value-2}</arg_value>\n...\n</tool_call>"
)
_ARGUMENT = re.compile(r"<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)</arg_value>", re.DOTALL)
# The same pair, its value still being written.
_OPEN_ARGUMENT = re.compile(r"<arg_key>(.*?)</arg_key>\s*<arg_value>", re.DOTALL)
_NAME_END = re.compile(r"\n|<arg_key>")


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _split_reasoning(content: str) -> tuple[str, str]:
    """(reasoning, answer) of a past assistant turn that kept its ``<think>`` block."""
    if "</think>" not in content:
        return "", content
    reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
    return reasoning, content.split("</think>")[-1].lstrip("\n")


class Glm4Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALL
    grammar_trigger: ClassVar[str] = TOOL_CALL
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("<think>", "</think>", False)
    #: What detection matches: a GLM call, with or without arguments (a Hermes
    #: call has JSON after the tag).
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"<tool_call>\s*[^\s<{\[]+\s*(?:<arg_key>|</tool_call>)"
    )
    stop: ClassVar[tuple[str, ...]] = ("<|user|>", "<|observation|>", "<|endoftext|>")

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = PREFIX
        if functions:
            out += TOOLS_HEADER + tools_json_lines(functions) + TOOLS_FOOTER
        if system:
            out += "<|system|>\n" + system
        last_user = max((i for i, t in enumerate(turns) if t.kind == "user"), default=-1)
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "assistant":
                reasoning, content = _split_reasoning(content)
                shown = reasoning.strip() if index > last_user else ""
                out += f"<|assistant|>\n<think>{shown}</think>"
                if content.strip():
                    out += "\n" + content.strip()
                for call in turn.calls:
                    out += "\n" + TOOL_CALL + call.name
                    out += "".join(
                        f"\n<arg_key>{key}</arg_key>\n<arg_value>{_value(value)}</arg_value>"
                        for key, value in call.arguments.items()
                    )
                    out += "\n" + TOOL_CALL_END
            elif turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += "<|observation|>"
                out += f"\n<tool_response>\n{content}\n</tool_response>"
            elif turn.role == "system":
                out += "<|system|>\n" + content
            else:
                out += "<|user|>\n" + content
        return out + "<|assistant|>"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        def member(key: str, value: str) -> str:
            opener = literal(f"\n{ARG_KEY}{key}</arg_key>\n<arg_value>")
            return f"{opener} {value} {literal('</arg_value>')}"

        write = keyed_call(
            lambda name: literal(TOOL_CALL + name),
            member,
            literal("\n" + TOOL_CALL_END),
            text_values("</arg_value>"),
        )
        return calls_grammar(
            functions,
            write,
            only=only,
            max_calls=call_count(parallel, only),
            separator=literal("\n"),
        )

    def extract_calls(self, text: str) -> Extraction:
        content = ""
        calls: list[ExtractedCall] = []
        position = 0
        while (start := text.find(TOOL_CALL, position)) != -1:
            content += text[position:start]
            close = text.find(TOOL_CALL_END, start)
            if close == -1:
                raise WrapperParseError("a GLM <tool_call> is cut off (no </tool_call>)", text)
            calls.append(_call(text[_after_openers(text, start) : close], text))
            position = close + len(TOOL_CALL_END)
        return Extraction(content + text[position:], calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        schemas = {f.get("name"): f for f in functions}
        calls: list[PartialCall] = []
        position = 0
        while (start := region.find(TOOL_CALL, position)) != -1:
            close = region.find(TOOL_CALL_END, start)
            body = region[_after_openers(region, start) : close if close != -1 else len(region)]
            call = _call_so_far(body, schemas, complete=close != -1)
            if call is None:
                break
            calls.append(call)
            if close == -1:
                break
            position = close + len(TOOL_CALL_END)
        return calls


def _call_so_far(
    body: str, schemas: dict[Any, FunctionSchema], *, complete: bool
) -> PartialCall | None:
    """:func:`_call` on a call still being written (None: its name is not known yet)."""
    name_end = _NAME_END.search(body)
    if name_end is None and not complete:
        return None
    name = body[: name_end.start() if name_end else len(body)].strip()
    if not name or name.startswith(("{", "<")):
        return None
    pairs: list[tuple[str, str]] = []
    position = 0
    for match in _ARGUMENT.finditer(body):
        pairs.append((match.group(1).strip(), strip_layout_newlines(match.group(2))))
        position = match.end()
    open_value = None
    if not complete and (pair := _OPEN_ARGUMENT.search(body, position)) is not None:
        open_value = (
            pair.group(1).strip(),
            without_partial_suffix(body[pair.end() :], ("</arg_value>",)),
        )
    return PartialCall(name, arguments_so_far(pairs, open_value, schemas.get(name), complete))


def _after_openers(text: str, start: int) -> int:
    """Where the call opened at ``text[start]`` begins: past any stray ``<tool_call>``
    written right before it (vLLM issue 60703: ``text <tool_call><tool_call>name...``)."""
    end = start + len(TOOL_CALL)
    while True:
        following = len(text) - len(text[end:].lstrip())
        if not text.startswith(TOOL_CALL, following):
            return end
        end = following + len(TOOL_CALL)


def _call(body: str, text: str) -> ExtractedCall:
    name_end = _NAME_END.search(body)
    name = body[: name_end.start() if name_end else len(body)].strip()
    if not name or name.startswith(("{", "<")):
        raise WrapperParseError("a GLM <tool_call> does not start with a function name", text)
    pairs = _ARGUMENT.findall(body)
    if len(pairs) != body.count(ARG_KEY):
        raise WrapperParseError(
            f"the arguments of {name} are not <arg_key>/<arg_value> pairs", text
        )
    arguments = {key.strip(): strip_layout_newlines(value) for key, value in pairs}
    return ExtractedCall(name=name, arguments=arguments)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="glm4",
        factory=Glm4Wrapper,
        aliases=("glm-4.5", "glm-4.5-air", "glm-4.6", "glm-4.7", "glm4-moe"),
        description="GLM-4.5 / 4.6 <tool_call>name<arg_key>k</arg_key><arg_value>v</arg_value>",
        family="tool-call",
    )
]
