"""Both client dialects normalize to MemGPT's shape (step 1 of the pipeline)."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.dialects import CallChoice, normalize
from proxy.errors import InvalidRequestError
from proxy.schemas import ChatCompletionRequest, parse_chat_request
from tests.support.shared import fixture

FN = {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}}
TOOL = {"type": "function", "function": FN}
HI = [{"role": "user", "content": "hi"}]


def request(**fields: Any) -> ChatCompletionRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}
    return ChatCompletionRequest.model_validate(body)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"tools": [TOOL]}, CallChoice("auto")),
        ({"tools": [TOOL], "tool_choice": "none"}, CallChoice("none")),
        ({"tools": [TOOL], "tool_choice": "required"}, CallChoice("required")),
        (
            {"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "f"}}},
            CallChoice("named", "f"),
        ),
        ({"functions": [FN], "function_call": "auto"}, CallChoice("auto")),
        ({"functions": [FN], "function_call": {"name": "f"}}, CallChoice("named", "f")),
        ({"functions": [FN], "function_call": "none"}, CallChoice("none")),
    ],
)
def test_call_choice(fields: dict[str, Any], expected: CallChoice) -> None:
    assert normalize(request(**fields)).choice == expected


def test_none_hides_the_functions_from_the_wrapper() -> None:
    assert normalize(request(tools=[TOOL], tool_choice="none")).functions == []


def test_dialect_follows_the_request() -> None:
    assert normalize(request(functions=[FN])).dialect == "functions"
    assert normalize(request(tools=[TOOL])).dialect == "tools"


@pytest.mark.parametrize(
    "fields",
    [
        {"tools": [TOOL], "functions": [FN]},
        {"tools": [TOOL, TOOL]},
        {"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "g"}}},
        {"tool_choice": "required"},
    ],
)
def test_contradictions_are_400(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError):
        normalize(request(**fields))


def test_tools_history_becomes_function_history() -> None:
    body = fixture("memgpt-0.3.25-tools.json")
    normalized = normalize(ChatCompletionRequest.model_validate(body))
    roles = [m["role"] for m in normalized.messages]
    assert "tool" not in roles and "function" in roles
    results = [m for m in normalized.messages if m["role"] == "function"]
    assert all(m["name"] == "send_message" for m in results)  # looked up by tool_call_id
    calls = [m for m in normalized.messages if m.get("function_call")]
    assert calls and all(isinstance(m["function_call"]["arguments"], str) for m in calls)
    assert normalized.functions[0]["name"] == "send_message"
    assert normalized.parallel_calls is False  # MemGPT sends parallel_tool_calls: false


def test_parallel_assistant_calls_become_consecutive_turns() -> None:
    calls = [
        {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        for i in range(2)
    ]
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "thinking", "tool_calls": calls},
        {"role": "tool", "tool_call_id": "c0", "content": "r0"},
        {"role": "tool", "tool_call_id": "c1", "content": "r1"},
    ]
    normalized = normalize(request(messages=messages, tools=[TOOL]))
    assert [(m["role"], m["content"]) for m in normalized.messages] == [
        ("user", "hi"),
        ("assistant", "thinking"),
        ("assistant", None),
        ("function", "r0"),
        ("function", "r1"),
    ]


def test_content_parts_are_joined_and_developer_is_system() -> None:
    messages = [
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]
    normalized = normalize(request(messages=messages))
    assert normalized.messages == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "ab"},
    ]


def test_function_without_parameters_gets_an_empty_object_schema() -> None:
    normalized = normalize(request(functions=[{"name": "ping"}]))
    assert normalized.functions == [
        {"name": "ping", "description": "", "parameters": {"type": "object", "properties": {}}}
    ]


def test_the_same_validated_tools_are_checked_once_and_shared() -> None:
    # parse_chat_request hands back one validated list for the same tools.
    first = parse_chat_request({"model": "m", "messages": HI, "tools": [TOOL]})
    again = parse_chat_request({"model": "m", "messages": HI, "tools": [TOOL]})
    assert first.tools is again.tools
    assert normalize(first).functions is normalize(again).functions
    # A list validated anew is dumped and checked anew (equal, not shared).
    fresh = request(tools=[TOOL])
    assert normalize(fresh).functions == normalize(first).functions
    assert normalize(fresh).functions is not normalize(first).functions


def test_a_refused_tool_list_is_refused_every_time() -> None:
    bad = {"type": "function", "function": {**FN, "name": "g", "parameters": {"$ref": "http://x"}}}
    body = {"model": "m", "messages": HI, "tools": [bad]}
    for _ in range(2):
        with pytest.raises(InvalidRequestError, match="x"):
            normalize(parse_chat_request(body))
