"""fcproxy's errors in Anthropic's envelope and statuses.

Anthropic's clients read ``{"type": "error", "error": {"type": ..., "message":
...}}`` (docs.anthropic.com, "Errors"); the SDK picks its exception class by
the status, so the status is kept and only the envelope changes::

    400 invalid_request_error   401 authentication_error   403 permission_error
    404 not_found_error         413 request_too_large      429 rate_limit_error
    500 api_error               529 overloaded_error

Upstream failures (502, 504) are ``api_error``s with their own status; a full
server (503) is ``overloaded_error``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from proxy.errors import ProxyError
from proxy.json_body import replace_lone_surrogates
from proxy.redaction import Redactor

logger = logging.getLogger("fcproxy.anthropic")

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "invalid_request_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def error_body(error: ProxyError, redactor: Redactor) -> dict[str, Any]:
    """``{"type": "error", "error": {...}}``, its message redacted (it may quote an upstream)."""
    error_type = ERROR_TYPES.get(error.status_code, "api_error")
    body = {"type": "error", "error": {"type": error_type, "message": error.message}}
    body, _ = replace_lone_surrogates(body)
    redacted: dict[str, Any] = redactor.redact_json(body)
    return redacted


def error_response(error: ProxyError, redactor: Redactor) -> JSONResponse:
    return JSONResponse(
        error_body(error, redactor), status_code=error.status_code, headers=error.headers
    )


Handler = Callable[[Request], Awaitable[Response]]


def anthropic_errors(handler: Handler) -> Handler:
    """Answer the route's errors in Anthropic's envelope instead of OpenAI's."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        redactor: Redactor = request.app.state.redactor
        try:
            return await handler(request)
        except ClientDisconnect:
            raise  # nobody reads the answer; the app's handler logs it
        except ProxyError as exc:
            level = logging.WARNING if exc.status_code >= 500 else logging.INFO
            logger.log(
                level, "%s %s -> %d %s", request.method, request.url.path, exc.status_code, exc
            )
            return error_response(exc, redactor)
        except Exception as exc:
            logger.exception("unhandled error on %s %s", request.method, request.url.path)
            internal = ProxyError(
                f"Internal error in fcproxy ({type(exc).__name__}); see the server log."
            )
            return error_response(internal, redactor)

    return wrapped
