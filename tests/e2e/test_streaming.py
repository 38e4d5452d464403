"""Streaming with real models: the OpenAI SDK → fcproxy → llama.cpp (server and in-process).

Real: the SDK, ``fcproxy serve`` in front of llama-cpp-python's server with
SmolLM2-135M-Instruct (grammar-constrained calls through the ``llamacpp``
backend), and fcproxy with the embedded model. Nothing stands in.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
import jsonschema
import openai
import pytest

from proxy.app import create_app
from proxy.config import Settings
from tests.e2e.processes import ServerProcess
from tests.e2e.weather import GET_WEATHER, MESSAGES, MODEL
from tests.support.server import ServerThread
from tests.support.shared import assert_valid

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TOOLS: Any = [{"type": "function", "function": GET_WEATHER}]
STORY: Any = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]


@pytest.fixture(scope="module")
def client(llama_proxy: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=llama_proxy.url + "/v1", api_key="unused", max_retries=0, timeout=120
    )


def read_stream(chunks: Any) -> dict[str, Any]:
    """Validate each chunk against OpenAI's schema and assemble the message."""
    content = ""
    content_chunks = 0
    calls: dict[int, dict[str, Any]] = {}
    function_call = {"name": "", "arguments": "", "fragments": 0}
    finish = []
    ids = set()
    for chunk in chunks:
        assert_valid(
            chunk.model_dump(mode="json", exclude_unset=True), "CreateChatCompletionStreamResponse"
        )
        ids.add(chunk.id)
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                content += delta.content
                content_chunks += 1
            for tc in delta.tool_calls or []:
                call = calls.setdefault(tc.index, {"name": "", "arguments": "", "fragments": 0})
                if tc.function and tc.function.name:
                    call["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    call["arguments"] += tc.function.arguments
                    call["fragments"] += 1
            if delta.function_call:
                function_call["name"] += delta.function_call.name or ""
                if delta.function_call.arguments:
                    function_call["arguments"] += delta.function_call.arguments
                    function_call["fragments"] += 1
            if choice.finish_reason:
                finish.append(choice.finish_reason)
    assert len(ids) == 1
    return {
        "content": content,
        "content_chunks": content_chunks,
        "calls": [calls[i] for i in sorted(calls)],
        "function_call": function_call,
        "finish": finish,
    }


def assert_valid_weather(call: dict[str, Any]) -> None:
    assert call["name"] == "get_weather"
    arguments = json.loads(call["arguments"])
    jsonschema.validate(arguments, GET_WEATHER["parameters"])
    # The arguments were written, and sent, piece by piece.
    assert call["fragments"] > 1, call


def test_a_required_call_streams_schema_valid_arguments_in_fragments(
    client: openai.OpenAI,
) -> None:
    got = read_stream(
        client.chat.completions.create(
            model=MODEL,
            messages=cast(Any, MESSAGES),
            tools=TOOLS,
            tool_choice="required",
            stream=True,
        )
    )
    assert len(got["calls"]) == 1
    assert_valid_weather(got["calls"][0])
    assert got["finish"] == ["tool_calls"]


def test_a_functions_client_gets_function_call_deltas(client: openai.OpenAI) -> None:
    got = read_stream(
        client.chat.completions.create(
            model=MODEL,
            messages=cast(Any, MESSAGES),
            functions=[cast(Any, GET_WEATHER)],
            function_call={"name": "get_weather"},
            stream=True,
        )
    )
    assert_valid_weather(got["function_call"])
    assert got["finish"] == ["function_call"]


def test_the_stream_helper_assembles_the_non_streamed_message(client: openai.OpenAI) -> None:
    ask: dict[str, Any] = {
        "model": MODEL,
        "messages": MESSAGES,
        "tools": TOOLS,
        "tool_choice": "required",
        "temperature": 0,
        "seed": 7,
    }
    whole = client.chat.completions.create(**ask).choices[0].message
    with client.chat.completions.stream(**ask) as stream:
        streamed = stream.get_final_completion().choices[0].message
    assert streamed.content == whole.content
    assert whole.tool_calls and streamed.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in streamed.tool_calls] == [
        (c.function.name, json.loads(c.function.arguments)) for c in whole.tool_calls
    ]


def test_text_streams_as_the_model_writes_it(client: openai.OpenAI) -> None:
    started = time.monotonic()
    first = None
    chunks = []
    for chunk in client.chat.completions.create(
        model=MODEL, messages=STORY, stream=True, max_tokens=120, temperature=0
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or time.monotonic() - started
        chunks.append(chunk)
    total = time.monotonic() - started
    got = read_stream(chunks)
    assert got["content_chunks"] > 20, got
    assert first is not None and first < total / 2


def test_a_client_that_leaves_a_stream_frees_the_llama_server(
    client: openai.OpenAI, llama_proxy: ServerProcess
) -> None:
    # llama-cpp-python's server generates for one request at a time: had the
    # abandoned 3000-token story gone on, the next request would wait for it.
    stream = client.chat.completions.create(
        model=MODEL, messages=STORY, stream=True, max_tokens=3000, temperature=1.0
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    stream.close()
    started = time.monotonic()
    quick = client.chat.completions.create(model=MODEL, messages=STORY, max_tokens=8)
    waited = time.monotonic() - started
    assert quick.choices[0].message.content
    log = llama_proxy.log_text()
    assert "Traceback" not in log
    # 3000 tokens take well over a minute on this machine; 8 take a second or two.
    assert waited < 20, waited


# ---- the embedded model ----


@pytest.fixture(scope="module")
def embedded() -> Iterator[ServerThread]:
    pytest.importorskip("llama_cpp", reason="the embedded extra is not installed")
    settings = Settings(embedded_n_ctx=2048, embedded_threads=1, default_max_tokens=128)
    with ServerThread(create_app(settings), name="fcproxy-embedded") as running:
        yield running


def test_the_embedded_model_streams_a_required_call_in_fragments(embedded: ServerThread) -> None:
    client = openai.OpenAI(base_url=embedded.url + "/v1", api_key="none", max_retries=0)
    got = read_stream(
        client.chat.completions.create(
            model="smollm2",
            messages=cast(Any, MESSAGES),
            tools=TOOLS,
            tool_choice="required",
            stream=True,
        )
    )
    assert_valid_weather(got["calls"][0])


def test_a_client_that_leaves_an_embedded_stream_frees_the_model(
    embedded: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = {"model": "smollm2", "messages": STORY, "stream": True, "max_tokens": 1500}
    with httpx.stream(
        "POST", embedded.url + "/v1/chat/completions", json=body, timeout=60
    ) as response:
        for line in response.iter_lines():
            if '"content"' in line and '"content": ""' not in line:
                break
    quick = httpx.post(
        embedded.url + "/v1/chat/completions",
        json={**body, "stream": False, "max_tokens": 4},
        timeout=60,
    )
    assert quick.status_code == 200
    assert "generation stopped (stream closed)" in caplog.text
