"""Calls written as XML-ish tags, one argument per tag, values as plain text.

Three formats write their arguments this way instead of as a JSON object:

- Qwen3-Coder (and Seed-OSS inside ``<seed:tool_call>``)::

      <function=get_weather>
      <parameter=city>
      Paris
      </parameter>
      </function>

- GLM 4.5 / 4.6::

      <tool_call>get_weather
      <arg_key>city</arg_key>
      <arg_value>Paris</arg_value>
      </tool_call>

A value is text: ``3`` may be the integer 3 or the string "3". Like vLLM's
``qwen3coder`` and ``glm4_moe`` parsers, the type comes from the function's
JSON schema (:func:`typed_arguments`), so extraction keeps every value as a
string and :class:`XmlArgumentsWrapper` converts them once it knows the
request's functions.

While the output is being written, :func:`function_blocks_so_far` and
:func:`arguments_so_far` give each call's arguments as far as they are
final: a parameter once its closing tag has come (its typed value cannot
change then), and a value the schema types as a plain string as it is
written.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

from wrappers.base import FunctionSchema, ParsedOutput, RenderOptions, WrapperParseError
from wrappers.grammar import resolve_local_ref
from wrappers.streaming import PartialCall, compile_opener, safe_content_end
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

FUNCTION_OPEN = "<function="
FUNCTION_CLOSE = "</function>"
PARAMETER_CLOSE = "</parameter>"

_PARAMETER = re.compile(r"<parameter=([^>\n]+)>")
# What ends a value still being written (a tag may be half-written).
_VALUE_ENDS = tuple(
    compile_opener(pattern)
    for pattern in (_PARAMETER.pattern, re.escape(PARAMETER_CLOSE), re.escape(FUNCTION_CLOSE))
)


def parse_function_block(text: str, start: int) -> tuple[ExtractedCall, int]:
    """The ``<function=name>...</function>`` block at ``text[start]`` and where it ends.

    A value keeps its inner newlines; the one newline after ``<parameter=...>``
    and the one before ``</parameter>`` are layout (Qwen3-Coder writes them,
    Seed-OSS does not). A missing ``</parameter>`` is tolerated when the next
    tag follows; a missing ``</function>`` (the output was cut off) is not.
    """
    name_end = text.find(">", start)
    if name_end == -1:
        raise WrapperParseError("a <function= tag is not closed", text)
    name = text[start + len(FUNCTION_OPEN) : name_end].strip()
    if (unclosed := _unclosed_header(name)) is not None:
        return ExtractedCall(name=unclosed, arguments={}), name_end + 1
    close = text.find(FUNCTION_CLOSE, name_end)
    if not name or close == -1:
        raise WrapperParseError(f"the call to {name or '?'} is cut off (no </function>)", text)
    body = text[name_end + 1 : close]
    arguments: dict[str, str] = {}
    matches = list(_PARAMETER.finditer(body))
    for index, match in enumerate(matches):
        value_end = body.find(PARAMETER_CLOSE, match.end())
        next_start = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        if value_end == -1 or value_end > next_start:
            value_end = next_start
        arguments[match.group(1).strip()] = strip_layout_newlines(body[match.end() : value_end])
    return ExtractedCall(name=name, arguments=arguments), close + len(FUNCTION_CLOSE)


def _unclosed_header(header: str) -> str | None:
    """The name of ``<function=name</function>``, a header the model never closed.

    Such a call ends at its ``</function>`` with no arguments (as vLLM's BerryLM
    parser reads it) rather than swallowing the next call's block.
    """
    if header.endswith(FUNCTION_CLOSE[:-1]) and "<" in header:
        return header[: header.index("<")].strip()
    return None


def extract_function_blocks(text: str, open_tag: str, close_tag: str) -> Extraction:
    """Every ``<function=...>`` block in ``text`` (each usually inside ``open_tag``/``close_tag``).

    The wrapper tags are optional (models drop them); a wrapper that opens
    and is not followed by a function block (the output was cut off) raises
    :class:`WrapperParseError`.
    """
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (start := text.find(FUNCTION_OPEN, position)) != -1:
        block_start = start
        wrapper = text.rfind(open_tag, position, start)
        if wrapper != -1 and not text[wrapper + len(open_tag) : start].strip():
            block_start = wrapper
        content += text[position:block_start]
        call, end = parse_function_block(text, start)
        calls.append(call)
        after = _skip_space(text, end)
        position = after + len(close_tag) if text.startswith(close_tag, after) else end
    rest = text[position:]
    if open_tag in rest:
        raise WrapperParseError(f"{open_tag} is not followed by a <function=...> block", text)
    return Extraction(content + rest, calls)


def function_blocks_so_far(
    text: str, close_tag: str, functions: Sequence[FunctionSchema]
) -> list[PartialCall]:
    """:func:`extract_function_blocks` on an output still being written.

    A call is known from its ``<function=name>`` on; its arguments as far as
    :func:`arguments_so_far` can tell (typed by ``functions``' schemas).
    """
    schemas = {f.get("name"): f for f in functions}
    calls: list[PartialCall] = []
    position = 0
    while (start := text.find(FUNCTION_OPEN, position)) != -1:
        name_end = text.find(">", start)
        name = text[start + len(FUNCTION_OPEN) : name_end].strip() if name_end != -1 else ""
        if not name:
            break
        if (unclosed := _unclosed_header(name)) is not None:
            calls.append(PartialCall(unclosed, "{}"))
            position = name_end + 1
            continue
        close = text.find(FUNCTION_CLOSE, name_end)
        body = text[name_end + 1 : close if close != -1 else len(text)]
        pairs, open_value = _parameters_so_far(body, complete=close != -1)
        calls.append(
            PartialCall(name, arguments_so_far(pairs, open_value, schemas.get(name), close != -1))
        )
        if close == -1:
            break
        end = close + len(FUNCTION_CLOSE)
        after = _skip_space(text, end)
        position = after + len(close_tag) if text.startswith(close_tag, after) else end
    return calls


def _parameters_so_far(
    body: str, *, complete: bool
) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """The parameters of a function body (as :func:`parse_function_block` reads
    them) whose values are final, and the one still being written."""
    matches = list(_PARAMETER.finditer(body))
    pairs: list[tuple[str, str]] = []
    for index, match in enumerate(matches):
        key = match.group(1).strip()
        value_end = body.find(PARAMETER_CLOSE, match.end())
        if index + 1 < len(matches) and (value_end == -1 or value_end > matches[index + 1].start()):
            value_end = matches[index + 1].start()
        if value_end == -1:
            if not complete:
                value = body[match.end() :]
                return pairs, (key, value[: safe_content_end(value, _VALUE_ENDS)])
            value_end = len(body)
        pairs.append((key, strip_layout_newlines(body[match.end() : value_end])))
    return pairs, None


def arguments_so_far(
    pairs: Sequence[tuple[str, str]],
    open_value: tuple[str, str] | None,
    function: FunctionSchema | None,
    complete: bool,
) -> str:
    """A prefix of the JSON :class:`XmlArgumentsWrapper` will give a call's arguments.

    ``pairs``: the parameters whose text is final, in order; ``open_value``:
    the one being written (key, text so far), shown only where the schema
    makes its value the text itself; ``complete``: the call is closed.
    """
    arguments = dict(pairs)
    typed = typed_arguments(arguments, function)
    if complete:
        return json.dumps(typed, ensure_ascii=False)
    # Of each member, json.dumps writes the key, ": " and the value; ", " between.
    text = json.dumps(typed, ensure_ascii=False)[:-1]
    if open_value is None:
        return text
    key, value = open_value
    properties = ((function or {}).get("parameters") or {}).get("properties") or {}
    if key in arguments or not is_text_schema(properties.get(key)):
        return text
    value = value.removeprefix("\n")
    value = value.removesuffix("\n")  # layout, if the closing tag follows
    member = json.dumps({key: value}, ensure_ascii=False)[1:-2]  # without the closing quote
    return text + (", " if arguments else "") + member


def is_text_schema(schema: Any) -> bool:
    """Does :func:`typed_arguments` keep a value of this schema as the text it is?"""
    if not isinstance(schema, dict):
        return False
    types = schema_type_order(schema)
    # Union types are tried in order: the text is the value only if "string" comes first.
    return (not types or types[0] == "string") and "null" not in types


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def strip_layout_newlines(value: str) -> str:
    """``value`` without the one newline the format puts on each side."""
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    return value


def text_value(value: Any) -> str:
    """An argument as the templates print it: strings as they are, the rest as ``str()``.

    Qwen3-Coder's template writes objects and lists with ``tojson`` and
    everything else with ``| string`` (so ``True``, not ``true``).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# ---- values as the schema wants them ----


def typed_arguments(arguments: dict[str, Any], function: FunctionSchema | None) -> dict[str, Any]:
    """``arguments`` with each text value converted to the type its schema declares.

    Without a schema for a parameter a value stays text, unless it is a JSON
    object or list (a model that writes ``{"a": 1}`` means an object). A value
    that does not convert stays text: the pipeline's schema check reports it.
    """
    parameters = (function or {}).get("parameters") or {}
    properties = parameters.get("properties") or {}
    typed: dict[str, Any] = {}
    for key, value in arguments.items():
        # A parameter may be a local reference ({"$ref": "#/$defs/node"}).
        schema = resolve_local_ref(properties.get(key), parameters)
        typed[key] = typed_text(value, schema) if isinstance(value, str) else value
    return typed


def typed_text(value: str, schema: Any) -> Any:
    """One text value as the type ``schema`` declares (an object or list where
    there is no schema and the text is JSON for one); else the text itself."""
    if isinstance(schema, dict):
        return _convert(value, schema_type_order(schema))
    return _convert(value, ["object", "array"])


def schema_type_order(schema: dict[str, Any]) -> list[str]:
    """The types a schema allows, in the order it declares them (``anyOf`` options in order)."""
    declared = schema.get("type")
    types: list[str] = []
    if isinstance(declared, str):
        types.append(declared)
    elif isinstance(declared, list):
        types.extend(t for t in declared if isinstance(t, str))
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or []:
            if isinstance(option, dict):
                types.extend(schema_type_order(option))
    if "enum" in schema and not types:
        types.append("string")
    return list(dict.fromkeys(json_schema_type(t) for t in types))


#: Type names tool definitions use that are not JSON Schema's (vLLM's Hunyuan
#: parsers read them so: ``"int"``, ``"list"``, ``"uint32"``).
_TYPE_ALIASES = {
    **dict.fromkeys(("str", "text", "varchar", "char", "enum"), "string"),
    **dict.fromkeys(("bool", "binary"), "boolean"),
    **dict.fromkeys(("int", "long", "short"), "integer"),
    **dict.fromkeys(("float", "double"), "number"),
    "list": "array",
    **dict.fromkeys(("dict", "map"), "object"),
}
_INTEGER_PREFIXES = ("int", "uint", "long", "short", "unsigned")
_NUMBER_PREFIXES = ("num", "float")


def json_schema_type(name: str) -> str:
    """A schema's type name as JSON Schema spells it (``"int"`` -> ``"integer"``)."""
    lower = name.lower()
    if lower in _TYPE_ALIASES:
        return _TYPE_ALIASES[lower]
    if lower in ("string", "integer", "number", "boolean", "array", "object", "null"):
        return lower
    if lower.startswith(_INTEGER_PREFIXES):
        return "integer"
    return "number" if lower.startswith(_NUMBER_PREFIXES) else name


def _convert(value: str, types: list[str]) -> Any:
    """``value`` as the first of ``types`` it reads as (union types tried in order)."""
    if not types:
        return value
    if "null" in types and value.strip() in ("null", "None"):
        return None
    decoded = _decode_literal(value.strip())
    for kind in types:
        if kind == "string":
            return value
        if kind == "integer" and isinstance(decoded, float) and decoded.is_integer():
            return int(decoded)
        if decoded is not _NOTHING and _fits(decoded, {kind}):
            return decoded
    return value


_NOTHING = object()
_PYTHON_WORDS = {"True": True, "False": False, "None": None, "true": True, "false": False}


def _decode_literal(text: str) -> Any:
    """JSON first, then Python literals (``True``, ``{'a': 1}``): templates print both."""
    if text in _PYTHON_WORDS:
        return _PYTHON_WORDS[text]
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOTHING


def _fits(value: Any, types: set[str]) -> bool:
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list | tuple),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return any(checks[t](value) for t in types if t in checks)


class XmlArgumentsWrapper(ToolFormatWrapper):
    """A format whose argument values are text: converts them by the request's schemas."""

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        parsed = super().parse(raw, functions, options)
        by_name = {f.get("name"): f for f in functions}
        calls = [
            dataclasses.replace(
                call,
                arguments=json.dumps(
                    typed_arguments(json.loads(call.arguments), by_name.get(call.name)),
                    ensure_ascii=False,
                ),
            )
            for call in parsed.tool_calls
        ]
        return dataclasses.replace(parsed, tool_calls=calls)
