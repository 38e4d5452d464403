"""Find the first JSON object in a model's output, repairing it if it must.

Small local models rarely write clean JSON. What MemGPT's ``clean_json`` had
to cope with, and what this module handles, cheapest remedy first:

- prose before and after the object, code fences (`````json ... `````);
- two objects back to back (the first one wins);
- raw newlines and tabs inside strings (valid for ``strict=False``);
- ``\\_`` for ``_`` (``"send\\_message"``: markdown-minded models);
- output cut short by a stop string or the token limit: an open string,
  a trailing comma, missing closing braces (MemGPT's stop string
  ``"  }\\n}\\n"`` cuts the last two braces off on purpose);
- trailing commas, single quotes, Python literals, unescaped quotes inside
  strings, unquoted strings: handed to the ``json-repair`` library.

The work is bounded: a handful of start positions, ``json-repair`` only on
at most :data:`MAX_REPAIR_CHARS` characters of a shallow object (it is
quadratic on deeply nested garbage).
"""

from __future__ import annotations

import contextvars
import json
import re
from dataclasses import dataclass
from typing import Any

from wrappers.base import WrapperParseError

#: Start positions (plausible ``{``) tried before giving up.
MAX_CANDIDATES = 8
#: ``{`` characters looked at when searching for plausible starts.
MAX_BRACES_SCANNED = 2_000
#: Longest object handed to the repair steps.
MAX_REPAIR_CHARS = 50_000
#: Deepest nesting handed to ``json-repair`` (deep garbage makes it slow).
MAX_REPAIR_DEPTH = 48

# strict=False: models put raw newlines and tabs inside strings, and MemGPT
# parsed with strict=False (its JSON_LOADS_STRICT), so such output was valid.
_DECODER = json.JSONDecoder(strict=False)

# What a JSON object plausibly starts with: ``{}``, or a key (quoted either
# way, or bare) then a colon then the start of a value. Requiring a value
# keeps prose out: a prefilled ``{"function":`` followed by "Sure, I can
# help" must not become ``{"function": "Sure, I can help"}``.
_OBJECT_START = re.compile(
    r"""\{\s*(?:
        \}
        | (?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[A-Za-z_][\w\-]*)
          \s*:\s*
          (?:["'{\[\-\d]|(?:true|false|null|True|False|None)\b)
    )""",
    re.VERBOSE,
)

# An underscore escaped by an odd number of backslashes; an even number
# is an escaped backslash followed by a real underscore.
_ESCAPED_UNDERSCORE = re.compile(r"(?<!\\)((?:\\\\)*)\\_")


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text``, as a dict.

    Raises :class:`WrapperParseError` when there is no object to be found or
    repaired. Never returns anything but a dict.
    """
    start = _next_object_start(text, 0)
    if start is None:
        raise WrapperParseError("no JSON object in the output", text)
    for _ in range(MAX_CANDIDATES):
        found = _decode_at(text, start)
        if found is not None:
            return found
        scan = _scan_object(text, start)
        repaired = _repair(text[start : scan.end], scan)
        if repaired is not None:
            return repaired
        if not scan.closed:
            break
        # This object was beyond repair but ended: maybe the next one is good.
        next_start = _next_object_start(text, scan.end)
        if next_start is None:
            break
        start = next_start
    raise WrapperParseError("the output holds no readable JSON object", text)


def loads_object(text: str) -> dict[str, Any] | None:
    """``text`` as one JSON object (lenient about control characters), or None."""
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _next_object_start(text: str, pos: int) -> int | None:
    for _ in range(MAX_BRACES_SCANNED):
        pos = text.find("{", pos)
        if pos < 0:
            return None
        if _OBJECT_START.match(text, pos):
            return pos
        pos += 1
    return None


def _decode_at(text: str, start: int) -> dict[str, Any] | None:
    # Fast path: most outputs are valid JSON. raw_decode stops where the
    # object ends, so prose, a closing fence or a second object after it
    # cost nothing, and no repair heuristic gets a chance to alter a value
    # that was fine (a message may itself contain "}", "```" or "\_").
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class _Scan:
    """Where an object starting at some ``{`` ends, or how it was left open."""

    end: int  # index after the closing brace, or where the JSON-like region stops
    closed: bool
    open_brackets: str  # still open at ``end``, innermost last
    in_string: bool
    max_depth: int


def _scan_object(text: str, start: int) -> _Scan:
    """Follow brackets and double-quoted strings from ``text[start] == "{"``."""
    limit = min(len(text), start + MAX_REPAIR_CHARS)
    stack: list[str] = []
    in_string = escaped = False
    max_depth = 0
    pos = start
    while pos < limit:
        char = text[pos]
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
            stack.append(char)
            max_depth = max(max_depth, len(stack))
        elif char in "}]":
            if stack:
                stack.pop()
            if not stack:
                return _Scan(pos + 1, True, "", False, max_depth)
        elif char == "`":
            # Backticks never occur in JSON outside strings: a closing code
            # fence after a truncated object.
            break
        pos += 1
    return _Scan(pos, False, "".join(stack), in_string, max_depth)


#: Set when an object had to be repaired: callers that count repairs (fcproxy's
#: metrics) reset it before a parse and read it after.
repaired_json: contextvars.ContextVar[bool] = contextvars.ContextVar("repaired_json", default=False)


def _repair(body: str, scan: _Scan) -> dict[str, Any] | None:
    found = _repair_text(body, scan)
    if found is not None:
        repaired_json.set(True)
    return found


def _repair_text(body: str, scan: _Scan) -> dict[str, Any] | None:
    unescaped = _ESCAPED_UNDERSCORE.sub(r"\1_", body)
    attempts = [unescaped] if unescaped != body else []
    if not scan.closed:
        attempts.append(_complete(unescaped, scan))
    for attempt in attempts:
        found = loads_object(attempt)
        if found is not None:
            return found
    if scan.max_depth > MAX_REPAIR_DEPTH:
        return None
    return _repair_with_library(unescaped)


def _complete(body: str, scan: _Scan) -> str:
    """Close what a cut-off object left open (MemGPT appended ``}``, ``}}``, ``"}}``)."""
    if scan.in_string:
        body += '"'
    body = body.rstrip()
    if body.endswith(","):
        body = body[:-1]
    elif body.endswith(":"):
        body += " null"
    closers = {"{": "}", "[": "]"}
    return body + "".join(closers[c] for c in reversed(scan.open_brackets))


def _repair_with_library(body: str) -> dict[str, Any] | None:
    try:
        value = repair_json(body)
    except Exception:  # the library's failure modes are not documented
        return None
    if isinstance(value, list):
        # Two objects back to back come back as a list: the first one wins.
        value = next((item for item in value if isinstance(item, dict)), None)
    # An empty dict is what json-repair makes of text it could not read.
    if isinstance(value, dict) and value:
        return value
    return None


def repair_json(text: str) -> object:
    """``json_repair.loads``: broken JSON read as best it can be."""
    # Imported on the first broken output, not at start-up: the library is
    # 2 MB of a serving process's memory that most models never need.
    import json_repair

    return json_repair.loads(text)
