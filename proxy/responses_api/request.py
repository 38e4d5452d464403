"""A Responses API request -> the pipeline's Chat Completions request.

OpenAI's shape (platform.openai.com, "Responses", ``POST /v1/responses``)::

    {"model": "...", "instructions": "You are ...",
     "input": "Weather in Paris?"  |  [
       {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "..."}]},
       {"type": "function_call", "call_id": "call_1", "name": "get_weather",
        "arguments": "{\"city\": \"Paris\"}"},
       {"type": "function_call_output", "call_id": "call_1", "output": "18 C"}],
     "tools": [{"type": "function", "name": "get_weather", "parameters": {...}, "strict": true}],
     "tool_choice": "auto" | "none" | "required" | {"type": "function", "name": "..."},
     "parallel_tool_calls": true, "max_output_tokens": 512,
     "previous_response_id": "resp_...", "store": true, "stream": false}

Items become ``user`` / ``assistant`` (``tool_calls``: consecutive
``function_call`` items join the assistant turn before them) / ``tool``
messages; ``instructions`` a system message first. Only ``function`` tools
exist here: hosted tools (web search, file search, computer use, ...) are
refused with a 400 naming them. ``reasoning`` items in the input are
dropped, as OpenAI's chat models do not see earlier reasoning either.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proxy.errors import InvalidRequestError
from proxy.schemas import ChatCompletionRequest, describe_validation_error

ROLES = {"user", "assistant", "system", "developer"}
TEXT_PARTS = {"input_text", "output_text", "text", "refusal", "summary_text", "reasoning_text"}


class ResponsesRequest(BaseModel):
    # Clients send fields fcproxy does not use (include, truncation, metadata, ...).
    model_config = ConfigDict(extra="allow")

    model: str | None = Field(default=None, min_length=1)
    input: str | list[dict[str, Any]] = Field(default_factory=list)
    instructions: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    previous_response_id: str | None = None
    store: bool | None = True
    stream: bool | None = False
    text: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    user: str | None = None


def parse_responses_request(body: Any) -> ResponsesRequest:
    if not isinstance(body, dict):
        raise InvalidRequestError(
            f"The request body must be a JSON object, not a JSON {type(body).__name__}."
        )
    try:
        request = ResponsesRequest.model_validate(body)
    except ValidationError as exc:
        problem, param = describe_validation_error(exc)
        raise InvalidRequestError(problem, param=param) from None
    _check_text_format(request.text)
    return request


def input_items(request: ResponsesRequest) -> list[dict[str, Any]]:
    """The request's ``input`` as a list of items (a string is one user message)."""
    if isinstance(request.input, str):
        return [{"type": "message", "role": "user", "content": request.input}]
    return list(request.input)


def to_chat_request(
    request: ResponsesRequest, items: list[dict[str, Any]], model: str
) -> ChatCompletionRequest:
    """The conversation ``items`` (stored ones first) and the request's constraints."""
    messages: list[dict[str, Any]] = []
    if request.instructions:
        messages.append({"role": "system", "content": request.instructions})
    messages.extend(items_to_messages(items))
    if not messages:
        raise InvalidRequestError("input: at least one input item is required.", param="input")
    chat: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": request.max_output_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "parallel_tool_calls": request.parallel_tool_calls,
        "stream": bool(request.stream),
    }
    if request.tools:
        chat["tools"] = function_tools(request.tools)
        if request.tool_choice is not None:
            chat["tool_choice"] = _tool_choice(request.tool_choice)
    elif request.tool_choice not in (None, "auto", "none"):
        raise InvalidRequestError(
            f"tool_choice {request.tool_choice!r} needs at least one tool.", param="tool_choice"
        )
    try:
        return ChatCompletionRequest.model_validate(chat)
    except ValidationError as exc:
        problem, param = describe_validation_error(exc)
        raise InvalidRequestError(problem, param=param) from None


def function_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``function`` tools in Chat Completions' nested shape; a 400 naming any other."""
    unsupported = [
        f"{tool.get('type')!r} (tools[{i}])"
        for i, tool in enumerate(tools)
        if tool.get("type") != "function"
    ]
    if unsupported:
        raise InvalidRequestError(
            f"Unsupported tool type: {', '.join(unsupported)}. fcproxy runs no hosted tools "
            "(web search, file search, computer use, code interpreter, ...); only tools of "
            "type 'function' are supported.",
            param="tools",
        )
    converted = []
    for i, tool in enumerate(tools):
        if not isinstance(tool.get("name"), str):
            raise InvalidRequestError(f"tools[{i}].name: required.", param=f"tools[{i}].name")
        function = {key: tool[key] for key in ("name", "description", "parameters") if key in tool}
        if function.get("parameters") is None:
            function.pop("parameters", None)
        converted.append({"type": "function", "function": function})
    return converted


def _tool_choice(choice: str | dict[str, Any]) -> Any:
    if isinstance(choice, str):
        if choice in ("auto", "none", "required"):
            return choice
    elif choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise InvalidRequestError(
        f"Unsupported tool_choice {choice!r}: use 'auto', 'none', 'required' or "
        "{'type': 'function', 'name': ...}.",
        param="tool_choice",
    )


def _check_text_format(text: dict[str, Any] | None) -> None:
    fmt = (text or {}).get("format")
    if fmt is None or (isinstance(fmt, dict) and fmt.get("type") == "text"):
        return
    kind = fmt.get("type") if isinstance(fmt, dict) else fmt
    raise InvalidRequestError(
        f"text.format {kind!r} is not supported yet: fcproxy answers in plain text.",
        param="text.format",
    )


def items_to_messages(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Input items as Chat Completions messages; a 400 naming the item it cannot read."""
    messages: list[dict[str, Any]] = []
    calls: set[str] = set()
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise InvalidRequestError(f"{where}: an input item must be an object.", param=where)
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            messages.append(_message(item, where))
        elif kind == "function_call":
            call = _function_call(item, where)
            calls.add(call["id"])
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append(_function_output(item, where, calls))
        elif kind == "reasoning":
            continue
        else:
            raise InvalidRequestError(
                f"{where}: input items of type {kind!r} are not supported (message, "
                "function_call, function_call_output and reasoning are).",
                param=where,
            )
    return messages


def _message(item: dict[str, Any], where: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in ROLES:
        raise InvalidRequestError(
            f"{where}.role: expected one of {', '.join(sorted(ROLES))}, got {role!r}.",
            param=f"{where}.role",
        )
    content = item.get("content")
    if isinstance(content, list):
        texts = []
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind not in TEXT_PARTS or not isinstance(part.get("text", ""), str):
                raise InvalidRequestError(
                    f"{where}.content[{j}]: content parts of type {kind!r} are not supported "
                    "(input_text and output_text are).",
                    param=f"{where}.content",
                )
            texts.append(part.get("text") or part.get("refusal") or "")
        content = "".join(texts)
    elif not isinstance(content, str):
        raise InvalidRequestError(
            f"{where}.content: expected a string or a list of text parts.",
            param=f"{where}.content",
        )
    return {"role": role, "content": content}


def _function_call(item: dict[str, Any], where: str) -> dict[str, Any]:
    call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments", "{}")
    if not all(isinstance(v, str) for v in (call_id, name, arguments)):
        raise InvalidRequestError(
            f"{where}: a function_call item needs 'call_id', 'name' and 'arguments' strings.",
            param=where,
        )
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _function_output(item: dict[str, Any], where: str, calls: set[str]) -> dict[str, Any]:
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or call_id not in calls:
        raise InvalidRequestError(
            f"{where}: no tool call found for function call output with call_id {call_id!r}.",
            param=where,
        )
    output = item.get("output")
    if isinstance(output, list):
        output = "".join(part.get("text", "") for part in output if isinstance(part, dict))
    if not isinstance(output, str):
        raise InvalidRequestError(
            f"{where}.output: expected a string or a list of text parts.", param=f"{where}.output"
        )
    return {"role": "tool", "tool_call_id": call_id, "content": output}
