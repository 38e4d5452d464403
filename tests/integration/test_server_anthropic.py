"""``POST /v1/messages`` and ``/v1/messages/count_tokens`` through the official ``anthropic`` SDK.

The upstream is the fake llama.cpp server (tests/fakes/upstream.py) with the
``hermes`` format; the model's text is what each test queues. What is
checked is the Messages dialect layer: tool_choice modes, the tool_result
round trip, the stream assembling into the same Message as the non-streamed
answer, Anthropic's error envelope and statuses, and that every answer and
event validates against Anthropic's own types (tests/support/anthropic_schemas.py).
"""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
import httpx
import pytest

from tests.integration.conftest import MakeProxy, RunningProxy
from tests.support.api_schemas import as_sent, assert_anthropic_event, assert_anthropic_message

WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TIME_TOOL: Any = {
    "name": "get_time",
    "description": "Local time in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
ASK: Any = [{"role": "user", "content": "What's the weather in Paris?"}]
CALL = (
    "Let me look.\n<tool_call>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
)


def client(proxy: RunningProxy, api_key: str = "unused") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key=api_key, max_retries=0, timeout=30)


@pytest.fixture
def proxy(make_proxy: MakeProxy) -> RunningProxy:
    return make_proxy("llama-server", wrapper="hermes")


def queue(proxy: RunningProxy, *texts: str) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply(*texts)


@pytest.mark.parametrize(
    ("choice", "forced"),
    [
        ({"type": "auto"}, None),
        ({"type": "any"}, None),
        ({"type": "tool", "name": "get_weather"}, "get_weather"),
    ],
)
def test_a_tool_call_in_each_tool_choice_mode(
    proxy: RunningProxy, choice: Any, forced: str | None
) -> None:
    queue(proxy, CALL)
    raw = client(proxy).messages.with_raw_response.create(
        model="hermes",
        max_tokens=200,
        messages=ASK,
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice=choice,
    )
    assert_anthropic_message(json.loads(raw.text()))
    message = raw.parse()
    assert message.stop_reason == "tool_use"
    assert [b.type for b in message.content] == ["text", "tool_use"]
    use = message.content[1]
    assert use.type == "tool_use"
    assert use.name == "get_weather"
    assert use.input == {"city": "Paris"}
    assert use.id.startswith("toolu_")
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0
    sent = proxy.upstream.generation_requests[-1].json if proxy.upstream else {}
    prompt = sent.get("prompt", "")
    assert "get_time" in json.dumps(prompt) or forced == "get_weather"


def test_tool_choice_none_answers_in_text(proxy: RunningProxy) -> None:
    queue(proxy, "It is sunny in Paris.")
    message = client(proxy).messages.create(
        model="hermes",
        max_tokens=200,
        messages=ASK,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "none"},
    )
    assert message.stop_reason == "end_turn"
    assert [(b.type, getattr(b, "text", None)) for b in message.content] == [
        ("text", "It is sunny in Paris.")
    ]


def test_the_tool_result_round_trip(proxy: RunningProxy) -> None:
    queue(proxy, CALL, "It is 18 C and sunny in Paris.")
    api = client(proxy)
    first = api.messages.create(model="hermes", max_tokens=200, messages=ASK, tools=[WEATHER_TOOL])
    use = next(b for b in first.content if b.type == "tool_use")
    history: Any = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": use.id, "content": "18 C, sunny"},
                {"type": "text", "text": "Thanks!"},
            ],
        },
    ]
    second = api.messages.create(
        model="hermes", max_tokens=200, messages=history, tools=[WEATHER_TOOL]
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].type == "text"
    assert second.content[0].text == "It is 18 C and sunny in Paris."
    # The model saw the call and its result, in its own format.
    assert proxy.upstream is not None
    prompt = proxy.upstream.generation_requests[-1].json["prompt"]
    assert "<tool_response>" in prompt and "18 C, sunny" in prompt
    assert '"city": "Paris"' in prompt and "Thanks!" in prompt


def test_a_tool_result_marked_as_error_reaches_the_model(proxy: RunningProxy) -> None:
    queue(proxy, "Sorry, the weather service failed.")
    history: Any = [
        *ASK,
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "service down"}],
                    "is_error": True,
                }
            ],
        },
    ]
    client(proxy).messages.create(
        model="hermes", max_tokens=100, messages=history, tools=[WEATHER_TOOL]
    )
    assert proxy.upstream is not None
    assert "Error: service down" in proxy.upstream.generation_requests[-1].json["prompt"]


def test_system_text_blocks_and_stop_sequences_reach_the_upstream(proxy: RunningProxy) -> None:
    queue(proxy, "Bonjour.")
    client(proxy).messages.create(
        model="hermes",
        max_tokens=50,
        system=[{"type": "text", "text": "Answer in French."}],
        messages=[{"role": "user", "content": "Hello"}],
        stop_sequences=["###"],
        # This SDK version no longer takes sampling parameters as arguments.
        extra_body={"temperature": 0.2, "top_k": 40},
    )
    assert proxy.upstream is not None
    sent = proxy.upstream.generation_requests[-1].json
    assert "Answer in French." in sent["prompt"]
    assert "###" in sent["stop"]
    assert sent["n_predict"] == 50 or sent.get("max_tokens") == 50


@pytest.mark.parametrize(
    "reply", [CALL, "Just text, no call.", "<think>Paris is in France.</think>It is sunny."]
)
def test_the_stream_assembles_into_the_non_streamed_message(
    proxy: RunningProxy, reply: str
) -> None:
    queue(proxy, reply, reply)
    api = client(proxy)
    kwargs: Any = {"model": "hermes", "max_tokens": 200, "messages": ASK, "tools": [WEATHER_TOOL]}
    whole = api.messages.create(**kwargs)
    with api.messages.stream(**kwargs) as stream:
        events = list(stream)
        streamed = stream.get_final_message()
    assert_anthropic_message(as_sent(streamed))
    # The SDK's helper adds its own convenience events (text, input_json): only
    # the wire events are Anthropic's.
    for event in events:
        if event.type in (
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ):
            assert_anthropic_event(as_sent(event))
    assert events[0].type == "message_start"
    assert events[-1].type == "message_stop"

    def shape(message: anthropic.types.Message) -> Any:
        return [
            (
                b.type,
                getattr(b, "text", None),
                getattr(b, "thinking", None),
                getattr(b, "name", None),
                getattr(b, "input", None),
            )
            for b in message.content
        ]

    assert shape(streamed) == shape(whole)
    assert streamed.stop_reason == whole.stop_reason
    assert streamed.usage.output_tokens == whole.usage.output_tokens


def test_the_raw_stream_has_anthropics_event_names_and_a_ping(proxy: RunningProxy) -> None:
    queue(proxy, CALL)
    body = {
        "model": "hermes",
        "max_tokens": 100,
        "messages": ASK,
        "tools": [WEATHER_TOOL],
        "stream": True,
        "tool_choice": {"type": "any"},
    }
    with httpx.stream("POST", proxy.url + "/v1/messages", json=body, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    names = [
        line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event: ")
    ]
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert "input_json_delta" in text
    datas = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    assert [d["type"] for d in datas] == names
    partial = "".join(
        d["delta"]["partial_json"]
        for d in datas
        if d["type"] == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    )
    assert json.loads(partial) == {"city": "Paris"}


@pytest.mark.parametrize("how", ["error event", "connection dropped"])
def test_a_failure_mid_stream_is_an_anthropic_error_event(proxy: RunningProxy, how: str) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply("It is sunny and warm in Paris today, with light wind.")
    if how == "error event":  # llama-server's data: {"error": {...}} inside its stream
        proxy.upstream.fail_stream(after_tokens=3)
    else:
        proxy.upstream.break_stream(after_tokens=3, abort=True)
    api = client(proxy)
    seen: list[str] = []
    with (
        pytest.raises(anthropic.APIStatusError) as caught,
        api.messages.stream(model="hermes", max_tokens=100, messages=ASK) as stream,
    ):
        for event in stream:
            seen.append(event.type)
    assert seen[0] == "message_start" and "content_block_delta" in seen  # the stream had begun
    assert "message_stop" not in seen
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "api_error" and body["error"]["message"]
    assert_still_serving(proxy)


def test_count_tokens(proxy: RunningProxy) -> None:
    api = client(proxy)
    short = api.messages.count_tokens(model="hermes", messages=ASK)
    longer = api.messages.count_tokens(
        model="hermes", messages=ASK, tools=[WEATHER_TOOL], system="You are a weather bot."
    )
    assert short.input_tokens > 0
    assert longer.input_tokens > short.input_tokens


def test_without_v1_prefix_and_with_claude_codes_query(proxy: RunningProxy) -> None:
    queue(proxy, "Hi.", "Hi.")
    body = {"model": "hermes", "max_tokens": 20, "messages": [{"role": "user", "content": "Hi"}]}
    answer = httpx.post(proxy.url + "/messages", json=body, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["type"] == "message"
    # Claude Code calls /v1/messages?beta=true.
    beta = httpx.post(proxy.url + "/v1/messages?beta=true", json=body, timeout=30)
    assert beta.status_code == 200 and beta.json()["content"][0]["text"] == "Hi."
    counted = httpx.post(proxy.url + "/messages/count_tokens", json=body, timeout=30)
    assert counted.status_code == 200 and counted.json()["input_tokens"] > 0


def assert_still_serving(proxy: RunningProxy) -> None:
    queue(proxy, "Still here.")
    message = client(proxy).messages.create(model="hermes", max_tokens=20, messages=ASK)
    assert message.content[0].type == "text"
    assert message.content[0].text == "Still here."


def error_of(answer: httpx.Response) -> dict[str, Any]:
    body = answer.json()
    assert body["type"] == "error", body
    assert set(body["error"]) == {"type", "message"}
    return dict(body["error"])


@pytest.mark.parametrize(
    ("body", "status", "error_type", "phrase"),
    [
        ({"model": "hermes", "messages": ASK}, 400, "invalid_request_error", "max_tokens"),
        (
            {
                "model": "hermes",
                "max_tokens": 10,
                "messages": [
                    *ASK,
                    {"role": "assistant", "content": "Sure."},
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": "toolu_nope", "content": "x"}
                        ],
                    },
                ],
            },
            400,
            "invalid_request_error",
            "toolu_nope",
        ),
        (
            {
                "model": "hermes",
                "max_tokens": 10,
                "messages": ASK,
                "tools": [{"type": "web_search_20250305", "name": "web_search"}],
            },
            400,
            "invalid_request_error",
            "web_search_20250305",
        ),
        (
            {
                "model": "hermes",
                "max_tokens": 10,
                "messages": ASK,
                "tools": [WEATHER_TOOL],
                "tool_choice": {"type": "tool", "name": "nope"},
            },
            400,
            "invalid_request_error",
            "nope",
        ),
        (
            {
                "model": "hermes",
                "max_tokens": 10,
                "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}],
            },
            400,
            "invalid_request_error",
            "image",
        ),
        (
            {"model": "hermes", "max_tokens": 10, "messages": []},
            400,
            "invalid_request_error",
            "messages",
        ),
        ([1, 2], 400, "invalid_request_error", "JSON object"),
    ],
)
def test_bad_input_gets_anthropics_error_shape(
    proxy: RunningProxy, body: Any, status: int, error_type: str, phrase: str
) -> None:
    answer = httpx.post(proxy.url + "/v1/messages", json=body, timeout=30)
    assert answer.status_code == status
    error = error_of(answer)
    assert error["type"] == error_type
    assert phrase in error["message"]
    assert_still_serving(proxy)


def test_the_sdk_raises_its_own_exceptions(proxy: RunningProxy) -> None:
    api = client(proxy)
    with pytest.raises(anthropic.BadRequestError) as caught:
        api.messages.create(
            model="hermes",
            max_tokens=10,
            messages=ASK,
            tools=[WEATHER_TOOL],
            tool_choice={"type": "tool", "name": "nope"},
        )
    assert caught.value.body is not None


def test_an_unknown_model_is_not_found_error(make_proxy: MakeProxy) -> None:
    from proxy.config import ModelEntry

    proxy = make_proxy("llama-server", models=[ModelEntry(name="hermes", wrapper="hermes")])
    with pytest.raises(anthropic.NotFoundError) as caught:
        client(proxy).messages.create(model="nope", max_tokens=10, messages=ASK)
    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]


def test_an_upstream_failure_is_an_api_error(proxy: RunningProxy) -> None:
    assert proxy.upstream is not None
    proxy.upstream.fail(500, {"error": {"code": 500, "message": "boom", "type": "server_error"}})
    answer = httpx.post(
        proxy.url + "/v1/messages",
        json={"model": "hermes", "max_tokens": 10, "messages": ASK},
        timeout=30,
    )
    assert answer.status_code == 502
    assert error_of(answer)["type"] == "api_error"


def test_x_api_key_is_checked_like_a_bearer_key(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes", api_keys=["sk-right"])
    assert proxy.upstream is not None
    proxy.upstream.reply("Hi.")
    with pytest.raises(anthropic.AuthenticationError) as caught:
        client(proxy, api_key="sk-wrong").messages.create(
            model="hermes", max_tokens=10, messages=ASK
        )
    assert caught.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    message = client(proxy, api_key="sk-right").messages.create(
        model="hermes",
        max_tokens=10,
        messages=ASK,
        extra_headers={"anthropic-beta": "token-efficient-tools-2025-02-19"},
    )
    assert message.content[0].type == "text"


POEM = " ".join(f"word{i}" for i in range(400))


def test_a_client_leaving_a_message_stream_closes_the_upstream_connection(
    proxy: RunningProxy,
) -> None:
    assert proxy.upstream is not None
    proxy.upstream.token_delay = 0.02
    queue(proxy, POEM)
    api = client(proxy)
    with api.messages.stream(model="hermes", max_tokens=1000, messages=ASK) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                break
        left = time.monotonic()
    closed = proxy.upstream.wait_for_disconnect(timeout=2)
    assert closed - left < 1.0
