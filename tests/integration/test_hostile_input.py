"""What a hostile client can send, against the real server before the fake upstream.

Two kinds of attack: a tool schema whose ``$ref`` points outside itself (the
server must neither fetch a URL nor read a file for it), and input that used
to crash a request with a 500 (lone surrogates, deep nesting, broken schemas).
Each answer is checked as the client sees it, and the server must keep serving.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integration.conftest import MakeProxy, RunningProxy
from tests.integration.test_server_errors import (
    GOOD_BODY,
    GOOD_OUTPUT,
    assert_error,
    assert_still_serving,
    post,
)
from tests.support.server import ServerThread

#: What the model answers in these tests: a valid call of ``lookup``, so the
#: pipeline would validate its arguments against the (hostile) schema.
LOOKUP_CALL = json.dumps({"function": "lookup", "params": {"inner_thoughts": "ok", "key": "x"}})


def with_lookup_tool(parameters: Any, **extra: Any) -> dict[str, Any]:
    """GOOD_BODY offering one tool, ``lookup``, with these ``parameters``."""
    tool = {"type": "function", "function": {"name": "lookup", "parameters": parameters}}
    return {**GOOD_BODY, "tools": [tool], **extra}


class RecordingListener:
    """An HTTP server on 127.0.0.1 that serves a JSON schema and records every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        app = Starlette(routes=[Route("/{path:path}", self._record, methods=["GET", "POST"])])
        self.server = ServerThread(app, name="recording-listener", lifespan="off")

    async def _record(self, request: Request) -> JSONResponse:
        self.requests.append(f"{request.method} {request.url.path}")
        return JSONResponse({"type": "string", "enum": ["served-by-the-listener"]})

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def listener() -> Iterator[RecordingListener]:
    recorder = RecordingListener()
    recorder.server.start()
    yield recorder
    recorder.server.stop()


@pytest.fixture
def proxy(make_proxy: MakeProxy) -> RunningProxy:
    return make_proxy("webui", max_retries=0)


def assert_still_serving_lookup(proxy: RunningProxy) -> None:
    """A good request with the ``lookup`` tool works (and uses up any reply left queued)."""
    assert proxy.upstream is not None
    proxy.upstream.reply(LOOKUP_CALL)
    good = {"type": "object", "properties": {"key": {"type": "string"}}}
    response = post(proxy, with_lookup_tool(good))
    assert response.status_code == 200, response.text
    [call] = response.json()["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "lookup"


# ---- 1. a schema never makes the server fetch or read anything ---------------


def remote_schemas(base: str) -> list[Any]:
    """Every way a schema could name something outside itself, all pointing at ``base``."""
    return [
        {"$ref": f"{base}/internal/admin.json"},
        {"type": "object", "properties": {"key": {"$ref": f"{base}/key.json"}}},
        # A relative reference, resolved against a remote $id.
        {"$id": f"{base}/schemas/", "type": "object", "properties": {"key": {"$ref": "k.json"}}},
        {"type": "object", "properties": {"key": {"$dynamicRef": f"{base}/meta.json#meta"}}},
        {"type": "object", "$defs": {"k": {"$ref": f"{base}/k.json"}}, "properties": {}},
        {"type": "object", "properties": {"key": {"$ref": "//127.0.0.1:1/other.json"}}},
    ]


@pytest.mark.parametrize("index", range(len(remote_schemas(""))))
def test_a_remote_schema_reference_is_400_and_never_fetched(
    proxy: RunningProxy, listener: RecordingListener, index: int
) -> None:
    schema = remote_schemas(listener.url)[index]
    assert proxy.upstream is not None
    proxy.upstream.reply(LOOKUP_CALL)
    message = assert_error(post(proxy, with_lookup_tool(schema)), 400)
    assert "'lookup'" in message
    assert "$ref" in message or "$dynamicRef" in message
    assert listener.requests == []
    assert not proxy.upstream.generation_requests
    assert_still_serving_lookup(proxy)
    assert listener.requests == []


def test_a_remote_reference_in_a_streamed_request_is_400_too(
    proxy: RunningProxy, listener: RecordingListener
) -> None:
    body = with_lookup_tool({"$ref": f"{listener.url}/x.json"}, stream=True)
    message = assert_error(post(proxy, body), 400)
    assert f"{listener.url}/x.json" in message
    assert listener.requests == []


def test_a_file_schema_reference_is_400_and_the_file_is_never_read(
    proxy: RunningProxy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "TOPSECRET-4f1c2e0b"
    secret_file = tmp_path / "secret.json"
    # Shaped so that a server reading it would quote it: the model's argument
    # does not match the enum, and the schema error names the enum's values.
    secret_file.write_text(json.dumps({"type": "string", "enum": [secret]}))
    assert proxy.upstream is not None
    answers: list[httpx.Response] = []
    with caplog.at_level(logging.DEBUG):
        for schema in (
            {"$ref": secret_file.as_uri()},
            {"type": "object", "properties": {"key": {"$ref": secret_file.as_uri()}}},
            {"type": "object", "properties": {"key": {"$ref": str(secret_file)}}},
            {"$id": tmp_path.as_uri() + "/", "properties": {"key": {"$ref": "secret.json"}}},
        ):
            proxy.upstream.reply(LOOKUP_CALL)
            answers.append(post(proxy, with_lookup_tool(schema)))
        for stream in (False, True):
            proxy.upstream.reply(LOOKUP_CALL)
            body = with_lookup_tool(
                {"properties": {"key": {"$ref": secret_file.as_uri()}}}, stream=stream
            )
            answers.append(post(proxy, body))
    for answer in answers:
        message = assert_error(answer, 400)
        assert "lookup" in message
        assert secret not in answer.text
        assert secret not in json.dumps(dict(answer.headers))
    assert secret not in caplog.text
    assert not proxy.upstream.generation_requests
    assert_still_serving_lookup(proxy)


def test_local_references_still_work(proxy: RunningProxy) -> None:
    schema = {
        "type": "object",
        "$defs": {"key": {"type": "string", "enum": ["x"]}},
        "properties": {"key": {"$ref": "#/$defs/key"}},
        "required": ["key"],
    }
    assert proxy.upstream is not None
    proxy.upstream.reply(LOOKUP_CALL)
    response = post(proxy, with_lookup_tool(schema))
    assert response.status_code == 200, response.text
    call = response.json()["choices"][0]["message"]["tool_calls"][0]["function"]
    assert json.loads(call["arguments"]) == {"key": "x"}
    assert "x-fcproxy-warning" not in response.headers
    # The reference is followed when checking: a value outside the enum is reported.
    proxy.upstream.reply(LOOKUP_CALL.replace('"x"', '"y"'))
    response = post(proxy, with_lookup_tool(schema))
    assert response.status_code == 200, response.text
    assert "'y' is not one of ['x']" in response.headers["x-fcproxy-warning"]


# ---- 3. no 500 from client input -----------------------------------------------


def nested_json(depth: int) -> bytes:
    return b'{"model": "x", "messages": ' + b"[" * depth + b"]" * depth + b"}"


def nested_schema(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"key": schema}}
    return schema


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (nested_json(10_000), "nested"),
        (nested_json(100), "nested"),
        (b'{"model": "x", "messages": ' + b"[" * 10_000, "nested"),
        (b'{"model": "x", "temperature": NaN, "messages": []}', "NaN"),
        (b'{"model": "x", "max_tokens": 1' + b"0" * 5000 + b', "messages": []}', "JSON"),
        (b'"\\"\\"\\"' + b'\\"' * 100_000, "JSON"),
    ],
    ids=["10000-levels", "100-levels", "unclosed", "nan", "5000-digit-number", "escaped-quotes"],
)
@pytest.mark.parametrize("route", ["chat/completions", "embeddings"])
def test_a_hostile_body_is_400(proxy: RunningProxy, route: str, raw: bytes, expected: str) -> None:
    response = httpx.post(
        f"{proxy.base_url}/{route}",
        content=raw,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert expected in assert_error(response, 400)
    assert_still_serving(proxy)


def test_json_nested_to_the_limit_is_read(proxy: RunningProxy) -> None:
    # 64 levels: the body's object and 63 lists in a field fcproxy ignores.
    deep: Any = "leaf"
    for _ in range(63):
        deep = [deep]
    body = {**GOOD_BODY, "metadata": deep}
    assert proxy.upstream is not None
    proxy.upstream.reply(GOOD_OUTPUT)
    assert post(proxy, body).status_code == 200
    deeper = {**GOOD_BODY, "metadata": [deep]}
    assert "nested" in assert_error(post(proxy, deeper), 400)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (nested_schema(20), "nested more than 32 levels"),
        ({"type": "object", "properties": "key"}, "properties"),
        ({"type": "object", "properties": {"key": {"type": "strin"}}}, "strin"),
        ({"type": "object", "required": "key"}, "required"),
        ({"type": "object", "properties": {"key": {"items": 3}}}, "items"),
        ({"$ref": "#"}, "itself"),
        ({"$ref": "#/$defs/missing"}, "#/$defs/missing"),
        ({"anyOf": [{"$ref": "#/$defs/a"}], "$defs": {"a": {"$ref": "#"}}}, "itself"),
    ],
    ids=[
        "20-objects-deep",
        "properties-string",
        "unknown-type",
        "required-string",
        "items-number",
        "ref-to-itself",
        "ref-to-nothing",
        "ref-loop",
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_a_broken_tool_schema_is_400_naming_the_tool(
    proxy: RunningProxy, parameters: Any, expected: str, stream: bool
) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply(LOOKUP_CALL)
    message = assert_error(post(proxy, with_lookup_tool(parameters, stream=stream)), 400)
    assert "'lookup'" in message
    assert expected in message
    assert not proxy.upstream.generation_requests
    assert_still_serving_lookup(proxy)


def test_a_tool_schema_nested_250_levels_is_400(proxy: RunningProxy) -> None:
    # Past the body's own limit: refused before any schema is looked at.
    message = assert_error(post(proxy, with_lookup_tool(nested_schema(250))), 400)
    assert "nested more than 64 levels" in message
    assert_still_serving(proxy)


def test_a_broken_schema_in_the_functions_dialect_is_400_too(proxy: RunningProxy) -> None:
    body = {
        "model": "local",
        "messages": [{"role": "user", "content": "hi"}],
        "functions": [{"name": "lookup", "parameters": {"properties": "key"}}],
    }
    message = assert_error(post(proxy, body), 400)
    assert "'lookup'" in message and "properties" in message
    assert_still_serving(proxy)


LONE_SURROGATE = b'"\\ud800 and \\udfff"'


@pytest.mark.parametrize("stream", [False, True])
def test_lone_surrogates_in_content_are_replaced(proxy: RunningProxy, stream: bool) -> None:
    raw = (
        b'{"model": "local", "stream": '
        + (b"true" if stream else b"false")
        + b', "messages": [{"role": "user", "content": '
        + LONE_SURROGATE
        + b'}, {"role": "user", "content": "pair \\ud83d\\ude00 kept"}]}'
    )
    assert proxy.upstream is not None
    proxy.upstream.reply("Hello there")
    response = post(proxy, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    if stream:
        assert response.text.rstrip().endswith("data: [DONE]")
    assert "surrogate" in response.headers["x-fcproxy-warning"]
    prompt = proxy.upstream.prompts_seen[-1]
    assert "\ufffd and \ufffd" in prompt
    assert "pair \U0001f600 kept" in prompt
    assert_still_serving(proxy)


def test_lone_surrogates_in_an_embeddings_input_are_replaced(proxy: RunningProxy) -> None:
    raw = b'{"model": "local", "input": ' + LONE_SURROGATE + b"}"
    response = httpx.post(
        f"{proxy.base_url}/embeddings",
        content=raw,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert proxy.upstream is not None
    expected = proxy.upstream.embedding("\ufffd and \ufffd")
    assert response.json()["data"][0]["embedding"] == pytest.approx(expected)


def test_lone_surrogates_in_a_tool_schema_are_replaced(proxy: RunningProxy) -> None:
    raw = json.dumps(with_lookup_tool({"type": "object", "description": "\ud800"})).encode("ascii")
    assert b"\\ud800" in raw
    assert proxy.upstream is not None
    proxy.upstream.reply(LOOKUP_CALL)
    response = post(proxy, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


class SurrogateUpstream:
    """An OpenAI completions server whose answers hold ``\\ud800`` escapes (raw bytes:
    the fake upstream serializes with Python's json, which would refuse them)."""

    def __init__(self) -> None:
        self.fail = False
        app = Starlette(
            routes=[
                Route("/v1/completions", self._complete, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )
        self.server = ServerThread(app, name="surrogate-upstream", lifespan="off")

    async def _complete(self, request: Request) -> Response:
        if self.fail:
            body = b'{"error": {"message": "broken \\ud800 here", "code": 500}}'
            return Response(body, status_code=500, media_type="application/json")
        body = b'{"choices": [{"text": "Hi \\ud800 there", "finish_reason": "stop"}]}'
        return Response(body, media_type="application/json")

    async def _models(self, request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "m", "object": "model"}]})


@pytest.mark.parametrize("stream", [False, True])
def test_lone_surrogates_from_the_upstream_are_replaced(
    make_proxy: MakeProxy, stream: bool
) -> None:
    upstream = SurrogateUpstream()
    upstream.server.start()
    try:
        proxy = make_proxy("openai-completions", upstream_url=upstream.server.url)
        body = {"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
        response = post(proxy, body)
        assert response.status_code == 200, response.text
        assert "Hi \ufffd there" in (
            response.text if stream else response.json()["choices"][0]["message"]["content"]
        )
        upstream.fail = True
        message = assert_error(post(proxy, body), 502)
        assert "broken" in message
    finally:
        upstream.server.stop()
