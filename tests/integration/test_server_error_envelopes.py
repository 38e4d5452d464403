"""Errors answered before the routes speak the path's API: Anthropic's on /v1/messages.

The body limit, the Host check, 401, 404, 405, 415 and 429 are decided by
middleware, the router or the capacity gate, not by the Messages routes; each
must still answer Anthropic's ``{"type": "error", "error": {"type", "message"}}``
there, so that the real ``anthropic`` SDK raises its own exception class for
it, and OpenAI's envelope on every other path (proxy/envelopes.py).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import pytest

from tests.integration.conftest import MakeProxy, RunningProxy

ASK: Any = {"model": "hermes", "max_tokens": 20, "messages": [{"role": "user", "content": "Hi"}]}


def sdk(proxy: RunningProxy, **options: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=proxy.url,
        api_key=options.pop("api_key", "unused"),
        max_retries=0,
        timeout=30,
        **options,
    )


def create(proxy: RunningProxy, **options: Any) -> object:
    return sdk(proxy, **options).messages.create(**ASK)


def too_large(proxy: RunningProxy) -> object:
    long: Any = [{"role": "user", "content": "word " * 2000}]
    return sdk(proxy).messages.create(model="hermes", max_tokens=20, messages=long)


def foreign_host(proxy: RunningProxy) -> object:
    return create(proxy, default_headers={"Host": "evil.example"})


def unknown_path(proxy: RunningProxy) -> object:
    return sdk(proxy).post("/v1/messages/batches", cast_to=object, body=ASK)


def wrong_method(proxy: RunningProxy) -> object:
    return sdk(proxy).get("/v1/messages", cast_to=object)


def not_json(proxy: RunningProxy) -> object:
    options: Any = {"headers": {"Content-Type": "text/plain"}}
    return sdk(proxy).post("/v1/messages", cast_to=object, body=ASK, options=options)


#: Neither x-api-key nor Authorization goes out.
NO_KEY: Any = {
    "default_headers": {"X-Api-Key": anthropic.Omit(), "Authorization": anthropic.Omit()}
}


def without_key(proxy: RunningProxy) -> object:
    return create(proxy, **NO_KEY)


def count_tokens_without_key(proxy: RunningProxy) -> object:
    return sdk(proxy, **NO_KEY).messages.count_tokens(model="hermes", messages=ASK["messages"])


def while_the_only_slot_is_busy(proxy: RunningProxy) -> object:
    assert proxy.upstream is not None
    proxy.upstream.delay = 3.0
    first = threading.Thread(target=lambda: httpx.post(f"{proxy.url}/v1/messages", json=ASK))
    first.start()
    deadline = time.monotonic() + 5
    while not proxy.upstream.generation_requests and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        return create(proxy)
    finally:
        first.join()


@dataclass
class Case:
    name: str
    call: Callable[[RunningProxy], object]
    raises: type[anthropic.APIStatusError]
    status: int
    error_type: str
    settings: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case(
        "missing key",
        without_key,
        anthropic.AuthenticationError,
        401,
        "authentication_error",
        {"api_keys": ["sk-right"]},
    ),
    Case(
        "wrong key",
        lambda p: create(p, api_key="sk-wrong"),
        anthropic.AuthenticationError,
        401,
        "authentication_error",
        {"api_keys": ["sk-right"]},
    ),
    Case(
        "count_tokens without key",
        count_tokens_without_key,
        anthropic.AuthenticationError,
        401,
        "authentication_error",
        {"api_keys": ["sk-right"]},
    ),
    Case(
        "body over max_body_bytes",
        too_large,
        anthropic.ContentTooLargeError,
        413,
        "request_too_large",
        {"max_body_bytes": 2048},
    ),
    Case(
        "foreign Host",
        foreign_host,
        anthropic.BadRequestError,
        400,
        "invalid_request_error",
        {"allowed_hosts": ["fcproxy.example"]},
    ),
    Case("unknown path", unknown_path, anthropic.NotFoundError, 404, "not_found_error"),
    Case("GET", wrong_method, anthropic.APIStatusError, 405, "invalid_request_error"),
    Case("not JSON", not_json, anthropic.APIStatusError, 415, "invalid_request_error"),
    Case(
        "slot and queue full",
        while_the_only_slot_is_busy,
        anthropic.RateLimitError,
        429,
        "rate_limit_error",
        {"max_concurrency": 1, "max_queue": 0},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_anthropic_sdk_raises_its_own_error_for_each_refusal(
    make_proxy: MakeProxy, case: Case
) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes", **case.settings)
    with pytest.raises(case.raises) as raised:
        case.call(proxy)
    error = raised.value
    assert error.status_code == case.status
    assert isinstance(error.body, dict)
    assert error.body["type"] == "error"
    assert error.body["error"]["type"] == case.error_type
    assert error.body["error"]["message"]
    # The server keeps serving: a good request still gets its message.
    if case.status != 401:
        assert sdk(proxy).messages.create(**ASK).type == "message"


@pytest.mark.parametrize(
    ("path", "anthropic_shape"),
    [
        ("/v1/messages/nope", True),
        ("/messages/nope", True),
        ("/v1/messagesx", False),
        ("/v1/chat/nope", False),
        ("/nope", False),
    ],
)
def test_the_envelope_follows_the_path(
    make_proxy: MakeProxy, path: str, anthropic_shape: bool
) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes")
    body = httpx.post(proxy.url + path, json={}, timeout=10).json()
    if anthropic_shape:
        assert body == {
            "type": "error",
            "error": {"type": "not_found_error", "message": body["error"]["message"]},
        }
    else:
        assert body["error"]["code"] == "not_found" and "type" not in body


def test_a_body_too_slow_for_body_timeout_gets_anthropics_408(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes", body_timeout=0.5)
    body = json.dumps(ASK).encode()
    head = (
        f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", proxy.server.port), timeout=10) as sock:
        sock.sendall(head + body[:10])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 ")
    error = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert error["type"] == "error" and error["error"]["type"] == "timeout_error"
