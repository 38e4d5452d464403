"""OpenAI wire models for what clients send us.

Lenient where real clients differ (extra fields are kept and ignored, content
may be a string or a list of text parts, ``arguments`` may arrive as a dict),
strict where a mistake would produce a wrong answer (roles, tool shapes,
``tool_choice`` values). Responses are built as plain dicts in
``proxy/responses.py``: they are checked against the official schemas in the
tests instead of being modelled twice.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wrappers.json_key import json_key


class _Lenient(BaseModel):
    # Clients send fields we do not model (logprobs, user, metadata, ...).
    model_config = ConfigDict(extra="allow")


class FunctionDefinition(_Lenient):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDefinition(_Lenient):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class FunctionCall(_Lenient):
    name: str
    arguments: str = "{}"

    @field_validator("arguments", mode="before")
    @classmethod
    def _arguments_as_string(cls, value: Any) -> Any:
        # Some clients echo arguments back as an object; OpenAI's is a string.
        if value is None:
            return "{}"
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return value


class ToolCall(_Lenient):
    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class ContentPart(_Lenient):
    type: str
    text: str | None = None


class ChatMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "function", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    function_call: FunctionCall | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    def text(self) -> str | None:
        """The content as one string (text parts joined), or None."""
        if self.content is None or isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class NamedFunction(_Lenient):
    name: str


class NamedToolChoice(_Lenient):
    type: Literal["function"] = "function"
    function: NamedFunction


class StreamOptions(_Lenient):
    include_usage: bool = False


class ChatCompletionRequest(_Lenient):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    functions: list[FunctionDefinition] | None = None
    function_call: Literal["auto", "none"] | NamedFunction | None = None
    tools: list[ToolDefinition] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    #: Not OpenAI's, but vLLM, llama.cpp and Ollama take it on chat completions too.
    top_k: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    n: int | None = Field(default=None, ge=1, le=1)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    #: ``text`` / ``json_object`` / ``json_schema``: read by proxy/structured.py, which
    #: answers a 400 naming the field for a malformed one.
    response_format: dict[str, Any] | None = None

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


def parse_chat_request(body: dict[str, Any]) -> ChatCompletionRequest:
    """``body`` validated; :class:`ValidationError` as ``model_validate`` raises it.

    Agents send the same tools every turn, and validating them was half the
    validation of MemGPT's request (8 tools): each distinct list is
    validated once, with the whole body (so errors name ``tools.3...`` as
    before), and reused after that. The reused definitions are shared between
    requests: nothing downstream changes them (``normalize`` copies them out).
    """
    field = "tools" if isinstance(body.get("tools"), list) else "functions"
    definitions = body.get(field)
    if not isinstance(definitions, list) or not definitions:
        return ChatCompletionRequest.model_validate(body)
    key = f"{field}:{json_key(definitions)}"
    cached = _VALIDATED_TOOLS.get(key)
    if cached is None:
        request = ChatCompletionRequest.model_validate(body)
        _VALIDATED_TOOLS[key] = getattr(request, field)
        while len(_VALIDATED_TOOLS) > _MAX_CACHED_TOOL_LISTS:
            _VALIDATED_TOOLS.popitem(last=False)
        return request
    _VALIDATED_TOOLS.move_to_end(key)
    request = ChatCompletionRequest.model_validate({**body, field: []})
    setattr(request, field, cached)
    return request


#: Distinct tool lists kept validated (least recently used dropped first).
_MAX_CACHED_TOOL_LISTS = 64
_VALIDATED_TOOLS: OrderedDict[str, Any] = OrderedDict()


def describe_validation_error(exc: ValidationError) -> tuple[str, str | None]:
    """A readable one-line message and the offending parameter, OpenAI style.

    Pydantic's detail lists one line per failed union branch; a client wants
    "messages.0.role: Input should be 'system', 'user', ..." once.
    """
    seen: set[str] = set()
    parts: list[str] = []
    first_param: str | None = None
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if not _is_union_tag(p))
        if first_param is None and loc:
            first_param = loc
        line = f"{loc}: {err['msg']}" if loc else err["msg"]
        if line not in seen:
            seen.add(line)
            parts.append(line)
    message = "Invalid request body: " + "; ".join(parts[:5])
    if len(parts) > 5:
        message += f"; and {len(parts) - 5} more problems"
    return message, first_param


def _is_union_tag(part: Any) -> bool:
    # Pydantic puts the union member's name in the location path
    # ("str", "list[ContentPart]", "literal['auto','none']"); drop those.
    return isinstance(part, str) and (
        part in {"str", "int", "float", "bool", "none"}
        or "[" in part
        or part[:1].isupper()
        or part.startswith("literal")
    )
