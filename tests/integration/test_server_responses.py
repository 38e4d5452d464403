"""``POST /v1/responses`` and ``GET /v1/responses/{id}`` through the official ``openai`` SDK.

The upstream is the fake llama.cpp server (tests/fakes/upstream.py) with the
``hermes`` format. Checked: plain answers, function tools, the
``function_call_output`` round trip, ``previous_response_id`` chaining (in
memory and in a SQLite file), the event stream assembling into the same
response, OpenAI's error envelope for bad input, and that every answer and
event validates against the Responses schemas (tests/support/api_schemas.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.integration.conftest import MakeProxy, RunningProxy
from tests.support.api_schemas import as_sent, assert_response, assert_response_event

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
CALL = (
    "Let me look.\n<tool_call>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
)


def client(proxy: RunningProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0, timeout=30)


@pytest.fixture
def proxy(make_proxy: MakeProxy) -> RunningProxy:
    return make_proxy("llama-server", wrapper="hermes")


def queue(proxy: RunningProxy, *texts: str) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply(*texts)


def last_prompt(proxy: RunningProxy) -> str:
    assert proxy.upstream is not None
    return str(proxy.upstream.generation_requests[-1].json["prompt"])


def test_a_plain_answer(proxy: RunningProxy) -> None:
    queue(proxy, "Hello there.")
    raw = client(proxy).responses.with_raw_response.create(
        model="hermes", input="Say hello.", instructions="Be brief."
    )
    assert_response(json.loads(raw.text))
    response = raw.parse()
    assert response.status == "completed"
    assert response.output_text == "Hello there."
    assert response.id.startswith("resp_")
    assert response.usage is not None and response.usage.output_tokens > 0
    assert "Be brief." in last_prompt(proxy)


def test_a_function_call_and_its_output_round_trip(proxy: RunningProxy) -> None:
    queue(proxy, CALL, "It is 18 C in Paris.")
    api = client(proxy)
    question: Any = [{"role": "user", "content": "Weather in Paris?"}]
    first = api.responses.create(
        model="hermes", input=question, tools=[WEATHER], tool_choice="required", store=False
    )
    assert_response(as_sent(first))
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id.startswith("call_")
    second = api.responses.create(
        model="hermes",
        input=[
            *question,
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": "18 C"},
        ],
        tools=[WEATHER],
    )
    assert second.output_text == "It is 18 C in Paris."
    prompt = last_prompt(proxy)
    assert "<tool_response>" in prompt and "18 C" in prompt and '"city": "Paris"' in prompt


def test_a_named_tool_choice(proxy: RunningProxy) -> None:
    queue(proxy, CALL)
    response = client(proxy).responses.create(
        model="hermes",
        input="Weather in Paris?",
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
    )
    assert [item.type for item in response.output] == ["message", "function_call"]


def test_previous_response_id_chains_the_conversation(proxy: RunningProxy) -> None:
    queue(proxy, CALL, "It is 18 C in Paris.", "You asked about Paris.")
    api = client(proxy)
    first = api.responses.create(model="hermes", input="Weather in Paris?", tools=[WEATHER])
    call = next(item for item in first.output if item.type == "function_call")
    second = api.responses.create(
        model="hermes",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18 C"}],
        tools=[WEATHER],
    )
    assert second.previous_response_id == first.id
    assert "Weather in Paris?" in last_prompt(proxy)
    third = api.responses.create(
        model="hermes", previous_response_id=second.id, input="Which city did I ask about?"
    )
    prompt = last_prompt(proxy)
    assert "Weather in Paris?" in prompt and "It is 18 C in Paris." in prompt
    assert third.output_text == "You asked about Paris."
    fetched = api.responses.retrieve(second.id)
    assert fetched.id == second.id
    assert fetched.output_text == "It is 18 C in Paris."
    assert_response(as_sent(fetched))


def test_store_false_is_not_kept(proxy: RunningProxy) -> None:
    queue(proxy, "Hi.")
    api = client(proxy)
    response = api.responses.create(model="hermes", input="Hi", store=False)
    with pytest.raises(openai.NotFoundError):
        api.responses.retrieve(response.id)


def test_the_store_is_bounded(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes", responses_store_size=2)
    queue(proxy, "One.", "Two.", "Three.")
    api = client(proxy)
    ids = [api.responses.create(model="hermes", input=f"Say {n}").id for n in range(3)]
    with pytest.raises(openai.NotFoundError):
        api.responses.retrieve(ids[0])
    assert api.responses.retrieve(ids[2]).output_text == "Three."


def test_a_sqlite_store_survives_a_restart(make_proxy: MakeProxy, tmp_path: Path) -> None:
    path = str(tmp_path / "responses.sqlite")
    first_proxy = make_proxy("llama-server", wrapper="hermes", responses_store_path=path)
    queue(first_proxy, "Paris is in France.")
    first = client(first_proxy).responses.create(model="hermes", input="Where is Paris?")
    first_proxy.server.stop()
    second_proxy = make_proxy("llama-server", wrapper="hermes", responses_store_path=path)
    queue(second_proxy, "You asked where Paris is.")
    api = client(second_proxy)
    assert api.responses.retrieve(first.id).output_text == "Paris is in France."
    api.responses.create(model="hermes", previous_response_id=first.id, input="What did I ask?")
    assert "Paris is in France." in last_prompt(second_proxy)


def assemble_events(events: list[Any]) -> None:
    for event in events:
        assert_response_event(as_sent(event))
    numbers = [event.sequence_number for event in events]
    assert numbers == list(range(len(events)))


@pytest.mark.parametrize(
    "reply", [CALL, "Just text.", "<think>Paris is in France.</think>It is sunny."]
)
def test_the_stream_assembles_into_the_non_streamed_response(
    proxy: RunningProxy, reply: str
) -> None:
    queue(proxy, reply, reply)
    api = client(proxy)
    whole = api.responses.create(model="hermes", input="Weather in Paris?", tools=[WEATHER])
    events = list(
        api.responses.create(
            model="hermes", input="Weather in Paris?", tools=[WEATHER], stream=True
        )
    )
    assemble_events(events)
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    final = events[-1].response
    assert_response(as_sent(final))

    def shape(response: Any) -> list[Any]:
        return [
            (
                item.type,
                getattr(item, "name", None),
                json.loads(getattr(item, "arguments", None) or "null"),
                [getattr(part, "text", None) for part in getattr(item, "content", None) or []],
            )
            for item in response.output
        ]

    assert shape(final) == shape(whole)
    assert final.output_text == whole.output_text
    # The deltas add up to the final items.
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == whole.output_text
    arguments = "".join(
        e.delta for e in events if e.type == "response.function_call_arguments.delta"
    )
    calls = [item for item in whole.output if item.type == "function_call"]
    assert arguments == "".join(c.arguments for c in calls)
    # A streamed response is stored too.
    assert api.responses.retrieve(final.id).output_text == whole.output_text


def test_the_sdk_stream_helper(proxy: RunningProxy) -> None:
    queue(proxy, CALL)
    with client(proxy).responses.stream(
        model="hermes", input="Weather in Paris?", tools=[WEATHER], tool_choice="required"
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    call = next(item for item in final.output if item.type == "function_call")
    assert json.loads(call.arguments) == {"city": "Paris"}


def test_a_cut_off_answer_is_incomplete(proxy: RunningProxy) -> None:
    queue(proxy, "one two three four five six seven eight nine ten")
    response = client(proxy).responses.create(model="hermes", input="Count", max_output_tokens=3)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize("how", ["error event", "connection dropped"])
def test_a_failure_mid_stream_ends_with_response_failed(proxy: RunningProxy, how: str) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply("It is sunny and warm in Paris today, with light wind.")
    if how == "error event":  # llama-server's data: {"error": {...}} inside its stream
        proxy.upstream.fail_stream(after_tokens=3)
    else:
        proxy.upstream.break_stream(after_tokens=3, abort=True)
    events = list(client(proxy).responses.create(model="hermes", input="Hi", stream=True))
    assert [e.type for e in events[:2]] == ["response.created", "response.in_progress"]
    assert "response.output_text.delta" in [e.type for e in events]
    last = events[-1]
    assert last.type == "response.failed"
    assert_response_event(as_sent(last))
    assert last.response.status == "failed"
    assert last.response.error is not None
    assert last.response.error.code == "server_error"
    assert last.response.error.message
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert_still_serving(proxy)


def assert_still_serving(proxy: RunningProxy) -> None:
    queue(proxy, "Still here.")
    assert client(proxy).responses.create(model="hermes", input="Hi").output_text == "Still here."


def openai_error(answer: httpx.Response) -> dict[str, Any]:
    body = answer.json()
    assert set(body) == {"error"}, body
    assert {"message", "type", "param", "code"} <= set(body["error"])
    return dict(body["error"])


@pytest.mark.parametrize(
    ("body", "status", "phrase"),
    [
        (
            {"model": "hermes", "input": "Hi", "tools": [{"type": "web_search_preview"}]},
            400,
            "web_search_preview",
        ),
        (
            {"model": "hermes", "input": "Hi", "previous_response_id": "resp_unknown"},
            400,
            "resp_unknown",
        ),
        (
            {
                "model": "hermes",
                "input": [{"type": "function_call_output", "call_id": "call_x", "output": "1"}],
            },
            400,
            "call_x",
        ),
        (
            {"model": "hermes", "input": "Hi", "text": {"format": {"type": "json_object"}}},
            400,
            "json_object",
        ),
        ({"model": "hermes", "input": [{"type": "file_search_call"}]}, 400, "file_search_call"),
        ({"input": "Hi"}, 400, "model"),
        ({"model": "hermes", "input": []}, 400, "input"),
        (["not", "an", "object"], 400, "JSON object"),
    ],
)
def test_bad_input_gets_openais_error_shape(
    proxy: RunningProxy, body: Any, status: int, phrase: str
) -> None:
    answer = httpx.post(proxy.base_url + "/responses", json=body, timeout=30)
    assert answer.status_code == status
    error = openai_error(answer)
    assert error["type"] == "invalid_request_error"
    assert phrase in error["message"]
    assert_still_serving(proxy)


def test_an_unknown_previous_response_is_a_bad_request_in_the_sdk(proxy: RunningProxy) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client(proxy).responses.create(model="hermes", input="Hi", previous_response_id="resp_x")
    assert caught.value.code == "previous_response_not_found"
    with pytest.raises(openai.NotFoundError):
        client(proxy).responses.retrieve("resp_x")


def test_without_v1_prefix_and_delete(proxy: RunningProxy) -> None:
    queue(proxy, "Hi.")
    answer = httpx.post(proxy.url + "/responses", json={"model": "hermes", "input": "Hi"})
    assert answer.status_code == 200
    response_id = answer.json()["id"]
    assert httpx.get(f"{proxy.url}/responses/{response_id}").status_code == 200
    deleted = httpx.delete(f"{proxy.url}/v1/responses/{response_id}")
    assert deleted.json() == {"id": response_id, "object": "response.deleted", "deleted": True}
    assert httpx.get(f"{proxy.url}/v1/responses/{response_id}").status_code == 404


def test_a_client_leaving_a_response_stream_closes_the_upstream_connection(
    proxy: RunningProxy,
) -> None:
    assert proxy.upstream is not None
    proxy.upstream.token_delay = 0.02
    queue(proxy, " ".join(f"word{i}" for i in range(400)))
    stream = client(proxy).responses.create(
        model="hermes", input="Write a poem.", stream=True, max_output_tokens=1000
    )
    for event in stream:
        if event.type == "response.output_text.delta":
            break
    left = time.monotonic()
    stream.close()
    closed = proxy.upstream.wait_for_disconnect(timeout=2)
    assert closed - left < 1.0
