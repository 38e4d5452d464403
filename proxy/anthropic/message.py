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
cut off, ``stop_sequence`` (and the string in ``stop_sequence``) when one of
the client's ``stop_sequences`` ended the text (proxy/backends/stops.py),
``end_turn`` otherwise.
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


def stop_fields(finish_reason: str, stop_sequence: str | None) -> dict[str, Any]:
    """``stop_reason`` and ``stop_sequence``, as the message and its ``message_delta`` say."""
    if stop_sequence is not None:
        return {"stop_reason": "stop_sequence", "stop_sequence": stop_sequence}
    return {"stop_reason": STOP_REASONS.get(finish_reason, "end_turn"), "stop_sequence": None}


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
        **stop_fields(result.finish_reason, result.stop_sequence),
        "usage": usage_body(result.usage),
    }
