"""The one tool the SDK tests offer, and how they check a call to it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from tests.support.shared import assert_valid

GET_WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"}},
        "required": ["city"],
    },
}

MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant. Use the tools you are given."},
    {"role": "user", "content": "What is the weather like in Paris right now?"},
]

#: The model name clients send: not a wrapper name, so fcproxy uses its default (chatml,
#: SmolLM2's own template).
MODEL = "smollm2-local"


def assert_weather_call(data: dict[str, Any], *, dialect: str) -> dict[str, Any]:
    """``data`` is a schema-valid ChatCompletion holding one valid get_weather call.

    ``dialect`` is "tools" (answer in ``tool_calls``) or "functions" (legacy
    ``function_call``). Returns the call's arguments.
    """
    assert_valid(data, "CreateChatCompletionResponse")
    [choice] = data["choices"]
    message = choice["message"]
    shown = json.dumps(data)[:2000]
    if dialect == "tools":
        assert message.get("tool_calls"), f"no tool_calls in the answer: {shown}"
        assert choice["finish_reason"] == "tool_calls", shown
        assert "function_call" not in message or message["function_call"] is None, shown
        call = message["tool_calls"][0]["function"]
    else:
        assert message.get("function_call"), f"no function_call in the answer: {shown}"
        assert choice["finish_reason"] == "function_call", shown
        call = message["function_call"]
    assert call["name"] == "get_weather", shown
    assert isinstance(call["arguments"], str), "arguments must be a JSON string"
    arguments: dict[str, Any] = json.loads(call["arguments"])
    jsonschema.validate(arguments, GET_WEATHER["parameters"])
    return arguments


#: A strict tool whose schema a model left to itself breaks (an hour past 23, a
#: label of its own): the tests of constrained calls hold a real model to it.
STRICT_ALARM: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "set_alarm",
        "description": "Set an alarm.",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {
                "hour": {"type": "integer", "minimum": 0, "maximum": 23},
                "label": {"type": "string", "enum": ["work", "gym", "other"]},
            },
            "required": ["hour", "label"],
            "additionalProperties": False,
        },
    },
}
