"""The baseline for bench/overhead.py: a bare FastAPI + httpx proxy.

What a proxy costs with nothing but the framework and the client fcproxy is
built on: read the body, POST it upstream with one shared
``httpx.AsyncClient``, hand the answer back. No parsing, no validation.

    python bench/bare_proxy.py --port 8100 --upstream http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response


def create_app(upstream: str) -> FastAPI:
    client = httpx.AsyncClient(
        base_url=upstream, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)
    )
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        answer = await client.post(
            "/v1/chat/completions",
            content=await request.body(),
            headers={"content-type": "application/json"},
        )
        return Response(answer.content, answer.status_code, media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.upstream), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
