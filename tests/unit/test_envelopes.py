"""Which envelope an error answer gets, by path; and the path of a raw request line."""

from __future__ import annotations

import pytest

from proxy.client_limits import request_path
from proxy.envelopes import error_body_for, speaks_anthropic
from proxy.errors import NotFound, ProxyError, UpstreamBusy, UpstreamTimeout


@pytest.mark.parametrize(
    ("path", "anthropic"),
    [
        ("/v1/messages", True),
        ("/messages", True),
        ("/v1/messages/count_tokens", True),
        ("/messages/count_tokens", True),
        ("/v1/messages/batches/x", True),
        ("/v1/messagesx", False),
        ("/v1/chat/completions", False),
        ("/v1/responses", False),
        ("/", False),
        ("", False),
    ],
)
def test_anthropic_paths(path: str, anthropic: bool) -> None:
    assert speaks_anthropic(path) is anthropic


@pytest.mark.parametrize(
    ("error", "status", "anthropic_type"),
    [
        (NotFound("x"), 404, "not_found_error"),
        (UpstreamBusy("full", retry_after=1), 429, "rate_limit_error"),
        (UpstreamTimeout("slow"), 504, "timeout_error"),
    ],
)
def test_one_error_two_envelopes(error: ProxyError, status: int, anthropic_type: str) -> None:
    assert error.status_code == status
    assert error_body_for("/v1/messages", error) == {
        "type": "error",
        "error": {"type": anthropic_type, "message": error.message},
    }
    assert error_body_for("/v1/chat/completions", error) == error.to_body()


@pytest.mark.parametrize(
    ("head", "path"),
    [
        (b"POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\n", "/v1/messages"),
        (b"GET /v1/models HTTP/1.1\r\n", "/v1/models"),
        (b"POST /v1/mess", ""),  # the request line is not whole
        (b"", ""),
    ],
)
def test_the_path_of_a_request_line(head: bytes, path: str) -> None:
    assert request_path(head) == path
