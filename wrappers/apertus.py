"""Swiss AI Apertus: ``<|tools_prefix|>[{"get_weather": {"city": "Paris"}}]<|tools_suffix|>``.

The format of Apertus' chat template (vLLM ``examples/tool_chat_template_apertus.jinja``,
parser ``vllm/tool_parsers/apertus_tool_parser.py``). A call is an object
whose one key is the function's name and whose value holds the arguments;
several go in one list. The tools are TypeScript types in the developer
turn; results follow the calls in the assistant's turn, as a list::

    <s><|system_start|>You are Apertus, ...<|system_end|><|developer_start|>Deliberation: disabled
    Tool Capabilities:
    // Get the weather
    type get_weather = (_: {
    city: string
    }) => any;<|developer_end|><|user_start|>Weather in Paris?<|user_end|><|assistant_start|>

and the model answers ``<|tools_prefix|>[{"get_weather": {"city": "Paris"}}]<|tools_suffix|>``.
A list whose closing brackets are missing (the suffix cut off) still reads,
as vLLM's parser reads it.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.grammar import (
    GrammarBuilder,
    call_count,
    json_arguments,
    json_list_grammar,
    json_literal,
)
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tolerance import with_missing_closers
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper, decode_json_at

TOOLS_PREFIX = "<|tools_prefix|>"
TOOLS_SUFFIX = "<|tools_suffix|>"
ASSISTANT_END = "<|assistant_end|>"


def _call(item: Any) -> ExtractedCall:
    if isinstance(item, dict) and len(item) == 1:
        ((name, arguments),) = item.items()
        if isinstance(arguments, dict):
            return ExtractedCall(str(name), arguments)
    raise WrapperParseError('an Apertus call is {"name": {arguments}}')


def _items(text: str, start: int) -> tuple[list[Any], int, bool]:
    """The complete items of the list at ``text[start]``, where reading stopped, and if it closed."""
    position = start + 1
    items: list[Any] = []
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            return items, position, False
        if text[position] == "]":
            return items, position + 1, True
        try:
            item, position = decode_json_at(text, position)
        except json.JSONDecodeError:
            return items, position, False
        items.append(item)


def _typescript_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, dict):
            return "any[]"
        inner = items.get("type")
        if inner in ("string", "boolean"):
            return f"{inner}[]"
        if inner in ("number", "integer"):
            return "number[]"
        return _typescript_type(items) + "[]"
    if isinstance(kind, list) and kind:
        return " | ".join(map(str, kind)) if len(kind) > 1 else str(kind[0])
    if kind == "string":
        if schema.get("enum"):
            return '"' + '" | "'.join(map(str, schema["enum"])) + '"'
        return "string"
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "object":
        return "object"
    return "any"


def typescript_tools(functions: Sequence[FunctionSchema]) -> str:
    """The template's ``render_tools``: one ``type NAME = (_: {...}) => any;`` per tool."""
    out = []
    for function in functions:
        text = f"// {function['description']}\n" if function.get("description") else ""
        text += f"type {function.get('name')} = "
        parameters = function.get("parameters") or {}
        properties = parameters.get("properties") or {}
        required = parameters.get("required") or []
        if properties:
            members = []
            for name, schema in properties.items():
                schema = schema if isinstance(schema, dict) else {}
                member = f"// {schema['description']}\n" if "description" in schema else ""
                member += name + ("" if name in required else "?") + ": " + _typescript_type(schema)
                if "default" in schema:
                    member += ", // default: " + json.dumps(schema["default"])
                members.append(member)
            text += "(_: {\n" + ",\n".join(members) + "\n}) => any;"
        else:
            text += "() => any;"
        out.append(text)
    return "\n".join(out)


class ApertusWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOLS_PREFIX
    grammar_trigger: ClassVar[str] = TOOLS_PREFIX
    stop: ClassVar[tuple[str, ...]] = (ASSISTANT_END,)

    def __init__(self, date: str | None = None) -> None:
        self.date = date

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if not system:
            date = self.date or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
            system = (
                "You are Apertus, a helpful assistant created by the SwissAI initiative.\n"
                f"Knowledge cutoff: 2024-04\nCurrent date: {date}"
            )
        out = f"<s><|system_start|>{system}<|system_end|>"
        out += "<|developer_start|>Deliberation: disabled\n"
        out += (
            ("Tool Capabilities:\n" + typescript_tools(functions))
            if functions
            else ("Tool Capabilities: disabled")
        )
        out += "<|developer_end|>"
        in_assistant = in_tool = False
        for turn in turns:
            if turn.kind == "function":
                out += ", " if in_tool else "["
                in_tool = True
                out += turn.content or ""
                continue
            if turn.kind == "assistant":
                if not in_assistant:
                    out += "<|assistant_start|>"
                    in_assistant = True
                if in_tool:
                    out += "]"
                    in_tool = False
                out += turn.content or ""
                if turn.calls:
                    calls = ", ".join(
                        f'{{"{c.name}": {json.dumps(c.arguments, ensure_ascii=False)}}}'
                        for c in turn.calls
                    )
                    out += f"{TOOLS_PREFIX}[{calls}]{TOOLS_SUFFIX}"
                continue
            if in_tool:
                out += "]"
                in_tool = False
            if in_assistant:
                out += ASSISTANT_END
                in_assistant = False
            out += f"<|user_start|>{turn.content or ''}<|user_end|>"
        if in_tool:
            out += "]"
        return out + "<|assistant_start|>"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
            name = json_literal(function["name"])
            return f'"{{" ws {name} ws ":" ws {json_arguments(builder, index, function)} ws "}}"'

        return json_list_grammar(
            functions,
            write,
            prefix=TOOLS_PREFIX,
            suffix=TOOLS_SUFFIX,
            only=only,
            max_calls=call_count(parallel, only),
        )

    def extract_calls(self, text: str) -> Extraction:
        content = ""
        calls: list[ExtractedCall] = []
        position = 0
        while (start := text.find(TOOLS_PREFIX, position)) != -1:
            content += text[position:start]
            body = start + len(TOOLS_PREFIX)
            while body < len(text) and text[body].isspace():
                body += 1
            if not text.startswith("[", body):
                raise WrapperParseError(f"{TOOLS_PREFIX} is not followed by a list", text)
            items, end, closed = _items(text, body)
            if not closed:
                # The suffix (and closers) cut off: read it if only closers are missing.
                stop = text.find(TOOLS_SUFFIX, body)
                region = text[body : stop if stop != -1 else len(text)]
                mended = with_missing_closers(region)
                if mended is None:
                    raise WrapperParseError("the Apertus call list is cut off", text)
                items, end = json.loads(mended), (stop if stop != -1 else len(text))
            calls.extend(_call(item) for item in items)
            position = end
            while position < len(text) and text[position].isspace():
                position += 1
            if text.startswith(TOOLS_SUFFIX, position):
                position += len(TOOLS_SUFFIX)
        return Extraction(content + text[position:], calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # Each call leaves whole once its object is complete.
        body = len(TOOLS_PREFIX)
        while body < len(region) and region[body].isspace():
            body += 1
        if not region.startswith("[", body):
            return []
        items, _, _ = _items(region, body)
        calls = []
        for item in items:
            try:
                call = _call(item)
            except WrapperParseError:
                break
            calls.append(PartialCall(call.name, json.dumps(call.arguments, ensure_ascii=False)))
        return calls


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="apertus",
        factory=ApertusWrapper,
        aliases=("apertus-8b", "apertus-70b", "swiss-ai-apertus"),
        description='Swiss AI Apertus <|tools_prefix|>[{"name": {args}}]<|tools_suffix|>',
        family="tool-call",
    )
]
