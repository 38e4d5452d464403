"""Upstream capacity: a few requests upstream at once, a bounded queue for the rest.

Local LLM servers generate for one request (webui, koboldcpp, llama-cpp-python,
the embedded model) or a few (llama-server's slots, Ollama's
``OLLAMA_NUM_PARALLEL``, LM Studio's parallel predictions) at a time, and hold
the others in a queue of their own that fcproxy cannot see, bound or empty.
Every generation and embedding therefore passes an :class:`UpstreamGate`
first, one per upstream::

    gate = UpstreamGate(max_concurrency=1, max_queue=10, queue_timeout=120)
    backend = GatedBackend(LlamaCppBackend(config), gate)
    await backend.complete(prompt, params)   # waits for the slot, or 429

- at most ``max_concurrency`` requests are upstream at once; the next
  ``max_queue`` wait in order of arrival, each for ``queue_timeout`` seconds
  at most;
- past that, :class:`proxy.errors.UpstreamBusy`: HTTP 429 in OpenAI's
  rate-limit envelope with ``Retry-After`` (an estimate from how long the
  upstream took lately);
- a waiting request whose client left (its task cancelled) leaves the queue
  and never reaches the upstream;
- a stream holds its slot until its iterator is closed, so a streamed
  generation counts for as long as the upstream works on it.

The gate wraps a backend where backends are built (:mod:`proxy.routing`), so
no backend knows about it. Its counts (:meth:`UpstreamGate.snapshot`) are in
``/health``'s upstream entries.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any, Protocol

from proxy.backends.base import (
    Backend,
    Completion,
    Embeddings,
    GenerationParams,
    Health,
    TextDelta,
)
from proxy.errors import UpstreamBusy

logger = logging.getLogger(__name__)

#: ``max_concurrency`` when none is configured, by backend: how many requests
#: the server behind it generates for at once in its default set-up. More
#: would only wait in the upstream's own queue, where fcproxy can neither
#: bound the wait nor drop a request whose client left.
DEFAULT_MAX_CONCURRENCY: dict[str, int] = {
    # One model in this process; the backend serialises generations itself.
    "embedded": 1,
    # llama-server: 4 slots by default (-np auto); llama-cpp-python serves one.
    "llamacpp": 4,
    # A generation lock (webui) or a multi-user queue (koboldcpp): one at a
    # time, plus a request that is ready the moment the previous one ends.
    "koboldcpp": 4,
    "webui": 4,
    "webui-legacy": 4,
    # LM Studio's parallel predictions, Ollama's OLLAMA_NUM_PARALLEL: 4 where
    # memory allows, else 1.
    "lmstudio": 4,
    "lmstudio-legacy": 4,
    "ollama": 4,
    # vLLM, TabbyAPI, Aphrodite batch many sequences at once.
    "openai-completions": 16,
    "vllm": 16,
}
#: Any other backend (a plug-in), and ``auto`` until it has found its upstream.
FALLBACK_MAX_CONCURRENCY = 4


class GateObserver(Protocol):
    """Who hears of slot waits and generations (proxy/metrics.py's Metrics)."""

    def queued(self, upstream: str, seconds: float) -> None: ...

    def generated(self, upstream: str, seconds: float, ok: bool) -> None: ...


def default_max_concurrency(backend_name: str) -> int:
    return DEFAULT_MAX_CONCURRENCY.get(backend_name, FALLBACK_MAX_CONCURRENCY)


class UpstreamGate:
    """At most ``max_concurrency`` holders at once; FIFO queue of ``max_queue`` behind them."""

    def __init__(
        self,
        *,
        max_concurrency: int,
        max_queue: int,
        queue_timeout: float,
        label: str = "upstream",
    ) -> None:
        if max_concurrency < 1 or max_queue < 0 or queue_timeout <= 0:
            raise ValueError("max_concurrency >= 1, max_queue >= 0, queue_timeout > 0")
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.queue_timeout = queue_timeout
        #: Named in the 429's message (a backend name, never a URL: URLs may hold credentials).
        self.label = label
        self._in_flight = 0
        # Futures of the waiting requests, oldest first; a slot is handed to
        # the head by resolving its future, so no newcomer can overtake it.
        self._waiters: deque[asyncio.Future[None]] = deque()
        # Mean seconds a slot is held (exponentially weighted): for Retry-After.
        self._mean_hold: float | None = None

    @property
    def in_flight(self) -> int:
        """Requests holding a slot (upstream now)."""
        return self._in_flight

    @property
    def queued(self) -> int:
        """Requests waiting for a slot."""
        return len(self._waiters)

    def snapshot(self) -> dict[str, Any]:
        """The counts and limits, as ``/health`` shows them."""
        return {
            "in_flight": self.in_flight,
            "queued": self.queued,
            "max_concurrency": self.max_concurrency,
            "max_queue": self.max_queue,
        }

    def resize(self, max_concurrency: int) -> None:
        """Change the number of slots (``auto`` learns its upstream after start-up)."""
        self.max_concurrency = max(1, max_concurrency)
        while self._waiters and self._in_flight < self.max_concurrency:
            self._in_flight += 1
            self._hand_over()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the ``async with`` block; 429 if none comes free in time."""
        await self.acquire()
        started = time.monotonic()
        try:
            yield
        finally:
            self._record_hold(time.monotonic() - started)
            self.release()

    async def acquire(self) -> None:
        if self._in_flight < self.max_concurrency and not self._waiters:
            self._in_flight += 1
            return
        if len(self._waiters) >= self.max_queue:
            raise self._busy(
                f"{self._in_flight} requests are generating and {len(self._waiters)} are "
                f"queued (max_concurrency {self.max_concurrency}, max_queue {self.max_queue})"
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.queue_timeout):
                await waiter
        except TimeoutError:
            if _holds_slot(waiter):
                return  # the slot came at the last moment: take it
            self._drop(waiter)
            raise self._busy(
                f"the request waited {self.queue_timeout:g} s in the queue without a slot "
                f"coming free (max_concurrency {self.max_concurrency}, queue_timeout_s "
                f"{self.queue_timeout:g})"
            ) from None
        except BaseException:
            # Cancelled: the client left. Leave the queue, or pass on the slot
            # that was handed over in the meantime.
            if _holds_slot(waiter):
                self.release()
            else:
                self._drop(waiter)
            raise

    def release(self) -> None:
        if self._waiters and self._in_flight <= self.max_concurrency:
            self._hand_over()  # the slot passes on: in_flight stays the same
        else:
            self._in_flight -= 1

    def retry_after(self) -> int:
        """Seconds until the requests now queued have likely been served."""
        mean = self._mean_hold if self._mean_hold is not None else 1.0
        estimate = mean * (len(self._waiters) + 1) / self.max_concurrency
        return max(1, min(math.ceil(estimate), math.ceil(self.queue_timeout)))

    def _hand_over(self) -> None:
        waiter = self._waiters.popleft()
        waiter.set_result(None)

    def _drop(self, waiter: asyncio.Future[None]) -> None:
        waiter.cancel()
        with suppress(ValueError):  # not queued any more
            self._waiters.remove(waiter)

    def _record_hold(self, seconds: float) -> None:
        if self._mean_hold is None:
            self._mean_hold = seconds
        else:
            self._mean_hold = 0.8 * self._mean_hold + 0.2 * seconds

    def _busy(self, why: str) -> UpstreamBusy:
        retry_after = self.retry_after()
        return UpstreamBusy(
            f"The {self.label} upstream is busy: {why}. Retry after {retry_after} s.",
            retry_after=retry_after,
        )


def _holds_slot(waiter: asyncio.Future[None]) -> bool:
    """Was a slot handed to this waiter (its future resolved, not cancelled)?"""
    return waiter.done() and not waiter.cancelled()


class GatedBackend:
    """A backend whose generations and embeddings pass an :class:`UpstreamGate`.

    Listings, health checks and token counts go straight through: they are
    cheap for the upstream and must answer while it is busy. Anything else
    (``detection``, ``props``, ``config``) is the wrapped backend's.
    """

    def __init__(self, inner: Backend, gate: UpstreamGate, *, sized_by_default: bool) -> None:
        self.inner = inner
        self.gate = gate
        self.base_url = inner.base_url
        #: Told each slot's wait and each generation's time and success
        #: (proxy/metrics.py); None: nobody listens.
        self.observer: GateObserver | None = None
        # No max_concurrency configured: size the gate to what auto finds.
        self._resize_when_known = sized_by_default and inner.name == "auto"

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def supports_grammar(self) -> bool:
        return self.inner.supports_grammar

    @property
    def supports_json_schema(self) -> bool:
        return self.inner.supports_json_schema

    @property
    def supports_lazy_grammar(self) -> bool:
        return bool(getattr(self.inner, "supports_lazy_grammar", False))

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (copying, unpickling): no endless recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        self._size_to_upstream()
        async with self._slot():
            with self._generation():
                return await self.inner.complete(prompt, params)

    async def stream(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[TextDelta, None]:
        self._size_to_upstream()
        async with self._slot():
            with self._generation():
                deltas = self.inner.stream(prompt, params)
                try:
                    async for delta in deltas:
                        yield delta
                finally:
                    # Close the upstream request before the slot passes on.
                    close = getattr(deltas, "aclose", None)
                    if close is not None:
                        await close()

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        started = time.monotonic()
        async with self.gate.slot():
            if self.observer is not None:
                self.observer.queued(self.base_url, time.monotonic() - started)
            yield

    @contextmanager
    def _generation(self) -> Iterator[None]:
        started = time.monotonic()
        ok = False
        try:
            yield
            ok = True
        except (GeneratorExit, asyncio.CancelledError):
            ok = True  # the client left: no fault of the upstream's
            raise
        finally:
            if self.observer is not None:
                self.observer.generated(self.base_url, time.monotonic() - started, ok)

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        self._size_to_upstream()
        async with self.gate.slot():
            return await self.inner.embed(inputs, model)

    async def models(self) -> list[str]:
        return await self.inner.models()

    async def health(self) -> Health:
        return await self.inner.health()

    async def count_tokens(self, text: str) -> int | None:
        return await self.inner.count_tokens(text)

    async def start(self) -> None:
        await self.inner.start()
        self._size_to_upstream()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _size_to_upstream(self) -> None:
        if not self._resize_when_known:
            return
        detection = getattr(self.inner, "detection", None)
        found = getattr(detection, "backend", None)
        if isinstance(found, str):
            self._resize_when_known = False
            size = default_max_concurrency(found)
            if size != self.gate.max_concurrency:
                logger.info("auto: %d requests at a time to the %s upstream", size, found)
                self.gate.resize(size)


def unwrap(backend: Backend) -> Backend:
    """The backend inside a :class:`GatedBackend` (or ``backend`` itself)."""
    return backend.inner if isinstance(backend, GatedBackend) else backend
