"""Tencent HY v3 / v4 calls: ``<tool_call>NAME`` and ``<arg_key>`` / ``<arg_value>`` pairs.

GLM's argument tags (:mod:`wrappers.glm4`) in a ``<tool_calls>`` block. HY v3
(Hy3-preview) ends the name with ``<tool_sep>`` and puts each tag on a line
of its own; HY v4 writes them flush and spells every structural token with
its checkpoint's suffix (``<tool_call:opensource>``; vLLM reads the suffix
from the tokenizer's vocabulary)::

    <tool_calls>
    <tool_call>get_weather<tool_sep>
    <arg_key>city</arg_key>
    <arg_value>Paris</arg_value>
    </tool_call>
    </tool_calls>

    <tool_calls:opensource><tool_call:opensource>get_weather<arg_key:opensource>city
    </arg_key:opensource><arg_value:opensource>Paris</arg_value:opensource>
    </tool_call:opensource></tool_calls:opensource>

(the second without its line breaks). The reader takes both, any suffix on
any tag; values are text, typed by the request's schema
(:func:`wrappers.xml_calls.typed_arguments`). :class:`HyTags` writes a
checkpoint's tokens and the grammar of its calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.grammar import call_count, calls_grammar, keyed_call, literal, text_values
from wrappers.streaming import PartialCall
from wrappers.tool_format import ExtractedCall, Extraction
from wrappers.xml_calls import strip_layout_newlines, typed_arguments

#: A checkpoint's token suffix (``:opensource``), or none.
SUFFIX = r"(?::[^\s<>]+)?"


def tag(name: str) -> re.Pattern[str]:
    return re.compile(rf"<{name}{SUFFIX}>")


CALLS_OPEN, CALLS_CLOSE = tag("tool_calls"), tag("/tool_calls")
CALL_OPEN, CALL_CLOSE = tag("tool_call"), tag("/tool_call")
ARG_KEY = tag("arg_key")
_ARGUMENT = re.compile(
    rf"<arg_key{SUFFIX}>(.*?)</arg_key{SUFFIX}>\s*<arg_value{SUFFIX}>(.*?)</arg_value{SUFFIX}>",
    re.DOTALL,
)
_NAME_END = re.compile(rf"<tool_sep{SUFFIX}>|<arg_key{SUFFIX}>|\n")
_BLOCK_OPEN_BEFORE = re.compile(rf"<tool_calls{SUFFIX}>\s*\Z")
_BLOCK_CLOSE_AFTER = re.compile(rf"\s*</tool_calls{SUFFIX}>")
_BLOCK_TAGS = re.compile(rf"</?tool_calls{SUFFIX}>")


def _call(body: str, text: str) -> ExtractedCall:
    name_end = _NAME_END.search(body)
    name = body[: name_end.start() if name_end else len(body)].strip()
    if not name or name.startswith(("{", "<", "[")):
        raise WrapperParseError("a HY <tool_call> does not start with a function name", text)
    pairs = _ARGUMENT.findall(body)
    if len(pairs) != len(ARG_KEY.findall(body)):
        raise WrapperParseError(
            f"the arguments of {name} are not <arg_key>/<arg_value> pairs", text
        )
    return ExtractedCall(name, {k.strip(): strip_layout_newlines(v) for k, v in pairs})


def _next_call(text: str, position: int) -> tuple[re.Match[str], re.Match[str] | None] | None:
    opened = CALL_OPEN.search(text, position)
    if opened is None:
        return None
    return opened, CALL_CLOSE.search(text, opened.end())


def _after(text: str, end: int) -> int:
    closed = _BLOCK_CLOSE_AFTER.match(text, end)
    return closed.end() if closed else end


def extract_hy_calls(text: str) -> Extraction:
    """Every ``<tool_call>`` in ``text`` (its block's tags optional) and the text around."""
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (found := _next_call(text, position)) is not None:
        opened, closed = found
        before = text[position : opened.start()]
        block = _BLOCK_OPEN_BEFORE.search(before)
        content += before[: block.start()] if block else before
        if closed is None:
            raise WrapperParseError("a HY <tool_call> is cut off (no </tool_call>)", text)
        calls.append(_call(text[opened.end() : closed.start()], text))
        position = _after(text, closed.end())
    rest = text[position:]
    if CALLS_OPEN.search(rest):
        raise WrapperParseError("<tool_calls> holds no complete call", text)
    return Extraction(content + rest, calls)


def hy_calls_so_far(region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
    """The calls complete so far in ``region`` (from its first call on), typed."""
    schemas = {f.get("name"): f for f in functions}
    calls: list[PartialCall] = []
    position = 0
    while (found := _next_call(region, position)) is not None:
        opened, closed = found
        if closed is None or _BLOCK_TAGS.sub("", region[position : opened.start()]).strip():
            break  # cut off so far, or text between calls: parse() decides
        try:
            call = _call(region[opened.end() : closed.start()], region)
        except WrapperParseError:
            break  # unreadable: parse() raises at the end
        raw = call.arguments if isinstance(call.arguments, dict) else {}
        arguments = typed_arguments(raw, schemas.get(call.name))
        calls.append(PartialCall(call.name, json.dumps(arguments, ensure_ascii=False)))
        position = _after(region, closed.end())
    return calls


def _text(value: Any) -> str:
    """A value as the template writes it: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class HyTags:
    """One checkpoint's spelling of the calls: its suffix, ``<tool_sep>``, line breaks."""

    suffix: str = ""
    #: HY v3: ``<tool_sep>`` after the name and a line break after each tag.
    separated: bool = True

    def token(self, name: str) -> str:
        return f"<{name}{self.suffix}>"

    @property
    def newline(self) -> str:
        return "\n" if self.separated else ""

    def head(self, name: str) -> str:
        sep = self.token("tool_sep") if self.separated else ""
        return f"{self.token('tool_call')}{name}{sep}{self.newline}"

    def argument(self, key: str) -> tuple[str, str]:
        """What goes before and after the value of ``key``."""
        nl = self.newline
        before = (
            f"{self.token('arg_key')}{key}{self.token('/arg_key')}{nl}{self.token('arg_value')}"
        )
        return before, f"{self.token('/arg_value')}{nl}"

    def calls(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> str:
        """A block of past calls as the template writes it."""
        out = self.token("tool_calls") + self.newline
        for name, arguments in calls:
            out += self.head(name)
            for key, value in arguments.items():
                before, after = self.argument(key)
                out += before + _text(value) + after
            out += self.token("/tool_call") + self.newline
        return out + self.token("/tool_calls")

    def grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str:
        closer = self.token("/arg_value")

        def member(key: str, value: str) -> str:
            before, after = self.argument(key)
            return f"{literal(before)} {value} {literal(after)}"

        write = keyed_call(
            lambda name: literal(self.head(name)),
            member,
            literal(self.token("/tool_call") + self.newline),
            text_values(closer),
        )
        return calls_grammar(
            functions,
            write,
            only=only,
            max_calls=call_count(parallel, only),
            start=literal(self.token("tool_calls") + self.newline),
            end=literal(self.token("/tool_calls")),
        )
