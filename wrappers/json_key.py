"""A JSON text of a value, made fast, for cache keys of per-tools work.

Clients send the same tools every turn, so schema checks, validators,
grammars and rendered tool sections are cached by the tools' JSON text.
Making that text with the standard library's ``json.dumps`` was itself about
5 % of fcproxy's CPU per request on MemGPT's 15 kB body (bench/RESULTS.md);
orjson makes it in a tenth of the time. Where orjson refuses a value
(integers past 64 bits, nesting past its limit, lone surrogates) the
standard library makes it. Either text loads back to the same value: request
bodies never hold NaN or Infinity (proxy/json_body.py refuses them), the one
thing orjson would write differently.

Values that will not change (:func:`unchanging`: the checked tool definitions
that every request with the same tools shares, proxy/dialects.py) have their
texts remembered by identity, so that the render, the grammar and the
argument checks of a request do not each write the same tools again.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def json_key(value: Any, *, sort_keys: bool = False) -> str:
    """``value`` as JSON text; ``sort_keys`` where key order must not matter."""
    remembered = _UNCHANGING.get(id(value))
    if remembered is None or remembered[0] is not value:
        return _text(value, sort_keys)
    texts = remembered[1]
    text = texts.get(sort_keys)
    if text is None:
        text = texts[sort_keys] = _text(value, sort_keys)
    return text


def unchanging(*values: Any) -> None:
    """Promise that ``values`` will not change: their keys are made once, then remembered.

    Held by reference (so an id stays theirs) up to :data:`MAX_UNCHANGING`,
    oldest forgotten first.
    """
    for value in values:
        _UNCHANGING.setdefault(id(value), (value, {}))
    while len(_UNCHANGING) > MAX_UNCHANGING:
        del _UNCHANGING[next(iter(_UNCHANGING))]


def _text(value: Any, sort_keys: bool) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, sort_keys=sort_keys)


#: How many unchanging values keep their keys (tool lists and their schemas).
MAX_UNCHANGING = 1024
_UNCHANGING: dict[int, tuple[Any, dict[bool, str]]] = {}
