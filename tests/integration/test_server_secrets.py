"""Upstream secrets stay secret: planted in the upstream URL and key, searched for
in every answer body and header, /health, the server log and `fcproxy doctor`.

The upstream is tests/fakes/upstream.py (webui), made to echo the request's
headers in its error bodies, as a debugging proxy or a careless server does:
the Authorization header then holds the upstream key (``Bearer``), or the
URL's user and password (``Basic``, base64).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.config import ModelEntry
from tests.e2e.processes import ServerProcess
from tests.fakes.net import free_port
from tests.fakes.upstream import FakeUpstream, RecordedRequest
from tests.integration.conftest import MakeProxy, RunningProxy

REPO = Path(__file__).resolve().parents[2]
USER = "bob"
PASSWORD = "pw-Secret-0xC0FFEE"
KEY = "sk-upstream-7f3a9c2e41"
CLIENT_KEY = "client-key-1234abcd"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
#: What must never show, not even its first 8 characters (quotes are cut short).
SECRETS = (PASSWORD, KEY, BASIC)
AUTH = {"Authorization": f"Bearer {CLIENT_KEY}"}
CHAT = {"messages": [{"role": "user", "content": "hi"}]}


def with_password(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD}@", 1)


def echo_headers(request: RecordedRequest) -> dict[str, Any]:
    return {"error": {"message": f"Unauthorized. You sent: {json.dumps(request.headers)}"}}


def echo_overflow(request: RecordedRequest) -> str:
    return f"context length exceeded (request headers: {request.headers})"


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret[:8] not in text, f"{where} shows a secret:\n{text[:2000]}"


def assert_clean(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert_no_secret(where + " body", response.text)
    assert_no_secret(where + " headers", repr(response.headers.multi_items()))


@pytest.fixture
def planted(
    fake_upstream: Callable[..., FakeUpstream], make_proxy: MakeProxy
) -> tuple[RunningProxy, FakeUpstream]:
    """fcproxy with a password in its upstream URL and, for model ``keyed``, an upstream key."""
    fake = fake_upstream("webui")
    gone = with_password(f"http://127.0.0.1:{free_port()}")
    proxy = make_proxy(
        "webui",
        upstream_url=with_password(fake.url),
        api_keys=[CLIENT_KEY],
        max_retries=0,
        models=[
            ModelEntry(name="plain"),
            ModelEntry(name="keyed", upstream=fake.url, upstream_api_key=KEY),
            ModelEntry(name="gone", upstream=gone, backend="auto", upstream_api_key=KEY),
        ],
    )
    return proxy, fake


def test_the_fake_really_echoes_the_secrets(planted: tuple[RunningProxy, FakeUpstream]) -> None:
    # Without this the search below could pass by never seeing a secret at all.
    proxy, fake = planted
    fake.reply("a", "b")
    for model in ("plain", "keyed"):
        response = httpx.post(
            f"{proxy.base_url}/chat/completions", json={**CHAT, "model": model}, headers=AUTH
        )
        assert response.status_code == 200
    sent = [r.headers.get("authorization") for r in fake.generation_requests]
    assert sent == [f"Basic {BASIC}", f"Bearer {KEY}"]


def test_no_answer_health_or_log_line_shows_an_upstream_secret(
    planted: tuple[RunningProxy, FakeUpstream], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy, fake = planted
    answers: list[httpx.Response] = []

    def chat(model: str, **extra: Any) -> httpx.Response:
        body = {**CHAT, "model": model, **extra}
        answers.append(
            httpx.post(f"{proxy.base_url}/chat/completions", json=body, headers=AUTH, timeout=30)
        )
        return answers[-1]

    fake.fail(500, echo_headers)
    assert chat("plain").status_code == 502
    assert f"http://{USER}:[redacted]@127.0.0.1" in answers[-1].json()["error"]["message"]
    fake.fail(500, echo_headers)
    assert chat("keyed").status_code == 502
    assert "[redacted]" in answers[-1].json()["error"]["message"]
    fake.fail(500, echo_headers)
    assert chat("keyed", stream=True).status_code == 502
    fake.fail(400, echo_overflow)  # quoted by the context_length_exceeded message
    assert chat("plain").json()["error"]["code"] == "context_length_exceeded"
    fake.fail(200, echo_headers)  # an error inside an HTTP 200 (LM Studio 0.4 does this)
    assert chat("keyed").status_code == 502
    assert chat("gone").status_code == 502  # nothing listens: "Cannot reach http://..."

    fake.fail_embeddings(500, echo_headers)
    answers.append(
        httpx.post(
            f"{proxy.base_url}/embeddings", json={"model": "keyed", "input": "x"}, headers=AUTH
        )
    )
    assert answers[-1].status_code == 502
    answers.append(httpx.get(f"{proxy.base_url}/models", headers=AUTH))
    assert answers[-1].status_code == 200
    answers.append(httpx.get(f"{proxy.url}/health", headers=AUTH, timeout=30))
    health = answers[-1].json()
    assert answers[-1].status_code == 503 and len(health["upstreams"]) == 3
    shown = {u["url"] for u in health["upstreams"]}
    assert fake.url.replace("http://", f"http://{USER}:[redacted]@") in shown
    answers.append(httpx.get(f"{proxy.url}/health", timeout=30))
    answers.append(httpx.post(f"{proxy.base_url}/chat/completions", json=CHAT))  # 401

    for response in answers:
        assert_clean(response)
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert_no_secret("the log", logged)
    assert f"{USER}:[redacted]@127.0.0.1" in logged  # the URL was logged, without its password


def test_fcproxy_serve_logs_no_upstream_secret(
    fake_upstream: Callable[..., FakeUpstream], tmp_path: Path
) -> None:
    """The real command, with uvicorn's own logging and the access log (debug)."""
    fake = fake_upstream("webui")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPROXY_")}
    # In the environment, not on the command line, which the log's first line shows.
    env.update(
        PYTHONPATH=str(REPO), FCPROXY_API_KEYS=CLIENT_KEY, FCPROXY_UPSTREAM=with_password(fake.url)
    )
    args = [sys.executable, "-m", "proxy.cli", "serve", "--backend", "auto"]
    args += ["--port", str(port), "--log-level", "debug"]
    server = ServerProcess(
        "fcproxy",
        args,
        port=port,
        log_path=tmp_path / "fcproxy.log",
        ready_path="/health",
        env=env,
        cwd=tmp_path,
    )
    with server.start(timeout=60):
        fake.fail(500, echo_headers)
        failed = httpx.post(
            f"{server.url}/v1/chat/completions", json={**CHAT, "model": "m"}, headers=AUTH
        )
        assert failed.status_code == 502
        assert_clean(failed)
        assert_clean(httpx.get(f"{server.url}/health", headers=AUTH))
    log = server.log_text()
    assert f"{USER}:[redacted]@127.0.0.1" in log
    assert_no_secret("fcproxy serve's log", log)


def test_fcproxy_doctor_shows_no_upstream_secret(
    fake_upstream: Callable[..., FakeUpstream],
) -> None:
    fake = fake_upstream("webui")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPROXY_")}
    env.update(PYTHONPATH=str(REPO), FCPROXY_UPSTREAM_API_KEY=KEY)
    gone = with_password(f"http://127.0.0.1:{free_port()}")
    for upstream, code in ((with_password(fake.url), 0), (gone, 1)):
        for extra in ((), ("--json",)):
            result = subprocess.run(
                [sys.executable, "-m", "proxy.cli", "doctor", "--upstream", upstream, *extra],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            assert result.returncode == code, result.stderr
            assert f"{USER}:[redacted]@127.0.0.1" in result.stdout
            assert_no_secret("fcproxy doctor", result.stdout + result.stderr)
