"""Upstream capacity through the real server: slots, a bounded queue, 429 past it.

The upstream is a webui fake that holds every generation until the test lets
it go, so who got a slot, who waits and who was turned away is decided by
fcproxy alone, not by timing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import HeldUpstream
from tests.integration.conftest import MakeProxy, RunningProxy

CHAT = "/v1/chat/completions"


@pytest.fixture
def held() -> Iterator[HeldUpstream]:
    with HeldUpstream() as fake:
        yield fake


def chat(text: str) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


def capacity(proxy: RunningProxy) -> dict[str, Any]:
    [upstream] = httpx.get(proxy.url + "/health", timeout=5).json()["upstreams"]
    return {k: upstream[k] for k in ("in_flight", "queued", "max_concurrency", "max_queue")}


async def wait_for(done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def test_100_clients_on_one_slot_and_a_queue_of_10_get_200s_and_429s_only(
    make_proxy: MakeProxy, held: HeldUpstream
) -> None:
    proxy = make_proxy(upstream_url=held.url, max_concurrency=1, max_queue=10)
    limits = httpx.Limits(max_connections=120, max_keepalive_connections=120)
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30, limits=limits) as client:
        calls = [
            asyncio.create_task(client.post(CHAT, json=chat(f"client {n}"))) for n in range(100)
        ]
        # One slot and ten places in the queue: the other 89 are turned away
        # at once, while the upstream still holds the first generation.
        await wait_for(lambda: sum(c.done() for c in calls) == 89)
        assert capacity(proxy) == {
            "in_flight": 1,
            "queued": 10,
            "max_concurrency": 1,
            "max_queue": 10,
        }
        assert len(held.generation_requests) == 1

        held.held = False
        answers = await asyncio.gather(*calls)

    statuses = [a.status_code for a in answers]
    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == 11 == len(held.generation_requests)
    assert held.most_generating == 1
    for answer in answers:
        if answer.status_code == 429:
            error = answer.json()["error"]
            assert error["code"] == "rate_limit_exceeded" and error["type"] == "requests"
            assert int(answer.headers["retry-after"]) >= 1
            assert "max_queue 10" in error["message"]
    # Drained: nothing waits, nothing runs, and the next request goes through.
    assert capacity(proxy)["in_flight"] == 0 and capacity(proxy)["queued"] == 0
    assert httpx.post(proxy.url + CHAT, json=chat("after"), timeout=10).status_code == 200


async def test_a_queued_request_whose_client_left_never_reaches_the_upstream(
    make_proxy: MakeProxy, held: HeldUpstream
) -> None:
    proxy = make_proxy(upstream_url=held.url, max_concurrency=1, max_queue=10)
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as first_client:
        first = asyncio.create_task(first_client.post(CHAT, json=chat("first in line")))
        await wait_for(lambda: held.generating == 1)
        async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as leaving_client:
            leaving = asyncio.create_task(leaving_client.post(CHAT, json=chat("leaves early")))
            await wait_for(lambda: capacity(proxy)["queued"] == 1)
            leaving.cancel()  # closes its connection: the client is gone
            with pytest.raises(asyncio.CancelledError):
                await leaving
        await wait_for(lambda: capacity(proxy)["queued"] == 0)

        held.held = False
        assert (await first).status_code == 200
    prompts = [r.json["prompt"] for r in held.generation_requests if r.json]
    assert len(prompts) == 1 and "first in line" in prompts[0]
    assert capacity(proxy)["in_flight"] == 0


async def test_a_generating_request_whose_client_left_frees_its_slot(
    make_proxy: MakeProxy, held: HeldUpstream
) -> None:
    # The client hangs up while the upstream is still generating: fcproxy
    # cancels its side (cancel_on_disconnect), the slot frees at once, and the
    # upstream, still held, is not waited for.
    proxy = make_proxy(upstream_url=held.url, max_concurrency=1, max_queue=10)
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as leaving_client:
        leaving = asyncio.create_task(leaving_client.post(CHAT, json=chat("leaves mid-way")))
        await wait_for(lambda: held.generating == 1 and capacity(proxy)["in_flight"] == 1)
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
    await wait_for(lambda: capacity(proxy)["in_flight"] == 0)
    assert held.held  # nothing was released: the slot freed because the client left
    held.held = False
    assert httpx.post(proxy.url + CHAT, json=chat("after"), timeout=10).status_code == 200


async def test_a_request_that_waits_past_queue_timeout_gets_429(
    make_proxy: MakeProxy, held: HeldUpstream
) -> None:
    proxy = make_proxy(upstream_url=held.url, max_concurrency=1, max_queue=10, queue_timeout_s=0.5)
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as client:
        first = asyncio.create_task(client.post(CHAT, json=chat("first")))
        await wait_for(lambda: held.generating == 1)
        late = await client.post(CHAT, json=chat("second"))
        assert late.status_code == 429
        assert "queue_timeout_s" in late.json()["error"]["message"]
        assert late.headers["retry-after"]
        held.held = False
        assert (await first).status_code == 200
    assert len(held.generation_requests) == 1


def test_health_shows_each_upstreams_capacity_sized_to_its_backend(
    make_proxy: MakeProxy,
) -> None:
    proxy = make_proxy("vllm")
    assert capacity(proxy) == {"in_flight": 0, "queued": 0, "max_concurrency": 16, "max_queue": 16}
