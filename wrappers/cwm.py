"""Meta CWM (Code World Model): ``<tool: NAME>`` blocks whose body is the call's input.

CWM's prompting guide (facebookresearch/cwm ``PROMPTING_GUIDE.md``) gives the
call format and how tools are announced::

    <tool: bash>
    find . -name "*.py"
    </tool>

The label is the tool; the body is its input as text. vLLM's
``vllm/tool_parsers/cwm_tool_parser.py`` reads a second layout, the label
``function`` and the tool's name as the body's first word::

    <tool: function>
    terminal find . -name "*.py"
    </tool>

and a shorthand without the ``>`` (``<tool: python print(1) </tool>``, the
label is the tool). fcproxy reads all three. An input that is a JSON object
is the arguments; any other text is the value of the tool's one parameter
when its schema has exactly one, else of ``command`` (vLLM's key).

The layout is the guide's: ``<|start_header_id|>ROLE<|end_header_id|>\\n\\n...<|eot_id|>``
turns, the tools announced in the system prompt after ``You have access to the
following tools:`` (each as a call block and its description; the guide shows
no JSON-schema tools, so how a function's parameters are described is
fcproxy's), results in ``tool: NAME`` turns. No chat template with tools was
at hand; docs/wrappers.md says so too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import (
    FunctionSchema,
    ParsedOutput,
    RenderOptions,
    WrapperParseError,
    arguments_as_json_string,
)
from wrappers.conversation import Turn
from wrappers.grammar import GrammarBuilder, call_count, calls_grammar, json_arguments, literal
from wrappers.llama3_layout import BEGIN_OF_TEXT, EOT, header
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

CALL_END = "</tool>"
#: vLLM's label for calls whose name is the body's first word.
FUNCTION_LABEL = "function"
#: vLLM's key for an input that is not a JSON object.
TEXT_KEY = "command"
# <tool: label> body </tool>, or the shorthand <tool: label body </tool>.
_BLOCK = re.compile(
    r"<tool:\s*(?P<label>[^>\s]+)(?:\s*>\s*(?P<body>.*?)|\s+(?P<short>.*?))\s*</tool>",
    re.IGNORECASE | re.DOTALL,
)
_OPENER = re.compile(r"<tool:\s*[^>\s]+", re.IGNORECASE)
TOOLS_INTRO = "You have access to the following tools:\n\n"


def _input(payload: str) -> dict[str, Any]:
    """The arguments an input stands for: a JSON object as it is, else text."""
    payload = payload.strip()
    if payload.startswith("{"):
        try:
            value = json.loads(payload)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    return {TEXT_KEY: payload}


def _call(match: re.Match[str]) -> ExtractedCall | None:
    label = match.group("label").strip()
    body = match.group("body")
    if body is None:
        return ExtractedCall(label, _input(match.group("short") or ""))
    if label.lower() != FUNCTION_LABEL:
        return ExtractedCall(label, _input(body))
    first, _, rest = body.strip().partition("\n")
    name, _, inline = first.strip().partition(" ")
    if not name:
        return None
    payload = "\n".join(part for part in (inline.strip(), rest.strip()) if part)
    return ExtractedCall(name, _input(payload))


def extract_cwm_calls(text: str) -> Extraction:
    """Every ``<tool: ...>`` block in ``text`` and the text around them."""
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    for match in _BLOCK.finditer(text):
        call = _call(match)
        if call is None:
            continue
        content += text[position : match.start()]
        calls.append(call)
        position = match.end()
    rest = text[position:]
    cut = _OPENER.search(rest)
    if cut is not None:
        # A block cut off (no </tool>): unreadable alone, dropped after complete calls.
        if not calls:
            raise WrapperParseError(f"a {cut.group()} block is cut off (no </tool>)", text)
        rest = rest[: cut.start()]
    return Extraction(content + rest, calls)


def _sole_parameter(function: FunctionSchema | None) -> str | None:
    properties = ((function or {}).get("parameters") or {}).get("properties") or {}
    return next(iter(properties)) if len(properties) == 1 else None


def arguments_for(arguments: dict[str, Any], function: FunctionSchema | None) -> dict[str, Any]:
    """A text input under the tool's one parameter, when ``command`` is not one of its own."""
    sole = _sole_parameter(function)
    if list(arguments) == [TEXT_KEY] and sole is not None and sole != TEXT_KEY:
        return {sole: arguments[TEXT_KEY]}
    return arguments


def _payload(arguments: dict[str, Any]) -> str:
    """A past call's input: the text of a one-text-parameter call, else its JSON."""
    values = list(arguments.values())
    if len(values) == 1 and isinstance(values[0], str):
        return values[0]
    return json.dumps(arguments, ensure_ascii=False)


def _announce(function: FunctionSchema) -> str:
    """One tool as the system prompt shows it: a call block, then what it does."""
    sole = _sole_parameter(function)
    parameters = function.get("parameters") or {}
    if sole is not None:
        usage = f"[{sole}]"
        detail = f" [{sole}]: {json.dumps(parameters['properties'][sole], ensure_ascii=False)}"
    else:
        usage = "[arguments as a JSON object]"
        detail = f" Arguments: {json.dumps(parameters, ensure_ascii=False)}"
    description = (function.get("description") or "").strip()
    return f"<tool: {function['name']}>\n{usage}\n</tool>\n{(description + detail).strip()}"


class CwmWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = "<tool:"
    grammar_trigger: ClassVar[str] = "<tool: "
    call_pattern: ClassVar[re.Pattern[str]] = _OPENER
    stream_openers: ClassVar[tuple[str, ...]] = (r"(?i)<tool:",)
    stop: ClassVar[tuple[str, ...]] = (EOT,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            tools = "\n\n".join(_announce(f) for f in functions)
            system = (system + "\n\n" if system else "") + TOOLS_INTRO + tools
        out = BEGIN_OF_TEXT + (f"{header('system')}{system}{EOT}" if system else "")
        pending: list[str] = []
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "assistant":
                blocks = [f"<tool: {c.name}>\n{_payload(c.arguments)}\n</tool>" for c in turn.calls]
                out += header("assistant") + "\n".join(filter(None, [content, *blocks])) + EOT
                pending = [c.name for c in turn.calls]
            elif turn.kind == "function":
                # The result of the next call not yet answered, unless the client named it.
                name = turn.name or (pending[0] if pending else "function")
                if name in pending:
                    pending.remove(name)
                out += f"{header(f'tool: {name}')}{content}{EOT}"
            else:
                out += f"{header(turn.role if turn.kind == 'other' else 'user')}{content}{EOT}"
        return out + header("assistant")

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # The JSON-object input, which reads back for any schema.
        def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
            head = literal(f"<tool: {function['name']}>\n")
            return (
                f"{head} {json_arguments(builder, index, function)} {literal(chr(10) + CALL_END)}"
            )

        return calls_grammar(
            functions,
            write,
            only=only,
            max_calls=call_count(parallel, only),
            separator=literal("\n"),
        )

    def extract_calls(self, text: str) -> Extraction:
        return extract_cwm_calls(text)

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        parsed = super().parse(raw, functions, options)
        by_name = {f.get("name"): f for f in functions}
        calls = [
            dataclasses.replace(call, arguments=_typed(call.name, call.arguments, by_name))
            for call in parsed.tool_calls
        ]
        return dataclasses.replace(parsed, tool_calls=calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # A call leaves whole at its </tool>; text between calls: parse() decides.
        by_name = {f.get("name"): f for f in functions}
        calls: list[PartialCall] = []
        position = 0
        for match in _BLOCK.finditer(region):
            if region[position : match.start()].strip():
                break
            position = match.end()
            call = _call(match)
            if call is not None:
                arguments = arguments_as_json_string(call.arguments)
                calls.append(PartialCall(call.name, _typed(call.name, arguments, by_name)))
        return calls


def _typed(name: str, arguments: str, by_name: dict[Any, FunctionSchema]) -> str:
    """``arguments`` (JSON) with a text input under the tool's own parameter."""
    value = json.loads(arguments)
    if not isinstance(value, dict):
        return arguments
    return json.dumps(arguments_for(value, by_name.get(name)), ensure_ascii=False)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="cwm",
        factory=CwmWrapper,
        aliases=("meta-cwm", "code-world-model", "facebook-cwm"),
        description="Meta CWM <tool: NAME>\\ninput\\n</tool> blocks, Llama 3 headers",
        family="tool-call",
    )
]
