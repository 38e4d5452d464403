"""Gemma 4's argument syntax: ``{key:<|"|>text<|"|>,n:1,ok:true,o:{k:[1,2]}}``.

Gemma 4 (and FunctionGemma, with ``<escape>`` for the quote) write a call's
arguments as an object with bare keys, strings between a quote *token*
(``<|"|>``) so that the text needs no escaping, and JSON's numbers,
booleans, ``null``, objects and lists (the chat template's
``format_argument`` macro, llama.cpp ``models/templates/gemma4.jinja``).

:func:`read_object` reads one such object; :func:`write_value` writes a value
as the template does (keys in sorted order, bare at the top level).
"""

from __future__ import annotations

import json
import re
from typing import Any

from wrappers.base import WrapperParseError
from wrappers.grammar import (
    CallWriter,
    ValueSyntax,
    keyed_call,
    literal,
    one_char_not_starting,
    text_without,
)

GEMMA4_QUOTE = '<|"|>'

_NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?")
_BARE_KEY = re.compile(r"[^\s:{}\[\],]+")
_WORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    # The template prints Python's None and booleans as Jinja does.
    "None": None,
    "True": True,
    "False": False,
}


class _Reader:
    def __init__(self, text: str, quote: str) -> None:
        self.text = text
        self.quote = quote
        self.position = 0

    def fail(self, what: str) -> WrapperParseError:
        return WrapperParseError(f"{what} at character {self.position} of the arguments")

    def skip_space(self) -> None:
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def string(self) -> str:
        start = self.position + len(self.quote)
        end = self.text.find(self.quote, start)
        if end == -1:
            raise self.fail("a string is not closed")
        self.position = end + len(self.quote)
        return self.text[start:end]

    def value(self) -> Any:
        self.skip_space()
        text, position = self.text, self.position
        if text.startswith(self.quote, position):
            return self.string()
        if text.startswith("{", position):
            return self.object()
        if text.startswith("[", position):
            return self.array()
        if text.startswith('"', position):
            # A model that falls back on JSON's own quotes.
            value, self.position = json.JSONDecoder(strict=False).raw_decode(text, position)
            return value
        number = _NUMBER.match(text, position)
        if number is not None:
            self.position = number.end()
            literal = number.group()
            return float(literal) if any(c in literal for c in ".eE") else int(literal)
        word = re.compile(r"[A-Za-z_]+").match(text, position)
        if word is not None and word.group() in _WORDS:
            self.position = word.end()
            return _WORDS[word.group()]
        raise self.fail("a value is expected")

    def key(self) -> str:
        self.skip_space()
        if self.text.startswith(self.quote, self.position):
            return self.string()
        if self.text.startswith('"', self.position):
            key, self.position = json.JSONDecoder().raw_decode(self.text, self.position)
            return str(key)
        match = _BARE_KEY.match(self.text, self.position)
        if match is None:
            raise self.fail("a key is expected")
        self.position = match.end()
        return match.group()

    def object(self) -> dict[str, Any]:
        self.position += 1  # {
        result: dict[str, Any] = {}
        while True:
            self.skip_space()
            if self.text.startswith("}", self.position):
                self.position += 1
                return result
            key = self.key()
            self.skip_space()
            if not self.text.startswith(":", self.position):
                raise self.fail(f"':' is expected after {key!r}")
            self.position += 1
            result[key] = self.value()
            self.skip_space()
            if self.text.startswith(",", self.position):
                self.position += 1
            elif not self.text.startswith("}", self.position):
                raise self.fail("',' or '}' is expected")

    def array(self) -> list[Any]:
        self.position += 1  # [
        result: list[Any] = []
        while True:
            self.skip_space()
            if self.text.startswith("]", self.position):
                self.position += 1
                return result
            result.append(self.value())
            self.skip_space()
            if self.text.startswith(",", self.position):
                self.position += 1
            elif not self.text.startswith("]", self.position):
                raise self.fail("',' or ']' is expected")


def read_object(text: str, start: int, quote: str = GEMMA4_QUOTE) -> tuple[dict[str, Any], int]:
    """The ``{...}`` object at ``text[start]`` and where it ends; raises :class:`WrapperParseError`."""
    reader = _Reader(text, quote)
    reader.position = start
    reader.skip_space()
    if not text.startswith("{", reader.position):
        raise reader.fail("'{' is expected")
    return reader.object(), reader.position


def write_value(value: Any, quote: str = GEMMA4_QUOTE, *, quote_keys: bool = True) -> str:
    """``value`` as the chat template's ``format_argument`` writes it."""
    if isinstance(value, str):
        return quote + value + quote
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        items = (
            (quote + key + quote if quote_keys else key)
            + ":"
            + write_value(v, quote, quote_keys=quote_keys)
            for key, v in sorted(value.items())
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(write_value(v, quote, quote_keys=quote_keys) for v in value) + "]"
    return str(value)


def write_arguments(arguments: dict[str, Any], quote: str = GEMMA4_QUOTE) -> str:
    """A call's arguments as the template writes them: ``{key:value,...}``, keys bare."""
    return write_value(arguments, quote, quote_keys=False)


def gemma_values(quote: str = GEMMA4_QUOTE) -> ValueSyntax:
    """The grammar's view of these values: strings any text between two ``quote``
    tokens, constants as :func:`write_value` writes them, nested keys quoted."""
    return ValueSyntax(
        f"gemma-{len(quote)}",
        string=f"{literal(quote)} {text_without(quote)} {literal(quote)}",
        write=lambda value: write_value(value, quote),
        key=lambda key: literal(quote + key + quote),
        sorted_keys=True,
        json_strings=True,
        string_quotes=(quote, quote),
        string_char=one_char_not_starting(quote),
    )


def gemma_call(head: str, tail: str, quote: str) -> CallWriter:
    """``{head}name{key:value,...}{tail}``: a call with its arguments in this syntax,
    keys bare (quoted where a bare key would not read back)."""
    syntax = gemma_values(quote)

    def member(key: str, value: str) -> str:
        bare = _BARE_KEY.fullmatch(key) is not None
        return f"{literal((key if bare else quote + key + quote) + ':')} {value}"

    return keyed_call(
        lambda name: literal(f"{head}{name}{{"), member, literal("}" + tail), syntax, sep='","'
    )
