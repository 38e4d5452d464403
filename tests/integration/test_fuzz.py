"""Bounded fuzzing of the real server (uvicorn) in front of the fake upstream.

Two sources of hostile requests, both bounded in count and run with fixed
seeds so that CI sees the same cases every time:

- schemathesis, from the server's own ``/openapi.json`` (the request bodies
  there are the Pydantic models that validate them, proxy/openapi.py): valid
  bodies, and bodies that break the schema on purpose;
- a few hundred random, partly broken tool schemas (tests/support/schema_fuzz.py)
  sent to every wrapper, fcproxy's and models' own chat templates.

Nothing may answer 500; the only 5xx allowed is 502 ``output_parse_error``, the
answer to a model that wrote no call where the client required one (the fake
upstream writes what it is told, not what a random request asks for). Every
error is in OpenAI's envelope, and the server keeps serving.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode

from proxy.config import ModelEntry
from tests.integration.conftest import MakeProxy, RunningProxy
from tests.integration.test_server_errors import assert_still_serving
from tests.support.schema_fuzz import SchemaFuzzer
from wrappers.registry import wrapper_names

TEMPLATES = Path(__file__).resolve().parents[1] / "unit" / "templates"
#: Models' own chat templates that render tool schemas (the jinja wrapper).
JINJA_TEMPLATES = [
    "Qwen-Qwen2.5-7B-Instruct.jinja",
    "meetkai-functionary-medium-v3.2.jinja",
    "CohereForAI-c4ai-command-r-plus-tool_use.jinja",
    "meta-llama-Llama-3.1-8B-Instruct.jinja",
    "Qwen3-Coder.jinja",
]
#: Cases per run: the schemathesis operations, and the random tool schemas.
OPENAPI_EXAMPLES = {
    ("/v1/chat/completions", "POST"): {GenerationMode.POSITIVE: 150, GenerationMode.NEGATIVE: 100},
    ("/v1/embeddings", "POST"): {GenerationMode.POSITIVE: 60, GenerationMode.NEGATIVE: 40},
    ("/v1/models", "GET"): {GenerationMode.POSITIVE: 5},
    ("/v1/health", "GET"): {GenerationMode.POSITIVE: 5},
}
TOOL_SCHEMA_CASES = 600


def assert_not_a_server_error(status: int, body: bytes, what: str) -> None:
    """No 500 (nor any 5xx but a required call the model did not write), errors in the envelope."""
    if status < 400:
        return
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(
            f"{what}: {status} without OpenAI's error envelope: {body[:300]!r}"
        ) from None
    assert isinstance(error["message"], str) and "Traceback" not in error["message"], what
    if status >= 500:
        assert status == 502 and error["code"] == "output_parse_error", (
            f"{what}: server error {status}: {error}"
        )


@pytest.fixture
def proxy(make_proxy: MakeProxy) -> RunningProxy:
    return make_proxy("webui", max_retries=0)


def test_schemathesis_on_the_servers_own_openapi_finds_no_server_error(
    proxy: RunningProxy,
) -> None:
    schema = schemathesis.openapi.from_url(f"{proxy.url}/openapi.json")
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    with requests.Session() as session:
        for (path, method), modes in OPENAPI_EXAMPLES.items():
            for mode, examples in modes.items():
                strategy = schema[path][method].as_strategy(generation_mode=mode)
                what = f"{method} {path} ({mode.value})"
                fuzz_operation(strategy, examples, what, proxy.url, session, statuses)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {sum(statuses.values())} requests in {elapsed:.1f} s: {dict(statuses)}")
    # The bodies were meaningful: some got through to a generation, some were refused.
    assert statuses[200] >= 50 and statuses[400] >= 50, statuses
    assert_still_serving(proxy)


def fuzz_operation(
    strategy: SearchStrategy[schemathesis.Case],
    examples: int,
    what: str,
    base_url: str,
    session: requests.Session,
    statuses: Counter[int],
) -> None:
    """Send ``examples`` cases of one operation; fail on the first server error."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=session, timeout=30)
        statuses[response.status_code] += 1
        described = f"{what} body={case.body!r:.300}"
        assert_not_a_server_error(response.status_code, response.content, described)

    run()


def tool_schema_request(fuzzer: SchemaFuzzer, models: list[str]) -> tuple[dict[str, Any], str]:
    """A chat request offering 1-3 tools with random schemas, and the model's answer."""
    rng = fuzzer.rng
    functions = []
    for index in range(rng.randrange(1, 4)):
        function: dict[str, Any] = {"name": f"tool_{index}", "parameters": fuzzer.schema()}
        if rng.random() < 0.5:
            function["description"] = "Does a thing."
        functions.append(function)
    target = rng.choice(functions)
    arguments = fuzzer.arguments(target["parameters"])
    answer = rng.choice(
        [
            json.dumps({"function": target["name"], "params": arguments}),
            "<tool_call>\n"
            + json.dumps({"name": target["name"], "arguments": arguments})
            + "\n</tool_call>",
            f"[{target['name']}(key0=1)]",
            "Just text.",
        ]
    )
    body: dict[str, Any] = {
        "model": rng.choice(models),
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Use a tool."},
        ],
        "stream": rng.random() < 0.3,
    }
    if rng.random() < 0.7:
        body["tools"] = [{"type": "function", "function": f} for f in functions]
        body["tool_choice"] = rng.choice(
            ["auto", "none", "required", {"type": "function", "function": {"name": target["name"]}}]
        )
    else:
        body["functions"] = functions
        body["function_call"] = rng.choice(["auto", "none", {"name": target["name"]}])
    return body, answer


def test_random_tool_schemas_through_every_wrapper_find_no_server_error(
    make_proxy: MakeProxy,
) -> None:
    entries = [ModelEntry(name=name, wrapper=name) for name in wrapper_names()]
    entries += [
        ModelEntry(
            name=f"jinja-{template}", wrapper="jinja", chat_template=str(TEMPLATES / template)
        )
        for template in JINJA_TEMPLATES
    ]
    proxy = make_proxy("webui", max_retries=0, models=entries)
    assert proxy.upstream is not None
    models = [entry.name for entry in entries]
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    with httpx.Client(base_url=proxy.base_url, timeout=30) as client:
        for case in range(TOOL_SCHEMA_CASES):
            fuzzer = SchemaFuzzer(case)
            body, answer = tool_schema_request(fuzzer, models)
            # The answer the model "writes" (no queue: a refused request leaves nothing behind).
            proxy.upstream.default_text = answer
            response = client.post("/chat/completions", json=body)
            statuses[response.status_code] += 1
            what = f"case {case} (model {body['model']})"
            assert_not_a_server_error(response.status_code, response.content, what)
            if response.status_code == 400:
                message = response.json()["error"]["message"]
                assert any(hint in message for hint in ("parameters", "nested", "chat template")), (
                    f"{what}: {message}"
                )
    elapsed = time.monotonic() - started
    print(f"tool schemas: {TOOL_SCHEMA_CASES} requests in {elapsed:.1f} s: {dict(statuses)}")
    assert statuses[200] >= TOOL_SCHEMA_CASES // 5 and statuses[400] >= TOOL_SCHEMA_CASES // 5
    proxy.upstream.default_text = "Hello from the fake upstream."
    entry = random.Random(0).choice(models)
    still = httpx.post(
        f"{proxy.base_url}/chat/completions",
        json={"model": entry, "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    assert still.status_code == 200, still.text
