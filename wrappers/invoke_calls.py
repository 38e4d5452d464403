"""Calls as ``<invoke name="f"><parameter name="k">v</parameter></invoke>`` blocks.

MiniMax M2 and DeepSeek V3.2 / V4 (DSML) write calls the same way, inside a
block of their own and with their own tag prefix; MiniCPM5 with its own tag
names and no block (values with ``<``, ``&`` or newlines in ``<![CDATA[...]]>``)::

    <minimax:tool_call>
    <invoke name="get_weather">
    <parameter name="city">Paris</parameter>
    </invoke>
    </minimax:tool_call>

    <｜DSML｜function_calls>
    <｜DSML｜invoke name="get_weather">
    <｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>
    </｜DSML｜invoke>
    </｜DSML｜function_calls>

    <function name="get_weather"><param name="city">Paris</param></function>

A value is text (the templates write strings as they are and everything
else as JSON). DSML says which with ``string="true|false"``: a ``false``
value is decoded as JSON. Every value is then typed by the request's
schema (:func:`wrappers.xml_calls.typed_arguments`: ``"1"`` -> 1 for an
integer, JSON text -> an object where the schema says so, union types in
order), as vLLM's ``minimax_m2`` and ``deepseekv32`` parsers do.

:class:`InvokeFormat` holds one family's tags; :func:`extract_invokes` reads
the calls of a whole output and :func:`invokes_so_far` those complete in an
output still being written (each call leaves whole at its ``</invoke>``).
"""
# ruff: noqa: RUF002  (DeepSeek's tokens use full-width bars)

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.grammar import GrammarBuilder, calls_grammar, keyed_call, literal, text_values
from wrappers.streaming import PartialCall
from wrappers.tool_format import ExtractedCall, Extraction
from wrappers.xml_calls import XmlArgumentsWrapper, is_text_schema, text_value, typed_arguments

_NOT_JSON = object()


@dataclass(frozen=True)
class InvokeFormat:
    """One family's tags: ``prefix`` before ``invoke`` / ``parameter``, and its block.

    ``block_open`` / ``block_close`` empty: the calls stand alone (MiniCPM5).
    """

    prefix: str
    block_open: str
    block_close: str
    #: Strip whitespace around values (MiniMax's reference parser does; DSML's
    #: template writes values flush against their tags).
    strip_values: bool = True
    #: The tag names (MiniCPM5: ``function`` / ``param``).
    invoke_tag: str = "invoke"
    parameter_tag: str = "parameter"
    #: What the grammar writes after each opening tag and closing tag.
    layout: str = "\n"
    #: What the grammar writes around each invoke block (Step3's own call tokens).
    call_open: str = ""
    call_close: str = ""
    #: Constants (``True``, ``None``) as Python's ``str()`` prints them, as the
    #: templates of MiniMax and MiniCPM5 do; false: as JSON (Step3's ``true``).
    python_constants: bool = True

    @cached_property
    def invoke(self) -> re.Pattern[str]:
        tag = re.escape(self.prefix + self.invoke_tag)
        # \s*: MiniCPM5 sometimes collapses the tag and its attribute
        # (<functionname="f">, vLLM's minicpm5xml parser reads it too).
        return re.compile(rf"<{tag}\s*name\s*=\s*[\"']?([^\"'>]+?)[\"']?\s*>")

    @cached_property
    def invoke_close(self) -> str:
        return f"</{self.prefix}{self.invoke_tag}>"

    @cached_property
    def parameter(self) -> re.Pattern[str]:
        tag = re.escape(self.prefix + self.parameter_tag)
        return re.compile(
            rf"<{tag}\s*name\s*=\s*[\"']?([^\"'>]+?)[\"']?"
            rf"(?:\s+string\s*=\s*[\"']?(true|false)[\"']?)?\s*>"
        )

    @cached_property
    def parameter_close(self) -> str:
        return f"</{self.prefix}{self.parameter_tag}>"


def read_invoke(text: str, match: re.Match[str], form: InvokeFormat) -> tuple[ExtractedCall, int]:
    """The call whose ``<invoke name=...>`` tag is ``match``, and where its block ends.

    Raises :class:`WrapperParseError` when ``</invoke>`` never comes (cut off).
    """
    name = match.group(1).strip()
    close = text.find(form.invoke_close, match.end())
    if close == -1:
        raise WrapperParseError(f"the call to {name} is cut off (no {form.invoke_close})", text)
    body = text[match.end() : close]
    arguments: dict[str, Any] = {}
    position = 0
    while (parameter := form.parameter.search(body, position)) is not None:
        cdata = _cdata_at(body, parameter.end())
        if cdata is not None:
            # The value is the section's text, whatever tags it holds.
            value, position = cdata
        else:
            following = form.parameter.search(body, parameter.end())
            next_start = following.start() if following else len(body)
            value_end = body.find(form.parameter_close, parameter.end())
            if value_end == -1 or value_end > next_start:
                value_end = next_start  # a missing closing tag, where the next one follows
            value, position = body[parameter.end() : value_end], value_end
        value = value.strip() if form.strip_values else _strip_layout(value)
        arguments[parameter.group(1).strip()] = _value(value, parameter.group(2))
    return ExtractedCall(name, arguments), close + len(form.invoke_close)


_CDATA_OPEN = "<![CDATA["
_CDATA_CLOSE = "]]>"


def _cdata_at(body: str, start: int) -> tuple[str, int] | None:
    """The text of a ``<![CDATA[...]]>`` section at ``body[start]`` (after
    whitespace) and where the section ends, or None when there is none."""
    at = start
    while at < len(body) and body[at].isspace():
        at += 1
    if not body.startswith(_CDATA_OPEN, at):
        return None
    end = body.find(_CDATA_CLOSE, at + len(_CDATA_OPEN))
    if end == -1:
        return None
    return body[at + len(_CDATA_OPEN) : end], end + len(_CDATA_CLOSE)


def _strip_layout(value: str) -> str:
    return value.removeprefix("\n").removesuffix("\n")


def _value(text: str, string: str | None) -> Any:
    if string != "false":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text  # the schema decides (typed_arguments), as for any text


def extract_invokes(text: str, form: InvokeFormat) -> Extraction:
    """Every ``<invoke>`` call in ``text``, inside its block or not, and the text around.

    The block tags are optional (models drop them); a block that opens and
    holds no complete call raises :class:`WrapperParseError` (cut off).
    """
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (match := form.invoke.search(text, position)) is not None:
        start = match.start()
        block = text.rfind(form.block_open, position, start) if form.block_open else -1
        if block != -1 and not text[block + len(form.block_open) : start].strip():
            start = block
        content += text[position:start]
        call, end = read_invoke(text, match, form)
        calls.append(call)
        after = _skip_space(text, end)
        if form.block_close and text.startswith(form.block_close, after):
            end = after + len(form.block_close)
        position = end
    rest = text[position:]
    if form.block_open and form.block_open in rest:
        raise WrapperParseError(f"{form.block_open} holds no complete call", text)
    return Extraction(content + rest, calls)


def invokes_so_far(
    region: str, form: InvokeFormat, functions: Sequence[FunctionSchema]
) -> list[PartialCall]:
    """The calls complete so far in ``region`` (the output from its first call on), typed."""
    schemas = {f.get("name"): f for f in functions}
    calls: list[PartialCall] = []
    position = 0
    while (match := form.invoke.search(region, position)) is not None:
        between = region[position : match.start()]
        for tag in (form.block_open, form.block_close):
            between = between.replace(tag, "") if tag else between
        if between.strip():
            break  # text between calls: parse() decides what it is
        if region.find(form.invoke_close, match.end()) == -1:
            break
        call, position = read_invoke(region, match, form)
        raw = call.arguments if isinstance(call.arguments, dict) else {}
        arguments = typed_arguments(raw, schemas.get(call.name))
        calls.append(PartialCall(call.name, json.dumps(arguments, ensure_ascii=False)))
    return calls


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def invoke_grammar(
    functions: Sequence[FunctionSchema],
    form: InvokeFormat,
    only: str | None,
    *,
    max_calls: int,
    string_attribute: bool = False,
) -> str:
    """A GBNF grammar for an answer that is one block of ``<invoke>`` calls.

    A parameter the schema types as a string is text up to its closing tag;
    any other is JSON valid under its schema (:func:`~wrappers.grammar.text_values`).
    Required parameters come first, then the optional ones, each at most once.
    ``string_attribute``: DSML's ``string="true|false"`` says which a value is.
    """
    # DSML's template prints non-strings as JSON, MiniMax's as Python's str().
    python = form.python_constants and not string_attribute
    syntax = text_values(form.parameter_close, text_value if python else None)

    def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
        properties = (function.get("parameters") or {}).get("properties") or {}

        def member(key: str, value: str) -> str:
            text = is_text_schema(builder.resolve(properties.get(key)))
            attribute = f' string="{"true" if text else "false"}"' if string_attribute else ""
            opener = f'<{form.prefix}{form.parameter_tag} name="{key}"{attribute}>'
            return f"{literal(opener)} {value} {literal(form.parameter_close + form.layout)}"

        head = f'{form.call_open}<{form.prefix}{form.invoke_tag} name="{function["name"]}">'
        tail = form.invoke_close + form.layout + form.call_close
        write_call = keyed_call(
            lambda _name: literal(head + form.layout), member, literal(tail), syntax
        )
        return write_call(builder, index, function)

    return calls_grammar(
        functions,
        write,
        only=only,
        max_calls=max_calls,
        start=literal(form.block_open + form.layout) if form.block_open else "",
        end=literal(form.block_close) if form.block_close else "",
    )


class InvokeWrapper(XmlArgumentsWrapper):
    """A format whose calls are the invoke blocks of one :class:`InvokeFormat`, ``form``."""

    form: ClassVar[InvokeFormat]

    def extract_calls(self, text: str) -> Extraction:
        return extract_invokes(text, self.form)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return invokes_so_far(region, self.form, functions)
