"""The Messages dialect layer as pure functions: request conversion and the event writer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from proxy.anthropic.events import MessageEventWriter
from proxy.anthropic.message import stop_fields, tool_input, tool_use_id
from proxy.anthropic.request import parse_messages_request, to_chat_request
from proxy.errors import InvalidRequestError
from proxy.pipeline import StreamEnd
from proxy.usage import Usage
from tests.support.api_schemas import assert_anthropic_event
from wrappers.streaming import OutputDelta

TOOL: Any = {"name": "f", "input_schema": {"type": "object", "properties": {}}}


def convert(**body: Any) -> dict[str, Any]:
    request = parse_messages_request({"model": "m", "max_tokens": 10, **body})
    return to_chat_request(request).model_dump(exclude_none=True)


def test_system_blocks_assistant_tool_uses_and_results_become_chat_messages() -> None:
    chat = convert(
        system=[{"type": "text", "text": "A"}, {"type": "text", "text": "B"}],
        messages=[
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "x"},
                    {"type": "text", "text": "Calling."},
                    {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
                    {"type": "tool_use", "id": "t2", "name": "f", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "one"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t2",
                        "is_error": True,
                        "content": [{"type": "text", "text": "two"}],
                    },
                    {"type": "text", "text": "go on"},
                ],
            },
        ],
        tools=[TOOL],
    )
    roles = [(m["role"], m.get("content"), m.get("tool_call_id")) for m in chat["messages"]]
    assert roles == [
        ("system", "A\n\nB", None),
        ("user", "hi", None),
        ("assistant", "Calling.", None),
        ("tool", "one", "t1"),
        ("tool", "Error: two", "t2"),
        ("user", "go on", None),
    ]
    calls = chat["messages"][2]["tool_calls"]
    assert [(c["id"], json.loads(c["function"]["arguments"])) for c in calls] == [
        ("t1", {"a": 1}),
        ("t2", {}),
    ]


def test_system_messages_between_the_turns_stay_in_place() -> None:
    # Claude Code 2.1 (beta mid-conversation-system-2026-04-07) sends a system
    # message after the first user message: seen in its request to fcproxy.
    chat = convert(
        system="A",
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "Agent types: ..."},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f"}]},
            {"role": "system", "content": [{"type": "text", "text": "Mind the tools."}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
        ],
        tools=[TOOL],
    )
    roles = [(m["role"], m.get("content")) for m in chat["messages"]]
    assert roles == [
        ("system", "A"),
        ("user", "hi"),
        ("system", "Agent types: ..."),
        ("assistant", None),
        ("system", "Mind the tools."),
        ("tool", ""),
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, {"tool_choice": "auto"}),
        ({"type": "any"}, {"tool_choice": "required"}),
        ({"type": "none"}, {"tool_choice": "none"}),
        (
            {"type": "tool", "name": "f"},
            {"tool_choice": {"type": "function", "function": {"name": "f"}}},
        ),
        (
            {"type": "any", "disable_parallel_tool_use": True},
            {"tool_choice": "required", "parallel_tool_calls": False},
        ),
    ],
)
def test_tool_choice(choice: Any, expected: dict[str, Any]) -> None:
    chat = convert(messages=[{"role": "user", "content": "x"}], tools=[TOOL], tool_choice=choice)
    assert {k: chat[k] for k in expected} == expected


def test_stop_sequences_and_sampling() -> None:
    chat = convert(
        messages=[{"role": "user", "content": "x"}],
        stop_sequences=["##"],
        temperature=0.5,
        top_p=0.9,
    )
    assert (chat["stop"], chat["temperature"], chat["top_p"], chat["max_tokens"]) == (
        ["##"],
        0.5,
        0.9,
        10,
    )


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": None}, "max_tokens"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t9"}]}
                ]
            },
            "t9",
        ),
        (
            {
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "bash_20250124", "name": "bash"}],
            },
            "bash_20250124",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "tools": [{"name": "f"}]},
            "input_schema",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "tool_choice": {"type": "any"}},
            "needs at least one tool",
        ),
        (
            {
                "messages": [{"role": "user", "content": "x"}],
                "tools": [TOOL],
                "tool_choice": {"type": "tool"},
            },
            "tool_choice.name",
        ),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.role"),
    ],
)
def test_bad_requests_name_the_problem(body: dict[str, Any], phrase: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        convert(**body)
    assert phrase in caught.value.message


def test_a_tool_result_must_answer_the_turn_before() -> None:
    with pytest.raises(InvalidRequestError):
        convert(
            messages=[
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                },
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
            ],
            tools=[TOOL],
        )


def test_answer_helpers() -> None:
    assert tool_use_id("call_abc") == "toolu_abc"
    assert [stop_fields(r, None)["stop_reason"] for r in ("tool_calls", "length", "stop")] == [
        "tool_use",
        "max_tokens",
        "end_turn",
    ]
    assert stop_fields("stop", "###") == {"stop_reason": "stop_sequence", "stop_sequence": "###"}
    assert tool_input('{"a": 1}') == {"a": 1}
    assert tool_input("[1]") == {} and tool_input("{broken") == {}


def test_the_event_writer_numbers_blocks_and_routes_argument_fragments() -> None:
    writer = MessageEventWriter("m", input_tokens=7)
    deltas = [
        OutputDelta("reasoning", "think"),
        OutputDelta("content", "Hi "),
        OutputDelta("content", "there"),
        OutputDelta("call", index=0, name="f", call_id="call_1"),
        OutputDelta("arguments", '{"a": ', index=0),
        OutputDelta("call", index=1, name="f", call_id="call_2"),
        OutputDelta("arguments", "1}", index=0),  # a late fragment of the first call
        OutputDelta("arguments", "{}", index=1),
        OutputDelta("arguments", "", index=1),
    ]
    events = writer.opening()
    for delta in deltas:
        events += writer.delta(delta)
    events += writer.closing(StreamEnd("tool_calls", Usage(7, 5, "estimate"), 1))
    for name, data in events:
        assert name == data["type"]
        if name != "ping":
            assert_anthropic_event(data)
    starts = [
        (d["index"], d["content_block"]["type"]) for n, d in events if n == "content_block_start"
    ]
    assert starts == [(0, "thinking"), (1, "text"), (2, "tool_use"), (3, "tool_use")]
    fragments: dict[int, str] = {}
    for name, data in events:
        if name == "content_block_delta" and data["delta"]["type"] == "input_json_delta":
            fragments[data["index"]] = (
                fragments.get(data["index"], "") + data["delta"]["partial_json"]
            )
    assert fragments == {2: '{"a": 1}', 3: "{}"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert events[-2][1]["usage"] == {"input_tokens": 7, "output_tokens": 5}
    assert [n for n, _ in events].count("content_block_stop") == 4
