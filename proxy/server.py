"""``fcproxy serve``'s HTTP server: uvicorn, with the client limits of :mod:`proxy.client_limits`."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
from typing import Any

import uvicorn

from proxy.client_limits import (
    LISTEN_BACKLOG,
    RESERVED_FILES,
    ConnectionGuard,
    connection_limits,
    guarded_protocol,
    raise_open_files_limit,
)
from proxy.config import Settings

logger = logging.getLogger("fcproxy.server")


def serve(app: Any, settings: Settings) -> None:
    """Serve ``app`` until interrupted; ``settings.workers`` processes on one socket."""
    open_files = raise_open_files_limit()
    config = uvicorn_config(app, settings, open_files=open_files)
    if settings.workers <= 1 or not hasattr(os, "fork"):
        GuardedServer(config).run()
    else:
        serve_forked(config, settings.workers)


def serve_forked(config: uvicorn.Config, workers: int) -> None:
    """``workers`` processes forked after the app was built, accepting on one socket.

    Forked rather than uvicorn's own ``--workers`` (which imports the app
    anew in each process from an import string): the app here is built from
    settings, and a bad configuration fails once, before any fork. Each
    worker starts its own event loop, upstream pools and health checks (the
    app's lifespan runs in the worker), and has its own connection cap and
    metrics. A worker that dies is replaced; SIGTERM or SIGINT stops them all.
    """
    sock = config.bind_socket()
    children: set[int] = set()
    stopping = False

    def start_worker() -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                GuardedServer(config).run(sockets=[sock])
            finally:
                os._exit(0)
        children.add(pid)

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for _ in range(workers):
        start_worker()
    logger.info("%d worker processes serving", workers)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            logger.warning("worker %d ended (status %d); starting another", pid, status)
            start_worker()
    sock.close()


def uvicorn_config(app: Any, settings: Settings, *, open_files: int | None) -> uvicorn.Config:
    """uvicorn's config for ``settings``: the guarded protocol, keep-alive, logging."""
    max_connections, accept_batch = connection_limits(
        settings.max_client_connections, open_files, reserved_files(settings)
    )
    guard = ConnectionGuard(max_connections=max_connections, header_timeout=settings.header_timeout)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # fcproxy configured logging (proxy/logs.py): uvicorn's records go
        # through the same format, with the request id, text or JSON.
        log_config=None,
        access_log=settings.log_level == "debug",
        http=guarded_protocol(guard),
        # asyncio accepts up to `backlog` connections per turn of the loop;
        # GuardedServer lengthens the kernel's queue again.
        backlog=accept_batch,
        # uvicorn types it int but hands it to loop.call_later: seconds as a float work.
        timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
    )


def reserved_files(settings: Settings) -> int:
    """Descriptors to keep free of client connections: upstream pools, and the rest."""
    upstreams = {settings.upstream, *(entry.upstream for entry in settings.models)} - {None}
    pool = max(settings.max_connections, (settings.max_concurrency or 0) + 2)
    return RESERVED_FILES + len(upstreams) * pool


class GuardedServer(uvicorn.Server):
    """uvicorn, with the kernel's listen queue at its usual length.

    asyncio uses one number both as the listen backlog and as the number of
    connections it accepts per turn of the loop. The second is kept small when
    descriptors are few (:func:`proxy.client_limits.connection_limits`); a
    short kernel queue, though, drops new connections during a burst and makes
    every client, the honest ones too, wait a second to retry.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # After the app's start-up: the backends, the model, the caches are built.
        tune_garbage_collection()
        for server in getattr(self, "servers", []):
            for listener in server.sockets:
                # listen() again on a listening socket only changes its queue
                # length; through a duplicate: asyncio's wrapper has no listen().
                with listener.dup() as duplicate:
                    duplicate.listen(LISTEN_BACKLOG)


#: Cyclic garbage collection thresholds while serving: the youngest generation
#: is collected after 10,000 net allocations instead of Python's 700, each older
#: one after 20 collections of the one below instead of 10.
GC_THRESHOLDS = (10_000, 20, 20)


def tune_garbage_collection() -> None:
    """Fewer and cheaper cyclic collections in a serving process.

    A request allocates thousands of short-lived objects (the decoded body,
    Pydantic's models, the prompt's pieces), nearly all freed by reference
    counting; at Python's default thresholds the cycle collector still ran
    every few hundred of them and, every so often, walked every object alive,
    the app's own included. Everything alive once the server has started
    (modules, the app, its backends and caches) is moved out of the
    collector's sight with :func:`gc.freeze`, and collections come less often:
    together 0.86 -> 0.68 ms of CPU per request on MemGPT's body at 32
    connections (bench/RESULTS.md). Garbage cycles still get collected, a
    little later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    logger.debug(
        "garbage collection: %d objects frozen, thresholds %s", gc.get_freeze_count(), GC_THRESHOLDS
    )
