"""The Responses dialect layer as pure functions: input items, the event writer, the store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from proxy.errors import InvalidRequestError
from proxy.pipeline import StreamEnd
from proxy.responses_api.events import ResponseEventWriter
from proxy.responses_api.request import (
    input_items,
    items_to_messages,
    parse_responses_request,
    to_chat_request,
)
from proxy.responses_api.store import MemoryStore, SqliteStore, StoredResponse
from proxy.usage import Usage
from tests.support.api_schemas import assert_response, assert_response_event
from wrappers.streaming import OutputDelta


def test_items_become_chat_messages() -> None:
    messages = items_to_messages(
        [
            {"role": "user", "content": "hi"},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Calling."}],
            },
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": '{"a": 1}'},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {
                "type": "function_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": "two"}],
            },
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "be brief"}],
            },
        ]
    )
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "hi"),
        ("assistant", "Calling."),
        ("tool", "one"),
        ("tool", "two"),
        ("developer", "be brief"),
    ]
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["c1", "c2"]


def test_instructions_tools_and_choice() -> None:
    request = parse_responses_request(
        {
            "model": "m",
            "input": "hi",
            "instructions": "sys",
            "tools": [
                {"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": True}
            ],
            "tool_choice": {"type": "function", "name": "f"},
            "max_output_tokens": 9,
            "parallel_tool_calls": False,
        }
    )
    chat = to_chat_request(request, input_items(request), "m").model_dump(exclude_none=True)
    assert chat["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
    ]
    assert chat["tools"][0]["function"]["name"] == "f"
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert (chat["max_tokens"], chat["parallel_tool_calls"]) == (9, False)


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        (
            {"input": "x", "tools": [{"type": "web_search"}, {"type": "file_search"}]},
            "'web_search' (tools[0]), 'file_search' (tools[1])",
        ),
        ({"input": [{"type": "function_call_output", "call_id": "c9", "output": ""}]}, "c9"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "item_reference"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
            "input_image",
        ),
        ({"input": [{"role": "tool", "content": "x"}]}, "role"),
        (
            {
                "input": "x",
                "tool_choice": {"type": "web_search"},
                "tools": [{"type": "function", "name": "f"}],
            },
            "tool_choice",
        ),
        ({"input": "x", "text": {"format": {"type": "json_schema"}}}, "json_schema"),
        ({"input": "x", "tool_choice": "required"}, "needs at least one tool"),
    ],
)
def test_bad_requests_name_the_problem(body: dict[str, Any], phrase: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        request = parse_responses_request({"model": "m", **body})
        to_chat_request(request, input_items(request), "m")
    assert phrase in caught.value.message


def test_the_event_writer_numbers_events_and_ends_with_the_whole_response() -> None:
    request = parse_responses_request({"model": "m", "input": "x"})
    writer = ResponseEventWriter(request, "resp_1", "m")
    events = writer.opening()
    for delta in [
        OutputDelta("reasoning", "think"),
        OutputDelta("content", "Hi"),
        OutputDelta("call", index=0, name="f", call_id="call_1"),
        OutputDelta("arguments", '{"a": ', index=0),
        OutputDelta("call", index=1, name="g", call_id="call_2"),
        OutputDelta("arguments", "1}", index=0),
        OutputDelta("arguments", "{}", index=1),
    ]:
        events += writer.delta(delta)
    events += writer.closing(StreamEnd("tool_calls", Usage(3, 4, "estimate"), 1))
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    for event in events:
        assert_response_event(event)
    final = events[-1]["response"]
    assert events[-1]["type"] == "response.completed"
    assert_response(final)
    assert [(i["type"], i.get("arguments")) for i in final["output"]] == [
        ("reasoning", None),
        ("message", None),
        ("function_call", '{"a": 1}'),
        ("function_call", "{}"),
    ]
    assert final["usage"]["total_tokens"] == 7


def test_a_cut_off_stream_ends_incomplete() -> None:
    request = parse_responses_request({"model": "m", "input": "x"})
    writer = ResponseEventWriter(request, "resp_1", "m")
    writer.opening()
    writer.delta(OutputDelta("content", "one two"))
    last = writer.closing(StreamEnd("length", Usage(1, 2, "estimate"), 1))[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def stored(n: int) -> StoredResponse:
    return StoredResponse({"id": f"resp_{n}", "model": "m"}, [{"role": "user", "content": str(n)}])


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_the_store_keeps_the_newest_and_forgets_on_delete(kind: str, tmp_path: Path) -> None:
    store = MemoryStore(2) if kind == "memory" else SqliteStore(tmp_path / "s.db", 2)

    async def scenario() -> None:
        for n in range(3):
            await store.put(stored(n))
        assert await store.get("resp_0") is None
        got = await store.get("resp_2")
        assert got is not None and got.conversation == [{"role": "user", "content": "2"}]
        assert await store.delete("resp_1")
        assert not await store.delete("resp_1")
        assert await store.get("resp_1") is None

    asyncio.run(scenario())
    store.close()


def test_a_store_of_size_zero_keeps_nothing(tmp_path: Path) -> None:
    for store in (MemoryStore(0), SqliteStore(tmp_path / "z.db", 0)):
        asyncio.run(store.put(stored(1)))
        assert asyncio.run(store.get("resp_1")) is None
        store.close()
