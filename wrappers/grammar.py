"""Function schemas -> GBNF grammars for grammar-constrained decoding.

A small model asked for a JSON call writes prose, half an object, or a call
to a function that does not exist. A GBNF grammar (llama.cpp's format, also
accepted by text-generation-webui and koboldcpp) makes the sampler pick only
tokens that keep the output inside the grammar, so every answer parses and
names a real function with arguments of the right shape.

:class:`GrammarBuilder` turns JSON schemas into rules; the functions at the
bottom build the whole-answer grammar of one call format::

    grammar = memgpt_call_grammar(functions, inner_thoughts="params")
    # root ::= "{" ws "\\"function\\"" ws ":" ws ( call-0 | call-1 ) ...

Supported schema keywords: ``type`` (one or a list), ``properties``,
``required``, ``items``, ``enum``, ``const``, ``anyOf``/``oneOf``,
``minItems``; anything else allows any JSON value there. Required properties
come first in schema order, then optional ones, each optional: a fixed key
order keeps the grammar small and the model's job easy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

from wrappers.json_key import json_key

FunctionSchema = dict[str, Any]
InnerThoughts = Literal["params", "top-level", "none"]

INNER_THOUGHTS = "inner_thoughts"

# Shared primitives, after llama.cpp's json-schema-to-grammar. Whitespace is
# bounded: an unbounded ``ws*`` lets a small model emit spaces until max_tokens.
_PRIMITIVES = {
    "ws": r'| " " | "\n" [ \t]{0,20}',
    "string": r'"\"" char* "\""',
    "char": r'[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})',
    "integer": r'"-"? ("0" | [1-9] [0-9]{0,15})',
    "number": r'"-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?',
    "boolean": r'"true" | "false"',
    "null": r'"null"',
    "value": r"object | array | string | number | boolean | null",
    "object": r'"{" ws ( string ws ":" ws value ( ws "," ws string ws ":" ws value )* )? ws "}"',
    "array": r'"[" ws ( value ( ws "," ws value )* )? ws "]"',
}
# Up to this many optional members with none required, each alternative lists
# its followers inline; past it, a chain of rules keeps the grammar linear in
# the number of members instead of quadratic (4,000 optional properties made
# a 350 MB grammar).
_INLINE_OPTIONAL_MEMBERS = 8


def literal(text: str) -> str:
    """A GBNF string literal matching ``text`` exactly."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def json_literal(value: Any) -> str:
    """A GBNF literal matching ``value`` serialized as compact JSON."""
    return literal(json.dumps(value, ensure_ascii=False))


class GrammarBuilder:
    """Collects GBNF rules; :meth:`schema_rule` adds the rules for one JSON schema."""

    def __init__(self) -> None:
        self._rules: dict[str, str] = {}
        self._used_primitives: set[str] = {"ws"}
        # The last suffix taken per base name: many properties whose names
        # clean to the same base would otherwise cost a quadratic search.
        self._last_suffix: dict[str, int] = {}

    def rule(self, name: str, body: str) -> str:
        """Add ``name ::= body`` (name made unique and GBNF-safe); return the name."""
        base = re.sub(r"[^a-zA-Z0-9-]+", "-", name).strip("-").lower() or "r"
        n = self._last_suffix.get(base, 1)
        unique = base if n == 1 else f"{base}-{n}"
        while unique in self._rules or unique in _PRIMITIVES:
            n += 1
            unique = f"{base}-{n}"
        self._last_suffix[base] = n
        self._rules[unique] = body
        return unique

    def primitive(self, name: str) -> str:
        self._used_primitives.add(name)
        # Primitives refer to each other; pull in what they need.
        if name == "string":
            self._used_primitives.add("char")
        if name in ("value", "object", "array"):
            self._used_primitives.update(_PRIMITIVES)
        return name

    def schema_rule(self, schema: Any, name: str) -> str:
        """A rule name (or inline expression) matching JSON valid under ``schema``."""
        if not isinstance(schema, dict) or not schema:
            return self.primitive("value")
        if "const" in schema:
            return json_literal(schema["const"])
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.rule(name, " | ".join(json_literal(v) for v in schema["enum"]))
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                options = [self.schema_rule(s, f"{name}-{i}") for i, s in enumerate(schema[key])]
                return self.rule(name, " | ".join(options))
        kind = schema.get("type")
        if isinstance(kind, list):
            options = [self.schema_rule({**schema, "type": k}, f"{name}-{k}") for k in kind]
            return self.rule(name, " | ".join(options))
        if kind == "object" or (kind is None and "properties" in schema):
            return self.object_rule(schema, name)
        if kind == "array":
            return self.array_rule(schema, name)
        if kind in ("string", "integer", "number", "boolean", "null"):
            return self.primitive(str(kind))
        return self.primitive("value")

    def object_rule(
        self,
        schema: dict[str, Any],
        name: str,
        *,
        leading: Sequence[tuple[str, str]] = (),
        skip: Sequence[str] = (),
    ) -> str:
        """An object with the schema's properties; ``leading`` (key, rule) pairs come first."""
        if "properties" not in schema and not leading:
            return self.primitive("object")
        properties: dict[str, Any] = schema.get("properties") or {}
        required = [k for k in schema.get("required", []) if k in properties and k not in skip]
        optional = [k for k in properties if k not in required and k not in skip]

        def member(key: str) -> str:
            return f'{json_literal(key)} ws ":" ws {self.schema_rule(properties[key], f"{name}-{key}")}'

        fixed = [f'{json_literal(k)} ws ":" ws {rule}' for k, rule in leading]
        fixed += [member(k) for k in required]
        optional_members = [member(k) for k in optional]
        sep = ' ws "," ws '
        if fixed:
            inner = sep.join(fixed) + "".join(f" ({sep}{m} )?" for m in optional_members)
        elif len(optional_members) > _INLINE_OPTIONAL_MEMBERS:
            inner = "( " + self._optional_chain(name, optional_members, sep) + " )?"
        elif optional_members:
            # No member is certain: the first one present starts the list.
            starts = [
                m + "".join(f" ({sep}{rest} )?" for rest in optional_members[i + 1 :])
                for i, m in enumerate(optional_members)
            ]
            inner = "( " + " | ".join(starts) + " )?"
        else:
            inner = ""
        return self.rule(name, f'"{{" ws {inner} ws "}}"' if inner else '"{" ws "}"')

    def _optional_chain(self, name: str, members: list[str], sep: str) -> str:
        """Any in-order selection of ``members``, at least one, in linear size.

        ``rest-i ::= ( sep m_i )? rest-(i+1)``: what may follow once a member
        is written; the selection is ``m_0 rest-1 | m_1 rest-2 | ... | m_last``.
        """
        rests: list[str] = [""] * len(members)
        for i in range(len(members) - 1, 0, -1):
            follow = f" {rests[i + 1]}" if i + 1 < len(members) else ""
            rests[i] = self.rule(f"{name}-rest-{i}", f"({sep}{members[i]} )?{follow}")
        starts = [
            f"{m} {rests[i + 1]}" if i + 1 < len(members) else m for i, m in enumerate(members)
        ]
        return " | ".join(starts)

    def array_rule(self, schema: dict[str, Any], name: str) -> str:
        item = self.schema_rule(schema.get("items"), f"{name}-item")
        if int(schema.get("minItems", 0)) > 0:
            return self.rule(name, f'"[" ws {item} ( ws "," ws {item} )* ws "]"')
        return self.rule(name, f'"[" ws ( {item} ( ws "," ws {item} )* )? ws "]"')

    def build(self, root_body: str) -> str:
        """The grammar text: ``root`` first, then the rules, then the primitives used."""
        lines = [f"root ::= {root_body}"]
        lines += [f"{name} ::= {body}" for name, body in self._rules.items()]
        lines += [
            f"{name} ::= {body}"
            for name, body in _PRIMITIVES.items()
            if name in self._used_primitives
        ]
        return "\n".join(lines) + "\n"


def _parameters(function: FunctionSchema) -> dict[str, Any]:
    params = function.get("parameters")
    return params if isinstance(params, dict) else {"type": "object", "properties": {}}


def memgpt_call_grammar(
    functions: Sequence[FunctionSchema],
    *,
    inner_thoughts: InnerThoughts,
    only: str | None = None,
) -> str:
    """The answer shape of MemGPT's wrappers, one alternative per function.

    ``params``:    ``{"function": "f", "params": {"inner_thoughts": "...", ...args}}``
    ``top-level``: ``{"inner_thoughts": "...", "function": "f", "params": {...args}}``
    ``none``:      ``{"function": "f", "params": {...args}}``

    ``only`` restricts the answer to one function (a forced call).
    """
    # Clients send the same functions every turn: build each grammar once.
    # Key order matters (it is the order the grammar asks for), so no sort_keys.
    return _memgpt_call_grammar(json_key(list(functions)), inner_thoughts, only)


@lru_cache(maxsize=64)
def _memgpt_call_grammar(
    functions_json: str, inner_thoughts: InnerThoughts, only: str | None
) -> str:
    functions: list[FunctionSchema] = json.loads(functions_json)
    builder = GrammarBuilder()
    chosen = [f for f in functions if only is None or f["name"] == only]
    if not chosen:
        raise ValueError(f"no function named {only!r} to build a grammar for")
    string = builder.primitive("string")
    calls: list[str] = []
    for index, function in enumerate(chosen):
        name = function["name"]
        leading = [(INNER_THOUGHTS, string)] if inner_thoughts == "params" else []
        params = builder.object_rule(
            _parameters(function), f"params-{index}-{name}", leading=leading, skip=[INNER_THOUGHTS]
        )
        calls.append(
            builder.rule(
                f"call-{index}-{name}",
                f'{json_literal("function")} ws ":" ws {json_literal(name)} ws "," ws '
                f'{json_literal("params")} ws ":" ws {params}',
            )
        )
    alternatives = " | ".join(calls)
    if inner_thoughts == "top-level":
        root = f'"{{" ws {json_literal(INNER_THOUGHTS)} ws ":" ws {string} ws "," ws ( {alternatives} ) ws "}}"'
    else:
        root = f'"{{" ws ( {alternatives} ) ws "}}"'
    return builder.build(root)


def memgpt_call_schema(
    functions: Sequence[FunctionSchema],
    *,
    inner_thoughts: InnerThoughts,
    only: str | None = None,
) -> dict[str, Any]:
    """The same answer shape as :func:`memgpt_call_grammar`, as a JSON schema.

    For upstreams that constrain decoding by JSON schema instead of GBNF
    (Ollama's ``format``): one ``anyOf`` branch per function.
    """
    branches: list[dict[str, Any]] = []
    for function in functions:
        if only is not None and function["name"] != only:
            continue
        params = _parameters(function)
        properties = {
            k: v for k, v in (params.get("properties") or {}).items() if k != INNER_THOUGHTS
        }
        required = [k for k in params.get("required", []) if k in properties]
        if inner_thoughts == "params":
            properties = {INNER_THOUGHTS: {"type": "string"}, **properties}
            required = [INNER_THOUGHTS, *required]
        call: dict[str, Any] = {
            "type": "object",
            "properties": {
                "function": {"type": "string", "const": function["name"]},
                "params": {"type": "object", "properties": properties, "required": required},
            },
            "required": ["function", "params"],
        }
        if inner_thoughts == "top-level":
            call["properties"] = {INNER_THOUGHTS: {"type": "string"}, **call["properties"]}
            call["required"] = [INNER_THOUGHTS, "function", "params"]
        branches.append(call)
    if not branches:
        raise ValueError(f"no function named {only!r} to build a schema for")
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def json_call_grammar(
    functions: Sequence[FunctionSchema],
    *,
    prefix: str,
    suffix: str,
    only: str | None = None,
    name_key: str = "name",
    arguments_key: str = "arguments",
    max_calls: int = 1,
    as_list: bool = False,
) -> str:
    """One or more ``{"name": ..., "arguments": {...}}`` calls, each between
    ``prefix`` and ``suffix`` (Hermes: ``<tool_call>\n`` ... ``\n</tool_call>``).

    ``as_list``: the calls are one JSON list after ``prefix`` instead
    (Mistral: ``[TOOL_CALLS][{...}, {...}]``, Granite: ``<|tool_call|>[{...}]``).
    """
    builder = GrammarBuilder()
    calls: list[str] = []
    for index, function in enumerate(functions):
        name = function["name"]
        if only is not None and name != only:
            continue
        arguments = builder.object_rule(_parameters(function), f"arguments-{index}-{name}")
        calls.append(
            builder.rule(
                f"call-{index}-{name}",
                f'"{{" ws {json_literal(name_key)} ws ":" ws {json_literal(name)} ws "," ws '
                f'{json_literal(arguments_key)} ws ":" ws {arguments} ws "}}"',
            )
        )
    if not calls:
        raise ValueError(f"no function named {only!r} to build a grammar for")
    if as_list:
        call = builder.rule("one-call", " | ".join(calls))
        more = f'( ws "," ws {call} ){{0,{max_calls - 1}}}' if max_calls > 1 else ""
        body = (
            f'{literal(prefix)} "[" ws {call} {more} ws "]"'
            if prefix
            else f'"[" ws {call} {more} ws "]"'
        )
        return builder.build(body + (f" {literal(suffix)}" if suffix else ""))
    one = builder.rule("one-call", f"{literal(prefix)} ( {' | '.join(calls)} ) {literal(suffix)}")
    # Parallel calls: up to max_calls, separated by a newline.
    newline = literal("\n")
    root = one if max_calls <= 1 else f"{one} ( {newline} {one} ){{0,{max_calls - 1}}}"
    return builder.build(root)


def _class_char(ch: str) -> str:
    """``ch`` escaped for use inside a GBNF character class."""
    return "\\" + ch if ch in "\\]^-[" else ch.replace("\n", "\\n")


def text_without(marker: str) -> str:
    """A GBNF expression: any text in which ``marker`` does not occur.

    One repetition of: a character that cannot start the marker, or a
    prefix of the marker followed by a character that breaks it (and cannot
    start it again). So the marker can only appear where the grammar puts it.
    """
    if not marker:
        raise ValueError("empty marker")
    first = _class_char(marker[0])
    options = [f"[^{first}]"]
    for end in range(1, len(marker)):
        breaker = _class_char(marker[end])
        options.append(f"{literal(marker[:end])} [^{breaker}{first}]")
    return "( " + " | ".join(options) + " )*"


def text_or_calls_grammar(calls_grammar: str, marker: str) -> str:
    """Free text, then optionally the calls of ``calls_grammar`` (which start at ``marker``).

    For ``tool_choice: "auto"`` where the upstream has no lazy grammar: the
    model may answer in prose, but once it writes the call marker the call
    is held to the grammar to its end. Rule names of ``calls_grammar`` are
    kept; its ``root`` becomes ``calls``.
    """
    lines = calls_grammar.splitlines()
    renamed = [
        "calls ::= " + line.removeprefix("root ::= ") if line.startswith("root ::= ") else line
        for line in lines
    ]
    if not any(line.startswith("calls ::= ") for line in renamed):
        raise ValueError("the calls grammar has no root rule")
    head = ["root ::= free-text calls?", f"free-text ::= {text_without(marker)}"]
    return "\n".join(head + renamed) + "\n"


def marked_calls_grammar(
    functions: Sequence[FunctionSchema],
    *,
    call_open: str,
    name_sep: str,
    call_close: str = "",
    start: str = "",
    end: str = "",
    only: str | None = None,
    max_calls: int = 1,
    between: str = "",
) -> str:
    """Calls whose name is text between markers, then a JSON arguments object.

    ``between`` separates calls (Functionary v3.2: ``>>>``, its prompt ends with
    the first one).
    ``start (call_open NAME name_sep {args} call_close)+ end``: Mistral v11's
    ``[TOOL_CALLS]name[ARGS]{...}``, DeepSeek's calls between its tool-call tokens
    (wrappers/deepseek.py).
    """
    builder = GrammarBuilder()
    calls: list[str] = []
    for index, function in enumerate(functions):
        name = function["name"]
        if only is not None and name != only:
            continue
        arguments = builder.object_rule(_parameters(function), f"arguments-{index}-{name}")
        closing = f" {literal(call_close)}" if call_close else ""
        calls.append(
            builder.rule(
                f"call-{index}-{name}",
                f"{literal(call_open + name + name_sep)} {arguments}{closing}",
            )
        )
    if not calls:
        raise ValueError(f"no function named {only!r} to build a grammar for")
    one = builder.rule("one-call", " | ".join(calls))
    separator = f"{literal(between)} " if between else ""
    body = one if max_calls <= 1 else f"{one} ( {separator}{one} ){{0,{max_calls - 1}}}"
    parts = [literal(start)] if start else []
    parts.append(body)
    if end:
        parts.append(literal(end))
    return builder.build(" ".join(parts))


def xml_calls_grammar(
    functions: Sequence[FunctionSchema],
    *,
    only: str | None = None,
    max_calls: int = 1,
    call_open: str = "<tool_call>\n",
    call_close: str = "</tool_call>",
) -> str:
    """Qwen3-Coder's XML calls: one ``<parameter=key>`` tag per argument, values as text::

        <tool_call>
        <function=get_weather>
        <parameter=city>
        Paris
        </parameter>
        </function>
        </tool_call>

    A string value is any text without ``</parameter>``; numbers, booleans and
    enums are written bare; objects and arrays as JSON. Required parameters
    come first in schema order, then the optional ones, each optional.
    """
    builder = GrammarBuilder()
    string_value = builder.rule("text-value", text_without("\n</parameter>"))
    calls: list[str] = []
    for index, function in enumerate(functions):
        name = function["name"]
        if only is not None and name != only:
            continue
        params = _parameters(function)
        properties: dict[str, Any] = params.get("properties") or {}
        required = [k for k in params.get("required", []) if k in properties]
        optional = [k for k in properties if k not in required]
        parts: list[str] = []
        for key in [*required, *optional]:
            value = _xml_value(builder, properties[key], f"value-{index}-{key}", string_value)
            tag = builder.rule(
                f"param-{index}-{key}",
                f"{literal(f'<parameter={key}>' + chr(10))} {value} {literal(chr(10) + '</parameter>' + chr(10))}",
            )
            parts.append(tag if key in required else f"{tag}?")
        body = " ".join(parts)
        calls.append(
            builder.rule(
                f"call-{index}-{name}",
                f"{literal(call_open + '<function=' + name + '>' + chr(10))} {body} "
                f"{literal('</function>' + chr(10) + call_close)}".replace("  ", " "),
            )
        )
    if not calls:
        raise ValueError(f"no function named {only!r} to build a grammar for")
    one = builder.rule("one-call", " | ".join(calls))
    newline = literal("\n")
    root = one if max_calls <= 1 else f"{one} ( {newline} {one} ){{0,{max_calls - 1}}}"
    return builder.build(root)


def _xml_value(builder: GrammarBuilder, schema: Any, name: str, string_value: str) -> str:
    """One parameter's value as Qwen3-Coder writes it (text, not JSON, for scalars)."""
    if not isinstance(schema, dict):
        return string_value
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        options = [literal(v) if isinstance(v, str) else json_literal(v) for v in schema["enum"]]
        return builder.rule(name, " | ".join(options))
    kind = schema.get("type")
    if kind == "string":
        return string_value
    if kind in ("integer", "number", "boolean", "null"):
        return builder.primitive(str(kind))
    if kind in ("object", "array") or "properties" in schema:
        return builder.schema_rule(schema, name)
    return string_value
