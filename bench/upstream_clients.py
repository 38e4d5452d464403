"""The upstream HTTP client alone: httpx's own pool against aiohttp's, CPU per request.

    pip install aiohttp                     # for this comparison only
    python bench/upstream_clients.py [--requests 3000] [--size 30000]

nginx (Debian's nginx-light, as in bench/overhead.py) answers every POST at
once; this process sends ``--requests`` POSTs of a ``--size``-byte JSON body,
32 at a time, with each client and event loop, and prints its own CPU time
per request (user + system, from getrusage). bench/RESULTS.md says why fcproxy
stays on httpx all the same.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from overhead import Processes, free_port, nginx_config


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(send: Callable[[], Awaitable[None]], count: int) -> float:
    await asyncio.gather(*(send() for _ in range(32)))  # warm the pool
    limit = asyncio.Semaphore(32)

    async def limited() -> None:
        async with limit:
            await send()

    before = cpu()
    await asyncio.gather(*(limited() for _ in range(count)))
    return 1000 * (cpu() - before) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--size", type=int, default=30_000)
    args = parser.parse_args()
    body = {"prompt": "x" * args.size, "max_tokens": 10}
    processes = Processes()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        processes.start(
            ["/usr/sbin/nginx", "-p", tmp, "-c", str(nginx_config(Path(tmp), port))], port
        )
        url = f"http://127.0.0.1:{port}/v1/completions"

        async def with_httpx(transport: httpx.AsyncBaseTransport | None) -> float:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx.AsyncClient(limits=limits, transport=transport) as client:

                async def send() -> None:
                    (await client.post(url, json=body)).json()

                return await measure(send, args.requests)

        async def with_aiohttp() -> float:
            connector = aiohttp.TCPConnector(limit=64)
            async with aiohttp.ClientSession(connector=connector) as session:

                async def send() -> None:
                    async with session.post(url, json=body) as answer:
                        await answer.json()

                return await measure(send, args.requests)

        cases: dict[str, Callable[[], Awaitable[float]]] = {
            "httpx (its own pool)": lambda: with_httpx(None),
            "aiohttp alone": with_aiohttp,
        }
        try:
            print(
                f"| client, {args.size}-byte body, 32 at a time | asyncio CPU ms/req | uvloop CPU ms/req |"
            )
            print("| --- | ---: | ---: |")
            for name, case in cases.items():
                plain = asyncio.run(case())
                fast = uvloop.run(case())
                print(f"| {name} | {plain:.3f} | {fast:.3f} |")
        finally:
            processes.stop()


if __name__ == "__main__":
    main()
