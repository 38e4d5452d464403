"""The Responses API with real clients → fcproxy's ``/v1/responses`` → llama.cpp with SmolLM2.

Real: the ``openai`` SDK's ``client.responses``, an ``openai-agents`` SDK
``Agent`` on its default model (OpenAIResponsesModel), ``fcproxy serve`` in
front of llama-cpp-python's server with SmolLM2-135M-Instruct. Calls are
grammar-constrained where the request requires one, so the tiny model's calls
are valid by construction.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
import pytest

from tests.e2e.processes import ServerProcess
from tests.e2e.weather import GET_WEATHER, MODEL
from tests.support.api_schemas import as_sent, assert_response, assert_response_event

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TOOL: Any = {"type": "function", **GET_WEATHER}
INSTRUCTIONS = "You are a helpful assistant. Use the tools you are given."
ASK = "What is the weather like in Paris right now?"


@pytest.fixture(scope="module")
def client(llama_proxy: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=llama_proxy.url + "/v1", api_key="unused", max_retries=0, timeout=120
    )


def weather_call(response: Any) -> Any:
    assert_response(as_sent(response))
    calls = [item for item in response.output if item.type == "function_call"]
    assert calls, response
    assert calls[0].name == "get_weather"
    jsonschema.validate(json.loads(calls[0].arguments), GET_WEATHER["parameters"])
    return calls[0]


def test_a_plain_answer(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input="Say hello in one short sentence.", max_output_tokens=40
    )
    assert_response(as_sent(response))
    assert response.status in ("completed", "incomplete")
    assert response.output_text.strip()


def test_a_required_function_call_and_its_output(client: openai.OpenAI) -> None:
    first = client.responses.create(
        model=MODEL, instructions=INSTRUCTIONS, input=ASK, tools=[TOOL], tool_choice="required"
    )
    call = weather_call(first)
    second = client.responses.create(
        model=MODEL,
        instructions=INSTRUCTIONS,
        input=[
            {"role": "user", "content": ASK},
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": "18 C, sunny"},
        ],
        tools=[TOOL],
        tool_choice="none",
        max_output_tokens=80,
    )
    assert_response(as_sent(second))
    assert all(item.type in ("message", "reasoning") for item in second.output)


def test_previous_response_id_chains(client: openai.OpenAI) -> None:
    first = client.responses.create(
        model=MODEL,
        instructions=INSTRUCTIONS,
        input=ASK,
        tools=[TOOL],
        tool_choice={"type": "function", "name": "get_weather"},
    )
    call = weather_call(first)
    second = client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18 C"}],
        tools=[TOOL],
        tool_choice="none",
        max_output_tokens=60,
    )
    assert_response(as_sent(second))
    assert second.previous_response_id == first.id
    assert client.responses.retrieve(second.id).id == second.id
    # The chained request's prompt is the whole conversation written out (the
    # instructions are not carried over, as in OpenAI's API): same prompt, same count.
    explicit = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": ASK},
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": "18 C"},
        ],
        tools=[TOOL],
        tool_choice="none",
        max_output_tokens=5,
    )
    assert second.usage is not None and explicit.usage is not None
    assert second.usage.input_tokens == explicit.usage.input_tokens


def test_a_streamed_required_call(client: openai.OpenAI) -> None:
    events = list(
        client.responses.create(
            model=MODEL,
            instructions=INSTRUCTIONS,
            input=ASK,
            tools=[TOOL],
            tool_choice="required",
            stream=True,
        )
    )
    for event in events:
        assert_response_event(as_sent(event))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"
    fragments = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(fragments) > 1, "the arguments were sent in one piece"
    call = weather_call(events[-1].response)
    assert "".join(fragments) == call.arguments


def test_bad_input_gets_openai_errors_and_the_server_keeps_serving(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input=ASK, tools=[{"type": "web_search"}])
    assert "web_search" in str(caught.value)
    with pytest.raises(openai.BadRequestError) as unknown:
        client.responses.create(model=MODEL, input=ASK, previous_response_id="resp_nope")
    assert unknown.value.code == "previous_response_not_found"
    assert client.responses.create(model=MODEL, input="Hi", max_output_tokens=5).id


def test_an_agents_sdk_agent_calls_its_function_tool(llama_proxy: ServerProcess) -> None:
    agents = pytest.importorskip("agents", reason="openai-agents is not installed")

    seen: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        seen.append(city)
        return f"18 C and sunny in {city}"

    agents.set_tracing_disabled(True)  # tracing would upload to OpenAI
    client = openai.AsyncOpenAI(
        base_url=llama_proxy.url + "/v1", api_key="unused", max_retries=0, timeout=120
    )
    # The agent's default model: the Responses API (OpenAIResponsesModel).
    model = agents.OpenAIResponsesModel(model=MODEL, openai_client=client)
    agent = agents.Agent(
        name="weather",
        instructions=INSTRUCTIONS,
        model=model,
        tools=[get_weather],
        model_settings=agents.ModelSettings(tool_choice="required"),
        # The tiny model cannot be trusted to stop calling tools: end on the first result.
        tool_use_behavior="stop_on_first_tool",
    )
    result = agents.Runner.run_sync(agent, ASK, max_turns=3)
    assert len(seen) == 1 and seen[0], seen
    assert result.final_output == f"18 C and sunny in {seen[0]}"
