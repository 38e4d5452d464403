"""Which API's error envelope an answer gets: Anthropic's on its paths, OpenAI's elsewhere.

Every error fcproxy answers passes here, from the routes and from before
them alike (the body limit, the Host check, 401, 404 for an unknown path,
405, 408, 413, 415, 429), so a client always reads its own API's shape::

    /v1/messages, /v1/messages/count_tokens, /v1/messages/..., and without /v1:
        {"type": "error", "error": {"type": "not_found_error", "message": "..."}}
    everything else:
        {"error": {"message": "...", "type": "...", "param": null, "code": "..."}}

Only a refusal written before the request line has been read (no free
connection: 503 ``too_many_connections``) cannot know the path, and keeps
OpenAI's envelope; its status still tells an Anthropic client what happened.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from proxy.anthropic.errors import anthropic_envelope
from proxy.errors import ProxyError
from proxy.json_body import replace_lone_surrogates
from proxy.json_codec import FastJSONResponse
from proxy.redaction import Redactor

#: Anthropic's routes (proxy/anthropic/routes.py), and what lies under them.
ANTHROPIC_PREFIXES = ("/v1/messages", "/messages")


def speaks_anthropic(path: str) -> bool:
    """Whether ``path`` is one of Anthropic's routes or under one."""
    return any(path == p or path.startswith(p + "/") for p in ANTHROPIC_PREFIXES)


def error_body(
    error: ProxyError, *, anthropic: bool, redactor: Redactor | None = None
) -> dict[str, Any]:
    """The error in the envelope of its API, safe to send.

    An upstream's message may hold lone surrogates, which UTF-8 cannot
    encode, and may quote a secret: both are cleaned here.
    """
    body: dict[str, Any]
    body, _ = replace_lone_surrogates(anthropic_envelope(error) if anthropic else error.to_body())
    if redactor is None:
        return body
    redacted: dict[str, Any] = redactor.redact_json(body)
    return redacted


def error_body_for(
    path: str, error: ProxyError, redactor: Redactor | None = None
) -> dict[str, Any]:
    """:func:`error_body` in the envelope that ``path``'s API uses."""
    return error_body(error, anthropic=speaks_anthropic(path), redactor=redactor)


def error_response(path: str, error: ProxyError, redactor: Redactor | None = None) -> Response:
    """The answer to a request for ``path`` that failed with ``error``: status, headers, body."""
    return FastJSONResponse(
        error_body_for(path, error, redactor), status_code=error.status_code, headers=error.headers
    )
