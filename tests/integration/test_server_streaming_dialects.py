"""Streaming through fcproxy in front of every backend dialect, and client disconnects.

Each fake upstream (tests/fakes/upstream.py) streams in its real server's own
framing, one event per token; it stands in for that server, which cannot run
here. What is checked: the OpenAI SDK assembles the same message streamed as
not, content and call arguments arrive in several chunks, and a client that
leaves closes the upstream connection within a second, streamed or not.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.upstream import DIALECTS
from tests.integration.conftest import MakeProxy
from tests.integration.test_server_streaming import MESSAGES, TOOLS, assemble, sdk

STREAMING_DIALECTS = [d for d in DIALECTS if d != "webui-legacy"]
CALL = (
    "Checking the weather for you now.\n<tool_call>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris, France, the capital city"}}\n'
    "</tool_call>"
)
POEM = " ".join(f"word{i}" for i in range(400))


def counted(chunks: list[Any]) -> tuple[int, int]:
    """(content chunks, argument fragments)."""
    content = fragments = 0
    for chunk in chunks:
        for choice in chunk.choices:
            content += bool(choice.delta.content)
            fragments += sum(
                1 for tc in choice.delta.tool_calls or [] if tc.function and tc.function.arguments
            )
    return content, fragments


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_streams_the_non_streamed_answer(make_proxy: MakeProxy, dialect: str) -> None:
    proxy = make_proxy(dialect, wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply(CALL, CALL)
    client = sdk(proxy)
    whole = client.chat.completions.create(model="m", messages=MESSAGES, tools=TOOLS)
    chunks = list(
        client.chat.completions.create(model="m", messages=MESSAGES, tools=TOOLS, stream=True)
    )
    got = assemble(chunks)
    message = whole.choices[0].message
    assert message.tool_calls is not None
    assert got["content"] == message.content == "Checking the weather for you now."
    assert got["calls"] == [
        (c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls
    ]
    content, fragments = counted(chunks)
    if dialect == "webui-legacy":  # no stream upstream: the answer comes in one piece
        assert (content, fragments) == (1, 1)
    else:
        assert content > 3 and fragments > 3


@pytest.mark.parametrize("dialect", STREAMING_DIALECTS)
def test_text_arrives_before_the_generation_ends(make_proxy: MakeProxy, dialect: str) -> None:
    proxy = make_proxy(dialect)
    assert proxy.upstream is not None
    proxy.upstream.token_delay = 0.01
    proxy.upstream.reply(POEM)
    started = time.monotonic()
    first = None
    chunks = 0
    with httpx.stream(
        "POST",
        proxy.url + "/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES, "stream": True, "max_tokens": 1000},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            choices = json.loads(line[6:])["choices"]
            if choices and (choices[0]["delta"].get("content") or "").strip():
                first = first or time.monotonic() - started
                chunks += 1
    total = time.monotonic() - started
    assert first is not None and chunks > 100
    # 400 tokens 10 ms apart take 4 s; the first one must not wait for them.
    assert first < total / 4


@pytest.mark.parametrize("dialect", ["llama-server", "ollama", "webui"])
def test_a_client_leaving_a_stream_closes_the_upstream_connection(
    make_proxy: MakeProxy, dialect: str
) -> None:
    proxy = make_proxy(dialect)
    assert proxy.upstream is not None
    proxy.upstream.token_delay = 0.02
    proxy.upstream.reply(POEM)
    client = sdk(proxy)
    stream = client.chat.completions.create(
        model="m", messages=MESSAGES, stream=True, max_tokens=1000
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    left = time.monotonic()
    stream.close()
    closed = proxy.upstream.wait_for_disconnect(timeout=2)
    assert closed - left < 1.0


@pytest.mark.parametrize("dialect", ["llama-server", "ollama", "webui"])
def test_a_client_leaving_a_whole_answer_closes_the_upstream_connection(
    make_proxy: MakeProxy, dialect: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = make_proxy(dialect)
    assert proxy.upstream is not None
    proxy.upstream.trickle(0.01)  # the answer takes seconds to arrive
    proxy.upstream.reply(POEM)
    left: list[float] = []

    def impatient() -> None:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                proxy.url + "/v1/chat/completions",
                json={"model": "m", "messages": MESSAGES, "max_tokens": 1000},
                timeout=httpx.Timeout(10, read=0.5),
            )
        left.append(time.monotonic())

    thread = threading.Thread(target=impatient)
    thread.start()
    thread.join(10)
    closed = proxy.upstream.wait_for_disconnect(timeout=3)
    assert left and closed - left[0] < 1.0
    # A client that left is not an application error.
    time.sleep(0.2)
    assert "Exception in ASGI application" not in caplog.text


def test_a_stream_broken_off_mid_call_is_closed_into_valid_json(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes", grammar=False)
    assert proxy.upstream is not None
    proxy.upstream.reply(CALL)
    proxy.upstream.break_stream(after_tokens=len(CALL.split()) - 3)
    with pytest.raises(openai.APIError):
        # The upstream broke off: the error comes in the stream, after what was sent.
        list(
            sdk(proxy).chat.completions.create(
                model="m", messages=MESSAGES, tools=TOOLS, stream=True
            )
        )


def test_a_call_cut_by_max_tokens_ends_with_valid_json_and_length(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply(CALL)
    chunks = list(
        sdk(proxy).chat.completions.create(
            model="m", messages=MESSAGES, tools=TOOLS, stream=True, max_tokens=12
        )
    )
    got = assemble(chunks)  # json.loads of the joined fragments: they close into JSON
    assert got["calls"] and got["calls"][0][0] == "get_weather"
    assert got["finish"] == ["length"]
