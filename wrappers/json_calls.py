"""Calls written as bare JSON objects: ``{"name": ..., "arguments": {...}}``.

Llama 3.1-3.3 write ``{"name": ..., "parameters": {...}}`` (several joined by
``;``), Mistral v3 a JSON list of ``{"name", "arguments"}`` objects after
``[TOOL_CALLS]``, and a model merely *told* to answer with JSON
(``generic-json``) puts such an object anywhere: alone, in a code fence,
between sentences, in a list. Shared here:

- :func:`calls_in_value`: what counts as a call, in the spellings models
  use (``arguments`` or ``parameters``; OpenAI's ``{"type": "function",
  "function": {...}}``; llama.cpp's ``{"tool_calls": [...]}``);
- :func:`read_object_list`: a ``[...]`` of objects, read item by item so that
  a list cut off after its last complete object still counts;
- :func:`find_json_calls`: every call object in a text, and the text around.

And their streaming twins, which read an output still being written and
return only what the rest of it cannot change (:mod:`wrappers.streaming`):
:func:`call_so_far`, :func:`object_calls_so_far`, :func:`json_calls_so_far`.

An object that looks like a call (``{"name": ...``) but cannot be read
raises :class:`~wrappers.base.WrapperParseError`: the pipeline retries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from wrappers.base import WrapperParseError, arguments_as_json_string
from wrappers.brackets import closing_bracket
from wrappers.json_extract import extract_json_object
from wrappers.partial_json import PrefixValue, is_open, parse_prefix
from wrappers.streaming import PartialCall, partial_call
from wrappers.tool_format import ExtractedCall, Extraction, call_from_object, decode_json_at

#: Where a call object (or a list of them) may start: ``{`` and a key a call
#: begins with. A list start is captured so the whole list can be read.
CALL_START = re.compile(r"""(\[\s*)?\{\s*(["'])(?:name|function|type|tool_calls?)\2\s*:""")

_SEPARATOR = re.compile(r"[\s;,]*")
# What a number or literal still being written is made of.
_SCALAR_CHARS = frozenset("0123456789+-.eEabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_EMPTY_FENCE = re.compile(r"```[\w-]*\s*```")
# A key whose value is missing: ``"city": }`` or ``"city": `` at the end.
_MISSING_VALUE = re.compile(r"""["']\s*:\s*(?:[,}\]]|\Z)""")


def is_call_object(value: Any) -> bool:
    """``{"name": str, "arguments"|"parameters": ...}``, possibly inside ``"function"``."""
    if not isinstance(value, dict):
        return False
    inner = value.get("function")
    if isinstance(inner, dict):
        return is_call_object(inner)
    return isinstance(value.get("name"), str) and ("arguments" in value or "parameters" in value)


def calls_in_value(value: Any) -> list[ExtractedCall] | None:
    """The calls a decoded JSON value holds, or None when it is not calls.

    A call object, a non-empty list of them, or llama.cpp's generic
    envelopes ``{"tool_calls": [...]}`` and ``{"tool_call": {...}}``.
    """
    if isinstance(value, list):
        if value and all(is_call_object(item) for item in value):
            return [call_from_json(item) for item in value]
        return None
    if is_call_object(value):
        return [call_from_json(value)]
    if isinstance(value, dict):
        for key in ("tool_calls", "tool_call"):
            inner = value.get(key)
            if isinstance(inner, list | dict):
                return calls_in_value(inner if isinstance(inner, list) else [inner])
    return None


def call_from_json(value: Any) -> ExtractedCall:
    """A call object as a call (unwrapping OpenAI's ``{"function": {...}}``)."""
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        value = value["function"]
    return call_from_object(value)


def read_object_list(text: str, start: int) -> tuple[list[Any], int]:
    """The items of the JSON list at ``text[start] == "["`` and where it ends.

    Items are decoded one by one, so a list whose closing ``]`` was cut off
    (stop string, token limit) still yields the items that were complete.
    Raises :class:`json.JSONDecodeError` when an item itself is unreadable.
    """
    items: list[Any] = []
    position = start + 1
    while True:
        position = _skip_space(text, position)
        if position >= len(text) or text[position] == "]":
            return items, min(position + 1, len(text))
        item, position = decode_json_at(text, position)
        items.append(item)
        position = _skip_space(text, position)
        if position < len(text) and text[position] == ",":
            position += 1
        elif position < len(text) and text[position] != "]":
            return items, position  # something else follows: the list ends here


def find_json_calls(text: str, *, repair: bool) -> Extraction:
    """Every call object in ``text`` (alone, in a list, in prose or a fence).

    ``repair``: mend broken JSON (trailing commas, single quotes, a cut-off
    end) with :mod:`wrappers.json_extract` before giving up; without it a
    call object that does not decode raises. Separators between calls
    (``;``, ``,``) and code fences left empty are not content.
    """
    spans: list[tuple[int, int]] = []
    calls: list[ExtractedCall] = []
    position = 0
    while (match := CALL_START.search(text, position)) is not None:
        start = match.start()
        if match.group(1):
            found, end = _list_at(text, start, repair=repair)
        else:
            found, end = _object_at(text, start, repair=repair)
        if found:
            spans.append((start, end))
            calls.extend(found)
            position = end
        else:
            # Not a call: the objects inside a list are looked at one by one.
            position = start + 1
    return Extraction(_text_outside(text, spans), calls)


def _list_at(text: str, start: int, *, repair: bool) -> tuple[list[ExtractedCall], int]:
    try:
        items, end = read_object_list(text, start)
    except json.JSONDecodeError as exc:
        if not repair:
            raise WrapperParseError(f"a JSON list of calls is unreadable: {exc}", text) from exc
        # Mend the objects one by one; the list counts if nothing else is in it.
        end = closing_bracket(text, start) or len(text)
        inner = find_json_calls(text[start + 1 : end].removesuffix("]"), repair=True)
        if inner.calls and not inner.content.strip(" \t\n,"):
            return inner.calls, end
        return [], start
    return calls_in_value(items) or [], end


def _object_at(text: str, start: int, *, repair: bool) -> tuple[list[ExtractedCall], int]:
    try:
        value, end = decode_json_at(text, start)
    except json.JSONDecodeError as exc:
        if not repair:
            raise WrapperParseError(f"a JSON call is unreadable: {exc}", text) from exc
        end = closing_bracket(text, start) or len(text)
        if _MISSING_VALUE.search(text, start, end):
            # A key without its value (cut off there, or left out): a repair
            # would invent one, so this is a botched call, not a mendable one.
            raise WrapperParseError(f"a JSON call is unreadable: {exc}", text) from exc
        try:
            value = extract_json_object(text[start:end])
        except WrapperParseError as repair_failed:
            raise WrapperParseError(f"a JSON call is unreadable: {exc}", text) from repair_failed
        mended = calls_in_value(value) or []
        if any(isinstance(call.arguments, str) for call in mended):
            # What the repair made of the arguments is not an object: guesswork.
            raise WrapperParseError(
                f"the arguments of a JSON call are unreadable: {exc}", text
            ) from exc
        return mended, end
    return calls_in_value(value) or [], end


def _text_outside(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces = [text[: spans[0][0]]]
    for (_, end), (next_start, _) in pairwise(spans):
        gap = text[end:next_start]
        if not _SEPARATOR.fullmatch(gap):
            pieces.append(gap)
    pieces.append(text[spans[-1][1] :])
    return strip_empty_fences("".join(pieces))


def strip_empty_fences(content: str) -> str:
    """Drop the code fences that held only the calls just taken out."""
    return _EMPTY_FENCE.sub("", content)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


# ---- the same, for an output still being written ----


def call_so_far(
    value: dict[str, Any],
    *,
    name_keys: Sequence[str] = ("name",),
    argument_keys: Sequence[str] = ("arguments", "parameters"),
    unwrap_function: bool = False,
) -> PartialCall | None:
    """What is known of the call in a call object read by :func:`~wrappers.partial_json.parse_prefix`.

    A complete object: the call exactly as :func:`call_from_object` reads it
    (None when it is not one). An open one: its name once that is complete,
    its arguments while they are an object. ``unwrap_function``: OpenAI's
    ``{"type": "function", "function": {...}}`` holds the call, as
    :func:`call_from_json` reads it.
    """
    if unwrap_function and isinstance(value.get("function"), dict):
        value = value["function"]
    if is_open(value):
        return partial_call(value, name_keys=name_keys, argument_keys=argument_keys)
    try:
        call = call_from_object(value, name_keys=name_keys, argument_keys=argument_keys)
    except WrapperParseError:
        return None
    return PartialCall(call.name, arguments_as_json_string(call.arguments))


def object_calls_so_far(
    text: str,
    start: int,
    *,
    name_keys: Sequence[str] = ("name",),
    argument_keys: Sequence[str] = ("arguments", "parameters"),
    unwrap_function: bool = False,
) -> tuple[list[PartialCall], int, bool]:
    """Calls as JSON objects from ``text[start]``: a ``[...]`` list of them, or objects
    separated by commas (a list without its brackets), every item a call.

    The streaming twin of :func:`read_object_list` + :func:`call_from_object`.
    Returns the calls known so far, where reading stopped, and whether the
    list (or the objects) is complete. Reading stops at an item that is not
    (yet) a call: the one-shot parse decides what it is.
    """
    position = _skip_space(text, start)
    in_list = text.startswith("[", position)
    if in_list:
        position += 1
    calls: list[PartialCall] = []
    while True:
        position = _skip_space(text, position)
        found = parse_prefix(text, position) if position < len(text) else None
        if found is None or not isinstance(found.value, dict):
            return calls, position, False
        call = call_so_far(
            found.value,
            name_keys=name_keys,
            argument_keys=argument_keys,
            unwrap_function=unwrap_function,
        )
        if call is None:
            return calls, position, False
        calls.append(call)
        if not found.complete:
            return calls, found.end, False
        position = _skip_space(text, found.end)
        if text.startswith(",", position):
            position += 1
        elif in_list and text.startswith("]", position):
            return calls, position + 1, True
        else:
            return calls, found.end, not in_list


def json_calls_so_far(text: str, *, repair: bool = False) -> list[PartialCall]:
    """The calls :func:`find_json_calls` will find in ``text`` and whatever follows it.

    Call objects (and lists of them) as the one-shot reader finds them: a
    complete one exactly, the one being written by its name and arguments so
    far, once it is clearly a call (a name, and ``arguments`` or
    ``parameters``). Reading stops where more text could change the answer.
    ``repair``: as :func:`find_json_calls`'s; the call being written is then
    shown only while it is valid JSON (see :func:`_shown_while_valid`).
    """
    calls: list[PartialCall] = []
    position = 0
    while (match := CALL_START.search(text, position)) is not None:
        start = match.start()
        if match.group(1):
            found, end = _call_list_so_far(text, start, repair=repair)
            calls.extend(found)
            if end is None:
                return calls
            # -1: not a list of calls; its objects are read one by one.
            position = start + 1 if end == -1 else end
            continue
        value = parse_prefix(text, start)
        if value is None or not isinstance(value.value, dict):
            return calls
        if not value.complete:
            call = _open_call(_shown_while_valid(text, start, value, repair=repair))
            return [*calls, call] if call is not None else calls
        try:
            complete = calls_in_value(value.value)
        except WrapperParseError:
            return calls
        if complete:
            calls.extend(
                PartialCall(c.name, arguments_as_json_string(c.arguments)) for c in complete
            )
            position = value.end
        else:
            position = start + 1
    return calls


def _call_list_so_far(
    text: str, start: int, *, repair: bool
) -> tuple[list[PartialCall], int | None]:
    """The calls of the ``[`` list at ``start`` so far, and where the list ends.

    The end is None while it is open, -1 when the list is not one of calls
    (:func:`calls_in_value`); the one-shot reader then takes its objects one
    by one, so while the list is open only the first items that reading
    would find too are shown.
    """
    calls: list[PartialCall] = []
    leading = 0  # how many first items start like a call (CALL_START)
    position = start + 1
    while True:
        position = _skip_space(text, position)
        if position >= len(text):
            return calls[:leading], None
        if text[position] == "]":
            return (calls, position + 1) if calls else ([], -1)
        found = parse_prefix(text, position)
        if found is None:
            return calls[:leading], None
        if not isinstance(found.value, dict):
            return [], -1
        starts_like_a_call = leading == len(calls) and CALL_START.match(text, position)
        if not found.complete:
            call = _open_call(_shown_while_valid(text, position, found, repair=repair))
            if call is not None and starts_like_a_call:
                return [*calls, call], None
            return calls[:leading], None
        if not is_call_object(found.value):
            return [], -1
        call = call_so_far(found.value, unwrap_function=True)
        if call is None:
            return calls[:leading], None
        calls.append(call)
        leading += 1 if starts_like_a_call else 0
        position = _skip_space(text, found.end)
        if position >= len(text):
            return calls[:leading], None
        if text[position] == ",":
            position += 1
        elif text[position] != "]":
            return calls, position


def _shown_while_valid(
    text: str, start: int, found: PrefixValue, *, repair: bool
) -> dict[str, Any] | None:
    """What to show of the open object ``found`` read at ``start``.

    Without ``repair`` (broken JSON is an error), all of it. With it, the
    one-shot reader mends broken JSON, and what the mending makes of a value
    is known only at the end: the object is shown only while it is valid to
    the end of ``text``, and each value only once the next character shows
    that it ended (``"Pari"`` may yet become ``"Pari"Rome"``).
    """
    if not repair:
        return found.value if isinstance(found.value, dict) else None
    unread = text[found.end :].rstrip()
    if unread and (
        # Only a number or literal still being written, where a value goes, is not broken.
        not text[: found.end].rstrip().endswith((":", ",", "["))
        or any(c not in _SCALAR_CHARS for c in unread)
    ):
        return None  # broken: the repairs decide, at the end
    confirmed = parse_prefix(text[: len(text.rstrip()) - 1], start)
    if confirmed is None or not isinstance(confirmed.value, dict):
        return None
    return confirmed.value


def _open_call(value: dict[str, Any] | None) -> PartialCall | None:
    """An object still being written, once it is clearly a call (:func:`is_call_object`)."""
    if value is None:
        return None
    inner = value.get("function")
    if isinstance(inner, dict):
        value = inner
    name = value.get("name")
    if not isinstance(name, str) or is_open(name):
        return None
    if "arguments" not in value and "parameters" not in value:
        return None
    return call_so_far(value)
