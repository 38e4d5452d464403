"""Calls written as Python: ``[get_weather(city="Paris"), get_forecast(city="Tokyo", days=3)]``.

Llama 3.2 / 4 (``pythonic``), Gemma (Google's function-calling prompt) and
Liquid LFM2 (between ``<|tool_call_start|>`` and ``<|tool_call_end|>``)
write calls as a Python list of keyword calls; Llama 3.1's built-in tools
as one bare call (``brave_search.call(query="...")``). The text is read with
:mod:`ast` and only literals are accepted: nothing is ever evaluated. JSON
spellings of the constants (``true``, ``null``) are accepted too, since
models mix them in. :func:`find_call_lists` finds such lists inside prose,
code fences and Llama's ``<|python_tag|>`` / ``<|python_start|>`` markers.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Sequence
from typing import Any

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.brackets import closing_bracket
from wrappers.grammar import CallWriter, ValueSyntax, calls_grammar, keyed_call, literal
from wrappers.json_calls import strip_empty_fences
from wrappers.tool_format import ExtractedCall, Extraction

_CONSTANT_NAMES = {
    "True": True,
    "False": False,
    "None": None,
    "true": True,
    "false": False,
    "null": None,
}


#: Where a call list starts in prose: ``[`` and a function name and ``(``.
CALL_LIST_START = re.compile(r"\[\s*[A-Za-z_][\w.]*\s*\(")
# One call without the list brackets, the whole answer: get_weather(city="Paris").
_BARE_CALL = re.compile(r"\s*[A-Za-z_][\w.]*\s*\(.*\)\s*", re.DOTALL)
#: Special tokens some servers leave around the list (Llama 3.2's, Llama 4's).
LIST_MARKERS = ("<|python_tag|>", "<|python_start|>", "<|python_end|>")


class NotACallList(ValueError):
    """The text is Python, but not calls with literal keyword arguments (``[1, 2]``, ``[f(1)]``)."""


def parse_call_list(text: str) -> list[ExtractedCall]:
    """The calls in ``[f(a=1), g(b="x")]``, or in one bare call ``f(a=1)``.

    Raises :class:`~wrappers.base.WrapperParseError` when ``text`` is not
    Python at all (cut off, unbalanced), :class:`NotACallList` when it is
    Python but not a list of calls with literal keyword arguments.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise WrapperParseError(f"not a Python call list: {exc}", text) from exc
    node = tree.body
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    if not items:
        raise NotACallList("an empty list")
    return [_call(item) for item in items]


def _call(node: ast.expr) -> ExtractedCall:
    if not isinstance(node, ast.Call):
        raise NotACallList(f"not a call: {ast.unparse(node)[:60]}")
    name = _dotted_name(node.func)
    if name is None:
        raise NotACallList("a call needs a plain function name")
    if node.args:
        raise NotACallList(f"{name}() has positional arguments")
    arguments: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise NotACallList(f"{name}() unpacks **arguments")
        arguments[keyword.arg] = _literal(keyword.value)
    return ExtractedCall(name=name, arguments=arguments)


def _dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted_name(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        if not math.isfinite(node.value):  # 1e999 is inf: JSON has no such number
            raise NotACallList(f"{ast.unparse(node)} is not a finite number")
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | bool | None):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANT_NAMES:
        return _CONSTANT_NAMES[node.id]
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict):
        result: dict[str, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise NotACallList("a dict argument unpacks **another")
            literal_key = _literal(key)
            result[literal_key if isinstance(literal_key, str) else str(literal_key)] = _literal(
                value
            )
        return result
    raise NotACallList(f"not a literal value: {ast.unparse(node)[:60]}")


def python_literal(value: Any) -> str:
    """``value`` as a Python literal, strings in double quotes (as the model cards write them)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid Python string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{python_literal(str(k))}: {python_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return python_literal(str(value))


def find_call_lists(text: str) -> Extraction:
    """Every ``[f(...), ...]`` in ``text`` and the text around them.

    A list that is cut off or is not Python raises
    :class:`~wrappers.base.WrapperParseError`; brackets that are Python but
    not calls (``[1, 2]``, ``[note(1)]``) are content.
    """
    for marker in LIST_MARKERS:
        text = text.replace(marker, "")
    calls: list[ExtractedCall] = []
    content = ""
    position = 0
    while (match := CALL_LIST_START.search(text, position)) is not None:
        start = match.start()
        end = closing_bracket(text, start)
        if end is None:
            raise WrapperParseError("a call list is cut off before its closing ]", text)
        try:
            found = parse_call_list(text[start:end])
        except NotACallList:
            content += text[position:end]
        else:
            content += text[position:start]
            calls.extend(found)
        position = end
    content += text[position:]
    if not calls and _BARE_CALL.fullmatch(text):
        # One call without the list brackets: only when it is the whole answer.
        try:
            return Extraction("", parse_call_list(text))
        except (NotACallList, WrapperParseError):
            return Extraction(text)
    return Extraction(strip_empty_fences(content), calls)


# ---- the grammar of a call list ----

_PYTHON_ESCAPE = r""""\\" (["'\\/bfnrt] | "u" [0-9a-fA-F]{4})"""
#: One character of a single-quoted string as a length counts it (``\\/`` is
#: two characters to Python, not JSON's escape of one).
SINGLE_QUOTED_CHAR = r"""[^'\\\x7F\x00-\x1F] | "\\" (["'\\bfnrt] | "u" [0-9a-fA-F]{4})"""
#: Python's values as :func:`python_literal` writes them (and single-quoted
#: strings, which models write as often): ``True``, ``None``, ``{"k": 1}``.
PYTHON_VALUES = ValueSyntax(
    "python",
    string=(
        rf""""\"" ( [^"\\\x7F\x00-\x1F] | {_PYTHON_ESCAPE} )* "\"" """
        rf'''| "'" ( [^'\\\x7F\x00-\x1F] | {_PYTHON_ESCAPE} )* "'"'''
    ),
    write=python_literal,
    key=lambda key: literal(python_literal(key)),
    json_strings=True,
    string_quotes=('"', '"'),
)


def python_call(syntax: ValueSyntax = PYTHON_VALUES) -> CallWriter:
    """``name(key=value, ...)``: keyword arguments, values as Python literals
    (``syntax``: where a template writes its constants otherwise)."""

    def member(key: str, value: str) -> str:
        return f"{literal(key + '=')} {value}"

    return keyed_call(lambda name: literal(name + "("), member, '")"', syntax, sep=' "," " "? ')


def python_calls_grammar(
    functions: Sequence[FunctionSchema],
    *,
    only: str | None,
    max_calls: int,
    start: str = "",
    end: str = "",
) -> str:
    """A call list ``[f(a=1), g(b="x")]`` (between ``start`` and ``end`` markers),
    each call to a request's function with arguments valid under its schema."""
    opening = f'{literal(start)} "["' if start else '"["'
    closing = f'"]" {literal(end)}' if end else '"]"'
    return calls_grammar(
        functions,
        python_call(),
        only=only,
        max_calls=max_calls,
        start=opening,
        separator='"," " "?',
        end=closing,
    )


def call_list_triggers(functions: Sequence[FunctionSchema]) -> list[str]:
    """Where a lazy grammar of a call list starts: ``[name(`` for each function
    (a ``[`` alone is too common in prose to switch the grammar on)."""
    return [f"[{function['name']}(" for function in functions]
