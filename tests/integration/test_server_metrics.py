"""/metrics after a short load, the request id on every answer, JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import re

import httpx

from proxy.logs import JsonFormatter, install_request_id_factory
from proxy.metrics import _request_id
from proxy.redaction import Redactor, install_log_redaction
from tests.integration.conftest import MakeProxy

CALL = json.dumps(
    {"function": "send_message", "params": {"inner_thoughts": "Hi.", "message": "Hello"}}
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "send_message",
            "description": "Send a message.",
            "parameters": {
                "type": "object",
                "properties": {"message": {"type": "string"}},
                "required": ["message"],
            },
        },
    }
]


def request(model: str = "m") -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "tools": TOOLS}


def sample(page: str, name: str, **labels: str) -> float:
    """The value of one sample of the scraped page (0 when absent)."""
    for line in page.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.partition("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_latencies_parses_and_tokens(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui")
    assert proxy.upstream is not None
    proxy.upstream.default_text = CALL
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        before = client.get("/metrics").text
        assert sample(before, "fcproxy_requests_total", route="/v1/chat/completions") == 0
        for _ in range(5):
            assert client.post("/v1/chat/completions", json=request()).status_code == 200
        # A broken call (retried), then prose: answered as plain content (auto).
        proxy.upstream.reply('{"function": "send_mess', "Just words.")
        assert client.post("/v1/chat/completions", json=request()).status_code == 200
        # A call with a trailing comma: repaired.
        proxy.upstream.reply('{"function": "send_message", "params": {"message": "Hi",}')
        assert client.post("/v1/chat/completions", json=request()).status_code == 200
        assert client.post("/v1/chat/completions", json={"model": "m"}).status_code == 400
        page = client.get("/metrics").text

    chat = {"route": "/v1/chat/completions", "model": "m"}
    assert sample(page, "fcproxy_requests_total", status="200", **chat) == 7
    assert sample(page, "fcproxy_requests_total", route="/v1/chat/completions", status="400") == 1
    assert sample(page, "fcproxy_requests_total", route="/metrics", status="200") == 1
    assert sample(page, "fcproxy_request_duration_seconds_count", route="/v1/chat/completions") == 8
    assert sample(page, "fcproxy_request_duration_seconds_sum", route="/v1/chat/completions") > 0
    assert sample(page, "fcproxy_parse_outcomes_total", wrapper="chatml", outcome="ok") == 5
    assert sample(page, "fcproxy_parse_outcomes_total", wrapper="chatml", outcome="retried") == 1
    assert sample(page, "fcproxy_parse_outcomes_total", wrapper="chatml", outcome="no_call") == 1
    assert sample(page, "fcproxy_parse_outcomes_total", wrapper="chatml", outcome="repaired") == 1
    assert sample(page, "fcproxy_parse_duration_seconds_count", wrapper="chatml") == 8
    assert sample(page, "fcproxy_attempts_count") == 7
    assert sample(page, "fcproxy_attempts_bucket", le="1.0") == 6
    assert sample(page, "fcproxy_attempts_bucket", le="2.0") == 7
    upstream = {"upstream": proxy.upstream.url}
    assert sample(page, "fcproxy_upstream_duration_seconds_count", **upstream) == 8
    assert sample(page, "fcproxy_queue_wait_seconds_count", **upstream) == 8
    assert sample(page, "fcproxy_upstream_in_flight", **upstream) == 0
    assert sample(page, "fcproxy_upstream_up", **upstream) == 1
    assert sample(page, "fcproxy_tokens_total", model="m", direction="prompt") > 0
    assert sample(page, "fcproxy_tokens_total", model="m", direction="completion") > 0


def test_every_answer_carries_a_request_id(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui")
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        own = client.get("/health", headers={"x-request-id": "client-chosen-42"})
        assert own.headers["x-request-id"] == "client-chosen-42"
        fresh = client.get("/v1/nowhere")
        assert fresh.status_code == 404 and re.fullmatch(
            r"[0-9a-f]{32}", fresh.headers["x-request-id"]
        )
        # A header that is not a sane id (spaces, control characters, too long) is replaced.
        for bad in ("two words", "x" * 200):
            answer = client.get("/health", headers={"x-request-id": bad})
            assert answer.headers["x-request-id"] != bad
        assert client.get("/health").headers["x-request-id"] != fresh.headers["x-request-id"]


def test_metrics_need_a_key_when_keys_are_configured(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui", api_keys=["sk-metrics-key-1234"])
    assert httpx.get(proxy.url + "/metrics", timeout=5).status_code == 401
    answer = httpx.get(
        proxy.url + "/metrics", headers={"authorization": "Bearer sk-metrics-key-1234"}, timeout=5
    )
    assert answer.status_code == 200 and "fcproxy_requests_total" in answer.text


def test_json_log_lines_carry_the_request_id_and_stay_redacted() -> None:
    secret = "sk-upstream-secret-9876"
    install_request_id_factory()
    install_log_redaction(Redactor([secret]))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("fcproxy.test-json-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = _request_id.set("req-123")
    try:
        logger.info("upstream said %s", f"bad key {secret}")
        try:
            raise ValueError(f"key {secret} refused")
        except ValueError:
            logger.exception("failed")
    finally:
        _request_id.reset(token)
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["req-123", "req-123"]
    assert lines[0]["message"] == "upstream said bad key [redacted]"
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "fcproxy.test-json-logs"
    assert "ValueError" in lines[1]["exception"]
    assert secret not in stream.getvalue()
