"""Usage never fails a request: a missing or broken token-count endpoint gives the estimate.

webui-legacy's ``/api/v1/token-count`` answers 404 on builds (and on servers
imitating the ``/api/v1`` API) that lack it; the generation itself went fine.
The fake upstream stands in for webui, which cannot run in CI.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from proxy import usage
from tests.integration.conftest import MakeProxy

BODY = {"model": "chatml", "messages": [{"role": "user", "content": "Hello there"}]}


@pytest.fixture(autouse=True)
def _fresh_log_memory() -> None:
    usage._FAILED_COUNTS.clear()


@pytest.mark.parametrize("context_window", [None, 4096])
def test_a_missing_token_count_endpoint_gives_the_estimate_not_a_502(
    make_proxy: MakeProxy, context_window: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    # With a context window the prompt is counted before generating, too.
    proxy = make_proxy("webui-legacy", context_window=context_window)
    assert proxy.upstream is not None
    proxy.upstream.remove_route("POST", "/api/v1/token-count")
    proxy.upstream.reply("General Kenobi.", "Hello again.")
    with caplog.at_level(logging.WARNING, logger="proxy.usage"):
        for expected in ("General Kenobi.", "Hello again."):
            response = httpx.post(f"{proxy.url}/v1/chat/completions", json=BODY, timeout=20)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["choices"][0]["message"]["content"] == expected
            assert body["usage"]["prompt_tokens"] >= 1
            assert body["usage"]["completion_tokens"] == usage.estimate_tokens(expected)
    warnings = [r for r in caplog.records if "token count failed" in r.getMessage()]
    assert len(warnings) == 1, "logged once per upstream, not once per request"


def test_a_working_token_count_endpoint_is_still_used(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui-legacy")
    assert proxy.upstream is not None
    proxy.upstream.reply("one two three four five six seven eight nine")
    response = httpx.post(f"{proxy.url}/v1/chat/completions", json=BODY, timeout=20)
    assert response.status_code == 200
    # The fake counts words: 9, where the estimate of 44 characters would say 11.
    assert response.json()["usage"]["completion_tokens"] == 9
