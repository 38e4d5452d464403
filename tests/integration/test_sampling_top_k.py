"""``top_k`` reaches every upstream in its own field, from Chat Completions and Messages.

The fake upstreams (tests/fakes/upstream.py) stand in for the real servers and
record each generation request's body as that server would receive it.
"""

from __future__ import annotations

import anthropic
import httpx
import pytest

from tests.fakes.upstream import DIALECTS
from tests.integration.conftest import MakeProxy


def sent_top_k(body: dict[str, object], dialect: str) -> object:
    if dialect == "ollama":
        options = body.get("options")
        return options.get("top_k") if isinstance(options, dict) else None
    return body.get("top_k")


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "lmstudio-legacy"])
@pytest.mark.parametrize("stream", [False, True])
def test_top_k_reaches_the_upstream(make_proxy: MakeProxy, dialect: str, stream: bool) -> None:
    proxy = make_proxy(dialect)
    assert proxy.upstream is not None
    proxy.upstream.reply("Fine.")
    response = httpx.post(
        proxy.url + "/v1/chat/completions",
        json={
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "top_k": 7,
            "stream": stream,
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = proxy.upstream.generation_requests[-1].json
    assert body is not None and sent_top_k(body, dialect) == 7


def test_an_unset_top_k_is_left_to_the_upstream(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server")
    assert proxy.upstream is not None
    proxy.upstream.reply("Fine.")
    httpx.post(
        proxy.url + "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    body = proxy.upstream.generation_requests[-1].json
    assert body is not None and "top_k" not in body


def test_anthropic_top_k_is_passed_on(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server")
    assert proxy.upstream is not None
    proxy.upstream.reply("Fine.")
    client = anthropic.Anthropic(base_url=proxy.url, api_key="unused", max_retries=0)
    client.messages.create(
        model="m",
        max_tokens=32,
        messages=[{"role": "user", "content": "hi"}],
        # The SDK dropped its top_k argument; the API still takes the field.
        extra_body={"top_k": 5},
    )
    body = proxy.upstream.generation_requests[-1].json
    assert body is not None and body.get("top_k") == 5
