"""JSON that is still being written: what is known of it so far.

A streamed tool call arrives as ``{"city": "Par`` before it is
``{"city": "Paris"}``. :func:`parse_prefix` reads such a prefix into Python
values, keeping only what the rest of the text cannot change:

- an unfinished string is kept as far as it goes (an :class:`OpenStr`), minus a
  half-written escape;
- an unfinished object or list is kept with its finished members
  (:class:`OpenDict`, :class:`OpenList`);
- an unfinished number, literal or key is left out: ``12`` may become ``123``.

:func:`stable_dumps` then writes the value as ``json.dumps`` would, without the
closing characters of what is still open, so that it is always a prefix of
``json.dumps`` of the finished value. That is how argument fragments are sent
before a call is complete: llama.cpp heals a partial JSON and cuts at the
healing marker (``common/json-partial.cpp``); this is the same idea for
Python's own ``json.dumps``.

The reader is iterative (no recursion, so a deeply nested prefix cannot
exhaust the stack) and stops quietly at the first character that is not JSON:
what it read up to there is the answer, and the one-shot parser (with its
repairs) has the last word when the output is complete.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

#: Deepest nesting read; deeper text is treated as not JSON.
MAX_DEPTH = 64


class OpenStr(str):
    """A string whose closing quote has not arrived yet."""

    __slots__ = ()


class OpenDict(dict[str, Any]):
    """An object whose closing brace has not arrived yet."""


class OpenList(list[Any]):
    """A list whose closing bracket has not arrived yet."""


@dataclass(frozen=True)
class PrefixValue:
    """The value read from a prefix, and how far the reading went."""

    value: Any
    #: Index just past the value when it is complete, else where reading stopped.
    end: int
    complete: bool


_NOTHING = object()
_STRING_SPECIAL = re.compile(r'["\\\\]')
_LITERALS = {"true": True, "false": False, "null": None}
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def parse_prefix(text: str, start: int = 0) -> PrefixValue | None:
    """The JSON value that starts at ``text[start]`` (after whitespace), as far as it is known.

    None when no value has started yet, or the text there is not JSON.
    """
    reader = _Reader(text, start)
    return reader.read()


def stable_dumps(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` minus the closers of open parts.

    The result is a prefix of ``json.dumps`` of every completion of ``value``.
    """
    closers = 0
    node = value
    while True:
        if isinstance(node, OpenStr):
            closers += 1
            break
        if isinstance(node, OpenDict):
            closers += 1
            node = next(reversed(node.values()), _NOTHING)
        elif isinstance(node, OpenList):
            closers += 1
            node = node[-1] if node else _NOTHING
        else:
            break
    text = json.dumps(value, ensure_ascii=False)
    return text[: len(text) - closers] if closers else text


def is_open(value: Any) -> bool:
    return isinstance(value, OpenStr | OpenDict | OpenList)


class _Reader:
    def __init__(self, text: str, position: int) -> None:
        self.text = text
        self.position = position

    def _skip_space(self) -> None:
        text, position = self.text, self.position
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        self.position = position

    def read(self) -> PrefixValue | None:
        self._skip_space()
        if self.position >= len(self.text):
            return None
        # Each frame: [container, pending key or None, expecting]; expecting is
        # "value", "key", or "comma" (after a member, a comma or the closer).
        stack: list[list[Any]] = []
        root: Any = _NOTHING
        while True:
            self._skip_space()
            if self.position >= len(self.text):
                return self._stopped(stack, root)
            char = self.text[self.position]
            frame = stack[-1] if stack else None
            if frame is not None and frame[2] == "comma":
                closer = "}" if isinstance(frame[0], dict) else "]"
                if char == ",":
                    self.position += 1
                    frame[2] = "key" if isinstance(frame[0], dict) else "value"
                    continue
                if char == closer:
                    self.position += 1
                    if (done := self._close(stack)) is not None:
                        return done
                    continue
                return self._stopped(stack, root)
            if frame is not None and frame[2] == "key":
                if char == "}" and not frame[0]:
                    self.position += 1
                    if (done := self._close(stack)) is not None:
                        return done
                    continue
                if char != '"':
                    return self._stopped(stack, root)
                key = self._string()
                if key is None or isinstance(key, OpenStr):
                    return self._stopped(stack, root)
                self._skip_space()
                if self.position >= len(self.text):
                    return self._stopped(stack, root)
                if self.text[self.position] != ":":
                    return self._stopped(stack, root)
                self.position += 1
                frame[1] = key
                frame[2] = "value"
                continue
            # A value.
            if char == "]" and frame is not None and isinstance(frame[0], list) and not frame[0]:
                self.position += 1
                if (done := self._close(stack)) is not None:
                    return done
                continue
            if char in "{[":
                if len(stack) >= MAX_DEPTH:
                    return self._stopped(stack, root)
                self.position += 1
                container: Any = OpenDict() if char == "{" else OpenList()
                if not self._attach(stack, container):
                    root = container
                stack.append([container, None, "key" if char == "{" else "value"])
                continue
            if char == '"':
                value = self._string()
                if value is None:
                    return self._stopped(stack, root)
                if isinstance(value, OpenStr):
                    if not self._attach(stack, value):
                        root = value
                    return self._stopped(stack, root)
                if not stack:
                    return PrefixValue(value, self.position, True)
                self._attach(stack, value)
                stack[-1][2] = "comma"
                continue
            scalar = self._scalar()
            if scalar is _NOTHING:
                return self._stopped(stack, root)
            if not stack:
                return PrefixValue(scalar, self.position, True)
            self._attach(stack, scalar)
            stack[-1][2] = "comma"

    def _attach(self, stack: list[list[Any]], value: Any) -> bool:
        """Put ``value`` into the innermost container; False when there is none (a root)."""
        if not stack:
            return False
        container, key, _ = stack[-1]
        if isinstance(container, dict):
            container[key] = value
        else:
            container.append(value)
        return True

    def _close(self, stack: list[list[Any]]) -> PrefixValue | None:
        """The innermost container is complete: freeze it; the root's end is the answer."""
        container = stack.pop()[0]
        closed: Any = dict(container) if isinstance(container, dict) else list(container)
        if not stack:
            return PrefixValue(closed, self.position, True)
        parent, key, _ = stack[-1]
        if isinstance(parent, dict):
            parent[key] = closed
        else:
            parent[-1] = closed
        stack[-1][2] = "comma"
        return None

    def _stopped(self, stack: list[list[Any]], root: Any) -> PrefixValue | None:
        if root is _NOTHING:
            return None
        return PrefixValue(root, self.position, False)

    def _string(self) -> str | None:
        """A string from the opening quote at ``position``: a ``str`` when closed,
        an :class:`OpenStr` of what is known when the text ends first, None when invalid."""
        text = self.text
        position = self.position + 1
        parts: list[str] = []
        run_start = position
        while True:
            # Jump to the next quote or backslash: strings are most of a call.
            special = _STRING_SPECIAL.search(text, position)
            if special is None:
                parts.append(text[run_start:])
                break
            position = special.start()
            parts.append(text[run_start:position])
            if text[position] == '"':
                self.position = position + 1
                return "".join(parts)
            if position + 1 >= len(text):
                break  # a half-written escape: left out
            code = text[position + 1]
            if code in _ESCAPES:
                parts.append(_ESCAPES[code])
                position += 2
            elif code == "u":
                decoded = self._unicode_escape(position)
                if decoded is None:
                    break  # a half-written \uXXXX: left out
                char_text, position = decoded
                if position < 0:
                    return None
                parts.append(char_text)
            else:
                return None
            run_start = position
        self.position = len(text)
        value = "".join(parts)
        # A high surrogate waits for its partner: alone it would not be a
        # prefix of the finished string's encoding.
        if value and "\ud800" <= value[-1] <= "\udbff":
            value = value[:-1]
        return OpenStr(value)

    def _unicode_escape(self, position: int) -> tuple[str, int] | None:
        """``\\uXXXX`` (and a following low surrogate) at ``position``.

        None: incomplete; ``("", -1)``: invalid; else the character and the index after it.
        """
        digits = self.text[position + 2 : position + 6]
        if len(digits) < 4:
            return None if _is_hex(digits) else ("", -1)
        if not _is_hex(digits):
            return ("", -1)
        code = int(digits, 16)
        end = position + 6
        if 0xD800 <= code <= 0xDBFF:
            follow = self.text[end : end + 6]
            if len(follow) < 6:
                if "\\u"[: len(follow)] == follow[:2] and _is_hex(follow[2:]):
                    return None
                return chr(code), end
            if follow.startswith("\\u") and _is_hex(follow[2:]):
                low = int(follow[2:], 16)
                if 0xDC00 <= low <= 0xDFFF:
                    return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), end + 6
        return chr(code), end

    def _scalar(self) -> Any:
        """A number or literal that is certainly complete, else ``_NOTHING``."""
        text = self.text
        start = self.position
        end = start
        while end < len(text) and (text[end] in _NUMBER_CHARS or text[end].isalpha()):
            end += 1
        if end >= len(text):
            return _NOTHING  # the text ends inside it: more may follow
        word = text[start:end]
        if word in _LITERALS:
            self.position = end
            return _LITERALS[word]
        try:
            value = json.loads(word)
        except ValueError:
            return _NOTHING
        if not isinstance(value, int | float):
            return _NOTHING
        self.position = end
        return value


def _is_hex(digits: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in digits)


def closing_suffix(prefix: str) -> str:
    """What closes a :func:`stable_dumps` prefix into valid JSON (``{"a": "x`` -> ``"}``).

    For a call cut off mid-way: the fragments already sent become a valid
    object (sglang's ``synthesize_json_close``).
    """
    closers: list[str] = []
    in_string = escaped = False
    for char in prefix:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
        elif char in "}]" and closers:
            closers.pop()
    return ('"' if in_string else "") + "".join(reversed(closers))
