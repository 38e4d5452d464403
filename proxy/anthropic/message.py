"""The pipeline's answer as an Anthropic ``Message``.

::

    {"id": "msg_...", "type": "message", "role": "assistant", "model": "...",
     "content": [{"type": "thinking", "thinking": "...", "signature": ""},
                 {"type": "text", "text": "Let me look."},
                 {"type": "tool_use", "id": "toolu_...", "name": "get_weather",
                  "input": {"city": "Paris"}}],
     "stop_reason": "tool_use", "stop_sequence": null,
     "usage": {"input_tokens": 52, "output_tokens": 21}}

``stop_reason``: ``tool_use`` with calls, ``max_tokens`` when the model was
cut off, ``end_turn`` otherwise (fcproxy's upstreams do not say which stop
string ended the text, so ``stop_sequence`` is never set).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from proxy.pipeline import ChatResult
from proxy.usage import Usage
from wrappers.base import ParsedOutput

STOP_REASONS = {"tool_calls": "tool_use", "function_call": "tool_use", "length": "max_tokens"}


def message_id() -> str:
    return "msg_" + uuid.uuid4().hex[:24]


def tool_use_id(call_id: str) -> str:
    """Anthropic's spelling of a call id (``toolu_...``): the pipeline's ``call_...`` renamed."""
    return "toolu_" + call_id.removeprefix("call_")


def stop_reason(finish_reason: str) -> str:
    return STOP_REASONS.get(finish_reason, "end_turn")


def tool_input(arguments: str) -> dict[str, Any]:
    """A call's arguments as the object Anthropic sends; ``{}`` if they are not one.

    The pipeline only lets through arguments that are JSON, but an attempt
    whose arguments broke the schema on every retry is answered anyway.
    """
    try:
        value = json.loads(arguments)
    except (json.JSONDecodeError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def content_blocks(output: ParsedOutput) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if output.reasoning_content:
        blocks.append({"type": "thinking", "thinking": output.reasoning_content, "signature": ""})
    if output.content:
        blocks.append({"type": "text", "text": output.content})
    for call in output.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": tool_use_id(call.id),
                "name": call.name,
                "input": tool_input(call.arguments),
            }
        )
    return blocks


def usage_body(usage: Usage) -> dict[str, int]:
    return {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens}


def message_body(result: ChatResult, model: str) -> dict[str, Any]:
    return {
        "id": message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content_blocks(result.output),
        "stop_reason": stop_reason(result.finish_reason),
        "stop_sequence": None,
        "usage": usage_body(result.usage),
    }
