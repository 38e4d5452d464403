"""JSON out, fast: orjson where it can, the standard library where it cannot.

JSON encoding showed in the profile of a 15 kB MemGPT request (the upstream
request body and the answer: ~10% of fcproxy's CPU per request with
``json.dumps``; orjson does the same work in a tenth of the time). orjson
refuses what the standard library accepts in a few corners (lone surrogates,
integers past 64 bits, non-string keys); those values take the standard
library's path, so the output is the same JSON either way.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON (no NaN or Infinity either way)."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )


class FastJSONResponse(JSONResponse):
    """Starlette's JSONResponse, encoded by :func:`dumps`."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
