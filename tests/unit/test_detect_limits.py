"""Auto-detection reads a probe's answer only up to PROBE_MAX_BYTES.

The upstream here is a small aiohttp server on 127.0.0.1 that stands in for
koboldcpp: ``GET /api/extra/version`` answers ``{"result": "KoboldCpp",
"version": ...}`` (koboldcpp's koboldcpp.py), every other path 404.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.detect import PROBE_MAX_BYTES, detect


@asynccontextmanager
async def koboldcpp_like(version_body: bytes, asked: list[str]) -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.Response:
        asked.append(request.path)
        if request.path == "/api/extra/version":
            return web.Response(body=version_body, content_type="application/json")
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def _detect_with(body: Callable[[], bytes], asked: list[str]) -> tuple[str, str | None]:
    async with koboldcpp_like(body(), asked) as url:
        found = await detect(url)
    return found.server, found.version


async def test_a_huge_probe_answer_is_not_read_whole() -> None:
    # koboldcpp's answer, padded past the cap: not read, so not recognised.
    asked: list[str] = []
    server, _ = await _detect_with(
        lambda: json.dumps({"result": "KoboldCpp", "pad": "x" * (2 * PROBE_MAX_BYTES)}).encode(),
        asked,
    )
    assert server != "koboldcpp"
    assert asked[0] == "/api/extra/version" and len(asked) > 1


async def test_a_probe_answer_within_the_cap_is_read() -> None:
    asked: list[str] = []
    found = await _detect_with(
        lambda: json.dumps({"result": "KoboldCpp", "version": "1.102"}).encode(), asked
    )
    assert found == ("koboldcpp", "1.102")
