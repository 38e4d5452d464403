"""fcproxy's errors in Anthropic's envelope and types.

Anthropic's clients read ``{"type": "error", "error": {"type": ..., "message":
...}}`` (docs.anthropic.com, "Errors"); the SDK picks its exception class by
the status, so the status is kept and only the envelope changes::

    400 invalid_request_error   401 authentication_error   403 permission_error
    404 not_found_error         408 timeout_error          413 request_too_large
    429 rate_limit_error        500 api_error              503 overloaded_error
    504 timeout_error           529 overloaded_error

Upstream failures (502) are ``api_error``s with their own status; a full
server (503) is ``overloaded_error``. Which paths answer in this envelope is
decided in one place, :mod:`proxy.envelopes`.
"""

from __future__ import annotations

from typing import Any

from proxy.errors import ProxyError

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_envelope(error: ProxyError) -> dict[str, Any]:
    """``{"type": "error", "error": {"type", "message"}}``, the type from the status."""
    error_type = ERROR_TYPES.get(error.status_code, "api_error")
    return {"type": "error", "error": {"type": error_type, "message": error.message}}
