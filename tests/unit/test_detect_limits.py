"""Auto-detection reads a probe's answer only up to PROBE_MAX_BYTES."""

from __future__ import annotations

import json

import httpx

from proxy.detect import PROBE_MAX_BYTES, detect


async def test_a_huge_probe_answer_is_not_read_whole() -> None:
    # koboldcpp's answer, padded past the cap: not read, so not recognised.
    huge = json.dumps({"result": "KoboldCpp", "pad": "x" * (2 * PROBE_MAX_BYTES)}).encode()
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/api/extra/version":
            return httpx.Response(200, content=huge, headers={"content-type": "application/json"})
        return httpx.Response(404)

    found = await detect("http://upstream.test", transport=httpx.MockTransport(answer))
    assert found.server != "koboldcpp"
    assert asked[0] == "/api/extra/version" and len(asked) > 1


async def test_a_probe_answer_within_the_cap_is_read() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/extra/version":
            return httpx.Response(200, json={"result": "KoboldCpp", "version": "1.102"})
        return httpx.Response(404)

    found = await detect("http://upstream.test", transport=httpx.MockTransport(answer))
    assert (found.server, found.version) == ("koboldcpp", "1.102")
