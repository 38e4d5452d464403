"""The pipeline's answer as a Responses API ``response`` object.

::

    {"id": "resp_...", "object": "response", "created_at": 1750000000,
     "status": "completed", "model": "...",
     "output": [
       {"type": "reasoning", "id": "rs_...", "summary": [],
        "content": [{"type": "reasoning_text", "text": "..."}]},
       {"type": "message", "id": "msg_...", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}]},
       {"type": "function_call", "id": "fc_...", "call_id": "call_...",
        "name": "get_weather", "arguments": "{\"city\": \"Paris\"}", "status": "completed"}],
     "usage": {"input_tokens": 52, "output_tokens": 21, "total_tokens": 73, ...}, ...}

A model cut off at ``max_output_tokens`` gives ``status: "incomplete"`` with
``incomplete_details.reason: "max_output_tokens"``. The request's settings
(tools, tool_choice, instructions, ...) are echoed as OpenAI does.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from proxy.responses_api.request import ResponsesRequest
from proxy.usage import Usage
from wrappers.base import ParsedOutput


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def reasoning_item(text: str, item_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "reasoning",
        "id": item_id or new_id("rs"),
        "summary": [],
        "content": [{"type": "reasoning_text", "text": text}],
        "status": "completed",
    }


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(text: str, item_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id or new_id("msg"),
        "role": "assistant",
        "status": "completed",
        "content": [text_part(text)],
    }


def function_call_item(
    call_id: str, name: str, arguments: str, item_id: str | None = None
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id or new_id("fc"),
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def output_items(output: ParsedOutput) -> list[dict[str, Any]]:
    items = []
    if output.reasoning_content:
        items.append(reasoning_item(output.reasoning_content))
    if output.content:
        items.append(message_item(output.content))
    items.extend(function_call_item(c.id, c.name, c.arguments) for c in output.tool_calls)
    return items


def usage_body(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.total_tokens,
    }


def response_body(
    request: ResponsesRequest,
    *,
    response_id: str,
    model: str,
    created_at: int | None = None,
    output: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    usage: Usage | None = None,
) -> dict[str, Any]:
    """The ``response`` object; without ``finish_reason`` it is still in progress."""
    body: dict[str, Any]
    if finish_reason is None:
        status, incomplete = "in_progress", None
    elif finish_reason == "length":
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
    else:
        status, incomplete = "completed", None
    body = {
        "id": response_id,
        "object": "response",
        "created_at": created_at or int(time.time()),
        "status": status,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "model": model,
        "output": output or [],
        "parallel_tool_calls": request.parallel_tool_calls is not False,
        "previous_response_id": request.previous_response_id,
        "reasoning": {"effort": None, "summary": None},
        "store": request.store is not False,
        "temperature": request.temperature,
        "text": {"format": {"type": "text"}},
        "tool_choice": request.tool_choice or "auto",
        "tools": [_echo_tool(tool) for tool in request.tools or []],
        "top_p": request.top_p,
        "truncation": "disabled",
        "metadata": request.metadata or {},
    }
    # OpenAI's spec has no null for these: left out until there is a value.
    if usage is not None:
        body["usage"] = usage_body(usage)
    if request.user is not None:
        body["user"] = request.user
    return body


def _echo_tool(tool: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "name": tool.get("name"),
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict", True),
    }
