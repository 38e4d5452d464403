"""What every route does with the HTTP request around the pipeline, whatever its API.

Reading the JSON body under its limits, cancelling work when the client
leaves, and turning a warning into a header value: shared by the Chat
Completions, Anthropic Messages and Responses routes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Request
from starlette.requests import ClientDisconnect

from proxy.access import require_json
from proxy.json_body import JsonBody, read_json_body
from proxy.redaction import Redactor

logger = logging.getLogger("fcproxy.app")

T = TypeVar("T")


async def read_json(request: Request) -> JsonBody:
    require_json(request)
    # Bounded nesting, strict JSON, lone surrogates replaced: proxy/json_body.py.
    return read_json_body(await request.body())


def header_text(text: str) -> str:
    """``text`` as a header value: ASCII, at most 500 characters."""
    return text[:500].encode("ascii", "replace").decode()


async def cancel_on_disconnect(request: Request, work: Awaitable[T]) -> T:
    """Run ``work``, cancelling it (and so the upstream call) if the client leaves.

    The body has been read, so the next ASGI message can only be
    ``http.disconnect``: waiting for it costs nothing while the client stays.
    ``work`` runs in the request's own task (one task fewer a request); the
    watcher cancels that task, and a cancellation it caused is told from the
    server's own (shutting down) by ``left``.
    """
    task = asyncio.current_task()
    assert task is not None  # always called from a request's task
    left = False

    async def watch() -> None:
        nonlocal left
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                logger.info("client disconnected; cancelling the upstream request")
                left = True
                task.cancel()
                return

    watcher = asyncio.create_task(watch())
    try:
        return await work
    except asyncio.CancelledError:
        if not left:
            raise  # the server is stopping: let the cancellation through
        task.uncancel()
        # Nobody is there to answer: end the request quietly, not as an
        # application error with a traceback in the log.
        raise ClientDisconnect() from None
    finally:
        watcher.cancel()


def answer_headers(
    attempts: int, warnings: list[str | None], redactor: Redactor, *, streamed: bool = False
) -> dict[str, str]:
    """``x-fcproxy-attempts``, ``x-fcproxy-warning`` (redacted) and, streamed, no caching."""
    headers = {"x-fcproxy-attempts": str(attempts)}
    if streamed:
        headers["cache-control"] = "no-cache"
    shown = [w for w in warnings if w]
    if shown:
        headers["x-fcproxy-warning"] = header_text(redactor.redact("; ".join(shown)))
    return headers
