"""Slow and idle clients: deadlines for the request head and body, a cap on connections.

uvicorn holds a connection open for as long as its client likes while the
request head (request line and headers) or body is still arriving: its only
timer, ``timeout_keep_alive``, runs between requests and stops at the first
byte of the next one, and h11 has no read deadline of its own. A thousand
sockets that each send half a request line hold a thousand file descriptors
until the process has none left for anyone. So:

- **head**: ``header_timeout`` seconds from the connection's first byte (or,
  for a fresh connection, from its opening) until the head is complete. Past
  it the connection is closed; if the request line had arrived, with a 408 in
  its path's API's envelope first (before that it may not even be HTTP).
  :class:`GuardedConnection`, a mixin on uvicorn's HTTP protocol.
- **body**: ``body_timeout`` seconds from the end of the head for the whole
  body, however it trickles in: 408 ``request_timeout`` in the envelope, and
  the connection closes. :class:`RequestBodyLimits`, an ASGI middleware (which
  also holds the body to ``max_body_bytes``).
- **connections**: at most ``max_client_connections`` at once
  (:class:`ConnectionGuard`). A new connection past the cap closes the
  longest-waiting connection that has nothing running: one still sending its
  head or body, or idle between requests. A slowloris therefore only ever
  pushes out other slow or idle connections, and a client whose request
  arrives whole gets served. When every connection is busy with a request, the
  newcomer gets 503 ``too_many_connections`` and is closed. The cap is kept
  under the open-files limit (:func:`connection_limit`), which the server
  raises to its hard limit at start-up (:func:`raise_open_files_limit`), with
  room for what asyncio accepts before the cap sees it (:func:`connection_limits`).
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import time
from collections import OrderedDict
from typing import ClassVar, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proxy.envelopes import error_body_for, error_response
from proxy.errors import PayloadTooLarge, ProxyError, RequestTimeout, TooManyConnections

logger = logging.getLogger("fcproxy.clients")

#: File descriptors kept free for everything but client connections: the
#: listening socket, the event loop, log files, the model file, probes.
RESERVED_FILES = 64
#: Never cap client connections below this, whatever the open-files limit says.
MIN_CONNECTIONS = 16
#: Connections the kernel holds until they are accepted (uvicorn's default).
LISTEN_BACKLOG = 2048
MIN_ACCEPT_BATCH = 16
#: Accept batches that may be open and not yet counted (see connection_limits).
ACCEPT_BATCHES = 4
#: Bytes of a head kept to read its request line's path from (a longer line gets OpenAI's 408).
HEAD_START_BYTES = 2048


# -- file descriptors ----------------------------------------------------------


def raise_open_files_limit() -> int | None:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; the soft limit in effect.

    Many systems start processes with a soft limit of 1024 and a much higher
    hard one, which an unprivileged process may raise itself to (as nginx's
    ``worker_rlimit_nofile`` and most servers do). None where there are no
    such limits (Windows).
    """
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # macOS reports an unlimited hard limit yet refuses a soft one above
    # OPEN_MAX (10240); try the hard limit, then that.
    targets = [hard] if hard != resource.RLIM_INFINITY else [1 << 20, 10240]
    for target in targets:
        if target <= soft and soft != resource.RLIM_INFINITY:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            continue
        logger.debug("open-files limit raised from %d to %d", soft, target)
        soft = target
        break
    return None if soft == resource.RLIM_INFINITY else int(soft)


def connection_limits(configured: int, open_files: int | None, reserved: int) -> tuple[int, int]:
    """The connection cap, and how many connections to accept at a time, for an open-files limit.

    Past the open-files limit the server cannot even accept a connection to
    close an idle one: asyncio stops accepting for a second at a time and
    nobody is served. asyncio accepts up to its ``backlog`` of connections in
    one go and the cap sees them a few loop turns later, when the ones pushed
    out may not be closed yet either; so the cap leaves room for a few such
    batches under the limit, besides ``reserved``, and the batch is kept small
    when descriptors are few. Returns ``(max_connections, accept_batch)``;
    ``max_client_connections`` is lowered, with a warning, where the limit
    does not leave room for it.
    """
    if open_files is None:
        return configured, LISTEN_BACKLOG
    usable = max(open_files - reserved, 0)
    batch = min(LISTEN_BACKLOG, max(usable // 16, MIN_ACCEPT_BATCH))
    room = max(usable - ACCEPT_BATCHES * batch, MIN_CONNECTIONS)
    if room < configured:
        logger.warning(
            "max_client_connections lowered from %d to %d: the open-files limit is %d "
            "(raise it with `ulimit -n` or the service's LimitNOFILE)",
            configured,
            room,
            open_files,
        )
        return room, batch
    return configured, batch


# -- connections and request heads -----------------------------------------------


class ConnectionGuard:
    """The connections of one server, the cap on them, and the head deadline."""

    def __init__(self, *, max_connections: int, header_timeout: float) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        # Oldest first; a connection moves to the end when it starts a new head.
        self._open: OrderedDict[GuardedConnection, None] = OrderedDict()
        self._last_refusal_log = 0.0

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def admit(self, connection: GuardedConnection) -> bool:
        """Make room for a new connection; False when it must be refused."""
        if len(self._open) >= self.max_connections:
            victim = next((c for c in self._open if c.is_idle_or_slow()), None)
            if victim is None:
                self._log_refusal()
                return False
            victim.evict()
        self._open[connection] = None
        return True

    def touch(self, connection: GuardedConnection) -> None:
        if connection in self._open:
            self._open.move_to_end(connection)

    def forget(self, connection: GuardedConnection) -> None:
        self._open.pop(connection, None)

    def _log_refusal(self) -> None:
        now = time.monotonic()
        if now - self._last_refusal_log > 10:
            self._last_refusal_log = now
            logger.warning(
                "%d client connections, all busy with requests (max_client_connections): "
                "refusing new ones with 503",
                len(self._open),
            )


class GuardedConnection(asyncio.Protocol):
    """Mixin for uvicorn's HTTP protocols (h11 and httptools): head deadline and the cap.

    Relies on what both protocols share: ``transport``, and ``cycle``, the
    current request (None before the first; ``response_complete`` once
    answered; ``more_body`` while its body arrives).
    """

    guard: ClassVar[ConnectionGuard]

    _head_timer: asyncio.TimerHandle | None = None
    _request_line_seen = False
    #: The start of the head being received: its path picks the 408's envelope.
    _head_start = b""
    _admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self.guard.admit(self):
            _write_error(
                cast(asyncio.Transport, transport),
                TooManyConnections(
                    "fcproxy has no connection free for this request (max_client_connections); "
                    "retry in a moment."
                ),
            )
            return
        self._admitted = True
        # A fresh connection has header_timeout to send its head, first byte included.
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return  # refused: the 503 is on its way, the connection closing
        if not self._in_request():
            if len(self._head_start) < HEAD_START_BYTES:
                self._head_start += data[: HEAD_START_BYTES - len(self._head_start)]
            if b"\n" in data:
                self._request_line_seen = True
        super().data_received(data)
        if self._in_request():
            self._stop_head_timer()
            self._request_line_seen = False
            self._head_start = b""
        elif self._head_timer is None:
            # The first bytes of the next head on a kept-alive connection:
            # uvicorn has just stopped its keep-alive timer, so start ours.
            self._start_head_timer()
            self.guard.touch(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        self.guard.forget(self)
        super().connection_lost(exc)

    def is_idle_or_slow(self) -> bool:
        """Nothing to lose by closing it: no request running, or its body still arriving."""
        cycle = getattr(self, "cycle", None)
        if cycle is None or cycle.response_complete:
            return True
        return bool(cycle.more_body) and not cycle.response_started

    def evict(self) -> None:
        logger.debug("closing a slow or idle connection to make room for a new one")
        self._stop_head_timer()
        self.guard.forget(self)
        self._transport().close()

    def _in_request(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is not None and not cycle.response_complete

    def _start_head_timer(self) -> None:
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(self.guard.header_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        transport = self._transport()
        if self._in_request() or transport.is_closing():
            return
        if self._request_line_seen:
            _write_error(
                transport,
                RequestTimeout(
                    f"The request headers did not arrive within {self.guard.header_timeout:g} s "
                    "(header_timeout)."
                ),
                request_path(self._head_start),
            )
        else:
            transport.close()

    def _transport(self) -> asyncio.Transport:
        return cast(asyncio.Transport, getattr(self, "transport"))  # noqa: B009


def request_path(head: bytes) -> str:
    """The path of a request line (``POST /v1/messages?beta=true HTTP/1.1``), else ""."""
    line = head.split(b"\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    return parts[1].partition("?")[0] if len(parts) >= 3 else ""


def _write_error(transport: asyncio.Transport, error: ProxyError, path: str = "") -> None:
    """Answer ``error`` in ``path``'s envelope straight onto the wire, then close.

    For answers given outside any request (the head never came, or no
    connection is free: then no path is known), where neither uvicorn nor
    the app can.
    """
    body = json.dumps(error_body_for(path, error)).encode()
    reason = http.HTTPStatus(error.status_code).phrase
    headers = {
        "content-type": "application/json",
        "content-length": str(len(body)),
        **{name.lower(): value for name, value in error.headers.items()},
        "connection": "close",
    }
    head = f"HTTP/1.1 {error.status_code} {reason}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    transport.write(head.encode("latin-1") + b"\r\n" + body)
    transport.close()


def guarded_protocol(guard: ConnectionGuard) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools where installed, else h11), with ``guard``."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    name = f"Guarded{AutoHTTPProtocol.__name__}"
    return cast(
        "type[asyncio.Protocol]",
        type(name, (GuardedConnection, AutoHTTPProtocol), {"guard": guard}),
    )


# -- request bodies ------------------------------------------------------------------


class RequestBodyLimits:
    """The body's two limits, in one pass over each ``receive``.

    - **size**: 413 ``max_body_bytes`` for a Content-Length over it, before
      anything is read, and for bytes counted past it as they arrive (a
      chunked upload cannot get around it);
    - **deadline**: 408 ``request_timeout`` when the body has not arrived
      ``timeout`` s after the head. One deadline for the whole body, not a
      pause between chunks, so a body trickled in a byte at a time is cut off
      too. Reads after the body (the route watching for a disconnect) are not
      limited.

    Both are raised inside the route's body read, where the ProxyError
    handler answers them in the path's API's envelope.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    def too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is larger than the limit of {self.max_bytes} bytes (max_body_bytes)."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await error_response(scope["path"], self.too_large())(scope, receive, send)
                return
        deadline = asyncio.get_running_loop().time() + self.timeout
        body_done = False
        received = 0

        async def limited_receive() -> Message:
            nonlocal body_done, received
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                body_done = True  # answered: later reads wait for the disconnect only
                raise RequestTimeout(
                    f"The request body did not arrive within {self.timeout:g} s (body_timeout)."
                ) from None
            if message["type"] != "http.request":
                body_done = True
                return message
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise self.too_large()
            if not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, limited_receive, send)
