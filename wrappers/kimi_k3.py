"""Moonshot Kimi K3 (XTML): ``<|open|>call tool="f" index="1"<|sep|>`` inside a ``tools`` channel.

Kimi K3 replaced K2's ``<|tool_calls_section_begin|>`` tokens with XML-like
channels built of three special tokens, ``<|open|>``, ``<|close|>`` and
``<|sep|>`` (llama.cpp ``models/templates/Kimi-K3.jinja``; vLLM
``vllm/tool_parsers/kimi_k3_tool_parser.py``). Every message is
``<|open|>message role="..."<|sep|>...<|close|>message<|sep|><|end_of_msg|>``;
the tools are declared as sorted, compact JSON in a ``tool-declare`` system
message. An answer holds a ``think`` channel (when thinking is on), a
``response`` channel (the content) and, for calls, a ``tools`` channel::

    <|open|>response<|sep|>Let me check.<|close|>response<|sep|>
    <|open|>tools<|sep|>
    <|open|>call tool="get_weather" index="1"<|sep|>
    <|open|>argument key="city" type="string"<|sep|>Paris<|close|>argument<|sep|>
    <|open|>argument key="days" type="number"<|sep|>2<|close|>argument<|sep|>
    <|close|>call<|sep|>
    <|close|>tools<|sep|>
    <|close|>message<|sep|>

(without the line breaks). A ``type="string"`` value is the text as it is;
any other type is JSON. A call may instead carry its arguments as one JSON
object in ``<|open|>json type="object"<|sep|>{...}<|close|>json<|sep|>``.
Attribute values escape ``&`` and ``"`` as ``&amp;`` and ``&quot;``.

fcproxy renders with thinking off (the generation prompt opens the
``response`` channel); a ``think`` channel in the answer still goes to
``reasoning_content``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import CallRecord, Turn
from wrappers.grammar import (
    GrammarBuilder,
    call_count,
    calls_grammar,
    keyed_call,
    literal,
    text_values,
)
from wrappers.json_extract import extract_json_object
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import ExtractedCall, Extraction
from wrappers.xml_calls import (
    XmlArgumentsWrapper,
    is_text_schema,
    schema_type_order,
    typed_arguments,
)

OPEN, CLOSE, SEP = "<|open|>", "<|close|>", "<|sep|>"
END_OF_MSG = "<|end_of_msg|>"
MESSAGE_CLOSE = f"{CLOSE}message{SEP}"
TOOLS_OPEN = f"{OPEN}tools{SEP}"
TOOLS_CLOSE = f"{CLOSE}tools{SEP}"
CALL_CLOSE = f"{CLOSE}call{SEP}"
#: Channel markers read as the base class's reasoning tags, or dropped (the
#: response channel's text is the content).
CHANNELS = {
    f"{OPEN}think{SEP}": "<think>",
    f"{CLOSE}think{SEP}": "</think>",
    f"{OPEN}response{SEP}": "",
    f"{CLOSE}response{SEP}": "",
}

_CALL = re.compile(re.escape(OPEN) + r"call\s((?:(?!<\|sep\|>).)*)" + re.escape(SEP), re.S)
_ARGUMENT = re.compile(
    re.escape(OPEN) + r"(argument|json)\s((?:(?!<\|sep\|>).)*)" + re.escape(SEP), re.S
)
_ATTRIBUTE = re.compile(r'(\w+)\s*=\s*"([^"]*)"')


def attributes(text: str) -> dict[str, str]:
    # &quot; before &amp;: the reverse of the template's escape_attr.
    return {
        m.group(1): m.group(2).replace("&quot;", '"').replace("&amp;", "&")
        for m in _ATTRIBUTE.finditer(text)
    }


def escape_attribute(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace('"', "&quot;")


def open_tag(tag: str, **attrs: Any) -> str:
    return OPEN + tag + "".join(f' {k}="{escape_attribute(v)}"' for k, v in attrs.items()) + SEP


def close_tag(tag: str) -> str:
    return f"{CLOSE}{tag}{SEP}"


def xtml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def call_xtml(call: CallRecord, index: int) -> str:
    out = open_tag("call", tool=call.name, index=index)
    for key, value in call.arguments.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out += open_tag("argument", key=key, type=xtml_type(value)) + text + close_tag("argument")
    return out + CALL_CLOSE


def _schema_type(schema: Any) -> str:
    """The ``type`` attribute of an argument of this schema: "string" for text, else JSON's."""
    if is_text_schema(schema):
        return "string"
    types = schema_type_order(schema) if isinstance(schema, dict) else []
    kind = next((t for t in types if t != "string"), "object")
    return "number" if kind == "integer" else kind


def xtml_call(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
    """One call as :func:`call_xtml` writes it: an ``argument`` tag a parameter,
    strings as text, the rest as JSON (the grammar of a call)."""
    properties = (function.get("parameters") or {}).get("properties") or {}

    def member(key: str, value: str) -> str:
        kind = _schema_type(builder.resolve(properties.get(key)))
        opener = open_tag("argument", key=key, type=kind)
        return f"{literal(opener)} {value} {literal(close_tag('argument'))}"

    def head(name: str) -> str:
        # The index counts the answer's calls from 1: any number reads back.
        opener = f'{OPEN}call tool="{escape_attribute(name)}" index="'
        return f"{literal(opener)} [0-9]{{1,2}} {literal(chr(34) + SEP)}"

    write = keyed_call(head, member, literal(CALL_CLOSE), text_values(close_tag("argument")))
    return write(builder, index, function)


def read_call(text: str, match: re.Match[str]) -> tuple[ExtractedCall, int]:
    """The call whose opening tag is ``match``, and where it ends (after ``<|close|>call<|sep|>``)."""
    name = attributes(match.group(1)).get("tool", "").strip()
    close = text.find(CALL_CLOSE, match.end())
    if not name:
        raise WrapperParseError("a Kimi K3 call has no tool name", text)
    if close == -1:
        raise WrapperParseError(f"the call to {name} is cut off (no {CALL_CLOSE})", text)
    body = text[match.end() : close]
    arguments: dict[str, Any] = {}
    position = 0
    while (tag := _ARGUMENT.search(body, position)) is not None:
        kind, attrs = tag.group(1), attributes(tag.group(2))
        end = body.find(close_tag(kind), tag.end())
        following = _ARGUMENT.search(body, tag.end())
        if end == -1 or (following is not None and following.start() < end):
            end = following.start() if following else len(body)  # a missing closing tag
        value = body[tag.end() : end]
        position = end
        if kind == "json":
            # One object for all the arguments, mended where it is broken.
            arguments.update(extract_json_object(value))
        elif attrs.get("type", "string") == "string":
            arguments[attrs.get("key", "")] = value
        else:
            try:
                arguments[attrs.get("key", "")] = json.loads(value)
            except ValueError:
                arguments[attrs.get("key", "")] = value.strip()  # the schema decides
    return ExtractedCall(name, arguments), close + len(CALL_CLOSE)


def extract_xtml_calls(text: str) -> Extraction:
    """Every ``call`` in ``text``, inside its ``tools`` channel or not, and the text around."""
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (match := _CALL.search(text, position)) is not None:
        start = match.start()
        block = text.rfind(TOOLS_OPEN, position, start)
        if block != -1 and not text[block + len(TOOLS_OPEN) : start].strip():
            start = block
        content += text[position:start]
        call, end = read_call(text, match)
        calls.append(call)
        after = end
        while after < len(text) and text[after].isspace():
            after += 1
        position = after + len(TOOLS_CLOSE) if text.startswith(TOOLS_CLOSE, after) else end
    rest = text[position:]
    if TOOLS_OPEN in rest:
        raise WrapperParseError(f"{TOOLS_OPEN} holds no complete call", text)
    return Extraction(content + rest, calls)


def channels_as_tags(text: str) -> str:
    for marker, tag in CHANNELS.items():
        text = text.replace(marker, tag)
    return text


class KimiK3Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOLS_OPEN
    grammar_trigger: ClassVar[str] = TOOLS_OPEN
    # The prompt opens the response channel: an answer closes it, then calls.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (
        open_tag("response"),
        close_tag("response"),
        True,
    )
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"<\|open\|>(?:tools<\|sep\|>|call\s)")
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(TOOLS_OPEN), re.escape(OPEN) + r"call\s")
    stop: ClassVar[tuple[str, ...]] = (END_OF_MSG, MESSAGE_CLOSE)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        if functions:
            tools = [{"type": "function", "function": dict(f)} for f in functions]
            declared = json.dumps(tools, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            out += open_tag("message", role="system", type="tool-declare")
            out += "# Tools\nHere are the available tools, described in JSONSchema.\n\n"
            out += f"```json\n{declared}\n```{MESSAGE_CLOSE}{END_OF_MSG}"
        if system:
            out += open_tag("message", role="system") + system + MESSAGE_CLOSE + END_OF_MSG
        results = 0
        for turn in turns:
            if turn.kind == "assistant":
                results = 0
                out += open_tag("message", role="assistant") + open_tag("response")
                out += (turn.content or "") + close_tag("response")
                if turn.calls:
                    out += TOOLS_OPEN
                    out += "".join(call_xtml(c, i) for i, c in enumerate(turn.calls, start=1))
                    out += TOOLS_CLOSE
            elif turn.kind == "function":
                results += 1
                out += open_tag("message", role="tool", tool=turn.name or "", index=results)
                out += turn.content or ""
            else:
                role = "user" if turn.kind == "user" else turn.role
                out += open_tag("message", role=role) + (turn.content or "")
            out += MESSAGE_CLOSE + END_OF_MSG
        return out + open_tag("message", role="assistant") + open_tag("response")

    def rewrite_output(self, text: str) -> str:
        return channels_as_tags(text)

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, tuple(CHANNELS))

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return calls_grammar(
            functions,
            xtml_call,
            only=only,
            max_calls=call_count(parallel, only),
            start=literal(TOOLS_OPEN),
            end=literal(TOOLS_CLOSE),
        )

    def extract_calls(self, text: str) -> Extraction:
        return extract_xtml_calls(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        """The calls complete so far (each leaves whole at its ``<|close|>call<|sep|>``)."""
        schemas = {f.get("name"): f for f in functions}
        calls: list[PartialCall] = []
        position = 0
        while (match := _CALL.search(region, position)) is not None:
            between = region[position : match.start()].replace(TOOLS_OPEN, "")
            if between.replace(TOOLS_CLOSE, "").strip() or CALL_CLOSE not in region[match.end() :]:
                break
            try:
                call, position = read_call(region, match)
            except WrapperParseError:
                break  # parse() raises it at the end
            raw = call.arguments if isinstance(call.arguments, dict) else {}
            arguments = typed_arguments(raw, schemas.get(call.name))
            calls.append(PartialCall(call.name, json.dumps(arguments, ensure_ascii=False)))
        return calls


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="kimi-k3",
        factory=KimiK3Wrapper,
        aliases=("kimi-k3-xtml", "kimi-xtml"),
        description='Kimi K3 XTML <|open|>tools<|sep|><|open|>call tool="f" index="1"<|sep|>...',
        family="tool-call",
    )
]
