"""Calls written as a name and key / value tag pairs: GLM's ``<arg_key>`` layout.

GLM-4.5+ (and Ling 3, which writes GLM-4.7's calls) answer::

    <tool_call>get_weather
    <arg_key>city</arg_key>
    <arg_value>Paris</arg_value>
    </tool_call>

iQuest Coder V2 writes the same inside ``<iquestcoder_tool_call>``, and K2
Horizon with tags of its own (``<ifm|tool_call>``, ``<ifm|arg_key>``, ...),
optionally naming a value's type in an ``<ifm|arg_type>`` tag between key and
value. One reader serves them all, the tags being data (:class:`ArgKeyTags`).
Values are text, typed by the request's schema afterwards
(:class:`wrappers.xml_calls.XmlArgumentsWrapper`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.grammar import (
    JSON_VALUES,
    ValueSyntax,
    call_count,
    calls_grammar,
    keyed_call,
    literal,
    text_values,
)
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import ExtractedCall, Extraction
from wrappers.xml_calls import arguments_so_far, strip_layout_newlines


@dataclass(frozen=True)
class ArgKeyTags:
    """The tags of one family's calls."""

    call_open: str
    call_close: str
    key_open: str = "<arg_key>"
    key_close: str = "</arg_key>"
    value_open: str = "<arg_value>"
    value_close: str = "</arg_value>"
    #: A tag between key and value naming the value's type (K2 Horizon's typed
    #: form). Read and dropped: the request's schema types the value.
    type_open: str = ""
    type_close: str = ""

    @cached_property
    def _type_tag(self) -> str:
        if not self.type_open:
            return ""
        return rf"(?:{re.escape(self.type_open)}.*?{re.escape(self.type_close)}\s*)?"

    @cached_property
    def argument(self) -> re.Pattern[str]:
        """A whole pair: group 1 the key, group 2 the value."""
        return re.compile(
            rf"{re.escape(self.key_open)}(.*?){re.escape(self.key_close)}\s*{self._type_tag}"
            rf"{re.escape(self.value_open)}(.*?){re.escape(self.value_close)}",
            re.DOTALL,
        )

    @cached_property
    def open_argument(self) -> re.Pattern[str]:
        """A pair whose value is still being written."""
        return re.compile(
            rf"{re.escape(self.key_open)}(.*?){re.escape(self.key_close)}\s*{self._type_tag}"
            rf"{re.escape(self.value_open)}",
            re.DOTALL,
        )

    @cached_property
    def name_end(self) -> re.Pattern[str]:
        # Ling 3 sometimes writes the newline after the name escaped, a backslash
        # and "n" (sglang's Ling3Detector reads both).
        return re.compile(rf"\n|\\n|{re.escape(self.key_open)}")


_JSON_ESCAPE = r""""\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})"""
#: Each value written as JSON, a string in quotes (HyperCLOVA X 32B). Not
#: :data:`~wrappers.grammar.JSON_VALUES` itself: a value's bounds and patterns
#: then go through llama.cpp's converter as in the text syntax.
JSON_IN_TAGS = ValueSyntax(
    "json-in-tags",
    string=rf""""\"" ( [^"\\\x7F\x00-\x1F] | {_JSON_ESCAPE} )* "\"" """,
    write=lambda value: json.dumps(value, ensure_ascii=False),
    key=JSON_VALUES.key,
    nested=JSON_VALUES,
    json_strings=True,
    string_quotes=('"', '"'),
)

#: The calls in a body that is not key / value pairs, read some other way
#: (K2 Horizon's JSON form); None: it is not such a body.
OtherBody = Callable[[str], list[ExtractedCall] | None]


def _name(body: str, tags: ArgKeyTags) -> str:
    end = tags.name_end.search(body)
    return body[: end.start() if end else len(body)].strip()


def read_call(body: str, text: str, tags: ArgKeyTags) -> ExtractedCall:
    """The call whose body (between the call tags) is ``body``; ``text``: the whole output."""
    name = _name(body, tags)
    if not name or name.startswith(("{", "<")):
        raise WrapperParseError(f"a {tags.call_open} does not start with a function name", text)
    pairs = tags.argument.findall(body)
    if len(pairs) != body.count(tags.key_open):
        raise WrapperParseError(
            f"the arguments of {name} are not {tags.key_open}/{tags.value_open} pairs", text
        )
    arguments = {key.strip(): strip_layout_newlines(value) for key, value in pairs}
    return ExtractedCall(name=name, arguments=arguments)


def extract_calls(text: str, tags: ArgKeyTags, other: OtherBody | None = None) -> Extraction:
    """Every call in ``text`` and the text around them; a call cut off raises."""
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (start := text.find(tags.call_open, position)) != -1:
        content += text[position:start]
        close = text.find(tags.call_close, start)
        if close == -1:
            raise WrapperParseError(f"a {tags.call_open} is cut off (no {tags.call_close})", text)
        body = text[_after_openers(text, start, tags.call_open) : close]
        found = other(body) if other is not None else None
        calls.extend(found if found is not None else [read_call(body, text, tags)])
        position = close + len(tags.call_close)
    return Extraction(content + text[position:], calls)


def calls_so_far(
    region: str,
    tags: ArgKeyTags,
    functions: Sequence[FunctionSchema],
    other: OtherBody | None = None,
) -> list[PartialCall]:
    """:func:`extract_calls` on an output still being written (from its first call on)."""
    schemas = {f.get("name"): f for f in functions}
    calls: list[PartialCall] = []
    position = 0
    while (start := region.find(tags.call_open, position)) != -1:
        close = region.find(tags.call_close, start)
        body = region[
            _after_openers(region, start, tags.call_open) : close if close != -1 else len(region)
        ]
        if other is not None and body.lstrip().startswith(("{", "[")):
            # A JSON body's calls come whole, once it is closed.
            found = other(body) if close != -1 else None
            if not found:
                break
            calls.extend(PartialCall(call.name) for call in found)
        elif (call := _call_so_far(body, tags, schemas, complete=close != -1)) is not None:
            calls.append(call)
        else:
            break
        if close == -1:
            break
        position = close + len(tags.call_close)
    return calls


def _after_openers(text: str, start: int, opener: str) -> int:
    """Where the call opened at ``text[start]`` begins: past any stray opener written
    right before it (vLLM issue 60703: ``text <tool_call><tool_call>name...``)."""
    end = start + len(opener)
    while True:
        following = len(text) - len(text[end:].lstrip())
        if not text.startswith(opener, following):
            return end
        end = following + len(opener)


def _call_so_far(
    body: str, tags: ArgKeyTags, schemas: dict[Any, FunctionSchema], *, complete: bool
) -> PartialCall | None:
    """:func:`read_call` on a call still being written (None: its name is not known yet)."""
    if tags.name_end.search(body) is None and not complete:
        return None
    name = _name(body, tags)
    if not name or name.startswith(("{", "<")):
        return None
    pairs: list[tuple[str, str]] = []
    position = 0
    for match in tags.argument.finditer(body):
        pairs.append((match.group(1).strip(), strip_layout_newlines(match.group(2))))
        position = match.end()
    open_value = None
    if not complete and (pair := tags.open_argument.search(body, position)) is not None:
        open_value = (
            pair.group(1).strip(),
            without_partial_suffix(body[pair.end() :], (tags.value_close,)),
        )
    return PartialCall(name, arguments_so_far(pairs, open_value, schemas.get(name), complete))


def call_grammar(
    functions: Sequence[FunctionSchema],
    tags: ArgKeyTags,
    only: str | None,
    *,
    parallel: bool,
    layout: str = "\n",
    start: str = "",
    end: str = "",
    values: ValueSyntax | None = None,
) -> str:
    """The calls as the family writes them: ``layout`` before each pair and the closing tag,
    calls separated by a newline, the whole inside ``start`` / ``end`` where it has a block.
    ``values``: how values are written (default: text, strings bare)."""

    def member(key: str, value: str) -> str:
        opener = literal(f"{layout}{tags.key_open}{key}{tags.key_close}{layout}{tags.value_open}")
        return f"{opener} {value} {literal(tags.value_close)}"

    write = keyed_call(
        lambda name: literal(tags.call_open + name),
        member,
        literal(layout + tags.call_close),
        values or text_values(tags.value_close),
    )
    return calls_grammar(
        functions,
        write,
        only=only,
        max_calls=call_count(parallel, only),
        start=literal(start) if start else "",
        separator=literal("\n"),
        end=literal(end) if end else "",
    )
