"""What every format's parser forgives: calls written without the format's markers, broken JSON.

Models under ``tool_choice: "auto"`` (and servers without a grammar) write
what they write. A Qwen2.5-Coder whose template teaches Hermes' ``<tool_call>``
answers with a fenced ``{"name": ..., "arguments": ...}`` block; a Llama
writes ``{'name': 'f', 'parameters': {...}}`` with single quotes; a cut-off
answer loses its last brace. Each format's parser reads its own markers
first; the helpers here are what they all fall back on, so that every format
forgives the same mistakes (issue 13):

- :func:`bare_json_calls`: call objects without any marker: alone, after
  prose, in a code fence, several back to back or separated by ``,`` / ``;``,
  a JSON list of them, OpenAI's ``{"type": "function", "function": {...}}``.
  Accepted only when every name is one of the request's tools, so an example
  object in an answer about JSON stays text;
- :func:`read_json_between`: the JSON after a format's marker, mended where
  it is broken (trailing commas, single quotes, Python literals, a missing
  final brace, junk before it);
- :func:`calls_in_block`: one or several call objects (or a list) inside one
  marker block, the last one dropped when it is cut off next to complete
  ones;
- :func:`read_marked_json`: the arguments (or call list) after a format's
  marker, mended only where the JSON is closed (its end marker came, it ends
  with ``}`` / ``]``, or only closers are missing), or where a cut-off call
  follows complete ones: the stricter reading of the formats whose cut-off
  calls are retried (Mistral, Kimi K2, DeepSeek V3, Llama 3.1, Functionary).

:data:`BARE_CALL_OPENER` is where such a call may begin while streaming: a
format that tolerates bare calls holds its content from there
(:meth:`wrappers.tool_format.ToolFormatWrapper.stream_answer`), so what was
streamed stays a prefix of the one-shot answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.json_calls import CALL_START, calls_in_value, find_json_calls
from wrappers.json_extract import MAX_REPAIR_CHARS, extract_json_object, repair_json
from wrappers.tool_format import ExtractedCall, Extraction, call_from_object, decode_json_at

#: Where a bare call may begin while streaming: an optional code fence, then
#: what :data:`~wrappers.json_calls.CALL_START` matches (``{"name":``, ``[{"type":`` ...).
BARE_CALL_OPENER = r"(?:```[\w-]*\s*)?" + CALL_START.pattern


def tool_names(functions: Sequence[FunctionSchema]) -> set[str]:
    return {name for f in functions if isinstance(name := f.get("name"), str)}


def bare_json_calls(text: str, functions: Sequence[FunctionSchema]) -> Extraction | None:
    """The calls written as bare JSON in ``text``, or None when there are none to take.

    None as well when a call names a function the request does not offer:
    the text is then an answer that shows JSON, not a call.
    """
    names = tool_names(functions)
    if not names or CALL_START.search(text) is None:
        return None
    try:
        found = find_json_calls(text, repair=True)
    except WrapperParseError:
        found = _complete_calls_before_a_cut(text)
    if not found.calls or any(call.name not in names for call in found.calls):
        return None
    return found


def _complete_calls_before_a_cut(text: str) -> Extraction:
    """The calls before the last call object, when that one is cut off beyond repair."""
    starts = [m.start() for m in CALL_START.finditer(text)]
    for start in reversed(starts[1:]):
        try:
            found = find_json_calls(text[:start], repair=True)
        except WrapperParseError:
            continue
        if found.calls:
            return found
    return Extraction(text)


def read_json_between(text: str, start: int, end_marker: str) -> tuple[Any, int]:
    """The JSON value after a marker at ``start`` and where it ends, mended if it must be.

    Valid JSON is read with ``raw_decode`` (a string may hold the end marker).
    Otherwise the text up to ``end_marker`` (or the end) is mended by
    :func:`~wrappers.json_extract.extract_json_object`: trailing commas,
    single quotes, Python literals, a missing final brace, junk before the
    object. Raises :class:`json.JSONDecodeError` when nothing readable is there.
    """
    try:
        return decode_json_at(text, start)
    except json.JSONDecodeError as exc:
        stop = text.find(end_marker, start) if end_marker else -1
        region = text[start : stop if stop != -1 else len(text)]
        try:
            value = extract_json_object(region)
        except WrapperParseError:
            raise exc from None
        return value, stop if stop != -1 else len(text)


def calls_in_block(text: str, start: int, end_marker: str) -> tuple[list[ExtractedCall], int]:
    """The call objects between ``start`` and ``end_marker`` and where they end.

    One object (the usual), several (back to back or separated), or a list.
    Broken JSON is mended as :func:`read_json_between` does; of several,
    a last one cut off beyond repair is dropped. Raises
    :class:`json.JSONDecodeError` when not one call is readable.
    """
    value, end = read_json_between(text, start, end_marker)
    if isinstance(value, list):
        calls = calls_in_value(value)
        if calls is None:
            raise WrapperParseError("a list in a call block holds something other than calls")
        return calls, end
    first = calls_in_value(value)
    if first is None:
        return [call_from_object(value)], end
    stop = text.find(end_marker, end) if end_marker else -1
    rest = text[end : stop if stop != -1 else len(text)]
    if not rest.strip(" \t\r\n,;"):
        return first, end
    try:
        more = find_json_calls(rest, repair=True)
    except WrapperParseError:
        more = _complete_calls_before_a_cut(rest)
    if not more.calls:
        return first, end
    return first + more.calls, stop if stop != -1 else len(text)


def with_missing_closers(text: str) -> str | None:
    """``text`` with the closing brackets it lacks, when only those are missing.

    ``{"city": "Paris"`` -> ``{"city": "Paris"}``; None when the text stops
    inside a string or after a key or comma (cut off mid-way: unreadable).
    """
    from wrappers.partial_json import closing_suffix

    stripped = text.rstrip()
    suffix = closing_suffix(stripped)
    if not suffix or suffix.startswith('"') or stripped.endswith((":", ",", "{", "[")):
        return None
    return stripped + suffix


# A key whose value is missing (``"city": }``): a repair would invent one.
MISSING_VALUE = re.compile(r"""["']\s*:\s*(?:[,}\]]|\Z)""")


def mend_json(region: str) -> Any | None:
    """``region`` (broken JSON, perhaps a closing fence after it) mended, or None.

    Trailing commas, single quotes, Python literals (``True``, ``None``),
    missing closers and a cut-off string are mended by ``json-repair``; a key
    without its value is not (a repair would invent one), nor anything that
    is not an object or list, nor more than ``MAX_REPAIR_CHARS``.
    """
    region = region.strip().removesuffix("```").rstrip()
    if not region or len(region) > MAX_REPAIR_CHARS or MISSING_VALUE.search(region):
        return None
    try:
        value = repair_json(region)
    except Exception:  # the library's failure modes are not documented
        return None
    return value if isinstance(value, dict | list) and value else None


def read_marked_json(
    text: str, start: int, end_markers: Sequence[str] = (), *, cut_off: bool = False
) -> tuple[Any, int]:
    """The JSON value at ``text[start]`` (after a format's marker) and where it ends.

    Valid JSON is read with ``raw_decode`` (a string may hold an end marker).
    Broken JSON, up to the first of ``end_markers`` or the end, is mended by
    :func:`mend_json` when it is closed: an end marker follows, it ends with
    ``}`` or ``]``, or only closers are missing (``{"city": "Paris"``). JSON cut
    off mid-way (``{"city": "Par``) is mended only with ``cut_off``: the
    formats pass it for a call that follows complete ones (the complete ones
    stand, and what streaming sent of the cut one stays true); alone it is
    unreadable, and the pipeline retries. Raises :class:`json.JSONDecodeError`.
    """
    try:
        return decode_json_at(text, start)
    except json.JSONDecodeError as exc:
        stops = [i for marker in end_markers if (i := text.find(marker, start)) != -1]
        end = min(stops) if stops else len(text)
        region = text[start:end]
        bare = region.strip().removesuffix("```").rstrip()
        closed = bool(stops) or bare.endswith(("}", "]")) or with_missing_closers(bare) is not None
        mended = mend_json(region) if closed or cut_off else None
        if mended is None:
            raise exc from None
        return mended, end
