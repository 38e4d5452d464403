"""An Anthropic Messages request -> the pipeline's Chat Completions request.

Anthropic's shape (docs.anthropic.com, "Messages")::

    {"model": "...", "max_tokens": 1024, "system": "You are ...",
     "messages": [
       {"role": "user", "content": "Weather in Paris?"},
       {"role": "assistant", "content": [
          {"type": "text", "text": "Let me look."},
          {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
       {"role": "user", "content": [
          {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C", "is_error": false}]}],
     "tools": [{"name": "get_weather", "description": "...", "input_schema": {...}}],
     "tool_choice": {"type": "auto" | "any" | "tool" | "none", "name": "...",
                     "disable_parallel_tool_use": false}}

becomes ``system`` / ``user`` / ``assistant`` (``tool_calls``) / ``tool``
messages, ``tools``, ``tool_choice`` (``any`` is ``required``, ``tool`` a named
function) and ``parallel_tool_calls``. ``stop_sequences`` become ``stop``.
``top_k`` goes to the upstream's own field (every backend takes one); ``thinking``
needs nothing: reasoning the model writes comes back as ``thinking`` blocks
either way. Thinking blocks in the history are dropped, as Anthropic's own
models drop them from earlier turns.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proxy.errors import InvalidRequestError
from proxy.schemas import ChatCompletionRequest, describe_validation_error


class _Lenient(BaseModel):
    # Clients send fields fcproxy does not use (metadata, service_tier, cache_control, ...).
    model_config = ConfigDict(extra="allow")


class InputMessage(_Lenient):
    # "system": Claude Code (2.1, beta mid-conversation-system-2026-04-07) puts
    # system text between the turns, e.g. after the first user message.
    role: Literal["user", "assistant", "system"]
    content: str | list[dict[str, Any]]


class ToolChoice(_Lenient):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class MessagesRequest(_Lenient):
    model: str = Field(min_length=1)
    #: Required by Anthropic on /v1/messages; count_tokens has none.
    max_tokens: int | None = Field(default=None, ge=1)
    messages: list[InputMessage] = Field(min_length=1)
    system: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: ToolChoice | None = None
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    thinking: dict[str, Any] | None = None
    stream: bool | None = False


def parse_messages_request(body: Any, *, counting: bool = False) -> MessagesRequest:
    """The body as a :class:`MessagesRequest`; a 400 saying what is wrong otherwise."""
    if not isinstance(body, dict):
        raise InvalidRequestError(
            f"The request body must be a JSON object, not a JSON {type(body).__name__}."
        )
    try:
        request = MessagesRequest.model_validate(body)
    except ValidationError as exc:
        message, param = describe_validation_error(exc)
        raise InvalidRequestError(message, param=param) from None
    if request.max_tokens is None and not counting:
        raise InvalidRequestError("max_tokens: Field required", param="max_tokens")
    return request


def to_chat_request(request: MessagesRequest) -> ChatCompletionRequest:
    """The same conversation and constraints as a Chat Completions request."""
    messages: list[dict[str, Any]] = []
    system = _system_text(request.system)
    if system:
        messages.append({"role": "system", "content": system})
    previous_calls: set[str] = set()
    for index, message in enumerate(request.messages):
        where = f"messages.{index}.content"
        if message.role == "assistant":
            converted, previous_calls = _assistant_message(message.content, where)
            messages.append(converted)
        elif message.role == "system":
            # A system message in place; tool results may still answer the calls before it.
            messages.append({"role": "system", "content": _system_text(message.content, where)})
        else:
            messages.extend(_user_messages(message.content, where, previous_calls))
            previous_calls = set()
    chat: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k,
        "stop": request.stop_sequences or None,
        "stream": bool(request.stream),
    }
    if request.tools:
        chat["tools"] = [_tool(tool, i) for i, tool in enumerate(request.tools)]
        chat.update(_tool_choice(request.tool_choice))
    elif request.tool_choice is not None and request.tool_choice.type in ("any", "tool"):
        raise InvalidRequestError(
            f"tool_choice {request.tool_choice.type!r} needs at least one tool.",
            param="tool_choice",
        )
    try:
        return ChatCompletionRequest.model_validate(chat)
    except ValidationError as exc:
        problem, param = describe_validation_error(exc)
        raise InvalidRequestError(problem, param=param) from None


def _system_text(system: str | list[dict[str, Any]] | None, where: str = "system") -> str:
    if system is None or isinstance(system, str):
        return system or ""
    return "\n\n".join(_text_of_block(block, f"{where}.{i}") for i, block in enumerate(system))


def _text_of_block(block: dict[str, Any], where: str) -> str:
    if block.get("type") != "text" or not isinstance(block.get("text"), str):
        raise InvalidRequestError(
            f"{where}: expected a text block ({{'type': 'text', 'text': ...}}), "
            f"got type {block.get('type')!r}.",
            param=where,
        )
    text: str = block["text"]
    return text


def _assistant_message(
    content: str | list[dict[str, Any]], where: str
) -> tuple[dict[str, Any], set[str]]:
    """The assistant turn (text + ``tool_calls``) and the ids of its tool uses."""
    if isinstance(content, str):
        return {"role": "assistant", "content": content}, set()
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for i, block in enumerate(content):
        kind = block.get("type")
        if kind == "text":
            texts.append(_text_of_block(block, f"{where}.{i}"))
        elif kind in ("tool_use", "server_tool_use"):
            calls.append(_tool_call(block, f"{where}.{i}"))
        elif kind in ("thinking", "redacted_thinking"):
            continue  # earlier turns' thinking is not shown to the model again
        else:
            raise _unsupported_block(kind, f"{where}.{i}")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        message["tool_calls"] = calls
    return message, {call["id"] for call in calls}


def _tool_call(block: dict[str, Any], where: str) -> dict[str, Any]:
    call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
    if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, dict):
        raise InvalidRequestError(
            f"{where}: a tool_use block needs 'id' and 'name' strings and an 'input' object.",
            param=where,
        )
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)},
    }


def _user_messages(
    content: str | list[dict[str, Any]], where: str, previous_calls: set[str]
) -> list[dict[str, Any]]:
    """A user turn: its tool results as ``tool`` messages, then its text, if any."""
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    results: list[dict[str, Any]] = []
    texts: list[str] = []
    for i, block in enumerate(content):
        kind = block.get("type")
        if kind == "text":
            texts.append(_text_of_block(block, f"{where}.{i}"))
        elif kind == "tool_result":
            results.append(_tool_result(block, f"{where}.{i}", previous_calls))
        else:
            raise _unsupported_block(kind, f"{where}.{i}")
    if texts or not results:
        results.append({"role": "user", "content": "\n\n".join(texts)})
    return results


def _tool_result(block: dict[str, Any], where: str, previous_calls: set[str]) -> dict[str, Any]:
    call_id = block.get("tool_use_id")
    if not isinstance(call_id, str) or call_id not in previous_calls:
        # Anthropic's own wording: a result must answer a tool_use of the turn before.
        raise InvalidRequestError(
            f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {call_id}. "
            "Each `tool_result` block must have a corresponding `tool_use` block in the "
            "previous message.",
            param=where,
        )
    raw = block.get("content")
    if raw is None or isinstance(raw, str):
        text = raw or ""
    elif isinstance(raw, list):
        text = "\n\n".join(
            _text_of_block(part, f"{where}.content.{j}")
            for j, part in enumerate(raw)
            if isinstance(part, dict)
        )
    else:
        raise InvalidRequestError(
            f"{where}.content: expected a string or a list of text blocks.", param=where
        )
    if block.get("is_error"):
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": call_id, "content": text}


def _unsupported_block(kind: Any, where: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"{where}: content blocks of type {kind!r} are not supported by fcproxy "
        "(text, tool_use, tool_result and thinking are).",
        param=where,
    )


def _tool(tool: dict[str, Any], index: int) -> dict[str, Any]:
    kind = tool.get("type")
    if kind not in (None, "custom"):
        # Server tools (web_search_..., bash_..., text_editor_..., computer_...)
        # are run by Anthropic itself; here nothing would run them.
        raise InvalidRequestError(
            f"tools.{index}: tool type {kind!r} is a server tool that fcproxy cannot run; "
            "only client tools (name, description, input_schema) are supported.",
            param=f"tools.{index}.type",
        )
    name, schema = tool.get("name"), tool.get("input_schema")
    if not isinstance(name, str) or not isinstance(schema, dict):
        raise InvalidRequestError(
            f"tools.{index}: a tool needs a 'name' string and an 'input_schema' object.",
            param=f"tools.{index}",
        )
    function: dict[str, Any] = {"name": name, "parameters": schema}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _tool_choice(choice: ToolChoice | None) -> dict[str, Any]:
    if choice is None:
        return {}
    out: dict[str, Any] = {}
    if choice.disable_parallel_tool_use:
        out["parallel_tool_calls"] = False
    if choice.type == "tool":
        if not choice.name:
            raise InvalidRequestError(
                "tool_choice.name: required when tool_choice.type is 'tool'.",
                param="tool_choice.name",
            )
        out["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    else:
        out["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[choice.type]
    return out
