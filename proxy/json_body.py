"""A request body read as JSON, safely: bounded nesting, strict JSON, valid Unicode.

Python's ``json`` module accepts things that break a server further on: it
nests as deep as the C stack allows (every recursive walker after it — Pydantic,
the schema checks, the grammar builder, the prompt renderers — then runs out of
stack), it reads ``NaN`` and ``Infinity``, and it turns a ``\\ud800`` escape
into a lone UTF-16 surrogate, a string that cannot be encoded to UTF-8 again
(the upstream request, or the answer, fails to serialize).

:func:`read_json_body` checks nesting *before* decoding, without recursion:
strings are cut out by one regular expression, the brackets left are peeled
innermost first, one level a pass. Lone surrogates are replaced by U+FFFD, the
replacement character, as a lenient UTF-8 decoder would: JavaScript clients
produce them by cutting a string in the middle of an emoji, and refusing such a
conversation would break the client for one character.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import Any

import orjson

from proxy.errors import InvalidRequestError

#: Most arrays and objects a request body may nest. A chat request needs about
#: 10 levels (``messages[i].content[j]``, ``tools[i].function.parameters``) plus
#: its tool schemas', which have their own, lower limit
#: (:data:`proxy.tool_schemas.MAX_SCHEMA_DEPTH`).
MAX_JSON_DEPTH = 64

# A JSON string, or an unterminated one up to the end of the text (so that a
# broken body is still cut in one linear pass), or a run of anything that is
# not a bracket or a quote. Possessive quantifiers: no backtracking.
_NOT_BRACKETS = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[^"\[\]{}]++', re.DOTALL)
_SAME_BRACKETS = str.maketrans("{}", "[]")
# An escape that decodes to a surrogate: lone ones survive json.loads as such.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Floats this large may be integers that orjson widened (see _plain_value).
_BIG_FLOAT = float(2**63)


@dataclass(frozen=True)
class JsonBody:
    value: Any
    #: Lone surrogates replaced by U+FFFD (0: the body was valid Unicode).
    replaced_surrogates: int = 0

    @property
    def warning(self) -> str | None:
        """What the ``x-fcproxy-warning`` header says about the body, if anything."""
        if not self.replaced_surrogates:
            return None
        return (
            f"{self.replaced_surrogates} lone UTF-16 surrogate(s) in the request were "
            "replaced by U+FFFD"
        )


def read_json_body(raw: bytes) -> JsonBody:
    """Decode ``raw`` as one JSON value; :class:`InvalidRequestError` if it is not usable."""
    if not raw:
        raise InvalidRequestError("The request body is empty; send a JSON object.")
    fast = _fast_decode(raw)
    if fast is not None:
        return JsonBody(fast[0])
    try:
        text = raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"The request body is not valid JSON: {exc}") from None
    if nesting_exceeds(text, MAX_JSON_DEPTH):
        raise InvalidRequestError(
            f"The request body is nested more than {MAX_JSON_DEPTH} levels deep "
            "(arrays and objects)."
        )
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # cannot happen after the check above; kept as a backstop
        raise InvalidRequestError(
            f"The request body is nested more than {MAX_JSON_DEPTH} levels deep."
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"The request body is not valid JSON: {exc}") from None
    except ValueError as exc:  # NaN and Infinity; Python's limit on integer digits
        reason = (
            f"a number has more than {sys.get_int_max_str_digits()} digits"
            if "digits" in str(exc)
            else str(exc)
        )
        raise InvalidRequestError(f"The request body is not valid JSON: {reason}") from None
    if not _SURROGATE_ESCAPE.search(text):
        return JsonBody(value)
    value, replaced = replace_lone_surrogates(value)
    return JsonBody(value, replaced)


def _fast_decode(raw: bytes) -> tuple[Any] | None:
    """The common case in a tenth of the time: UTF-8 JSON that orjson takes as it is.

    None for anything else, which then takes the careful path below with its
    precise messages: other encodings, lone surrogates, NaN, numbers orjson
    reads differently (it makes a float of an integer past 64 bits), and any
    error at all. The nesting
    limit holds on this path too: checked on the decoded value (orjson itself
    stops at 1024 levels, without recursing in Python).
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not _plain_value(value, MAX_JSON_DEPTH):
        return None  # the careful path decides, and words any error
    return (value,)


def _plain_value(value: Any, limit: int) -> bool:
    """Within ``limit`` levels, and no float past 2**63 (maybe an integer orjson widened)?

    One walk, level by level, no recursion. ``1e19`` is a float either way;
    ``10000000000000000000`` is an int to the standard library and a float
    to orjson (3.8), so such a body is read again by the careful path. Exact
    type checks: orjson makes no subclasses, and they cost half the walk
    that ``isinstance`` did.
    """
    kind = type(value)
    if kind is float:
        return bool(-_BIG_FLOAT < value < _BIG_FLOAT)
    if kind is not dict and kind is not list:
        return True
    level = [value]
    depth = 1
    while level:
        deeper = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                kind = type(child)
                if kind is dict or kind is list:
                    deeper.append(child)
                elif kind is float and not -_BIG_FLOAT < child < _BIG_FLOAT:
                    return False
        if deeper and depth >= limit:
            return False
        level = deeper
        depth += 1
    return True


def nesting_exceeds(text: str, limit: int) -> bool:
    """Do the arrays and objects of the JSON ``text`` nest more than ``limit`` deep?

    Linear in the text per pass and at most ``limit`` passes, no recursion.
    Invalid JSON is answered as best it can be (unbalanced brackets count as
    nesting as far as they go); the JSON decoder reports what else is wrong.
    """
    brackets = _NOT_BRACKETS.sub("", text).translate(_SAME_BRACKETS)
    too_deep = "[" * (limit + 1)
    for _ in range(limit):
        if too_deep in brackets:
            return True
        # Each pass removes the innermost level: empty containers, then the
        # ones that only held those, ...
        peeled = brackets.replace("[]", "")
        if peeled == brackets:
            return False
        brackets = peeled
    return "[]" in brackets


def value_nesting_exceeds(value: Any, limit: int) -> bool:
    """Do the lists and dicts of a decoded JSON ``value`` nest more than ``limit`` deep?

    Iterative, and stops at the first container past the limit.
    """
    if not isinstance(value, dict | list):
        return False
    if limit < 1:
        return True
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def replace_lone_surrogates(value: Any) -> tuple[Any, int]:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD.

    Iterative: the value may be as deep as :data:`MAX_JSON_DEPTH` allows.
    Returns the new value and how many surrogates were replaced.
    """
    replaced = 0

    def clean(text: str) -> str:
        nonlocal replaced
        cleaned, count = _SURROGATE.subn("\ufffd", text)
        replaced += count
        return cleaned

    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = clean(item)
        elif isinstance(item, list):
            stack.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            cleaned = {clean(k) if isinstance(k, str) else k: v for k, v in item.items()}
            container[key] = cleaned
            stack.extend((cleaned, k) for k in cleaned)
    return root[0], replaced


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
