"""Gemma 4: ``<|tool_call>call:NAME{key:<|"|>text<|"|>,n:1}<tool_call|>``.

The format of Google's Gemma 4 chat template (llama.cpp
``models/templates/gemma4.jinja``, vLLM ``vllm/tool_parsers/gemma4_tool_parser.py``).
Turns are ``<|turn>ROLE\\n...<turn|>``; tools are declared in the system
turn, each as ``<|tool>declaration:NAME{description:...,parameters:{...}}<tool|>``;
the generation prompt closes an empty thought channel when thinking is off::

    <bos><|turn>system
    You are a helpful assistant.<|tool>declaration:get_weather{description:<|"|>Get the weather<|"|>,parameters:{properties:{city:{description:<|"|>City name<|"|>,type:<|"|>STRING<|"|>}},required:[<|"|>city<|"|>],type:<|"|>OBJECT<|"|>}}<tool|><turn|>
    <|turn>user
    What is the weather in Paris?<turn|>
    <|turn>model
    <|channel>thought
    <channel|>

and the model answers, any number of calls one after the other::

    <|tool_call>call:get_weather{city:<|"|>Paris<|"|>}<tool_call|>

Arguments have bare keys, strings between ``<|"|>`` quote tokens, and JSON's
numbers, booleans, ``null``, objects and lists (:mod:`wrappers.gemma_values`).
Results follow the call in the same model turn, as
``<|tool_response>response:NAME{value:<|"|>...<|"|>}<tool_response|>``.
Thinking goes in ``<|channel>thought\\n...<channel|>`` (reasoning).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import regex

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.gemma_values import (
    GEMMA4_QUOTE,
    gemma_call,
    read_object,
    write_arguments,
    write_value,
)
from wrappers.grammar import call_count, calls_grammar
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, compile_opener, partial_match_start
from wrappers.tolerance import calls_in_block
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

TOOL_CALL = "<|tool_call>"
TOOL_CALL_END = "<tool_call|>"
CALL_PREFIX = "call:"
TURN_END = "<turn|>"
THOUGHT_OPEN = "<|channel>thought"
THOUGHT_CLOSE = "<channel|>"
# The name runs to the "{" of the arguments (names may hold "-" and ".").
_NAME = re.compile(r"\s*call:\s*([^\s{<]+)\s*(?=\{)")
_PARTIAL_THOUGHT = (
    compile_opener(regex.escape(THOUGHT_OPEN) + r"\n?"),
    compile_opener(regex.escape(THOUGHT_CLOSE)),
)
_STANDARD_KEYS = frozenset({"description", "type", "properties", "required", "nullable"})
Q = GEMMA4_QUOTE


def _quoted(text: Any, quote: str = Q) -> str:
    return f"{quote}{'' if text is None else text}{quote}"


def _upper_type(schema: dict[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = declared[0] if declared else ""
    return str(declared or "").upper()


def declare_parameters(properties: dict[str, Any], quote: str = Q) -> str:
    """The template's ``format_parameters``: each property as ``name:{description,...,type}``."""
    parts = []
    for key, schema in sorted(properties.items()):
        if key in _STANDARD_KEYS or not isinstance(schema, dict):
            continue
        out = f"{key}:{{"
        comma = False
        if schema.get("description"):
            out += f"description:{_quoted(schema['description'], quote)}"
            comma = True
        if schema.get("nullable"):
            out += ("," if comma else "") + "nullable:true"
            comma = True
        kind = _upper_type(schema)
        if kind == "STRING" and schema.get("enum"):
            out += ("," if comma else "") + "enum:" + write_value(schema["enum"], quote)
            comma = True
        elif kind == "OBJECT":
            inner = schema.get("properties")
            out += ",properties:{" + declare_parameters(
                inner if isinstance(inner, dict) else {}, quote
            )
            out += "}"
            if schema.get("required"):
                out += ",required:[" + ",".join(_quoted(r, quote) for r in schema["required"]) + "]"
        elif kind == "ARRAY" and isinstance(schema.get("items"), dict) and schema["items"]:
            items = []
            for item_key, item_value in sorted(schema["items"].items()):
                if item_value is None:
                    continue
                if item_key == "properties" and isinstance(item_value, dict):
                    items.append("properties:{" + declare_parameters(item_value, quote) + "}")
                elif item_key == "required":
                    items.append(
                        "required:[" + ",".join(_quoted(r, quote) for r in item_value) + "]"
                    )
                elif item_key == "type":
                    upper = (
                        item_value.upper()
                        if isinstance(item_value, str)
                        else [str(t).upper() for t in item_value]
                    )
                    items.append("type:" + write_value(upper, quote))
                else:
                    items.append(f"{item_key}:" + write_value(item_value, quote))
            out += ",items:{" + ",".join(items) + "}"
        out += ("," if comma else "") + f"type:{_quoted(kind, quote)}}}"
        parts.append(out)
    return ",".join(parts)


def declare_function(function: FunctionSchema, quote: str = Q) -> str:
    """The template's ``format_function_declaration``."""
    out = f"declaration:{function.get('name', '')}{{description:{_quoted(function.get('description'), quote)}"
    parameters = function.get("parameters")
    if parameters:
        out += ",parameters:{"
        if parameters.get("properties"):
            out += "properties:{" + declare_parameters(parameters["properties"], quote) + "},"
        if parameters.get("required"):
            out += "required:[" + ",".join(_quoted(r, quote) for r in parameters["required"]) + "],"
        if parameters.get("type"):
            out += f"type:{_quoted(str(parameters['type']).upper(), quote)}}}"
    return out + "}"


def _as_reasoning_tags(text: str) -> str:
    """The thought channel as ``<think>`` tags, which the shared code sets aside."""
    text = re.sub(re.escape(THOUGHT_OPEN) + r"\n?", "<think>", text)
    return text.replace(THOUGHT_CLOSE, "</think>")


class Gemma4Wrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALL
    grammar_trigger: ClassVar[str] = TOOL_CALL
    #: What closes a call, and the quote token around strings.
    call_end: ClassVar[str] = TOOL_CALL_END
    quote: ClassVar[str] = GEMMA4_QUOTE
    stop: ClassVar[tuple[str, ...]] = (TURN_END, "<eos>")
    #: Where the answer starts (the template's generation prompt).
    generation_prompt: ClassVar[str] = "<|turn>model\n<|channel>thought\n<channel|>"

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = "<bos>"
        if system or functions:
            out += "<|turn>system\n" + system.strip()
            out += "".join(f"<|tool>{declare_function(f)}<tool|>" for f in functions)
            out += TURN_END + "\n"
        after_result = False
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                # Results stay in the model's turn, right after its calls.
                value = write_value(turn.content or "")
                out += f"<|tool_response>response:{turn.name or 'unknown'}{{value:{value}}}<tool_response|>"
                after_result = True
                if index + 1 < len(turns) and turns[index + 1].kind != "function":
                    out += TURN_END + "\n"
                    after_result = False
                continue
            after_result = False
            if turn.kind == "assistant":
                out += "<|turn>model\n"
                out += "".join(
                    f"{TOOL_CALL}call:{c.name}{write_arguments(c.arguments)}{TOOL_CALL_END}"
                    for c in turn.calls
                )
                out += (turn.content or "").strip()
                results_follow = index + 1 < len(turns) and turns[index + 1].kind == "function"
                if not (turn.calls and results_follow):
                    out += TURN_END + "\n"
                continue
            out += f"<|turn>{turn.role}\n{(turn.content or '').strip()}{TURN_END}\n"
        if after_result:
            return out + "<|channel>thought\n<channel|>"
        return out + self.generation_prompt

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        write = gemma_call(f"{self.call_start}call:", self.call_end, self.quote)
        return calls_grammar(functions, write, only=only, max_calls=call_count(parallel, only))

    # ---- reading ----

    def rewrite_output(self, text: str) -> str:
        return _as_reasoning_tags(text)

    def whole_tokens(self, text: str) -> str | None:
        # The channel markers are rewritten once they are whole.
        return text[: partial_match_start(text, _PARTIAL_THOUGHT)]

    def extract_calls(self, text: str) -> Extraction:
        content = ""
        calls: list[ExtractedCall] = []
        position = 0
        while (start := text.find(self.call_start, position)) != -1:
            content += text[position:start]
            call, position = read_call(
                text, start + len(self.call_start), self.call_end, self.quote
            )
            calls.append(call)
        return Extraction(content + text[position:], calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # Each call leaves whole once its end marker has come.
        calls: list[PartialCall] = []
        position = 0
        while region.startswith(self.call_start, position):
            end = region.find(self.call_end, position)
            if end == -1:
                break
            try:
                call, position = read_call(
                    region, position + len(self.call_start), self.call_end, self.quote
                )
            except WrapperParseError:
                break
            calls.append(self.partial_call(call, functions))
            while position < len(region) and region[position].isspace():
                position += 1
        return calls

    def partial_call(self, call: ExtractedCall, functions: Sequence[FunctionSchema]) -> PartialCall:
        """A complete call as :meth:`parse` will give it."""
        return PartialCall(call.name, json.dumps(call.arguments, ensure_ascii=False))


def read_call(
    text: str, start: int, end_marker: str = TOOL_CALL_END, quote: str = GEMMA4_QUOTE
) -> tuple[ExtractedCall, int]:
    """``call:NAME{...}`` at ``start`` (after the call marker), up to past ``end_marker``.

    A missing end marker is tolerated once the arguments are whole; a
    ``{"name": ..., "arguments": ...}`` JSON object in the block (a model
    mixing formats) is read as a call too.
    """
    name = _NAME.match(text, start)
    if name is None:
        try:
            found, end = calls_in_block(text, start, end_marker)
        except (ValueError, WrapperParseError) as exc:
            raise WrapperParseError(
                "a call marker is not followed by call:NAME{...}", text
            ) from exc
        if len(found) != 1:
            raise WrapperParseError("one call block holds one call", text)
        call = found[0]
    else:
        arguments, end = read_object(text, name.end(), quote)
        call = ExtractedCall(name.group(1), arguments)
    while end < len(text) and text[end].isspace():
        end += 1
    if text.startswith(end_marker, end):
        end += len(end_marker)
    return call, end


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="gemma4",
        factory=Gemma4Wrapper,
        aliases=("gemma-4",),
        description='Gemma 4 <|tool_call>call:name{key:<|"|>text<|"|>}<tool_call|>, <|turn> turns',
        family="tool-call",
    )
]
