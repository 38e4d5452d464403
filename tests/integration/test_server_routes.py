"""/v1/models and /health, with and without the /v1 prefix.

Upstream: tests/fakes/upstream.py standing in for text-generation-webui.
"""

from __future__ import annotations

import json

import httpx
import pytest

from proxy.config import ModelEntry
from tests.fakes.net import free_port
from tests.integration.conftest import MakeProxy
from tests.support.shared import assert_valid


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_models_lists_the_table_and_the_upstream_models(make_proxy: MakeProxy, prefix: str) -> None:
    proxy = make_proxy(
        "webui", models=[ModelEntry(name="memgpt-local"), ModelEntry(name="dolphin-*")]
    )
    response = httpx.get(f"{proxy.url}{prefix}/models", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert_valid(body, "ListModelsResponse")
    ids = [m["id"] for m in body["data"]]
    assert ids[0] == "memgpt-local"
    assert "dolphin-*" not in ids  # a glob is not a model name
    assert len(ids) >= 2  # plus what the upstream reports


def test_models_still_answers_when_the_upstream_is_down(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui", upstream_url=f"http://127.0.0.1:{free_port()}")
    response = httpx.get(f"{proxy.base_url}/models", timeout=10)
    assert response.status_code == 200
    assert response.json()["data"]  # the default wrapper at least


@pytest.mark.parametrize("path", ["/health", "/v1/health"])
def test_health_reports_the_upstream(make_proxy: MakeProxy, path: str) -> None:
    up = make_proxy("webui")
    down = make_proxy("webui", upstream_url=f"http://127.0.0.1:{free_port()}")

    ok = httpx.get(f"{up.url}{path}", timeout=10)
    bad = httpx.get(f"{down.url}{path}", timeout=10)

    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    assert bad.status_code == 503 and bad.json()["status"] == "unavailable"
    assert "127.0.0.1" in bad.json()["upstreams"][0]["detail"]


def test_chat_without_v1_prefix(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui")
    assert proxy.upstream is not None
    proxy.upstream.reply("plain answer")
    response = httpx.post(
        f"{proxy.url}/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "plain answer"


def test_sampling_parameters_and_stop_reach_the_upstream(make_proxy: MakeProxy) -> None:
    proxy = make_proxy(
        "webui",
        models=[
            ModelEntry.model_validate(
                {
                    "name": "tuned",
                    "context_window": 4096,
                    "params": {"temperature": 0.2, "top_p": 0.5},
                }
            )
        ],
    )
    assert proxy.upstream is not None
    proxy.upstream.reply("ok END never sent")
    body = {
        "model": "tuned",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.9,
        "max_tokens": 77,
        "stop": ["END"],
    }
    answer = httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=10)
    assert answer.status_code == 200
    # webui does not say which stop matched: fcproxy applies the client's itself
    # (proxy/backends/stops.py), so "END" is cut here, not sent.
    assert answer.json()["choices"][0]["message"]["content"] == "ok"
    [sent] = proxy.upstream.generation_requests
    assert sent.json is not None
    assert sent.json["temperature"] == 0.9  # the client's value wins
    assert sent.json["top_p"] == 0.5  # the model table's default fills in
    assert sent.json["max_tokens"] == 77
    assert sent.json["truncation_length"] == 4096
    assert "END" not in sent.json["stop"]
    assert json.dumps(sent.json).count("<|im_end|>") >= 1  # chatml's own stop sequence
