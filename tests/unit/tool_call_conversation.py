"""The conversation every tool-call format's golden rendering test renders.

One OpenAI ``tools`` request: a system prompt, a user question, an assistant
turn with two parallel calls, both results, an assistant answer and a
follow-up question. ``golden_formats/generate_tool_call_goldens.py`` renders
it with each model's own chat template; the format tests render the same
request through fcproxy's dialect conversion and the wrapper, and compare.
Two variants exercise the other branches of the templates: ``no_tools`` (a
plain chat, as under ``tool_choice: none``) and ``no_system`` (the model's
default system prompt, with tools).

Call ids follow Kimi K2's convention (``functions.<name>:<index>``) because
the Kimi template prints them; the other templates ignore ids.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from proxy.dialects import normalize
from proxy.schemas import ChatCompletionRequest
from wrappers.base import FunctionSchema, Message

SYSTEM = "You are a helpful travel assistant."

FUNCTIONS: list[FunctionSchema] = [
    {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {
                    "type": "string",
                    "enum": ["celsius", "fahrenheit"],
                    "description": "Temperature unit",
                },
            },
            "required": ["city"],
        },
    },
    {
        "name": "get_forecast",
        "description": "Get the daily weather forecast for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "days": {"type": "integer", "description": "Number of days"},
            },
            "required": ["city", "days"],
        },
    },
]

TOOLS: list[dict[str, Any]] = [{"type": "function", "function": f} for f in FUNCTIONS]

#: The parallel calls of the assistant turn: (id, name, arguments).
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("functions.get_weather:0", "get_weather", {"city": "Paris", "unit": "celsius"}),
    ("functions.get_forecast:1", "get_forecast", {"city": "Tokyo", "days": 3}),
]
RESULTS = ['{"temperature": 18, "condition": "sunny"}', '{"forecast": ["rain", "cloudy", "sunny"]}']
ANSWER = "Paris is sunny at 18 degrees; Tokyo expects rain, then clouds, then sun."


def call_turns(
    calls: list[tuple[str, dict[str, Any]]],
    results: list[str],
    *,
    content: str | None = None,
    ids: list[str] | None = None,
    named_results: bool = False,
) -> list[Message]:
    """An assistant turn with ``calls`` (name, arguments), then one ``tool`` message
    per result, as an OpenAI client sends them; ids ``c0``, ``c1``... unless given."""
    call_ids = ids or [f"c{i}" for i in range(len(calls))]
    turn: Message = {
        "role": "assistant",
        "content": content,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for call_id, (name, arguments) in zip(call_ids, calls, strict=True)
        ],
    }
    answers: list[Message] = []
    for call_id, (name, _), result in zip(call_ids, calls, results, strict=True):
        answer: Message = {"role": "tool", "tool_call_id": call_id, "content": result}
        if named_results:
            answer = {"role": "tool", "tool_call_id": call_id, "name": name, "content": result}
        answers.append(answer)
    return [turn, *answers]


MESSAGES: list[Message] = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "What is the weather in Paris, and the 3-day forecast for Tokyo?"},
    *call_turns(
        [(name, arguments) for _, name, arguments in CALLS],
        RESULTS,
        ids=[call_id for call_id, _, _ in CALLS],
        named_results=True,
    ),
    {"role": "assistant", "content": ANSWER},
    {"role": "user", "content": "Thanks! Should I pack an umbrella for Tokyo?"},
]


#: The golden files' variants: "" (the whole conversation), "no_tools", "no_system".
VARIANTS = ("", "no_tools", "no_system")
#: "Today" for templates that print the date (Granite's default system prompt).
TODAY = datetime(2025, 7, 26)


def openai_request(variant: str = "") -> dict[str, Any]:
    """The request of ``variant`` as a client sends it (a fresh copy)."""
    if variant == "no_tools":
        plain = [MESSAGES[0], MESSAGES[1], MESSAGES[-2], MESSAGES[-1]]
        return copy.deepcopy({"model": "test", "messages": plain})
    messages = MESSAGES[1:] if variant == "no_system" else MESSAGES
    return copy.deepcopy({"model": "test", "messages": messages, "tools": TOOLS})


def wrapper_input(variant: str = "") -> tuple[list[Message], list[FunctionSchema]]:
    """What the pipeline hands a wrapper for this request: MemGPT's dialect, one call a turn."""
    normalized = normalize(ChatCompletionRequest.model_validate(openai_request(variant)))
    return normalized.messages, normalized.functions
