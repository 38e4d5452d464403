"""Soak: 10,000 mixed requests through fcproxy; memory and descriptors before and after.

    python bench/soak.py [--requests 10000] [--concurrency 16]

fcproxy runs in its own process (``fcproxy serve --backend webui``) in front of
the fake webui upstream (tests/fakes/upstream.py, in this process, answering
instantly). The requests cycle through a fixed mix, ten at a time:

- 3 MemGPT-style tool calls (MemGPT 0.3.25's captured request, 8 tools);
- 2 streamed tool calls; 2 plain chats (one streamed);
- 1 client error (a body that is not JSON: 400);
- 1 upstream error (the fake answers that one with 500: fcproxy answers 502);
- 1 call the model botches once (retried, then answered).

Before (after a warm-up of 200 requests) and after, it reads fcproxy's RSS and
open file descriptors from /proc, and it lists every non-2xx answer by status,
as expected (the two error kinds above) or not. Bounded: every request has a
timeout, the run a deadline; everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.net import free_port, wait_until_answering  # noqa: E402
from tests.fakes.upstream import FakeUpstream  # noqa: E402

CALL = json.dumps(
    {"function": "send_message", "params": {"inner_thoughts": "Hi.", "message": "Hello Brad"}}
)
MEMGPT = json.loads(
    (ROOT / "tests/fixtures/shared/memgpt-0.3.25-tools.json").read_text(encoding="utf-8")
)
PLAIN = {"model": "m", "messages": [{"role": "user", "content": "Say hello."}]}
KINDS = [
    "tools", "tools", "tools", "tools_stream", "tools_stream",
    "plain", "plain_stream", "bad_json", "upstream_error", "botched",
]  # fmt: skip
EXPECTED = {"bad_json": 400, "upstream_error": 502}


#: In a request's last message: the upstream answers this one with HTTP 500.
FAIL_MARK = "FAIL-THIS-GENERATION"


class SoakUpstream(FakeUpstream):
    """The fake webui, failing exactly the generations whose prompt holds FAIL_MARK."""

    async def _dispatch(self, request: Request) -> Response:
        if request.url.path == "/v1/completions" and FAIL_MARK.encode() in await request.body():
            return JSONResponse({"error": "CUDA out of memory"}, status_code=500)
        return await super()._dispatch(request)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def one(client: httpx.AsyncClient, fake: FakeUpstream, kind: str) -> int:
    if kind == "bad_json":
        answer = await client.post(
            "/v1/chat/completions",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        return answer.status_code
    if kind == "botched":
        fake.reply('{"function": "send_message", "params": {"message": "Hi"', CALL)
    body: dict[str, Any] = dict(PLAIN if kind.startswith("plain") else MEMGPT)
    if kind == "upstream_error":
        body["messages"] = [{"role": "user", "content": FAIL_MARK}]
    if kind.endswith("_stream"):
        body["stream"] = True
        async with client.stream("POST", "/v1/chat/completions", json=body) as answer:
            text = (await answer.aread()).decode()
            if answer.status_code == 200 and not text.rstrip().endswith("data: [DONE]"):
                return 299  # a 200 stream that did not end: counted as a failure
            return answer.status_code
    return (await client.post("/v1/chat/completions", json=body)).status_code


async def run(
    url: str, fake: FakeUpstream, count: int, concurrency: int, deadline: float
) -> Counter[tuple[str, int]]:
    results: Counter[tuple[str, int]] = Counter()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(KINDS[index % len(KINDS)])
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty() and time.monotonic() < deadline:
                kind = queue.get_nowait()
                try:
                    status = await one(client, fake, kind)
                except httpx.HTTPError as exc:
                    status = 0
                    print(f"{kind}: {type(exc).__name__}: {exc}", file=sys.stderr)
                results[(kind, status)] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()

    with SoakUpstream("webui") as fake:
        fake.default_text = CALL
        port = free_port()
        proxy = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "proxy.cli",
                "serve",
                "--upstream",
                fake.url,
                "--backend",
                "webui",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--max-concurrency",
                "32",
                "--max-queue",
                "64",
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_answering("127.0.0.1", port, timeout=30)
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + args.max_seconds
            asyncio.run(run(url, fake, 200, args.concurrency, deadline))  # warm-up
            before = rss_mb(proxy.pid), open_fds(proxy.pid)
            started = time.monotonic()
            results = asyncio.run(run(url, fake, args.requests, args.concurrency, deadline))
            seconds = time.monotonic() - started
            time.sleep(1)  # let idle connections settle
            after = rss_mb(proxy.pid), open_fds(proxy.pid)
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)

    done = sum(results.values())
    print(
        f"`python bench/soak.py --requests {args.requests} --concurrency {args.concurrency}`: "
        f"{done} requests in {seconds:.0f} s ({done / seconds:.0f} req/s), "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print()
    print("| | RSS MB | open descriptors |")
    print("| --- | ---: | ---: |")
    print(f"| before (after 200 warm-up requests) | {before[0]:.1f} | {before[1]} |")
    print(f"| after {done} requests | {after[0]:.1f} | {after[1]} |")
    print()
    print("| kind | status | count | expected |")
    print("| --- | ---: | ---: | --- |")
    unexpected = 0
    for (kind, status), n in sorted(results.items()):
        if 200 <= status < 300 and status != 299:
            continue
        expected = EXPECTED.get(kind) == status
        unexpected += 0 if expected else n
        print(f"| {kind} | {status} | {n} | {'yes' if expected else '**no**'} |")
    ok = sum(n for (k, s), n in results.items() if 200 <= s < 299)
    print(
        f"\n2xx: {ok}; unexpected non-2xx: {unexpected}; not run (deadline): {args.requests - done}"
    )


if __name__ == "__main__":
    main()
