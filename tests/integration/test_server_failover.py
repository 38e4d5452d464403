"""A model served by two upstreams: least busy first, failover, and recovery.

Two fake webui servers behind one model-table entry. One is stopped in the
middle of a run of requests (plain and streamed): no client sees an error,
because every request that failed did so before anything was sent to its
client, and went to the other upstream. Once the stopped one serves again on
its port, the health probe brings it back into rotation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from proxy.app import create_app
from proxy.config import ModelEntry, Settings
from tests.fakes.upstream import FakeUpstream
from tests.support.server import ServerThread

MODEL = "pooled"


@pytest.fixture
def upstreams() -> Iterator[tuple[FakeUpstream, FakeUpstream]]:
    with FakeUpstream("webui") as first, FakeUpstream("webui") as second:
        yield first, second


def serve(first: FakeUpstream, second: FakeUpstream, **options: Any) -> ServerThread:
    settings = Settings(
        upstream=first.url,
        backend="webui",
        models=[ModelEntry(name=MODEL, upstreams=[first.url, second.url])],
        down_backoff_s=0.2,
        health_check_interval_s=0.1,
        **options,
    )
    return ServerThread(create_app(settings), name="fcproxy")  # started by `with`


def chat(stream: bool = False) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": stream}


def upstream_states(client: httpx.Client) -> dict[str, bool]:
    health = client.get("/health").json()
    return {u["url"]: u["up"] for u in health["upstreams"]}


async def wait_until(done: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_requests_go_to_the_least_busy_upstream(
    upstreams: tuple[FakeUpstream, FakeUpstream],
) -> None:
    first, second = upstreams
    first.delay = 0.2  # the first one is slow: its slot stays taken longer

    async def run(server: ServerThread) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
            answers = await asyncio.gather(
                *(client.post("/v1/chat/completions", json=chat()) for _ in range(8))
            )
        assert [a.status_code for a in answers] == [200] * 8

    # The server starts outside the test's event loop: it runs its own, in a thread.
    with serve(first, second) as server:
        asyncio.run(run(server))
    # Both served: with one request in flight the idle one is "least busy".
    assert first.generation_requests and second.generation_requests


def test_a_stopped_upstream_costs_no_client_an_error_and_comes_back(
    upstreams: tuple[FakeUpstream, FakeUpstream],
) -> None:
    first, second = upstreams
    port = int(first.url.rsplit(":", 1)[1])
    statuses: list[int] = []

    async def one(client: httpx.AsyncClient, index: int) -> None:
        if index % 2:
            async with client.stream(
                "POST", "/v1/chat/completions", json=chat(stream=True)
            ) as answer:
                body = (await answer.aread()).decode()
                assert answer.status_code != 200 or "[DONE]" in body
                statuses.append(answer.status_code)
        else:
            statuses.append((await client.post("/v1/chat/completions", json=chat())).status_code)

    async def run(server: ServerThread) -> None:
        if True:
            async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
                for index in range(20):
                    await asyncio.gather(*(one(client, index * 4 + k) for k in range(4)))
                    if index == 8:
                        first.stop()  # killed mid-run
                assert statuses == [200] * 80, statuses
                sync = httpx.Client(base_url=server.url, timeout=5)
                assert upstream_states(sync) == {first.url: False, second.url: True}
                # Still serving: one upstream of the model's two answers.
                assert sync.get("/health").status_code == 200
                assert MODEL in [m["id"] for m in sync.get("/v1/models").json()["data"]]
                served_before = len(first.generation_requests)

                first.start(port=port)  # it recovers, on its old port
                await wait_until(lambda: upstream_states(sync)[first.url])
                for _ in range(6):
                    await asyncio.gather(*(one(client, 0) for _ in range(2)))
                assert len(first.generation_requests) > served_before
                metrics = sync.get("/metrics").text
                sync.close()
        assert f'fcproxy_upstream_up{{upstream="{first.url}"}} 1.0' in metrics

    with serve(first, second) as server:
        asyncio.run(run(server))
    assert statuses == [200] * 92


def test_a_model_with_every_upstream_down_is_unavailable(
    upstreams: tuple[FakeUpstream, FakeUpstream],
) -> None:
    first, second = upstreams
    with serve(first, second) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        first.stop()
        second.stop()
        answer = client.post("/v1/chat/completions", json=chat())
        assert answer.status_code == 502
        assert answer.json()["error"]["code"] == "upstream_unavailable"
        assert upstream_states(client) == {first.url: False, second.url: False}
        assert client.get("/health").status_code == 503
        assert MODEL not in [m["id"] for m in client.get("/v1/models").json()["data"]]
