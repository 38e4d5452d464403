"""``fcproxy parse``: run a wrapper's parser and the server's checks on raw text.

The tool to reach for when a model misbehaves: paste its raw output and see
exactly what the server would have answered, or why it could not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from proxy.dialects import NormalizedRequest, normalize
from proxy.errors import InvalidRequestError
from proxy.pipeline import check_output
from proxy.responses import assistant_message
from proxy.schemas import ChatCompletionRequest, describe_validation_error
from wrappers.base import RenderOptions, WrapperParseError
from wrappers.registry import UnknownWrapperError, get_wrapper


class ParseCommandError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_functions(path: Path) -> dict[str, Any]:
    """Request fields (``functions`` or ``tools``) from a functions file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParseCommandError(f"cannot read {path}: {exc.strerror}", 2) from exc
    except json.JSONDecodeError as exc:
        raise ParseCommandError(f"{path} is not valid JSON: {exc}", 2) from exc
    if isinstance(data, dict) and ("functions" in data or "tools" in data):
        return {k: data[k] for k in ("functions", "tools") if k in data}
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        is_tools = bool(data) and all(
            item.get("type") == "function" and "function" in item for item in data
        )
        return {"tools": data} if is_tools else {"functions": data}
    raise ParseCommandError(
        f"{path} must hold a list of function definitions or tools, or a request body", 2
    )


def parse_raw_output(raw: str, wrapper_name: str, functions_file: Path | None) -> dict[str, Any]:
    """The assistant message the server would return for ``raw``; raise on no usable call."""
    try:
        wrapper = get_wrapper(wrapper_name)
    except UnknownWrapperError as exc:
        raise ParseCommandError(str(exc), 2) from exc

    if functions_file is None:
        # No function list: accept whatever call the wrapper reads.
        options = RenderOptions(call_required=True)
        try:
            output = wrapper.parse(raw, [], options)
        except WrapperParseError as exc:
            raise ParseCommandError(f"no usable function call: {exc}") from exc
        if not output.tool_calls:
            raise ParseCommandError("no usable function call: the output holds none")
        return assistant_message(output, "functions")

    fields = load_functions(functions_file)
    request = _request_with(fields)
    try:
        normalized: NormalizedRequest = normalize(request)
    except InvalidRequestError as exc:
        # A refused schema, duplicate names: what the server would answer with a 400.
        raise ParseCommandError(exc.message, 2) from exc
    options = RenderOptions(call_required=True)
    checked = check_output(wrapper, raw, normalized, options)
    if checked.problem is not None:
        raise ParseCommandError(f"no usable function call: {checked.problem}")
    message = assistant_message(checked.output, normalized.dialect)
    if checked.schema_problem is not None:
        message["x_fcproxy_warning"] = checked.schema_problem
    return message


def _request_with(fields: dict[str, Any]) -> ChatCompletionRequest:
    body = {"model": "parse", "messages": [{"role": "user", "content": ""}], **fields}
    try:
        return ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        message, _ = describe_validation_error(exc)
        raise ParseCommandError(
            message.replace("Invalid request body", "Invalid functions"), 2
        ) from exc
