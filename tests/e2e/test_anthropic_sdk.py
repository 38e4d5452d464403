"""The official ``anthropic`` SDK → fcproxy's ``/v1/messages`` → llama.cpp with SmolLM2.

Real: the SDK, ``fcproxy serve`` in front of llama-cpp-python's server with
SmolLM2-135M-Instruct; calls are grammar-constrained (the ``llamacpp``
backend), so where a call is required (``any``, a named ``tool``) the tiny
model's call is valid by construction. Under ``auto`` the model decides, and
only the shape of its answer is checked.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import jsonschema
import pytest

from tests.e2e.processes import ServerProcess
from tests.e2e.weather import GET_WEATHER, MODEL
from tests.support.api_schemas import as_sent, assert_anthropic_event, assert_anthropic_message

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TOOL: Any = {
    "name": GET_WEATHER["name"],
    "description": GET_WEATHER["description"],
    "input_schema": GET_WEATHER["parameters"],
}
SYSTEM = "You are a helpful assistant. Use the tools you are given."
ASK: Any = [{"role": "user", "content": "What is the weather like in Paris right now?"}]
GREEDY: Any = {"temperature": 0}
WIRE_EVENTS = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
}


@pytest.fixture(scope="module")
def client(llama_proxy: ServerProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=llama_proxy.url, api_key="unused", max_retries=0, timeout=120
    )


def weather_call(message: anthropic.types.Message) -> dict[str, Any]:
    assert_anthropic_message(as_sent(message))
    uses = [b for b in message.content if b.type == "tool_use"]
    assert uses, message
    assert message.stop_reason == "tool_use"
    assert uses[0].name == "get_weather"
    jsonschema.validate(uses[0].input, GET_WEATHER["parameters"])
    return dict(uses[0].input)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "choice", [{"type": "any"}, {"type": "tool", "name": "get_weather"}], ids=["any", "tool"]
)
def test_a_required_call_is_a_valid_tool_use(client: anthropic.Anthropic, choice: Any) -> None:
    message = client.messages.create(
        model=MODEL, max_tokens=200, system=SYSTEM, messages=ASK, tools=[TOOL], tool_choice=choice
    )
    weather_call(message)


def test_auto_answers_with_a_valid_message(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=200,
        system=SYSTEM,
        messages=ASK,
        tools=[TOOL],
        tool_choice={"type": "auto"},
    )
    assert_anthropic_message(as_sent(message))
    if message.stop_reason == "tool_use":
        weather_call(message)
    else:
        assert message.stop_reason in ("end_turn", "max_tokens")
        assert any(b.type == "text" for b in message.content)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_stop_sequence_ends_the_text_and_is_named(
    client: anthropic.Anthropic, stream: bool
) -> None:
    # "e": the one stop a 135M model's English sentence is sure to reach.
    # llama-cpp-python does not say which stop matched: fcproxy cuts there itself.
    kwargs: Any = {
        "model": MODEL,
        "max_tokens": 60,
        "messages": [{"role": "user", "content": "Describe the weather in Paris in one sentence."}],
        "stop_sequences": ["e"],
        "extra_body": GREEDY,
    }
    if stream:
        with client.messages.stream(**kwargs) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    assert_anthropic_message(as_sent(message))
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "e")
    text = "".join(b.text for b in message.content if b.type == "text")
    assert "e" not in text


def test_none_answers_in_text(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=60,
        system=SYSTEM,
        messages=ASK,
        tools=[TOOL],
        tool_choice={"type": "none"},
    )
    assert_anthropic_message(as_sent(message))
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert [b.type for b in message.content] == ["text"]


def test_the_tool_result_round_trip(client: anthropic.Anthropic) -> None:
    first = client.messages.create(
        model=MODEL,
        max_tokens=200,
        system=SYSTEM,
        messages=ASK,
        tools=[TOOL],
        tool_choice={"type": "any"},
    )
    weather_call(first)
    use = next(b for b in first.content if b.type == "tool_use")
    history: Any = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": use.id, "content": "18 C and sunny"}
            ],
        },
    ]
    second = client.messages.create(
        model=MODEL,
        max_tokens=120,
        system=SYSTEM,
        messages=history,
        tools=[TOOL],
        tool_choice={"type": "none"},
    )
    assert_anthropic_message(as_sent(second))
    # The tiny model may say next to nothing; what it says is text.
    assert second.stop_reason in ("end_turn", "max_tokens")
    assert all(b.type == "text" for b in second.content)


def test_the_stream_assembles_the_non_streamed_message(client: anthropic.Anthropic) -> None:
    ask: Any = {
        "model": MODEL,
        "max_tokens": 200,
        "system": SYSTEM,
        "messages": ASK,
        "tools": [TOOL],
        "tool_choice": {"type": "any"},
        "extra_body": GREEDY,
    }
    whole = client.messages.create(**ask)
    with client.messages.stream(**ask) as stream:
        events = list(stream)
        streamed = stream.get_final_message()
    for event in events:
        if event.type in WIRE_EVENTS:
            assert_anthropic_event(as_sent(event))
    fragments = [
        e for e in events if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert len(fragments) > 1, "the arguments were sent in one piece"
    assert weather_call(streamed) == weather_call(whole)
    assert streamed.stop_reason == whole.stop_reason


def test_count_tokens_uses_the_servers_tokenizer(client: anthropic.Anthropic) -> None:
    bare = client.messages.count_tokens(model=MODEL, messages=ASK)
    with_tool = client.messages.count_tokens(model=MODEL, messages=ASK, tools=[TOOL], system=SYSTEM)
    assert 0 < bare.input_tokens < with_tool.input_tokens
    message = client.messages.create(model=MODEL, max_tokens=5, messages=ASK, extra_body=GREEDY)
    # The same prompt, counted by the same tokenizer (the server's own figure).
    assert abs(message.usage.input_tokens - bare.input_tokens) <= 2, (message.usage, bare)


def test_bad_input_gets_anthropic_errors_and_the_server_keeps_serving(
    client: anthropic.Anthropic,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[
                *ASK,
                {"role": "assistant", "content": "ok"},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "1"}],
                },
            ],
        )
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert json.dumps(caught.value.body).count("toolu_x")
    message = client.messages.create(model=MODEL, max_tokens=5, messages=ASK)
    assert message.type == "message"
