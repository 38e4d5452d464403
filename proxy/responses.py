"""Step 7: a :class:`ChatResult` -> an OpenAI ChatCompletion in the client's dialect.

``functions`` clients get ``message.function_call`` and ``finish_reason:
"function_call"``; ``tools`` clients get ``message.tool_calls`` (ids
``call_...``, ``type: "function"``) and ``finish_reason: "tool_calls"``.
``arguments`` is always a JSON string.
"""

from __future__ import annotations

import os
import time
from typing import Any

from proxy.pipeline import ChatResult
from wrappers.base import ParsedOutput


def completion_id() -> str:
    return "chatcmpl-" + os.urandom(12).hex()


def assistant_message(output: ParsedOutput, dialect: str) -> dict[str, Any]:
    """The ``message`` object: ``content`` plus the call(s) in the client's dialect."""
    message: dict[str, Any] = {"role": "assistant", "content": output.content, "refusal": None}
    if output.reasoning_content:
        message["reasoning_content"] = output.reasoning_content
    if output.tool_calls:
        if dialect == "functions":
            first = output.tool_calls[0]
            message["function_call"] = {"name": first.name, "arguments": first.arguments}
        else:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in output.tool_calls
            ]
    return message


def chat_completion(result: ChatResult, *, response_id: str | None = None) -> dict[str, Any]:
    return {
        "id": response_id or completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": result.model,
        "choices": [
            {
                "index": 0,
                "message": assistant_message(result.output, result.dialect),
                "logprobs": None,
                "finish_reason": result.finish_reason,
            }
        ],
        "usage": result.usage.as_dict(),
    }
