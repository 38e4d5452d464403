"""MemGPT-style answers while they are written: inner thoughts as content, then the call.

The answer is one JSON object (``{"function": ..., "params": {"inner_thoughts":
..., "message": ...}}``, the prompt's prefill put back in front).
:func:`memgpt_snapshot` reads the prefix written so far with
:mod:`wrappers.partial_json` and applies the same rules as
:func:`wrappers.memgpt_format.interpret_answer`, only where the prefix
already decides them: inner thoughts stream as content, the call's name is
shown once it is complete and valid, and its arguments (cleaned as
``_clean_arguments`` cleans them) leave as they are written. Anything
unusual (a nested call, a name in an unexpected key, arguments as a string)
waits for the one-shot parse at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wrappers.base import FunctionSchema
from wrappers.partial_json import OpenDict, is_open, parse_prefix, stable_dumps
from wrappers.streaming import EMPTY, PartialCall, Snapshot

INNER_THOUGHTS = "inner_thoughts"
_NAME_KEYS = ("function", "name", "function_name")
_PARAMS_KEYS = ("params", "parameters", "arguments", "args")
_NO_FUNCTION = ("", "none", "null")


def memgpt_snapshot(
    candidate: str,
    *,
    functions: Sequence[FunctionSchema],
    placement: str,
    valid_name: Any,
    declares: Any,
) -> Snapshot:
    """What is certain about the MemGPT answer ``candidate`` (prefill included).

    ``valid_name(name)`` says whether a name passes as a function name;
    ``declares(functions, name, parameter)`` whether a schema declares a parameter.
    """
    start = candidate.find("{")
    if start == -1:
        return EMPTY
    found = parse_prefix(candidate, start)
    if found is None or not isinstance(found.value, dict):
        return EMPTY
    value: dict[str, Any] = found.value
    complete = not is_open(value)
    if any(isinstance(value.get(k), dict) for k in ("function", INNER_THOUGHTS)):
        return EMPTY  # a whole call nested where the prefill expected a name
    params_key = next((k for k in _PARAMS_KEYS if k in value), None)
    params = value.get(params_key) if params_key else None
    if params is not None and not isinstance(params, dict):
        return EMPTY
    content = _content(value, params, placement=placement, complete=complete)
    name = _name(value, valid_name)
    if name is None or params is None:
        return Snapshot(content=content)
    keep_thoughts = declares(functions, name, INNER_THOUGHTS)
    if keep_thoughts and INNER_THOUGHTS not in params:
        # The thoughts are put in front of the arguments once they are known.
        return Snapshot(content=content, calls=[PartialCall(name)])
    drop_heartbeat = name == "send_message" and not declares(functions, name, "request_heartbeat")
    arguments: dict[str, Any] = OpenDict() if is_open(params) else {}
    for key, item in params.items():
        if (key == INNER_THOUGHTS and not keep_thoughts) or (
            key == "request_heartbeat" and drop_heartbeat
        ):
            continue
        arguments[key] = item
    return Snapshot(content=content, calls=[PartialCall(name, stable_dumps(arguments))])


def _name(value: dict[str, Any], valid_name: Any) -> str | None:
    for key in _NAME_KEYS:
        if key not in value:
            continue
        name = value[key]
        if name is None or not isinstance(name, str) or is_open(name):
            return None
        name = name.strip()
        if name.lower() in _NO_FUNCTION or not valid_name(name):
            return None
        return name
    return None


def _content(
    value: dict[str, Any], params: dict[str, Any] | None, *, placement: str, complete: bool
) -> str:
    """The inner thoughts known so far, where the finished answer will take them from."""
    inner = params.get(INNER_THOUGHTS) if params is not None else None
    outer = value.get(INNER_THOUGHTS)
    params_done = params is not None and not is_open(params)
    if placement == "top-level":
        if outer is not None:
            chosen = outer
        elif complete:
            chosen = inner
        else:
            return ""
    elif inner is not None:
        chosen = inner
    elif params_done or complete:
        chosen = outer
    else:
        return ""
    return chosen if isinstance(chosen, str) else ""
