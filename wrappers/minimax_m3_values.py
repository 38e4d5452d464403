"""MiniMax M3's arguments: nested tags, each after the ``]<]minimax[>[`` token.

M3 names each argument by its own tag, nests objects as child tags and
lists as ``<item>`` children (the chat template's ``to_xml`` macro)::

    ]<]minimax[>[<invoke name="create_order">]<]minimax[>[<user_id>42]<]minimax[>[</user_id>
    ]<]minimax[>[<shipping>]<]minimax[>[<city>Singapore]<]minimax[>[</city>]<]minimax[>[</shipping>
    ]<]minimax[>[<items>]<]minimax[>[<item>book]<]minimax[>[</item>]<]minimax[>[</items>
    ]<]minimax[>[</invoke>

(without the line breaks). Only a tag after the token is structure: a value
may hold ``<b>`` or ``</x>`` as text. :func:`read_arguments` reads the tags
into objects, lists and text, :func:`typed_arguments` types the text by the
request's schema (``"042"`` is 42 for an integer, as vLLM's M3 parser reads
it), :func:`to_xml` writes a value back, and :func:`arguments_rule` is the
grammar of a function's arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from wrappers.base import FunctionSchema
from wrappers.grammar import GrammarBuilder, literal, resolve_local_ref, text_values
from wrappers.json_schema_grammar import repetition
from wrappers.xml_calls import schema_type_order, typed_text

NS = "]<]minimax[>["
ITEM = "item"
_OPEN = re.compile(r"<([^/<>\s][^<>]*)>")
_CLOSE = re.compile(r"</\s*([^<>]*?)\s*>")
_DIGITS = re.compile(r"\s*-?\d+\s*")
#: Nesting the grammar spells out as tags; deeper (recursive schemas), JSON text.
_GRAMMAR_DEPTH = 6
#: Values as text up to the next token: strings bare, constants as the template writes them.
TEXT = text_values(NS)


@dataclass
class _Node:
    tag: str
    texts: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)

    def value(self) -> Any:
        if not self.children:
            text = "".join(self.texts)
            # A closing tag written without the token ("Paris</city>"): the value's end.
            end = f"</{self.tag}>"
            return text.rstrip()[: -len(end)] if text.rstrip().endswith(end) else text
        if all(child.tag == ITEM for child in self.children):
            return [child.value() for child in self.children]
        return self.members()

    def members(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        repeated: set[str] = set()
        for child in self.children:
            value = child.value()
            if child.tag in repeated:
                out[child.tag].append(value)
            elif child.tag in out:
                # A tag written twice holds both values (vLLM's reading).
                out[child.tag] = [out[child.tag], value]
                repeated.add(child.tag)
            else:
                out[child.tag] = value
        text = "".join(self.texts).strip()
        if text and self.children:
            out["$text"] = text
        return out


def read_arguments(body: str) -> dict[str, Any]:
    """The arguments of one invoke block's ``body``: nested tags to objects and lists.

    Children that are all ``<item>`` make a list; a tag written twice in an
    object makes a list of both values; a closing tag that never comes ends
    at the body's end.
    """
    root = _Node("")
    stack = [root]
    pieces = body.split(NS)
    root.texts.append(pieces[0])
    for piece in pieces[1:]:
        if (close := _CLOSE.match(piece)) is not None:
            tag = close.group(1)
            if any(node.tag == tag for node in stack[1:]):
                while True:
                    node = stack.pop()
                    stack[-1].children.append(node)
                    if node.tag == tag:
                        break
            stack[-1].texts.append(piece[close.end() :])
        elif (opened := _OPEN.match(piece)) is not None:
            node = _Node(opened.group(1).strip(), [piece[opened.end() :]])
            stack.append(node)
        else:
            stack[-1].texts.append(NS + piece)  # the token without a tag: text
    while len(stack) > 1:
        node = stack.pop()
        stack[-1].children.append(node)
    # Only whitespace between the parameters: the layout, not a value.
    root.texts = [text for text in root.texts if text.strip()]
    return root.members()


# ---- types from the schema ----


def _option(schema: Any, kind: str) -> Any:
    """``schema``, or its first ``anyOf`` / ``oneOf`` option of type ``kind``."""
    if not isinstance(schema, dict) or kind in schema_type_order(schema)[:1]:
        return schema
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or []:
            if isinstance(option, dict) and kind in schema_type_order(option):
                return option
    return schema


def _typed(value: Any, schema: Any, root: Any) -> Any:
    schema = resolve_local_ref(schema, root)
    if isinstance(value, dict):
        shape = _option(schema, "object")
        shape = shape if isinstance(shape, dict) else {}
        properties = shape.get("properties") or {}
        extra = shape.get("additionalProperties")
        extra = extra if isinstance(extra, dict) else None
        return {k: _typed(v, properties.get(k, extra), root) for k, v in value.items()}
    if isinstance(value, list):
        shape = _option(schema, "array")
        shape = shape if isinstance(shape, dict) else {}
        prefix: list[Any] = shape.get("prefixItems") or []
        prefix = prefix if isinstance(prefix, list) else []
        return [
            _typed(v, prefix[i] if i < len(prefix) else shape.get("items"), root)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or not isinstance(schema, dict):
        return value
    first = (schema_type_order(schema) or [""])[0]
    if value.strip() == "" and first in ("array", "object"):
        return [] if first == "array" else {}  # to_xml writes an empty one as nothing
    if first == "integer" and _DIGITS.fullmatch(value):
        return int(value)  # leading zeros too ("018956")
    return typed_text(value, schema)


def typed_arguments(arguments: dict[str, Any], function: FunctionSchema | None) -> dict[str, Any]:
    """``arguments`` as :func:`read_arguments` gives them, typed by ``function``'s schema.

    At the top, a value without a schema is typed as any text value is
    (:func:`wrappers.xml_calls.typed_text`: JSON text of an object or list).
    """
    parameters = (function or {}).get("parameters") or {}
    properties = parameters.get("properties") or {}
    typed: dict[str, Any] = {}
    for key, value in arguments.items():
        schema = properties.get(key)
        if schema is None and isinstance(value, str):
            typed[key] = typed_text(value, None)
        else:
            typed[key] = _typed(value, schema, parameters)
    return typed


# ---- writing ----


def to_xml(value: Any) -> str:
    """``value`` as the template's ``to_xml`` macro writes it (None members skipped)."""
    if isinstance(value, dict):
        return "".join(f"{NS}<{k}>{to_xml(v)}{NS}</{k}>" for k, v in value.items() if v is not None)
    if isinstance(value, list | tuple):
        return "".join(f"{NS}<{ITEM}>{to_xml(v)}{NS}</{ITEM}>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def tagged(key: str, value_rule: str) -> str:
    """GBNF of one member: ``NS<key>`` value ``NS</key>``."""
    return f"{literal(f'{NS}<{key}>')} {value_rule} {literal(f'{NS}</{key}>')}"


def _members(builder: GrammarBuilder, schema: dict[str, Any], name: str, depth: int) -> str:
    """Required members first, then each optional one; tags need no separator."""
    properties: dict[str, Any] = schema.get("properties") or {}
    required = [k for k in schema.get("required") or [] if k in properties]
    parts = [tagged(k, value_rule(builder, properties[k], f"{name}-{k}", depth)) for k in required]
    parts += [
        f"( {tagged(k, value_rule(builder, properties[k], f'{name}-{k}', depth))} )?"
        for k in properties
        if k not in required
    ]
    return " ".join(parts)


def value_rule(builder: GrammarBuilder, schema: Any, name: str, depth: int = 0) -> str:
    """GBNF of one value under ``schema`` as M3 writes it: tags for objects with
    properties and for lists, text for the rest (:data:`TEXT`)."""
    schema = builder.resolve(schema)
    if not isinstance(schema, dict) or not schema:
        return builder.schema_rule({"type": "string"}, name, TEXT)  # any text
    if depth >= _GRAMMAR_DEPTH:
        return builder.schema_rule(schema, name, TEXT)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            options = [
                value_rule(builder, s, f"{name}-{i}", depth + 1) for i, s in enumerate(schema[key])
            ]
            return builder.rule(name, " | ".join(options))
    kind = schema.get("type")
    if isinstance(kind, list):
        options = [value_rule(builder, {**schema, "type": k}, f"{name}-{k}", depth) for k in kind]
        return builder.rule(name, " | ".join(options))
    if "const" in schema or "enum" in schema:
        return builder.schema_rule(schema, name, TEXT)
    if (kind == "object" or kind is None) and schema.get("properties"):
        return builder.rule(name, _members(builder, schema, name, depth + 1) or '""')
    if kind == "object":
        # Any keys: tags of any name (their values per additionalProperties), or JSON text.
        extra = schema.get("additionalProperties")
        member = value_rule(
            builder, extra if isinstance(extra, dict) else None, f"{name}-v", depth + 1
        )
        key = builder.rule(f"{name}-key", r"[^<>/ \t\n\]]+")
        opened = f"{literal(NS + '<')} {key} {literal('>')}"
        tags = f"( {opened} {member} {literal(NS + '</')} {key} {literal('>')} )*"
        return builder.rule(name, f"{tags} | {builder.schema_rule(schema, f'{name}-json', TEXT)}")
    if kind == "array":
        item = value_rule(builder, schema.get("items"), f"{name}-item", depth + 1)
        low: int = schema["minItems"] if isinstance(schema.get("minItems"), int) else 0
        high: int | None = schema["maxItems"] if isinstance(schema.get("maxItems"), int) else None
        one = builder.rule(f"{name}-one", tagged(ITEM, item))
        return builder.rule(name, repetition(one, low, high, "") or '""')
    return builder.schema_rule(schema, name, TEXT)


def arguments_rule(builder: GrammarBuilder, function: FunctionSchema, name: str) -> str:
    """GBNF of ``function``'s arguments, its parameters as tags."""
    parameters = function.get("parameters")
    builder.root_schema = parameters if isinstance(parameters, dict) else {}
    return _members(builder, builder.root_schema, name, 0)
