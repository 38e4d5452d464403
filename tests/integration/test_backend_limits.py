"""The limits of an exchange with the upstream hold, whole answers and streams alike.

A trickling upstream (one byte at a time) is stopped by the total deadline,
which httpx's per-read timeout never reaches; a slow start by the first-byte
one, a stalled stream by the idle one; a huge answer is refused past
``max_upstream_bytes``. Against the fakes of tests/fakes/upstream.py
(``trickle`` and ``huge`` modes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from proxy.backends import Backend
from proxy.backends.base import GenerationParams, collect
from proxy.errors import UpstreamError, UpstreamTimeout
from tests.fakes.upstream import DIALECTS, FakeUpstream
from tests.integration.conftest import MakeProxy

Connect = Callable[..., Backend]
MakeFake = Callable[..., FakeUpstream]

PROMPT = "USER: count"
STREAMING = [d for d in DIALECTS if d != "webui-legacy"]


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def generate(backend: Backend, streamed: bool) -> None:
    if streamed:
        await collect(backend.stream(PROMPT, GenerationParams()))
    else:
        await backend.complete(PROMPT, GenerationParams())


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_a_trickling_upstream_is_stopped_by_the_total_timeout(
    streamed: bool, dialect: str, fake: FakeUpstream, connect: Connect
) -> None:
    # Every byte comes within httpx's per-read timeout; the answer never ends in time.
    fake.trickle(0.02)
    backend = connect(fake.backend_name, fake.url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match=r"within 0\.5 s \(timeout\)") as caught:
        await generate(backend, streamed)
    assert time.monotonic() - started < 0.5 + 1.0
    assert caught.value.status_code == 504
    # The connection was closed: the upstream saw the client leave.
    await asyncio.to_thread(fake.wait_for_disconnect)


async def test_a_slow_start_is_stopped_by_the_first_byte_timeout(
    fake_upstream: MakeFake, connect: Connect
) -> None:
    fake = fake_upstream("llama-server")
    fake.delay = 5.0
    backend = connect(fake.backend_name, fake.url, timeout=30, first_byte_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match=r"did not start answering .* within 0\.3 s"):
        await collect(backend.stream(PROMPT, GenerationParams()))
    assert time.monotonic() - started < 0.3 + 1.0


async def test_the_first_byte_of_a_stream_is_its_first_text(
    fake_upstream: MakeFake, connect: Connect
) -> None:
    # webui sends its headers and an empty first chunk at once; the first
    # text only after the first token: that is what the limit waits for.
    fake = fake_upstream("webui")
    fake.reply("one two")
    fake.token_delay = 5.0
    backend = connect(fake.backend_name, fake.url, timeout=30, first_byte_timeout=0.3)
    with pytest.raises(UpstreamTimeout, match="first_byte_timeout"):
        await collect(backend.stream(PROMPT, GenerationParams()))


@pytest.mark.parametrize("streaming", STREAMING)
async def test_a_stalled_stream_is_stopped_by_the_idle_timeout(
    streaming: str, fake_upstream: MakeFake, connect: Connect
) -> None:
    fake = fake_upstream(streaming)
    fake.reply("one two three")
    fake.token_delay = 0.6
    backend = connect(fake.backend_name, fake.url, timeout=30, idle_timeout=0.3)
    received: list[str] = []
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match=r"went silent for 0\.3 s .*\(idle_timeout\)"):
        async for delta in backend.stream(PROMPT, GenerationParams()):
            received.append(delta.text)
    # The first token came after 0.6 s (before any text the idle clock does
    # not run); the second would have come 0.6 s later.
    assert received == ["one"]
    assert time.monotonic() - started < 0.6 + 0.3 + 1.0


async def test_a_whole_answer_that_stalls_is_stopped_by_the_idle_timeout(
    fake_upstream: MakeFake, connect: Connect
) -> None:
    fake = fake_upstream("webui")
    fake.trickle(0.5)
    backend = connect(fake.backend_name, fake.url, timeout=30, idle_timeout=0.2)
    with pytest.raises(UpstreamTimeout, match="idle_timeout"):
        await backend.complete(PROMPT, GenerationParams())


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_a_huge_answer_is_refused(
    streamed: bool, dialect: str, fake: FakeUpstream, connect: Connect
) -> None:
    fake.huge(256 * 1024)
    backend = connect(fake.backend_name, fake.url, max_upstream_bytes=64 * 1024)
    with pytest.raises(UpstreamError, match=r"65536 bytes .*max_upstream_bytes") as caught:
        await generate(backend, streamed)
    assert type(caught.value) is UpstreamError
    assert caught.value.status_code == 502
    # The upstream is still usable afterwards.
    fake.reply("one two")
    await generate(backend, streamed)


async def test_a_stream_line_longer_than_the_cap_is_refused(
    fake_upstream: MakeFake, connect: Connect
) -> None:
    # One token of 1 KiB: its event line alone passes a 1 KiB cap.
    fake = fake_upstream("llama-server")
    fake.huge(1024)
    backend = connect(fake.backend_name, fake.url, max_upstream_bytes=1024)
    with pytest.raises(UpstreamError, match="stream line longer than 1024 bytes"):
        await collect(backend.stream(PROMPT, GenerationParams()))


async def test_answers_within_the_limits_pass(fake_upstream: MakeFake, connect: Connect) -> None:
    fake = fake_upstream("ollama")
    fake.reply("one two three")
    fake.token_delay = 0.05
    backend = connect(
        fake.backend_name,
        fake.url,
        timeout=10,
        first_byte_timeout=2,
        idle_timeout=1,
        max_upstream_bytes=4096,
    )
    completion = await collect(backend.stream(PROMPT, GenerationParams()))
    assert completion.text == "one two three"


# -- through fcproxy ---------------------------------------------------------------


def test_fcproxy_answers_504_for_a_trickling_upstream_within_its_timeout(
    make_proxy: MakeProxy,
) -> None:
    proxy = make_proxy("webui", timeout=1.0)
    assert proxy.upstream is not None
    proxy.upstream.trickle(0.05)
    body = {"model": "chatml", "messages": [{"role": "user", "content": "hi"}]}
    started = time.monotonic()
    answer = httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=30)
    assert time.monotonic() - started < 1.0 + 1.0
    assert answer.status_code == 504
    error = answer.json()["error"]
    assert error["code"] == "upstream_timeout"
    assert "within 1 s (timeout)" in error["message"]


def test_fcproxy_answers_502_for_a_huge_upstream_answer(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui", max_upstream_bytes=64 * 1024)
    assert proxy.upstream is not None
    proxy.upstream.huge(1024 * 1024)
    body = {"model": "chatml", "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=30)
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error["code"] == "upstream_error"
    assert "max_upstream_bytes" in error["message"]
