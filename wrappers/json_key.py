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
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def json_key(value: Any, *, sort_keys: bool = False) -> str:
    """``value`` as JSON text; ``sort_keys`` where key order must not matter."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, sort_keys=sort_keys)
