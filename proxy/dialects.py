"""Step 1 of the pipeline: both client dialects -> one internal request.

Clients speak either the legacy *functions* dialect (``functions``,
``function_call``, ``role: function``) or the *tools* dialect (``tools``,
``tool_choice``, ``role: tool``, ``tool_calls``). Wrappers see one shape only,
MemGPT's: function definitions, assistant messages with ``function_call``,
and ``role: function`` results. The answer goes back in the dialect the
client used (``proxy/responses.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from proxy.errors import InvalidRequestError
from proxy.schemas import ChatCompletionRequest, ChatMessage, NamedFunction, NamedToolChoice
from proxy.structured import ResponseFormat, response_format_of
from proxy.tool_schemas import check_function_schemas
from wrappers.base import FunctionSchema, Message
from wrappers.json_key import unchanging

Dialect = Literal["functions", "tools"]
ChoiceMode = Literal["auto", "none", "required", "named"]


@dataclass(frozen=True)
class CallChoice:
    """What the client allows or demands: ``auto``, ``none``, ``required`` or one ``named``."""

    mode: ChoiceMode = "auto"
    name: str | None = None

    @property
    def call_required(self) -> bool:
        return self.mode in ("required", "named")


@dataclass(frozen=True)
class NormalizedRequest:
    dialect: Dialect
    messages: list[Message]
    functions: list[FunctionSchema]
    choice: CallChoice
    parallel_calls: bool
    #: ``response_format`` (None: plain text).
    response_format: ResponseFormat | None = None

    @property
    def function_names(self) -> set[str]:
        return {f["name"] for f in self.functions}


def normalize(request: ChatCompletionRequest) -> NormalizedRequest:
    """Turn either dialect into MemGPT's shape; reject contradictions with a 400."""
    if request.functions is not None and request.tools is not None:
        raise InvalidRequestError(
            "Send either 'functions' or 'tools', not both.", param="functions"
        )
    dialect: Dialect = "functions" if request.functions is not None else "tools"
    functions = _checked_functions(request, dialect)
    names = [f["name"] for f in functions]

    choice = _call_choice(request, dialect)
    if choice.mode == "named" and choice.name not in names:
        raise InvalidRequestError(
            f"The requested function {choice.name!r} is not among the request's {dialect}: "
            f"{', '.join(names) or '(none)'}.",
            param="tool_choice" if dialect == "tools" else "function_call",
        )
    if choice.mode == "required" and not functions:
        raise InvalidRequestError(
            "tool_choice 'required' needs at least one tool.", param="tool_choice"
        )

    return NormalizedRequest(
        dialect=dialect,
        messages=_messages_to_functions_dialect(request.messages),
        functions=functions if choice.mode != "none" else [],
        choice=choice,
        parallel_calls=request.parallel_tool_calls is not False and dialect == "tools",
        response_format=response_format_of(request.response_format),
    )


def _checked_functions(request: ChatCompletionRequest, dialect: Dialect) -> list[FunctionSchema]:
    """The request's function definitions as wrappers read them, checked; a 400 if refused.

    Agents send the same tools every turn, and :func:`proxy.schemas.parse_chat_request`
    hands back the very same validated list for them: its definitions are
    dumped and checked once, and the result is shared by every request with
    that list (nothing downstream changes a definition).
    """
    definitions: list[Any] = request.tools if request.tools is not None else request.functions or []
    cached = _CHECKED.get(id(definitions))
    if cached is not None and cached[0] is definitions:
        return cached[1]
    functions = [
        _function_schema(
            (d.function if request.tools is not None else d).model_dump(exclude_none=True)
        )
        for d in definitions
    ]
    # Before anything walks a schema: references, size, validity (a 400 naming the tool).
    check_function_schemas(functions, dialect)
    names = [f["name"] for f in functions]
    if len(set(names)) != len(names):
        raise InvalidRequestError("Function names must be unique.", param=dialect)
    if definitions:
        # Keyed by identity, holding the list so that its id stays its own.
        _CHECKED[id(definitions)] = (definitions, functions)
        # Shared, so never changed: the keys of the caches after this one
        # (rendered tools, grammars, validators) are made once.
        unchanging(functions, *(f["parameters"] for f in functions))
        while len(_CHECKED) > _MAX_CHECKED:
            del _CHECKED[next(iter(_CHECKED))]
    return functions


#: Validated definition lists seen lately -> their checked function schemas.
#: A list validated anew (not from parse_chat_request's cache) is a new key and
#: pushes out the oldest; the bound keeps that cheap.
_MAX_CHECKED = 64
_CHECKED: dict[int, tuple[list[Any], list[FunctionSchema]]] = {}


def _function_schema(definition: dict[str, Any]) -> FunctionSchema:
    # Wrappers read description and parameters.properties unconditionally
    # (as MemGPT's did); give them the shapes they expect.
    definition.setdefault("description", "")
    params = definition.setdefault("parameters", {"type": "object", "properties": {}})
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    return definition


def _call_choice(request: ChatCompletionRequest, dialect: Dialect) -> CallChoice:
    raw = request.tool_choice if dialect == "tools" else request.function_call
    if raw is None or raw == "auto":
        return CallChoice("auto")
    if raw == "none":
        return CallChoice("none")
    if raw == "required":
        return CallChoice("required")
    if isinstance(raw, NamedToolChoice):
        return CallChoice("named", raw.function.name)
    if isinstance(raw, NamedFunction):
        return CallChoice("named", raw.name)
    raise InvalidRequestError(f"Unsupported choice {raw!r}.", param="tool_choice")


def _messages_to_functions_dialect(messages: list[ChatMessage]) -> list[Message]:
    """History in MemGPT's shape: ``function_call`` on assistant turns, ``role: function``."""
    out: list[Message] = []
    # role: tool messages name their call by id only; wrappers want the function name.
    names_by_call_id: dict[str, str] = {}
    for message in messages:
        role = "system" if message.role == "developer" else message.role
        content = message.text()
        if role == "assistant" and message.tool_calls:
            # One assistant turn per call: MemGPT's formats hold one call a turn.
            for index, call in enumerate(message.tool_calls):
                if call.id:
                    names_by_call_id[call.id] = call.function.name
                out.append(
                    {
                        "role": "assistant",
                        "content": content if index == 0 else None,
                        "function_call": {
                            "name": call.function.name,
                            "arguments": call.function.arguments,
                        },
                    }
                )
            continue
        if role == "tool":
            name = message.name or names_by_call_id.get(message.tool_call_id or "", "")
            out.append({"role": "function", "name": name, "content": content})
            continue
        converted: Message = {"role": role, "content": content}
        if message.name:
            converted["name"] = message.name
        if message.function_call:
            converted["function_call"] = {
                "name": message.function_call.name,
                "arguments": message.function_call.arguments,
            }
        out.append(converted)
    return out
