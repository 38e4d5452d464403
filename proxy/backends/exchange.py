"""One HTTP exchange with an upstream, under its limits: deadlines and a size cap.

Every request a backend sends goes through :meth:`HTTPBackend.exchange
<proxy.backends.base.HTTPBackend.exchange>`, the whole-answer path
(:meth:`~proxy.backends.base.HTTPBackend.send`) and the streaming path alike,
so the limits hold the same way for both::

    async with backend.exchange("POST", "/completion", body) as answer:
        answer.response.status_code          # the status line and headers are in
        async for chunk in answer.chunks():  # body bytes; every wait is bounded
            ...                              # a stream turns them into text, and
            answer.progress(len(text))       # says so: first byte / idle clocks
        # or: body = await answer.read()     # the whole body, at most max_bytes

The limits (:class:`UpstreamLimits`, from the ``*_timeout`` and
``max_upstream_bytes`` settings):

- ``connect``: seconds to open the connection;
- ``first_byte``: seconds from sending the request until the answer starts:
  the first body bytes of a whole answer (for a non-streamed generation, the
  end of the generation: servers answer when they are done), the first text
  of a stream (prompt processing included); None: only ``total`` applies;
- ``idle``: once the answer has started, the longest silence: until the next
  body bytes of a whole answer, the next text of a stream (keep-alive comments
  and empty events do not count); None: only ``total`` applies;
- ``total``: the whole exchange, from the connection to the last byte.
  A per-read timeout, so an upstream trickling its answer a byte
  at a time would never hit it; this deadline is what stops it.
- ``max_bytes``: the body of a whole answer, the text of a stream, and any one
  line of a stream (a stream's framing is not counted: SSE wraps every token in
  a JSON object, and a long generation's events add up to many times its text).

A limit that is hit ends the exchange at once (the connection is closed) with
:class:`UpstreamTimeout` (504) or :class:`UpstreamError` (502) naming the
setting to raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from proxy.backends.upstream_http import TransportError, UpstreamResponse, WholeResponse
from proxy.errors import UpstreamError, UpstreamTimeout

#: Default cap on an upstream answer: a generation's JSON is kilobytes; an
#: embeddings batch of a large model, or per-token vectors, a few megabytes.
DEFAULT_MAX_UPSTREAM_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class UpstreamLimits:
    """How long an exchange may take and how much it may bring (see the module docstring)."""

    total: float = 600.0
    connect: float = 5.0
    first_byte: float | None = None
    idle: float | None = None
    max_bytes: int = DEFAULT_MAX_UPSTREAM_BYTES


#: The setting that sets each limit, as the error messages name it.
_SETTING = {
    "total": "timeout",
    "first_byte": "first_byte_timeout",
    "idle": "idle_timeout",
}


class ExchangeClock:
    """The deadlines of one exchange, measured on the event loop's clock."""

    def __init__(self, limits: UpstreamLimits) -> None:
        self.limits = limits
        self._loop = asyncio.get_running_loop()
        started = self._loop.time()
        self._total_at = started + limits.total
        self._first_at = started + limits.first_byte if limits.first_byte is not None else math.inf
        self._progress_at: float | None = None

    def progress(self) -> None:
        """The answer moved on (text, or body bytes): the idle clock starts again."""
        self._progress_at = self._loop.time()

    @property
    def started_answering(self) -> bool:
        return self._progress_at is not None

    def next_deadline(self) -> tuple[float, str]:
        """When the wait that starts now must end, and which limit ("total", ...) says so."""
        if self._progress_at is None:
            own_at, limit = self._first_at, "first_byte"
        elif self.limits.idle is not None:
            own_at, limit = self._progress_at + self.limits.idle, "idle"
        else:
            own_at, limit = math.inf, "idle"
        if own_at < self._total_at:
            return own_at, limit
        return self._total_at, "total"

    def seconds(self, limit: str) -> float:
        """The configured seconds of ``limit``."""
        if limit == "first_byte" and self.limits.first_byte is not None:
            return self.limits.first_byte
        if limit == "idle" and self.limits.idle is not None:
            return self.limits.idle
        return self.limits.total


class Exchange:
    """An upstream answer being read: its response (headers), its body as bounded waits.

    Made by :meth:`HTTPBackend.exchange`, which closes it (and so the
    connection, if the body was not read to its end) when its block ends.
    """

    def __init__(
        self,
        response: UpstreamResponse,
        clock: ExchangeClock,
        *,
        upstream: str,
        request: str,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.response = response
        self.clock = clock
        #: "the upstream llamacpp server at http://...", for messages.
        self.upstream = upstream
        #: "POST /completion", for messages.
        self.request = request
        #: Takes configured secrets out of upstream text quoted in messages.
        self.redact = redact
        self._text_bytes = 0

    @property
    def limits(self) -> UpstreamLimits:
        return self.clock.limits

    def progress(self, text_bytes: int = 0) -> None:
        """A stream produced ``text_bytes`` of text: restart the idle clock, count it.

        Raises :class:`UpstreamError` once the stream's text passes ``max_bytes``.
        """
        self.clock.progress()
        self._text_bytes += text_bytes
        if self._text_bytes > self.limits.max_bytes:
            raise self.too_large("streamed more text than")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, each wait ended by the next deadline.

        What has arrived already is taken without a wait (and so without a
        timer): for a small answer, that is all of it.
        """
        body = self.response.aiter_bytes()
        try:
            while True:
                try:
                    chunk = self.response.read_ready()
                    if chunk is None:
                        chunk = await self._wait_for_chunk(body)
                except TransportError as exc:
                    raise UpstreamError(
                        f"The {self.upstream} broke off its answer to {self.request} "
                        f"({type(exc).__name__}: {self.redact(str(exc))})."
                    ) from exc
                if not chunk:
                    return
                yield chunk
        finally:
            # Left early (the caller stopped reading): close the body's iterator
            # here rather than when the garbage collector finds it.
            close = getattr(body, "aclose", None)  # an async generator, typed as an iterator
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def _wait_for_chunk(self, body: AsyncIterator[bytes]) -> bytes:
        """The next chunk, ``b""`` at the end; :class:`UpstreamTimeout` past the deadline."""
        deadline, limit = self.clock.next_deadline()
        try:
            async with asyncio.timeout_at(deadline):
                return await anext(body)
        except StopAsyncIteration:
            return b""
        except TimeoutError:
            raise self.timed_out(limit) from None

    async def read(self) -> bytes:
        """The whole body; :class:`UpstreamError` when it passes ``max_bytes``."""
        declared = self.response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise self.too_large("announced an answer larger than")
        body = bytearray()
        async for chunk in self.chunks():
            body += chunk
            if len(body) > self.limits.max_bytes:
                raise self.too_large("sent an answer larger than")
            self.clock.progress()
        return bytes(body)

    def whole(self, body: bytes) -> WholeResponse:
        """A detached, fully read response carrying ``body`` (what ``send`` returns)."""
        return WholeResponse(self.response.status_code, self.response.headers, body)

    def timed_out(self, limit: str) -> UpstreamTimeout:
        return timed_out(self.clock, limit, self.upstream, self.request)

    def too_large(self, what: str) -> UpstreamError:
        return UpstreamError(
            f"The {self.upstream} {what} {self.limits.max_bytes} bytes in answer to "
            f"{self.request}; refused (max_upstream_bytes)."
        )


def timed_out(clock: ExchangeClock, limit: str, upstream: str, request: str) -> UpstreamTimeout:
    """The error for ``limit`` running out while ``upstream`` answered ``request``."""
    seconds = clock.seconds(limit)
    setting = _SETTING[limit]
    if limit == "first_byte":
        what = f"did not start answering {request} within {seconds:g} s"
    elif limit == "idle":
        what = f"went silent for {seconds:g} s while answering {request}"
    else:
        what = f"did not answer {request} within {seconds:g} s"
    return UpstreamTimeout(f"The {upstream} {what} ({setting}).")
