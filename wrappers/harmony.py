"""gpt-oss (OpenAI's harmony format): messages on channels, calls addressed to ``functions.NAME``.

gpt-oss-20b / 120b write every message with a header naming its channel;
a call is a message *to* a function, on the ``commentary`` channel::

    <|channel|>analysis<|message|>The user wants the weather.<|end|>
    <|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris"}<|call|>

- ``analysis`` messages are reasoning (``reasoning_content``);
- ``final`` messages (and ``commentary`` ones with no recipient) are content;
- a message with a recipient ``to=functions.NAME`` is a call to NAME, its
  body the arguments as JSON. The recipient may also stand in the role slot
  (``<|start|>assistant to=functions.NAME<|channel|>commentary json<|message|>``),
  as the template writes past calls; ``<|constrain|>json`` or a bare ``json``
  may follow.

Sources: OpenAI's harmony guide (cookbook.openai.com/articles/openai-harmony)
for the prompt layout and the TypeScript tool namespace; llama.cpp
``tests/test-chat.cpp`` (its GPT-OSS block) and vLLM
``tests/tool_parsers/test_openai_tool_parser.py`` for the outputs. The
prompt, as the model's template renders it::

    <|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.
    Knowledge cutoff: 2024-06
    Current date: 2025-06-28

    Reasoning: medium

    # Valid channels: analysis, commentary, final. Channel must be included for every message.
    Calls to these tools must go to the commentary channel: 'functions'.<|end|><|start|>developer<|message|># Instructions

    Be brief.

    # Tools

    ## functions

    namespace functions {

    // Get the weather
    type get_weather = (_: {
    // City name
    city: string,
    }) => any;

    } // namespace functions<|end|><|start|>user<|message|>Weather in Paris?<|end|><|start|>assistant
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import regex

from wrappers.base import (
    FunctionSchema,
    ParsedOutput,
    RenderOptions,
    ToolCall,
    WrapperParseError,
)
from wrappers.conversation import Turn
from wrappers.grammar import GrammarBuilder, calls_grammar, json_arguments, literal
from wrappers.json_extract import extract_json_object
from wrappers.partial_json import parse_prefix, stable_dumps
from wrappers.registry import WrapperEntry
from wrappers.streaming import (
    PartialCall,
    Snapshot,
    compile_opener,
    held_text,
    partial_match_start,
    safe_content_end,
)
from wrappers.tolerance import bare_json_calls
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

START = "<|start|>"
CHANNEL = "<|channel|>"
MESSAGE = "<|message|>"
END = "<|end|>"
CALL = "<|call|>"
RETURN = "<|return|>"
CONSTRAIN = "<|constrain|>"
KNOWLEDGE_CUTOFF = "2024-06"
#: The channels a call is written on (``commentary``; ``analysis`` now and then).
_CALL_CHANNELS = ("commentary", "analysis")

#: A message header: an optional role and recipient, the channel, an optional
#: recipient and content type, then ``<|message|>``.
_HEADER = re.compile(
    r"(?:<\|start\|>\s*(?:assistant)?)?"
    r"(?P<pre>(?:\s*to=[^\s<]+)?)\s*"
    r"<\|channel\|>\s*(?P<channel>\w+)"
    r"(?P<post>(?:\s+to=[^\s<]+)?)\s*"
    r"(?:<\|constrain\|>\s*)?(?:\w+\s*)?"
    r"<\|message\|>"
)
# Where a message body ends: its terminator, or the next message's start.
_BODY_END = re.compile(r"<\|end\|>|<\|call\|>|<\|return\|>|<\|start\|>|<\|channel\|>")
_MARKERS = (START, CHANNEL, MESSAGE, END, CALL, RETURN, CONSTRAIN)
_PARTIAL_MARKERS = tuple(compile_opener(regex.escape(m)) for m in _MARKERS)
# A header being written: hold everything from its start.
_OPEN_HEADER = compile_opener(
    r"(?:<\|start\|>[^<]*)?(?:\s*to=[^\s<]*)?\s*<\|channel\|>[^<]*(?:<\|constrain\|>[^<]*)?\Z"
)


@dataclass
class _Message:
    channel: str
    recipient: str | None
    body: str
    closed: bool


@dataclass
class _Reading:
    before: str = ""  # text before the first header (a plain answer)
    messages: list[_Message] = field(default_factory=list)
    #: Where the unread end starts (a header still being written), for streaming.
    held_from: int | None = None


def _recipient(pre: str, post: str) -> str | None:
    for part in (post, pre):
        part = part.strip()
        if part.startswith("to="):
            return part[3:]
    return None


def read_messages(text: str) -> _Reading:
    """The messages of a harmony output, in order."""
    reading = _Reading()
    first = _HEADER.search(text)
    if first is None:
        reading.before = text
        return reading
    reading.before = text[: first.start()]
    match: re.Match[str] | None = first
    while match is not None:
        end = _BODY_END.search(text, match.end())
        body_end = end.start() if end is not None else len(text)
        closed = end is not None and end.group() in (END, CALL, RETURN)
        recipient = _recipient(match.group("pre"), match.group("post"))
        reading.messages.append(
            _Message(match.group("channel"), recipient, text[match.end() : body_end], closed)
        )
        if end is None:
            break
        match = _HEADER.search(text, end.end() if closed else end.start())
        if match is None:
            rest = text[end.end() if closed else end.start() :]
            if rest.strip():
                reading.held_from = len(text) - len(rest)
    return reading


def _function_name(recipient: str) -> str:
    return recipient.removeprefix("functions.")


def _arguments(body: str, name: str) -> dict[str, Any]:
    body = body.strip()
    if not body:
        return {}
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        try:
            value = extract_json_object(body)  # broken JSON, mended
        except WrapperParseError as exc:
            raise WrapperParseError(f"the arguments of {name!r} are not JSON", body) from exc
    if not isinstance(value, dict):
        raise WrapperParseError(f"the arguments of {name!r} are not an object", body)
    return value


class HarmonyWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = " to=functions."
    # A call is a message to a function; generation stops at its <|call|>, so
    # an answer holds one call, after an optional analysis message. Its
    # recipient comes after the channel (the harmony guide's form) or in the
    # role slot before it (as the template writes past calls), so the grammar
    # under auto applies from the recipient on (lazy_grammar_triggers).
    grammar_trigger: ClassVar[str] = " to=functions."
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (
        f"{CHANNEL}analysis{MESSAGE}",
        f"{END}{START}assistant",
        False,
    )
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"to=functions\.[^\s<]+")
    stop: ClassVar[tuple[str, ...]] = (RETURN, CALL, "<|endoftext|>")

    def __init__(self, date: str | None = None, reasoning: str = "medium") -> None:
        self.date = date
        self.reasoning = reasoning

    # ---- the prompt ----

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        date = self.date or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
        out = (
            f"{START}system{MESSAGE}You are ChatGPT, a large language model trained by OpenAI.\n"
            f"Knowledge cutoff: {KNOWLEDGE_CUTOFF}\nCurrent date: {date}\n\n"
            f"Reasoning: {self.reasoning}\n\n"
            "# Valid channels: analysis, commentary, final. Channel must be included for every message."
        )
        if functions:
            out += "\nCalls to these tools must go to the commentary channel: 'functions'."
        out += END
        if system.strip() or functions:
            out += f"{START}developer{MESSAGE}"
            if system.strip():
                out += f"# Instructions\n\n{system.strip()}\n\n"
            if functions:
                out += "# Tools\n\n## functions\n\n" + typescript_tools(functions)
            out = out.rstrip("\n") + END
        for turn in turns:
            if turn.kind == "function":
                out += f"{START}functions.{turn.name or 'unknown'} to=assistant{CHANNEL}commentary"
                out += f"{MESSAGE}{turn.content or ''}{END}"
            elif turn.kind == "assistant":
                if turn.content:
                    out += f"{START}assistant{CHANNEL}final{MESSAGE}{turn.content}{END}"
                for call in turn.calls:
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    out += f"{START}assistant to=functions.{call.name}{CHANNEL}commentary json"
                    out += f"{MESSAGE}{arguments}{CALL}"
            else:
                role = "user" if turn.role not in ("user", "system", "developer") else turn.role
                out += f"{START}{role}{MESSAGE}{turn.content or ''}{END}"
        return out + f"{START}assistant"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        """One call, its recipient after the channel or before it (in the role slot)::

            <|channel|>commentary to=functions.f <|constrain|>json<|message|>{...}<|call|>
             to=functions.f<|channel|>commentary json<|message|>{...}<|call|>

        The second is how the template writes past calls (after the prompt's
        ``<|start|>assistant``), and gpt-oss writes it too (llama.cpp's
        test-chat.cpp, "tool calling in role header"); either channel, as
        llama.cpp's own gpt-oss grammar allows.
        """

        def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
            recipient = literal(self.grammar_trigger + function["name"])
            channel = f"{literal(CHANNEL)} ( {' | '.join(map(literal, _CALL_CHANNELS))} )"
            content_type = f'( {literal(" " + CONSTRAIN + "json")} | " json" )?'
            arguments = json_arguments(builder, index, function)
            return (
                f"( {channel} {recipient} | {recipient} {channel} ) {content_type} "
                f"{literal(MESSAGE)} {arguments} {literal(CALL)}"
            )

        return calls_grammar(functions, write, only=only)

    def lazy_grammar_triggers(self, functions: Sequence[FunctionSchema]) -> list[str]:
        # A recipient after its channel triggers at the channel, so that the
        # grammar sees which form the call takes: llama-server tries the
        # triggers in order (src/llama-grammar.cpp), so the channel's go first.
        channels = [f"{CHANNEL}{channel}{self.grammar_trigger}" for channel in _CALL_CHANNELS]
        return [*channels, self.grammar_trigger]

    # ---- reading ----

    def extract_calls(self, text: str) -> Extraction:
        # Used by ``auto`` detection; parse() reads the channels itself.
        return self._read(text)[0]

    def _read(self, text: str) -> tuple[Extraction, str]:
        reading = read_messages(text)
        content = [reading.before] if reading.before.strip() else []
        reasoning: list[str] = []
        calls: list[ExtractedCall] = []
        for message in reading.messages:
            if message.recipient:
                name = _function_name(message.recipient)
                calls.append(ExtractedCall(name, _arguments(message.body, name)))
            elif message.channel == "analysis":
                reasoning.append(message.body)
            else:
                content.append(message.body)
        return Extraction("\n".join(c.strip() for c in content), calls), "\n".join(
            r.strip() for r in reasoning
        )

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        text = raw.strip()
        for token in self.stop:
            text = text.removesuffix(token).rstrip()
        try:
            extraction, reasoning = self._read(text)
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, WrapperParseError):
                raise
            raise WrapperParseError(f"a harmony call is unreadable: {exc}", raw) from exc
        if not extraction.calls:
            # A call written as bare JSON, to one of the request's tools (wrappers.tolerance).
            extraction = bare_json_calls(extraction.content, functions) or extraction
        return ParsedOutput(
            content=extraction.content.strip() or None,
            tool_calls=[
                ToolCall(call.name, json.dumps(call.arguments, ensure_ascii=False))
                for call in extraction.calls
            ],
            reasoning_content=reasoning.strip() or None,
        )

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        # Hold a marker or header still being written; the rest reads as parse() reads it.
        text = text[: partial_match_start(text, _PARTIAL_MARKERS)]
        cut = safe_content_end(text, (_OPEN_HEADER,))
        reading = read_messages(text[:cut])
        content: list[str] = [reading.before] if reading.before.strip() else []
        reasoning: list[str] = []
        calls: list[PartialCall] = []
        for index, message in enumerate(reading.messages):
            last = index == len(reading.messages) - 1
            if message.recipient:
                name = _function_name(message.recipient)
                if message.closed or not last:
                    try:
                        arguments = _arguments(message.body, name)
                    except WrapperParseError:
                        break
                    calls.append(PartialCall(name, json.dumps(arguments, ensure_ascii=False)))
                else:
                    calls.append(PartialCall(name, _arguments_so_far(message.body)))
            elif message.channel == "analysis":
                reasoning.append(message.body)
            else:
                content.append(message.body)
        joined_content = "\n".join(c.strip() for c in content[:-1])
        if content:
            joined_content += ("\n" if len(content) > 1 else "") + content[-1].lstrip()
        joined_reasoning = "\n".join(r.strip() for r in reasoning[:-1])
        if reasoning:
            joined_reasoning += ("\n" if len(reasoning) > 1 else "") + reasoning[-1].lstrip()
        # Content stops where a bare JSON call may begin (parse() reads it then).
        joined_content = joined_content[: self.content_end(joined_content)]
        return Snapshot(
            content=held_text(joined_content),
            reasoning=held_text(joined_reasoning),
            calls=calls,
        )


def _arguments_so_far(body: str) -> str:
    """A prefix of the arguments' JSON, while they are valid JSON so far."""
    found = parse_prefix(body)
    if found is None or not isinstance(found.value, dict):
        return ""
    if body[found.end :].strip():
        return ""  # something after the object: the end decides
    return stable_dumps(found.value)


# ---- the tools, as a TypeScript namespace ----


def _typescript_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    if "enum" in schema and isinstance(schema["enum"], list):
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_typescript_type({**schema, "type": k}) for k in kind)
    if kind == "string":
        return "string"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "null":
        return "null"
    if kind == "array":
        return _typescript_type(schema.get("items")) + "[]"
    if kind == "object":
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            return "{\n" + _typescript_members(properties, schema.get("required") or []) + "}"
        return "object"
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " | ".join(_typescript_type(option) for option in schema[key])
    return "any"


def _typescript_members(properties: dict[str, Any], required: Sequence[str]) -> str:
    out = ""
    for name, schema in properties.items():
        schema = schema if isinstance(schema, dict) else {}
        if schema.get("description"):
            out += f"// {schema['description']}\n"
        out += name + ("" if name in required else "?") + ": " + _typescript_type(schema) + ","
        if "default" in schema:
            out += f" // default: {schema['default']}"
        out += "\n"
    return out


def typescript_tools(functions: Sequence[FunctionSchema]) -> str:
    """``namespace functions { ... }`` as the harmony guide writes it."""
    out = "namespace functions {\n\n"
    for function in functions:
        out += f"// {function.get('description', '')}\n" if function.get("description") else ""
        parameters = function.get("parameters") or {}
        properties = parameters.get("properties")
        out += f"type {function.get('name')} = "
        if isinstance(properties, dict) and properties:
            members = _typescript_members(properties, parameters.get("required") or [])
            out += "(_: {\n" + members + "}) => any;\n\n"
        else:
            out += "() => any;\n\n"
    return out + "} // namespace functions"


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="harmony",
        factory=HarmonyWrapper,
        aliases=("gpt-oss", "gpt-oss-20b", "gpt-oss-120b", "openai-harmony"),
        description="gpt-oss harmony: <|channel|>commentary to=functions.name ...<|message|>{...}<|call|>",
        family="tool-call",
    )
]
