"""Several upstreams for one model: least busy first, failover, and health.

A model table entry may list ``upstreams:`` instead of one ``upstream:``;
the router then serves it with an :class:`UpstreamPool` of the upstreams'
backends, each behind its own capacity gate (proxy/capacity.py)::

    models:
      - name: llama3
        backend: llamacpp
        upstreams: [http://gpu-1:8080, http://gpu-2:8080]

- **least busy**: each generation goes to the member in rotation whose gate
  has the fewest requests in flight and queued (ties: in the order written);
- **passive health**: a member that cannot be reached or times out
  (:class:`UpstreamUnavailable`, :class:`UpstreamTimeout`) is taken out of
  rotation for ``down_backoff_s`` seconds, doubling while it keeps failing
  (one minute at most);
- **active health**: :class:`HealthBook` probes the members that are down
  (their ``health()``, a cheap GET) every ``health_check_interval_s``
  seconds once their back-off is over; the first good answer brings a member
  back;
- **failover**: a generation that failed before anything was sent to the
  client goes to the next member, streamed or not. For a stream that means
  before its first text arrived: after that, the client has bytes, and the
  failure is the stream's (docs/streaming.md). A busy member (429 from its
  gate) or an upstream error status also moves on to the next member, but
  does not mark the member down;
- when every member is down, the request is tried on them all anyway, the
  one soonest due back first: better a late answer than a certain 502.

``/health`` lists every member with ``"up"``; ``/v1/models`` leaves out a
model whose upstreams are all down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from proxy.backends.base import Backend, Completion, Embeddings, GenerationParams, Health, TextDelta
from proxy.capacity import GatedBackend
from proxy.errors import UpstreamBusy, UpstreamError, UpstreamTimeout, UpstreamUnavailable

logger = logging.getLogger(__name__)

#: Longest back-off of a member that keeps failing, seconds.
MAX_BACKOFF = 60.0


@dataclass
class _Down:
    since: float
    until: float
    backoff: float
    reason: str


class HealthBook:
    """Which upstreams are out of rotation, and the probe that brings them back.

    One per router, shared by its pools: an upstream listed by two models is
    one server, down for both.
    """

    def __init__(self, *, backoff: float, probe_interval: float) -> None:
        self.backoff = backoff
        self.probe_interval = probe_interval
        self._down: dict[Backend, _Down] = {}
        self._probe_task: asyncio.Task[None] | None = None

    def is_up(self, backend: Backend) -> bool:
        return backend not in self._down

    def down_detail(self, backend: Backend) -> str | None:
        down = self._down.get(backend)
        return None if down is None else down.reason

    def mark_down(self, backend: Backend, reason: str) -> None:
        now = time.monotonic()
        previous = self._down.get(backend)
        backoff = min(previous.backoff * 2, MAX_BACKOFF) if previous else self.backoff
        self._down[backend] = _Down(
            since=previous.since if previous else now,
            until=now + backoff,
            backoff=backoff,
            reason=reason,
        )
        if previous is None:
            logger.warning(
                "upstream %s out of rotation for %g s: %s", backend.base_url, backoff, reason
            )

    def mark_up(self, backend: Backend) -> None:
        down = self._down.pop(backend, None)
        if down is not None:
            logger.warning(
                "upstream %s back in rotation after %.1f s",
                backend.base_url,
                time.monotonic() - down.since,
            )

    def due_first(self, backends: list[Backend]) -> list[Backend]:
        """``backends`` ordered by when their back-off ends."""
        return sorted(backends, key=lambda b: self._down[b].until if b in self._down else 0.0)

    async def probe_once(self) -> None:
        """Ask every member whose back-off is over whether it answers again."""
        now = time.monotonic()
        due = [b for b, down in self._down.items() if down.until <= now]
        results = await asyncio.gather(*(b.health() for b in due), return_exceptions=True)
        for backend, result in zip(due, results, strict=True):
            if isinstance(result, Health) and result.ok:
                self.mark_up(backend)
            else:
                detail = result.detail if isinstance(result, Health) else repr(result)
                self.mark_down(backend, f"probe failed: {detail}")

    def start(self) -> None:
        if self._probe_task is None:
            self._probe_task = asyncio.create_task(self._probe_forever(), name="upstream-probe")

    async def aclose(self) -> None:
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe_task
            self._probe_task = None

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                await self.probe_once()
            except Exception:  # a probe must never end the loop
                logger.exception("probing the upstreams that are down failed")


#: Failures after which the next member is tried; the first two also mark it down.
_MARKS_DOWN = (UpstreamUnavailable, UpstreamTimeout)
_FAILS_OVER = (UpstreamUnavailable, UpstreamTimeout, UpstreamBusy, UpstreamError)


class UpstreamPool:
    """A :class:`Backend` over several upstreams serving the same model."""

    def __init__(self, members: list[Backend], health: HealthBook) -> None:
        if not members:
            raise ValueError("an upstream pool needs members")
        self.members = members
        self.healthbook = health
        self.base_url = ", ".join(m.base_url for m in members)

    @property
    def name(self) -> str:
        return self.members[0].name

    @property
    def supports_grammar(self) -> bool:
        return self.members[0].supports_grammar

    @property
    def supports_json_schema(self) -> bool:
        return self.members[0].supports_json_schema

    def any_up(self) -> bool:
        return any(self.healthbook.is_up(m) for m in self.members)

    def candidates(self) -> list[Backend]:
        """Members in the order to try: in rotation by load, then the rest by due time."""
        up = [m for m in self.members if self.healthbook.is_up(m)]
        up.sort(key=_load)  # stable: ties keep the order written
        down = self.healthbook.due_first([m for m in self.members if m not in up])
        return up + down

    def _failed(self, member: Backend, exc: Exception) -> None:
        if isinstance(exc, _MARKS_DOWN):
            self.healthbook.mark_down(member, str(exc)[:300])
        logger.info("upstream %s failed (%s); trying the next", member.base_url, type(exc).__name__)

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        error: Exception | None = None
        for member in self.candidates():
            try:
                completion = await member.complete(prompt, params)
            except _FAILS_OVER as exc:
                self._failed(member, exc)
                error = exc
                continue
            self.healthbook.mark_up(member)
            return completion
        assert error is not None
        raise error

    async def stream(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[TextDelta, None]:
        error: Exception | None = None
        for member in self.candidates():
            deltas = member.stream(prompt, params)
            try:
                first = await deltas.__anext__()
            except StopAsyncIteration:
                await deltas.aclose()
                return
            except _FAILS_OVER as exc:
                await deltas.aclose()
                self._failed(member, exc)
                error = exc
                continue
            except BaseException:
                await deltas.aclose()
                raise
            self.healthbook.mark_up(member)
            try:
                yield first
                async for delta in deltas:
                    yield delta
            finally:
                await deltas.aclose()
            return
        assert error is not None
        raise error

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        error: Exception | None = None
        for member in self.candidates():
            try:
                return await member.embed(inputs, model)
            except _FAILS_OVER as exc:
                self._failed(member, exc)
                error = exc
        assert error is not None
        raise error

    async def models(self) -> list[str]:
        for member in self.candidates():
            with contextlib.suppress(Exception):
                return await member.models()
        return []

    async def health(self) -> Health:
        checks = await asyncio.gather(*(m.health() for m in self.members))
        ok = [c for c in checks if c.ok]
        return Health(bool(ok), f"{len(ok)} of {len(checks)} upstreams answer")

    async def count_tokens(self, text: str) -> int | None:
        return await self.candidates()[0].count_tokens(text)

    async def start(self) -> None:
        # The members are the router's own backends: it starts and closes them.
        return None

    async def aclose(self) -> None:
        return None


def _load(member: Backend) -> int:
    if isinstance(member, GatedBackend):
        return member.gate.in_flight + member.gate.queued
    return 0
