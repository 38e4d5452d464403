"""Who may use the server: API keys, /health without one, JSON-only POSTs,
allowed hosts and CORS. Raw HTTP against the real server, as a browser or a
script would send it.

The upstream is tests/fakes/upstream.py standing in for text-generation-webui;
each refused request is checked never to have reached it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.fakes.net import free_port
from tests.integration.conftest import MakeProxy, RunningProxy
from tests.support.shared import assert_valid

CHAT: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
EVIL = "http://evil.example"


def assert_envelope(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid(body, "ErrorResponse")
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    return message


def generations(proxy: RunningProxy) -> int:
    assert proxy.upstream is not None
    return len(proxy.upstream.generation_requests)


# ---- API keys and /health -------------------------------------------------------


@pytest.fixture
def keyed(make_proxy: MakeProxy) -> RunningProxy:
    return make_proxy("webui", api_keys=["first-key-1", "second-key-2"])


@pytest.mark.parametrize("key", ["first-key-1", "second-key-2"])
def test_each_configured_key_is_accepted(keyed: RunningProxy, key: str) -> None:
    assert keyed.upstream is not None
    keyed.upstream.reply("hello")
    response = httpx.post(
        f"{keyed.base_url}/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer None",  # what MemGPT sends when it has no key
        "Bearer first-key",  # a prefix of a key
        "Bearer first-key-1x",
        "Basic first-key-1",
        "Bearer \xfcber",  # not ASCII: must be a 401, not a 500
    ],
)
def test_a_missing_or_wrong_key_is_401(keyed: RunningProxy, header: str | None) -> None:
    headers = {"Authorization": header.encode("latin-1")} if header else {}
    for response in (
        httpx.post(f"{keyed.base_url}/chat/completions", json=CHAT, headers=headers),
        httpx.get(f"{keyed.base_url}/models", headers=headers),
    ):
        assert_envelope(response, 401, "invalid_api_key")
    assert generations(keyed) == 0


def test_health_without_a_key_says_only_up_or_down(keyed: RunningProxy) -> None:
    anonymous = httpx.get(f"{keyed.url}/health")
    wrong = httpx.get(f"{keyed.url}/health", headers={"Authorization": "Bearer nope"})
    full = httpx.get(f"{keyed.url}/v1/health", headers={"Authorization": "Bearer first-key-1"})
    assert anonymous.status_code == wrong.status_code == full.status_code == 200
    assert anonymous.json() == wrong.json() == {"status": "ok"}
    detail = full.json()
    assert detail["status"] == "ok" and "version" in detail
    assert detail["upstreams"][0]["url"] == keyed.settings.upstream


def test_health_without_a_key_still_reports_a_down_upstream(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui", api_keys=["k-1234"], upstream_url=f"http://127.0.0.1:{free_port()}")
    response = httpx.get(f"{proxy.url}/health")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


def test_health_without_configured_keys_shows_everything(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui")
    body = httpx.get(f"{proxy.url}/health").json()
    assert body["upstreams"][0]["backend"] == "webui" and "version" in body


# ---- JSON bodies only ----------------------------------------------------------


@pytest.fixture
def proxy(make_proxy: MakeProxy) -> RunningProxy:
    return make_proxy("webui")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",  # what fetch() sets for a string body
        "application/x-www-form-urlencoded",  # an HTML form; curl -d without -H
        "multipart/form-data; boundary=x",
        None,  # fetch() with an untyped Blob body sends none
        "application/jsonp",
    ],
)
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/chat/completions", "/v1/embeddings"])
def test_a_post_not_declared_json_is_415_and_never_reaches_the_upstream(
    proxy: RunningProxy, content_type: str | None, path: str
) -> None:
    body = json.dumps({**CHAT, "input": "x"}).encode()
    headers = {"Origin": EVIL}
    if content_type:
        headers["Content-Type"] = content_type
    response = httpx.post(f"{proxy.url}{path}", content=body, headers=headers)
    message = assert_envelope(response, 415, "unsupported_media_type")
    assert "application/json" in message
    assert proxy.upstream is not None
    assert [r.path for r in proxy.upstream.requests if r.method == "POST"] == []


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_with_any_charset_is_accepted(proxy: RunningProxy, content_type: str) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply("hello")
    response = httpx.post(
        f"{proxy.base_url}/chat/completions",
        content=json.dumps(CHAT).encode(),
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200, response.text


# ---- allowed hosts ---------------------------------------------------------------


@pytest.fixture
def hosted(make_proxy: MakeProxy) -> RunningProxy:
    return make_proxy("webui", allowed_hosts=["fcproxy.lan", "*.example.com"])


@pytest.mark.parametrize(
    "host",
    ["fcproxy.lan", "FCPROXY.LAN:8000", "api.example.com", "localhost:1", "127.0.0.1", "[::1]:80"],
)
def test_an_allowed_or_loopback_host_is_served(hosted: RunningProxy, host: str) -> None:
    assert hosted.upstream is not None
    hosted.upstream.reply("hello")
    response = httpx.post(f"{hosted.base_url}/chat/completions", json=CHAT, headers={"Host": host})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("host", ["evil.example", "example.com", "fcproxy.lan.evil.example", ""])
def test_another_host_is_400_before_anything_runs(hosted: RunningProxy, host: str) -> None:
    for response in (
        httpx.post(f"{hosted.base_url}/chat/completions", json=CHAT, headers={"Host": host}),
        httpx.get(f"{hosted.url}/health", headers={"Host": host}),
    ):
        assert_envelope(response, 400, "host_not_allowed")
    assert generations(hosted) == 0


def test_without_allowed_hosts_any_host_is_served(proxy: RunningProxy) -> None:
    response = httpx.get(f"{proxy.url}/health", headers={"Host": "whatever.example"})
    assert response.status_code == 200


# ---- CORS ----------------------------------------------------------------------------


def preflight(proxy: RunningProxy, origin: str) -> httpx.Response:
    return httpx.options(
        f"{proxy.base_url}/chat/completions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_cors_is_off_by_default(proxy: RunningProxy) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply("hello")
    assert "access-control-allow-origin" not in preflight(proxy, EVIL).headers
    response = httpx.post(f"{proxy.base_url}/chat/completions", json=CHAT, headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in response.headers


def test_cors_answers_only_the_configured_origins(make_proxy: MakeProxy) -> None:
    app = "http://localhost:3000"
    proxy = make_proxy("webui", cors_origins=[app])
    assert proxy.upstream is not None
    allowed = preflight(proxy, app)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == app
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

    proxy.upstream.reply("hello")
    response = httpx.post(f"{proxy.base_url}/chat/completions", json=CHAT, headers={"Origin": app})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == app
    assert "x-fcproxy-attempts" in response.headers["access-control-expose-headers"]

    refused = preflight(proxy, EVIL)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
