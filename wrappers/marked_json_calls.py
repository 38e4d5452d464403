"""Calls as a JSON list after a marker: ``<|tool_call|>[{"name": ..., "arguments": {...}}]``.

IBM Granite 3.x (``<|tool_call|>``), Phi-4-mini (``functools``) and Cohere
Command R (``Action:`` and a fenced list, or ``<|START_ACTION|>``) answer
with one marker and a JSON list of call objects; only the marker and the
keys differ. :func:`json_calls_after_markers` reads them all: the list is
decoded with ``raw_decode`` item by item (an argument may itself contain the
end marker or a ``]``), and the text outside the lists is the content.
:func:`marked_calls_so_far` reads the same while the output is being written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from wrappers.base import WrapperParseError
from wrappers.json_calls import object_calls_so_far, read_object_list
from wrappers.partial_json import parse_prefix, stable_dumps
from wrappers.streaming import PartialCall
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import ExtractedCall, Extraction, call_from_object, decode_json_at


def json_calls_after_markers(
    text: str,
    markers: Sequence[str | re.Pattern[str]],
    *,
    end_markers: Sequence[str] = (),
    name_keys: Sequence[str] = ("name",),
    argument_keys: Sequence[str] = ("arguments", "parameters"),
) -> Extraction:
    """Every marker's list of calls in ``text``, and the text around them.

    A marker is a string or a pattern; a pattern can look ahead for the list
    (``functools`` before a ``[``, ``Action:`` before a list) so that the same words
    in prose are content. After a marker may come a code fence, then a ``[...]`` list or objects
    separated by commas (models drop the brackets), then optionally a closing
    fence and one of ``end_markers``. A marker followed by anything else, or
    by JSON that does not decode, raises :class:`WrapperParseError`.
    """
    patterns = [m if isinstance(m, re.Pattern) else re.compile(re.escape(m)) for m in markers]
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (found := _next_marker(text, patterns, position)) is not None:
        content += text[position : found.start()]
        items, end = _items_at(text, found.end(), found.group(), end_markers)
        for item in items:
            calls.append(call_from_object(item, name_keys=name_keys, argument_keys=argument_keys))
        position = _skip_closers(text, end, end_markers)
    return Extraction(content + text[position:], calls)


def marked_calls_so_far(
    text: str,
    markers: Sequence[str | re.Pattern[str]],
    *,
    end_markers: Sequence[str] = (),
    name_keys: Sequence[str] = ("name",),
    argument_keys: Sequence[str] = ("arguments", "parameters"),
) -> list[PartialCall]:
    """The calls :func:`json_calls_after_markers` will read in ``text`` and whatever follows.

    Each list as far as it is written: complete calls exactly, the call being
    written by its name and arguments so far.
    """
    patterns = [m if isinstance(m, re.Pattern) else re.compile(re.escape(m)) for m in markers]
    calls: list[PartialCall] = []
    position = 0
    while (found := _next_marker(text, patterns, position)) is not None:
        start = _list_start(text, found.end())
        if start is None:
            break
        items, end, complete = object_calls_so_far(
            text, start, name_keys=name_keys, argument_keys=argument_keys
        )
        calls.extend(items)
        if not complete:
            break
        position = _skip_closers(text, end, end_markers)
    return calls


def _list_start(text: str, position: int) -> int | None:
    """Where the calls after a marker start, as :func:`_items_at` finds them (None: not yet)."""
    position = _skip_space(text, position)
    if text.startswith("```", position):
        newline = text.find("\n", position)
        if newline == -1:
            return None
        position = _skip_space(text, newline)
    elif "```".startswith(text[position:]):
        return None  # nothing yet, or a fence still being written
    if position < len(text) and text[position] in "[{":
        return position
    return None


def _next_marker(
    text: str, patterns: Sequence[re.Pattern[str]], position: int
) -> re.Match[str] | None:
    hits = [match for p in patterns if (match := p.search(text, position)) is not None]
    return min(hits, key=lambda match: match.start()) if hits else None


def _items_at(
    text: str, position: int, marker: str, end_markers: Sequence[str] = ()
) -> tuple[list[object], int]:
    position = _skip_space(text, position)
    if text.startswith("```", position):
        newline = text.find("\n", position)
        position = _skip_space(text, len(text) if newline == -1 else newline)
    try:
        if text.startswith("[", position):
            return read_object_list(text, position)
        if text.startswith("{", position):
            return _objects_at(text, position)
    except json.JSONDecodeError as exc:
        mended = _mended_items(text, position, end_markers)
        if mended is None:
            raise WrapperParseError(
                f"unreadable calls after {marker.strip()}: {exc}", text
            ) from exc
        return mended
    raise WrapperParseError(f"{marker.strip()} is not followed by a JSON list of calls", text)


def _mended_items(
    text: str, position: int, end_markers: Sequence[str]
) -> tuple[list[object], int] | None:
    """The call objects of broken JSON closed by an end marker, mended (None: not mendable).

    :func:`wrappers.tolerance.read_marked_json`'s rule: trailing commas,
    single quotes, Python literals, a missing brace are mended; a list cut off
    mid-way or a key without its value is not, and the pipeline retries.
    """
    try:
        value, end = read_marked_json(text, position, end_markers)
    except json.JSONDecodeError:
        return None
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, dict) and item for item in items):
        return None
    return items, end


def _objects_at(text: str, position: int) -> tuple[list[object], int]:
    """``{...}, {...}``: a list without its brackets."""
    items: list[object] = []
    while True:
        item, position = decode_json_at(text, position)
        items.append(item)
        after = _skip_space(text, position)
        if not text.startswith(",", after) or not text.startswith(
            "{", _skip_space(text, after + 1)
        ):
            return items, position
        position = _skip_space(text, after + 1)


def _skip_closers(text: str, position: int, end_markers: Sequence[str]) -> int:
    """Past a closing fence and an end marker right after the list, if there are."""
    after = _skip_space(text, position)
    if text.startswith("```", after):
        position = after = _skip_space(text, after + 3)
    for marker in end_markers:
        if text.startswith(marker, after):
            return after + len(marker)
    return position


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def headed_json_calls(
    text: str, head: re.Pattern[str], end: str, stops: Sequence[str]
) -> Extraction:
    """Calls written as a header naming the function, its arguments as a JSON object, ``end``.

    ``head`` matches a call's header, the function's name in its first group,
    up to where the arguments start; ``end`` may be missing; ``stops`` are the
    markers a cut-off object ends at (:func:`wrappers.tolerance.read_marked_json`).
    Step-Audio 2's ``<tool_call>function\nNAME\n{...}</tool_call>`` and Solar
    Open's ``<|call|>NAME<|sep|>{...}`` read this way.
    """
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (found := head.search(text, position)) is not None:
        content += text[position : found.start()]
        name = found.group(1).strip()
        if not name:
            raise WrapperParseError("a call has no function name", text)
        try:
            arguments, position = read_marked_json(text, found.end(), stops, cut_off=bool(calls))
        except json.JSONDecodeError as exc:
            raise WrapperParseError(f"unreadable arguments of {name}: {exc}", text) from exc
        if not isinstance(arguments, dict):
            raise WrapperParseError(f"the arguments of {name} are not a JSON object", text)
        after = _after_space(text, position)
        if text.startswith(end, after):
            position = after + len(end)
        calls.append(ExtractedCall(name, arguments))
    return Extraction(content + text[position:], calls)


def headed_json_calls_so_far(
    region: str, head: re.Pattern[str], end: str, *, end_required: bool
) -> list[PartialCall]:
    """:func:`headed_json_calls` on an output still being written (arguments as a JSON prefix).

    A call after a complete one is read only once ``end`` has closed the
    complete one where the format always writes it (``end_required``).
    """
    calls: list[PartialCall] = []
    position = 0
    while (found_head := head.match(region, position)) is not None:
        name = found_head.group(1).strip()
        found = parse_prefix(region, found_head.end())
        if found is None or not isinstance(found.value, dict) or not name:
            break
        calls.append(PartialCall(name, stable_dumps(found.value)))
        if not found.complete:
            break
        position = _after_space(region, found.end)
        if region.startswith(end, position):
            position = _after_space(region, position + len(end))
        elif end_required:
            break
    return calls


def _after_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position
