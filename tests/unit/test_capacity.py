"""The upstream gate: slots, the FIFO queue, 429s, clients that leave, streams that hold a slot.

The gate's decisions are driven by the test (events, not timing); only the
queue timeout waits, for a fraction of a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from proxy.backends.base import (
    Completion,
    Embeddings,
    GenerationParams,
    Health,
    TextDelta,
    UpstreamConfig,
)
from proxy.capacity import GatedBackend, UpstreamGate, default_max_concurrency
from proxy.config import ModelEntry, Settings
from proxy.errors import ConfigError, UpstreamBusy
from proxy.routing import Router


def gate(max_concurrency: int = 1, max_queue: int = 2, queue_timeout: float = 30) -> UpstreamGate:
    return UpstreamGate(
        max_concurrency=max_concurrency, max_queue=max_queue, queue_timeout=queue_timeout
    )


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_slots_are_handed_over_in_order_of_arrival() -> None:
    g = gate(max_concurrency=1, max_queue=3)
    order: list[int] = []
    release = [asyncio.Event() for _ in range(4)]

    async def user(n: int) -> None:
        async with g.slot():
            order.append(n)
            await release[n].wait()

    tasks = []
    for n in range(4):
        tasks.append(asyncio.create_task(user(n)))
        await settle()
    assert (g.in_flight, g.queued) == (1, 3)
    for n in range(4):
        release[n].set()
        await settle()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3]
    assert (g.in_flight, g.queued) == (0, 0)


async def test_past_the_queue_a_request_is_turned_away_with_retry_after() -> None:
    g = gate(max_concurrency=2, max_queue=1)
    await g.acquire()
    await g.acquire()
    waiting = asyncio.create_task(g.acquire())
    await settle()
    with pytest.raises(UpstreamBusy) as caught:
        await g.acquire()
    error = caught.value
    assert error.status_code == 429 and error.code == "rate_limit_exceeded"
    assert int(error.headers["Retry-After"]) >= 1
    assert "2 requests are generating and 1 are queued" in error.message
    g.release()
    await waiting
    assert (g.in_flight, g.queued) == (2, 0)


async def test_without_a_queue_a_busy_upstream_answers_429_at_once() -> None:
    g = gate(max_concurrency=1, max_queue=0)
    await g.acquire()
    with pytest.raises(UpstreamBusy):
        await g.acquire()


async def test_a_waiting_request_that_is_cancelled_leaves_the_queue() -> None:
    g = gate(max_concurrency=1, max_queue=2)
    await g.acquire()
    leaving = asyncio.create_task(g.acquire())
    staying = asyncio.create_task(g.acquire())
    await settle()
    leaving.cancel()
    await settle()
    assert g.queued == 1
    g.release()
    await staying  # the slot skipped the one that left
    assert (g.in_flight, g.queued) == (1, 0)


async def test_a_slot_handed_to_a_request_cancelled_meanwhile_passes_on() -> None:
    g = gate(max_concurrency=1, max_queue=2)
    await g.acquire()
    unlucky = asyncio.create_task(g.acquire())
    next_one = asyncio.create_task(g.acquire())
    await settle()
    g.release()  # hands the slot to `unlucky` ...
    unlucky.cancel()  # ... which is cancelled before it could take it
    await settle()
    await next_one
    assert unlucky.cancelled()
    assert (g.in_flight, g.queued) == (1, 0)


async def test_a_request_waits_at_most_queue_timeout() -> None:
    g = gate(max_concurrency=1, max_queue=2, queue_timeout=0.05)
    await g.acquire()
    with pytest.raises(UpstreamBusy, match="queue_timeout_s"):
        await g.acquire()
    assert (g.in_flight, g.queued) == (1, 0)


async def test_retry_after_grows_with_how_long_slots_are_held() -> None:
    g = gate(max_concurrency=1, max_queue=0, queue_timeout=120)
    assert g.retry_after() == 1
    g._record_hold(30.0)  # an upstream that takes 30 s per request
    assert g.retry_after() == 30


async def test_more_slots_let_waiting_requests_in_at_once() -> None:
    g = gate(max_concurrency=1, max_queue=2)
    await g.acquire()
    waiting = [asyncio.create_task(g.acquire()) for _ in range(2)]
    await settle()
    g.resize(3)
    await asyncio.gather(*waiting)
    assert (g.in_flight, g.queued) == (3, 0)


class RecordingBackend:
    """A backend that generates on command and records what reached it."""

    name = "webui"
    base_url = "http://127.0.0.1:9"
    supports_grammar = False
    supports_json_schema = False

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.stream_closed = False
        self.go = asyncio.Event()

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        self.calls.append(prompt)
        await self.go.wait()
        return Completion(text="done")

    async def stream(self, prompt: str, params: GenerationParams) -> AsyncIterator[TextDelta]:
        self.calls.append(prompt)
        try:
            for word in ("one ", "two ", "three"):
                yield TextDelta(text=word)
        finally:
            self.stream_closed = True

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        self.calls.append("embed")
        await self.go.wait()
        return Embeddings(vectors=[[0.0]])

    async def models(self) -> list[str]:
        return ["m"]

    async def health(self) -> Health:
        return Health(ok=True, detail="fine")

    async def count_tokens(self, text: str) -> int | None:
        return 1

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def test_a_stream_holds_its_slot_until_the_iterator_is_closed() -> None:
    inner = RecordingBackend()
    backend = GatedBackend(inner, gate(max_concurrency=1), sized_by_default=False)
    deltas = backend.stream("p", GenerationParams())
    assert backend.gate.in_flight == 0  # nothing happens before the first read
    first = await anext(deltas)
    assert first.text == "one " and backend.gate.in_flight == 1
    await anext(deltas)
    assert backend.gate.in_flight == 1
    await deltas.aclose()  # type: ignore[attr-defined]
    assert inner.stream_closed, "the upstream stream was closed"
    assert backend.gate.in_flight == 0


async def test_generations_and_embeddings_wait_for_a_slot_listings_do_not() -> None:
    inner = RecordingBackend()
    backend = GatedBackend(inner, gate(max_concurrency=1, max_queue=5), sized_by_default=False)
    generating = asyncio.create_task(backend.complete("first", GenerationParams()))
    await settle()
    embedding = asyncio.create_task(backend.embed(["x"], None))
    await settle()
    assert inner.calls == ["first"] and backend.gate.queued == 1
    assert await backend.models() == ["m"]
    assert (await backend.health()).ok
    assert await backend.count_tokens("x") == 1
    inner.go.set()
    await asyncio.gather(generating, embedding)
    assert inner.calls == ["first", "embed"]


# -- where gates are made: one per upstream, sized to its backend --------------------------


def fake_factory(name: str, config: UpstreamConfig) -> Any:
    backend = RecordingBackend()
    backend.name = name  # type: ignore[misc]
    backend.base_url = config.url
    return backend


def gates(settings: Settings) -> dict[str, UpstreamGate]:
    router = Router(settings, backend_factory=fake_factory)
    found: dict[str, UpstreamGate] = {}
    for backend in router.backends():
        assert isinstance(backend, GatedBackend)
        found.setdefault(backend.base_url, backend.gate)
    return found


@pytest.mark.parametrize(
    ("backend", "expected"),
    [("webui", 4), ("llamacpp", 4), ("ollama", 4), ("openai-completions", 16), ("vllm", 16)],
)
def test_max_concurrency_defaults_to_the_backends_size(backend: str, expected: int) -> None:
    settings = Settings(upstream="http://127.0.0.1:5000", backend=backend)
    [g] = gates(settings).values()
    assert g.max_concurrency == expected == default_max_concurrency(backend)
    assert (g.max_queue, g.queue_timeout) == (16, 120)


def test_the_global_settings_and_a_model_entrys_own_apply_per_upstream() -> None:
    settings = Settings(
        upstream="http://127.0.0.1:5000",
        backend="webui",
        max_concurrency=2,
        max_queue=5,
        models=[
            ModelEntry(name="a", upstream="http://127.0.0.1:6000", max_concurrency=1),
            ModelEntry(name="b", upstream="http://127.0.0.1:6000", max_queue=0),
            ModelEntry(name="c"),
        ],
    )
    found = gates(settings)
    default, own = found["http://127.0.0.1:5000"], found["http://127.0.0.1:6000"]
    assert (default.max_concurrency, default.max_queue) == (2, 5)
    assert (own.max_concurrency, own.max_queue) == (1, 0)


def test_one_upstream_behind_two_keys_has_one_gate() -> None:
    settings = Settings(
        upstream="http://127.0.0.1:5000",
        backend="webui",
        models=[ModelEntry(name="a", upstream_api_key="other-key")],
    )
    router = Router(settings, backend_factory=fake_factory)
    first, second = router.backends()
    assert isinstance(first, GatedBackend) and isinstance(second, GatedBackend)
    assert first.gate is second.gate


def test_two_entries_giving_one_upstream_different_limits_is_a_config_error() -> None:
    settings = Settings(
        upstream="http://127.0.0.1:5000",
        backend="webui",
        models=[
            ModelEntry(name="a", max_concurrency=1),
            ModelEntry(name="b", max_concurrency=2),
        ],
    )
    with pytest.raises(ConfigError, match=r"models\[1\] \(b\): max_concurrency 2 conflicts"):
        Router(settings, backend_factory=fake_factory)


def test_a_max_concurrency_above_the_pool_widens_the_pool() -> None:
    made: list[UpstreamConfig] = []

    def factory(name: str, config: UpstreamConfig) -> Any:
        made.append(config)
        return fake_factory(name, config)

    Router(
        Settings(upstream="http://127.0.0.1:5000", backend="webui", max_concurrency=50),
        backend_factory=factory,
    )
    assert made[0].max_connections == 52
