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

Every tool-call format's grammar is :func:`calls_grammar` with a
:data:`CallWriter` for one call in its syntax: JSON arguments
(:func:`json_arguments`), or one member per parameter (:func:`keyed_call`)
with values in a :class:`ValueSyntax` (text in XML tags, Python literals,
Gemma 4's quoted strings).

Supported schema keywords: ``type`` (one or a list), ``properties``,
``required``, ``items``, ``enum``, ``const``, ``anyOf``/``oneOf``,
``minItems``, local ``$ref`` (recursive ones too); anything else allows any
JSON value there. No member outside ``properties`` is allowed. Required
properties come first in schema order, then optional ones, each optional: a
fixed key order keeps the grammar small and the model's job easy. Number
bounds, string patterns, formats and lengths, ``maxItems``: llama.cpp's
converter's rules (:meth:`GrammarBuilder.json_schema_rule`), in each format's
own syntax where its values are not JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from wrappers.json_key import json_key
from wrappers.json_schema_grammar import (
    SchemaGrammarError,
    repetition,
    schema_rules,
    text_format_rules,
)

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
#: Keywords that bound a number, which the converter's rules honour.
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
#: Keywords that shape a string, ditto.
_STRING_SHAPES = ("pattern", "minLength", "maxLength", "format")
#: Every character Python's ``str.strip()`` takes for whitespace, in a GBNF class.
_WHITESPACE_CLASS = (
    r"\t\n\x0B\x0C\r\x1C-\x20\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
)
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


@dataclass(frozen=True)
class ValueSyntax:
    """How a format writes an argument value, where it is not JSON.

    Formats whose values are text (Qwen3-Coder's ``<parameter=k>`` tags),
    Python literals (``[f(a='x', ok=True)]``) or Gemma 4's quoted strings
    (``{a:<|"|>x<|"|>}``) differ from JSON in their strings, constants and
    keys; numbers, and the shape of objects and lists, are JSON's.
    :meth:`GrammarBuilder.schema_rule` follows the schema the same way for
    each, so the grammar only ever lets the model write what the format's
    own reader types back to a value valid under the schema.
    """

    #: Names the string rule.
    name: str
    #: GBNF body of one string value.
    string: str
    #: A constant (enum member, ``const``, ``true``, ``None``) as the format writes it.
    write: Callable[[Any], str]
    #: GBNF of an object's key.
    key: Callable[[str], str]
    #: The syntax inside objects and lists, where it differs (XML tags hold JSON there).
    nested: ValueSyntax | None = None
    #: Members come in key order (the template sorts them), not required-first.
    sorted_keys: bool = False
    #: Does the format's reader take a JSON string as a string value too?
    json_strings: bool = False
    #: What a string's text goes between (``("", "")`` for text up to a tag);
    #: a ``pattern`` is written there. None: strings are JSON's.
    string_quotes: tuple[str, str] | None = None
    #: One character of a string between its quotes, as ``minLength`` and
    #: ``maxLength`` count it (an escape: the one character it stands for).
    #: Empty: lengths go by JSON's strings (:attr:`json_strings`), or unheld.
    string_char: str = ""
    #: Where the reader strips whitespace at a string's ends (text up to a
    #: tag), the character a counted string starts and ends with.
    string_edge: str = ""


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


#: JSON itself: the default of :meth:`GrammarBuilder.schema_rule`.
#: (Its strings and constants are the shared primitives, so ``string`` is unused.)
JSON_VALUES = ValueSyntax("json", string="", write=_json_text, key=json_literal)


def text_values(closer: str, write: Callable[[Any], str] | None = None) -> ValueSyntax:
    """Values written as plain text up to ``closer`` (XML parameter tags).

    A string is any text without ``closer`` (one with a ``format`` or lengths:
    see :meth:`GrammarBuilder._counted_text`); enum members, numbers and
    booleans are written bare (``gym``, ``7``, ``true``); objects and lists as
    JSON. :func:`wrappers.xml_calls.typed_arguments` reads them back.
    ``write``: how the format's template prints a constant, where not as
    JSON (Qwen3-Coder's prints ``True``: :func:`wrappers.xml_calls.text_value`).
    """

    def as_json(value: Any) -> str:
        return value if isinstance(value, str) else _json_text(value)

    barred = _class_char(closer[0])

    return ValueSyntax(
        f"text-{len(closer)}",
        text_without(closer),
        write or as_json,
        JSON_VALUES.key,
        nested=JSON_VALUES,
        string_quotes=("", ""),
        # A count goes one character at a time and cannot look ahead to see
        # whether a "<" starts the closing tag: a counted value holds none
        # (as the converter's JSON strings hold no bare '"').
        string_char=f"[^{barred}]",
        string_edge=f"[^{barred}{_WHITESPACE_CLASS}]",
    )


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _pointer(root: Any, ref: str) -> Any:
    """The part of ``root`` a local reference (``#/$defs/item``) names, or None."""
    target = root
    for part in ref[1:].lstrip("/").split("/") if ref not in ("#", "#/") else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target


def resolve_local_ref(schema: Any, root: Any) -> Any:
    """``schema``, or what its local ``$ref`` points at in ``root`` (followed to
    a schema that is not a reference; ``schema`` itself where none resolves)."""
    seen: set[str] = set()
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        target = _pointer(root, ref) if ref.startswith("#") and ref not in seen else None
        if target is None:
            return schema
        seen.add(ref)
        schema = target
    return schema


class GrammarBuilder:
    """Collects GBNF rules; :meth:`schema_rule` adds the rules for one JSON schema."""

    def __init__(self) -> None:
        self._rules: dict[str, str] = {}
        self._used_primitives: set[str] = {"ws"}
        # Rules shared by every value (their body -> the rule's name): one
        # string rule per value syntax, a text value's character classes.
        self._strings: dict[str, str] = {}
        # The schema local "$ref"s resolve in (a function's parameters), and
        # the rule of each reference once made (references may recurse).
        self.root_schema: Any = None
        self._refs: dict[tuple[int, str, str], str] = {}
        self._converted = 0
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

    def schema_rule(
        self, schema: Any, name: str, syntax: ValueSyntax = JSON_VALUES, *, convert: bool = True
    ) -> str:
        """A rule name (or inline expression) matching a value valid under ``schema``,
        written in ``syntax`` (JSON unless a format says otherwise). ``convert``:
        hand what llama.cpp's converter does better to it (false: it could not)."""
        if not isinstance(schema, dict) or not schema:
            return self.primitive("value")
        if isinstance(schema.get("$ref"), str):
            return self._ref_rule(schema["$ref"], name, syntax)
        if "const" in schema:
            return literal(syntax.write(schema["const"]))
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.rule(name, " | ".join(literal(syntax.write(v)) for v in schema["enum"]))
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                options = [
                    self.schema_rule(s, f"{name}-{i}", syntax) for i, s in enumerate(schema[key])
                ]
                return self.rule(name, " | ".join(options))
        kind = schema.get("type")
        if isinstance(kind, list):
            options = [self.schema_rule({**schema, "type": k}, f"{name}-{k}", syntax) for k in kind]
            return self.rule(name, " | ".join(options))
        inner = syntax.nested or syntax
        structured = kind in ("object", "array") or (kind is None and "properties" in schema)
        bounded = kind in ("integer", "number") and any(k in schema for k in _BOUNDS)
        shaped = kind == "string" and any(k in schema for k in _STRING_SHAPES)
        converting = convert and syntax is not JSON_VALUES
        if converting and ((structured and inner is JSON_VALUES) or bounded):
            # JSON inside a text value, or a number with bounds: the converter's rules.
            return self.json_schema_rule(schema, name, fallback=syntax)
        if converting and shaped:
            return self._shaped_string_rule(schema, name, syntax)
        if kind == "object" or (kind is None and "properties" in schema):
            return self.object_rule(schema, name, syntax=inner)
        if kind == "array":
            return self.array_rule(schema, name, syntax=inner)
        if syntax is not JSON_VALUES and kind in ("string", "boolean", "null"):
            return self._constant_rule(str(kind), syntax)
        if kind in ("string", "integer", "number", "boolean", "null"):
            return self.primitive(str(kind))
        return self.primitive("value")

    def _shaped_string_rule(self, schema: dict[str, Any], name: str, syntax: ValueSyntax) -> str:
        """A string with a ``pattern``, a ``format`` or lengths, outside JSON.

        Between the format's own quotes (none for text up to a tag): a
        ``pattern`` or a ``format`` by the converter's rule of the bare text,
        lengths by the converter's repetition of one character of the
        format's strings (:meth:`_counted_text`). Where the format has no such
        character, the converter's JSON string (Python reads one too).
        """
        quotes = syntax.string_quotes
        if quotes is None:
            return self._constant_rule("string", syntax)
        string_format = schema.get("format")
        text: str | None = None
        found: tuple[str, dict[str, str]] | None = None
        self._converted += 1
        prefix = f"s{self._converted}-"
        if "pattern" in schema:
            # The converter's rule of the pattern itself; a pattern it cannot
            # express is left to the argument check (not quoted twice).
            pattern = {"type": "string", "pattern": schema["pattern"]}
            try:
                found = schema_rules(pattern, prefix, raw_pattern=True)
            except SchemaGrammarError:
                found = None
        elif isinstance(string_format, str):
            found = text_format_rules(string_format, prefix)
        if found is not None:
            text, rules = found
            self._rules.update(rules)
        if text is None and syntax.string_char:
            text = self._counted_text(schema, name, syntax)
        if text is not None:
            opening, closing = (literal(q) if q else "" for q in quotes)
            return " ".join(part for part in (opening, text, closing) if part)
        if syntax.json_strings:
            return self.json_schema_rule(schema, name, fallback=syntax)
        return self._constant_rule("string", syntax)

    def _counted_text(self, schema: dict[str, Any], name: str, syntax: ValueSyntax) -> str | None:
        """The text of a string of ``minLength`` to ``maxLength`` characters of
        :attr:`ValueSyntax.string_char` (None: no length to hold to, or none fits).

        Lengths count the value as its reader returns it. Where the reader
        strips whitespace at the ends (MiniMax M2's values, one layout newline
        in Qwen3-Coder's and GLM's), a counted value starts and ends with a
        :attr:`ValueSyntax.string_edge`, not whitespace, so it reads back as
        written.
        """
        low = schema["minLength"] if _count(schema.get("minLength")) else 0
        high = schema["maxLength"] if _count(schema.get("maxLength")) else None
        if (low == 0 and high is None) or (high is not None and high < low):
            # Nothing to count, or no string fits: the argument check says so.
            return None
        char = self._shared_rule(f"{syntax.name}-char", syntax.string_char)
        if not syntax.string_edge:
            return self.rule(name, repetition(char, low, high, "") or '""')
        edge = self._shared_rule(f"{syntax.name}-edge", syntax.string_edge)
        # One character is an edge alone; two or more, an edge at each end.
        lengths = [edge] if low <= 1 and (high is None or high >= 1) else []
        if high is None or high >= 2:
            inner = repetition(char, max(low, 2) - 2, None if high is None else high - 2, "")
            lengths.append(" ".join(part for part in (edge, inner, edge) if part))
        body = " | ".join(lengths) or '""'
        return self.rule(name, f"( {body} )?" if low == 0 and lengths else body)

    def _shared_rule(self, name: str, body: str) -> str:
        """A rule every value may use (one per body): a string of a syntax, a character class."""
        if body not in self._strings:
            self._strings[body] = self.rule(name, body)
        return self._strings[body]

    def json_schema_rule(
        self,
        schema: Any,
        name: str,
        *,
        fallback: ValueSyntax = JSON_VALUES,
        raw_pattern: bool = False,
    ) -> str:
        """JSON valid under ``schema`` by llama.cpp's converter (response_format's,
        :func:`wrappers.json_schema_grammar.schema_rules`): integer ranges, string
        patterns, lengths and formats, ``maxItems``, ``allOf`` and the rest of
        what it knows. Where it cannot express the schema, :meth:`schema_rule`
        in ``fallback``'s syntax."""
        if not isinstance(schema, dict):
            return self.schema_rule(schema, name, fallback, convert=False)
        if isinstance(self.root_schema, dict) and schema is not self.root_schema:
            # A part of the parameters: its local references point into them.
            definitions = ("$defs", "definitions")
            schema = {
                **schema,
                **{k: self.root_schema[k] for k in definitions if k in self.root_schema},
            }
        self._converted += 1
        try:
            top, rules = schema_rules(schema, f"s{self._converted}-", raw_pattern=raw_pattern)
        except SchemaGrammarError:
            return self.schema_rule(schema, name, fallback, convert=False)
        self._rules.update(rules)
        return top

    def resolve(self, schema: Any) -> Any:
        """``schema``, or what its local ``$ref`` points at in :attr:`root_schema`."""
        return resolve_local_ref(schema, self.root_schema)

    def _ref_rule(self, ref: str, name: str, syntax: ValueSyntax) -> str:
        """A local reference (``#/$defs/item``) in :attr:`root_schema`; anything else
        allows any value (proxy/tool_schemas.py refuses references that leave the schema)."""
        target = _pointer(self.root_schema, ref) if ref.startswith("#") else None
        if target is None:
            return self.primitive("value")
        key = (id(self.root_schema), ref, syntax.name)
        if key not in self._refs:
            # Named before it is built: a schema that refers to itself recurses by name.
            self._refs[key] = rule = self.rule(f"ref-{name}", '""')
            self._rules[rule] = self.schema_rule(target, f"{rule}-body", syntax)
        return self._refs[key]

    def _constant_rule(self, kind: str, syntax: ValueSyntax) -> str:
        """A string, boolean or null in a syntax other than JSON's."""
        if kind == "boolean":
            return f"( {literal(syntax.write(True))} | {literal(syntax.write(False))} )"
        if kind == "null":
            return literal(syntax.write(None))
        # Keyed by the rule's body: two syntaxes never share a string rule by name.
        return self._shared_rule(f"{syntax.name}-string", syntax.string)

    def object_rule(
        self,
        schema: dict[str, Any],
        name: str,
        *,
        leading: Sequence[tuple[str, str]] = (),
        skip: Sequence[str] = (),
        syntax: ValueSyntax = JSON_VALUES,
    ) -> str:
        """An object with the schema's properties; ``leading`` (key, rule) pairs come first."""
        if "properties" not in schema and not leading:
            return self.primitive("object")

        def member(key: str, value: str) -> str:
            return f'{syntax.key(key)} ws ":" ws {value}'

        inner = self.members(
            schema,
            name,
            member=member,
            sep=' ws "," ws ',
            leading=leading,
            skip=skip,
            syntax=syntax,
        )
        return self.rule(name, f'"{{" ws {inner} ws "}}"' if inner else '"{" ws "}"')

    def members(
        self,
        schema: dict[str, Any],
        name: str,
        *,
        member: Callable[[str, str], str],
        sep: str,
        leading: Sequence[tuple[str, str]] = (),
        skip: Sequence[str] = (),
        syntax: ValueSyntax = JSON_VALUES,
    ) -> str:
        """The members of an object schema, as a GBNF expression ("" when it has none).

        ``member(key, value_rule)`` writes one member the format's way (a JSON
        ``"key": value``, an XML ``<parameter=key>value</parameter>``, a
        Python ``key=value``), ``sep`` goes between two. Required members
        come first in schema order, then the optional ones, each optional;
        in key order instead where the format's template sorts them
        (:attr:`ValueSyntax.sorted_keys`, Gemma 4).
        """
        properties: dict[str, Any] = schema.get("properties") or {}
        required = [k for k in schema.get("required", []) if k in properties and k not in skip]
        optional = [k for k in properties if k not in required and k not in skip]
        order = sorted([*required, *optional]) if syntax.sorted_keys else [*required, *optional]

        def one(key: str) -> str:
            return member(key, self.schema_rule(properties[key], f"{name}-{key}", syntax))

        written = [(member(k, rule), True) for k, rule in leading]
        written += [(one(k), k in required) for k in order]
        first = next((i for i, (_, certain) in enumerate(written) if certain), None)
        if first is not None:
            # Optional members before the first certain one each bring their
            # separator along; after it, each member is preceded by one.
            before = [f"( {m}{sep})?" for m, _ in written[:first]]
            after = [
                f"({sep}{m} )" + ("" if certain else "?") for m, certain in written[first + 1 :]
            ]
            return " ".join([*before, written[first][0], *after])
        optional_members = [m for m, _ in written]
        if len(optional_members) > _INLINE_OPTIONAL_MEMBERS:
            return "( " + self._optional_chain(name, optional_members, sep) + " )?"
        if optional_members:
            # No member is certain: the first one present starts the list.
            starts = [
                m + "".join(f" ({sep}{rest} )?" for rest in optional_members[i + 1 :])
                for i, m in enumerate(optional_members)
            ]
            return "( " + " | ".join(starts) + " )?"
        return ""

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

    def array_rule(
        self, schema: dict[str, Any], name: str, *, syntax: ValueSyntax = JSON_VALUES
    ) -> str:
        item = self.schema_rule(schema.get("items"), f"{name}-item", syntax)
        low = schema["minItems"] if _count(schema.get("minItems")) else 0
        high = schema["maxItems"] if _count(schema.get("maxItems")) else None
        # The converter's repetition: min to max items, the separator between two.
        items = repetition(item, low, high if high is None or high >= low else None, 'ws "," ws')
        return self.rule(name, f'"[" ws {items} ws "]"')

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
    return _memgpt_call_grammar(json_key(functions), inner_thoughts, only)


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
        builder.root_schema = _parameters(function)
        params = builder.object_rule(
            builder.root_schema, f"params-{index}-{name}", leading=leading, skip=[INNER_THOUGHTS]
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


#: The most calls a grammar allows in one answer where calls may be parallel.
MAX_PARALLEL_CALLS = 4

#: Writes one call of one function: its GBNF body (rules it needs go in the builder).
CallWriter = Callable[[GrammarBuilder, int, FunctionSchema], str]


def call_count(parallel: bool, only: str | None) -> int:
    """How many calls a grammar allows: one when ``parallel_tool_calls`` is false
    or the client named the function, else :data:`MAX_PARALLEL_CALLS`."""
    return MAX_PARALLEL_CALLS if parallel and only is None else 1


def calls_grammar(
    functions: Sequence[FunctionSchema],
    call: CallWriter,
    *,
    only: str | None = None,
    max_calls: int = 1,
    start: str = "",
    separator: str = "",
    end: str = "",
) -> str:
    """The grammar of an answer that is calls: ``start call (separator call)* end``.

    The shape every format shares; ``call`` writes one function's call in
    the format's syntax, one alternative per function (``only``: that one).
    ``start``, ``separator`` and ``end`` are GBNF expressions (the calls
    block's markers, a list's commas). At most ``max_calls`` calls.
    """
    builder = GrammarBuilder()
    calls = [
        builder.rule(f"call-{index}-{function['name']}", call(builder, index, function))
        for index, function in enumerate(functions)
        if only is None or function["name"] == only
    ]
    if not calls:
        raise ValueError(f"no function named {only!r} to build a grammar for")
    one = builder.rule("one-call", " | ".join(calls))
    more = f"{separator} {one}" if separator else one
    body = one if max_calls <= 1 else f"{one} ( {more} ){{0,{max_calls - 1}}}"
    return builder.build(" ".join(part for part in (start, body, end) if part))


def json_arguments(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
    """A function's arguments as a JSON object valid under its schema (llama.cpp's
    converter, as for ``response_format``)."""
    builder.root_schema = _parameters(function)
    return builder.json_schema_rule(builder.root_schema, f"arguments-{index}-{function['name']}")


def json_call(name_key: str = "name", arguments_key: str = "arguments") -> CallWriter:
    """``{"name": "f", "arguments": {...}}`` (with the format's key names)."""

    def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
        return (
            f'"{{" ws {json_literal(name_key)} ws ":" ws {json_literal(function["name"])} '
            f'ws "," ws {json_literal(arguments_key)} ws ":" ws '
            f'{json_arguments(builder, index, function)} ws "}}"'
        )

    return write


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
    write = json_call(name_key, arguments_key)
    if as_list:
        return json_list_grammar(
            functions, write, prefix=prefix, suffix=suffix, only=only, max_calls=max_calls
        )

    def marked(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
        return f"{literal(prefix)} {write(builder, index, function)} {literal(suffix)}"

    # Parallel calls: each in its markers, separated by a newline.
    return calls_grammar(functions, marked, only=only, max_calls=max_calls, separator=literal("\n"))


def json_list_grammar(
    functions: Sequence[FunctionSchema],
    call: CallWriter,
    *,
    prefix: str,
    suffix: str,
    only: str | None = None,
    max_calls: int = 1,
    around: tuple[str, str] = ("", ""),
) -> str:
    """Calls as one JSON list between ``prefix`` and ``suffix``: ``prefix[{...}, {...}]suffix``.

    ``around``: GBNF of what may come before and after (Hunyuan's answer channel).
    """
    before, after = around
    start = (before, literal(prefix) if prefix else "", '"[" ws')
    end = ('ws "]"', literal(suffix) if suffix else "", after)
    return calls_grammar(
        functions,
        call,
        only=only,
        max_calls=max_calls,
        start=" ".join(part for part in start if part),
        separator='ws "," ws',
        end=" ".join(part for part in end if part),
    )


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
    (wrappers/deepseek.py), Kimi K2's.
    """

    def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
        closing = f" {literal(call_close)}" if call_close else ""
        head = literal(call_open + function["name"] + name_sep)
        return f"{head} {json_arguments(builder, index, function)}{closing}"

    return calls_grammar(
        functions,
        write,
        only=only,
        max_calls=max_calls,
        start=literal(start) if start else "",
        separator=literal(between) if between else "",
        end=literal(end) if end else "",
    )


def keyed_call(
    head: Callable[[str], str],
    member: Callable[[str, str], str],
    tail: str,
    syntax: ValueSyntax,
    sep: str = "",
) -> CallWriter:
    """A call whose arguments are one member per parameter in the format's own syntax.

    ``head(name)`` and ``tail`` are GBNF around the members (Qwen3-Coder:
    ``<function=NAME>\n`` and ``</function>``), ``member(key, value_rule)``
    writes one (``<parameter=KEY>\nVALUE\n</parameter>\n``); values are
    written in ``syntax`` (text for strings, say). Required parameters come
    first in schema order, then the optional ones.
    """

    def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
        name = function["name"]
        builder.root_schema = _parameters(function)
        inner = builder.members(
            builder.root_schema, f"value-{index}-{name}", member=member, sep=sep, syntax=syntax
        )
        return " ".join(part for part in (head(name), inner, tail) if part)

    return write


def xml_calls_grammar(
    functions: Sequence[FunctionSchema],
    *,
    only: str | None = None,
    max_calls: int = 1,
    call_open: str = "<tool_call>\n",
    call_close: str = "</tool_call>",
    value_newlines: bool = True,
    write: Callable[[Any], str] | None = None,
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
    enums are written bare; objects and arrays as JSON (:func:`text_values`).
    ``value_newlines``: the value has a line of its own (Qwen3-Coder);
    Seed-OSS writes it flush against its tags. ``write``: as :func:`text_values`.
    """
    nl = "\n" if value_newlines else ""
    # No "</parameter>" in a value at all, newline or not: the parser ends the
    # value there (a small model writes "Paris</parameter>" as often as not).
    syntax = text_values("</parameter>", write)
    layout = ' "\\n"?' if value_newlines else ""

    def member(key: str, value: str) -> str:
        opener = literal(f"<parameter={key}>{nl}")
        return f"{opener} {value}{layout} {literal('</parameter>' + chr(10))}"

    call = keyed_call(
        lambda name: literal(f"{call_open}<function={name}>\n"),
        member,
        literal(f"</function>\n{call_close}"),
        syntax,
    )
    return calls_grammar(functions, call, only=only, max_calls=max_calls, separator=literal("\n"))


def one_char_not_starting(marker: str) -> str:
    """A GBNF class of one character that cannot start ``marker`` (for text
    whose characters are counted, which cannot look ahead for the marker)."""
    return f"[^{_class_char(marker[0])}]"


def _class_char(ch: str) -> str:
    """``ch`` escaped for use inside a GBNF character class."""
    return "\\" + ch if ch in "\\]^-[" else ch.replace("\n", "\\n")


def text_without(marker: str) -> str:
    """A GBNF expression: any text in which ``marker`` does not occur.

    One repetition of: a character that cannot start the marker, or a
    prefix of the marker followed by a character that breaks it (and cannot
    start it again); the text may end with a prefix of the marker (a space
    before HyperCLOVA X's `` -> tool/function_call``). So the marker can
    only appear where the grammar puts it.
    """
    if not marker:
        raise ValueError("empty marker")
    first = _class_char(marker[0])
    options = [f"[^{first}]"]
    for end in range(1, len(marker)):
        breaker = _class_char(marker[end])
        options.append(f"{literal(marker[:end])} [^{breaker}{first}]")
    text = "( " + " | ".join(options) + " )*"
    if len(marker) == 1:
        return text
    prefixes = " | ".join(literal(marker[:end]) for end in range(1, len(marker)))
    return f"{text} ( {prefixes} )?"


def text_or_calls_grammar(grammar: str, marker: str) -> str:
    """Free text, then optionally the calls of ``grammar`` (which start at ``marker``).

    For ``tool_choice: "auto"`` where the upstream has no lazy grammar: the
    model may answer in prose, but once it writes the call marker the call
    is held to the grammar to its end. Rule names of ``grammar`` are
    kept; its ``root`` becomes ``calls``.
    """
    return preceded_by(grammar, "free-text calls?", {"free-text": text_without(marker)})


def preceded_by(grammar: str, root: str, rules: dict[str, str] | None = None) -> str:
    """``grammar`` with a new ``root`` (its old one is ``calls``), plus ``rules``.

    ``root`` is a GBNF expression around ``calls``: free text before the
    calls (:func:`text_or_calls_grammar`), a reasoning block a model writes
    first (:func:`reasoning_first`).
    """
    lines = grammar.splitlines()
    renamed = [
        "calls ::= " + line.removeprefix("root ::= ") if line.startswith("root ::= ") else line
        for line in lines
    ]
    if not any(line.startswith("calls ::= ") for line in renamed):
        raise ValueError("the calls grammar has no root rule")
    head = [f"root ::= {root}"] + [f"{name} ::= {body}" for name, body in (rules or {}).items()]
    return "\n".join(head + renamed) + "\n"


def reasoning_first(grammar: str, open_tag: str, close_tag: str, *, opened: bool) -> str:
    """``grammar`` (of calls) after a reasoning block (``<think>...</think>``) and blank lines.

    ``opened``: the prompt ends with ``open_tag`` (MiniMax M2's ``<think>``), so
    the answer starts inside the block and must close it; otherwise the block
    is optional. An empty ``open_tag``: the block, if any, starts the answer
    without one (ERNIE 4.5 Thinking's template opens it, other ERNIE 4.5
    models' do not). Calls inside the block are never read, so it is free text.
    """
    body = f"{text_without(close_tag)} {literal(close_tag)}"
    opening = f"{literal(open_tag)} " if open_tag else ""
    block = body if opened else f"( {opening}{body} )?"
    return preceded_by(grammar, "reasoning [ \\n]{0,4} calls", {"reasoning": block})
