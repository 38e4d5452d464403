"""A JSON schema -> a GBNF grammar for the whole answer (``response_format``).

The conversion is llama.cpp's own (``wrappers/vendor/json_schema_to_gbnf.py``,
vendored from llama-cpp-python): the same converter llama.cpp's server runs on
a ``json_schema`` field, so a grammar fcproxy sends behaves as the upstream's
own structured output would. It covers types, ``required``, ``enum``/``const``,
nested objects, ``items`` with ``minItems``/``maxItems``, ``anyOf``/``oneOf``/
``allOf``, local ``$ref`` to ``$defs``, ``additionalProperties``, string
``pattern``/``format``/length and integer ranges::

    schema_grammar({"type": "object", "properties": {"age": {"type": "integer"}},
                    "required": ["age"], "additionalProperties": False})
    # 'age-kv ::= "\\"age\\"" space ":" space integer\\n...root ::= "{" space age-kv "}" space ...'

A ``json_object`` answer (any JSON object) is :data:`JSON_OBJECT_SCHEMA`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from wrappers.json_key import json_key
from wrappers.vendor.json_schema_to_gbnf import (
    PRIMITIVE_RULES,
    STRING_FORMAT_RULES,
    SchemaConverter,
    _build_repetition,
)

#: ``response_format: {"type": "json_object"}``: any JSON object.
JSON_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}


#: What the converter raises on a schema it cannot express: it asserts, and it
#: trips over values of the wrong type (a ``"$ref": true``) on the way.
_CONVERTER_ERRORS = (
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    RecursionError,
    TypeError,
    ValueError,
)


class SchemaGrammarError(ValueError):
    """The converter cannot express this schema (an unsupported ``$ref``, a broken pattern)."""


def schema_grammar(schema: dict[str, Any]) -> str:
    """The GBNF grammar of JSON values valid under ``schema`` (rule ``root``)."""
    # Clients send the same schema every turn: convert each one once. Not
    # sort_keys: property order is the order the grammar asks for.
    return _schema_grammar(json_key(schema))


@lru_cache(maxsize=64)
def _schema_grammar(schema_json: str) -> str:
    converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    try:
        schema = converter.resolve_refs(json.loads(schema_json), "input")
        converter.visit(schema, "")
    except _CONVERTER_ERRORS as exc:
        # The converter asserts on what it cannot express; say so in one line.
        raise SchemaGrammarError(str(exc) or type(exc).__name__) from None
    return str(converter.format_grammar()) + "\n"


_GBNF_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|[a-zA-Z0-9-]+|.', re.DOTALL)


def schema_rules(
    schema: dict[str, Any], prefix: str, *, raw_pattern: bool = False
) -> tuple[str, dict[str, str]]:
    """The rules of values valid under ``schema``, to embed in a larger grammar.

    Returns the rule to refer to and every rule it needs, each name starting
    with ``prefix`` so that two schemas (two functions' parameters) embed side
    by side without their rules, primitives included, meeting. Raises
    :class:`SchemaGrammarError` where the converter cannot express the schema.
    ``raw_pattern``: a string ``pattern`` matches the text itself, unquoted
    (for formats whose values are text, not JSON).
    """
    converter = SchemaConverter(
        prop_order={}, allow_fetch=False, dotall=False, raw_pattern=raw_pattern
    )
    try:
        resolved = converter.resolve_refs(json.loads(json.dumps(schema)), "input")
        top = converter.visit(resolved, "args")
    except _CONVERTER_ERRORS as exc:
        raise SchemaGrammarError(str(exc) or type(exc).__name__) from None
    return _prefixed(top, converter._rules, prefix)


def _prefixed(top: str, rules: dict[str, str], prefix: str) -> tuple[str, dict[str, str]]:
    """``top`` and ``rules`` with every rule name, where it is defined and used, prefixed."""

    def renamed(body: str) -> str:
        # Rule names outside literals and character classes get the prefix.
        return "".join(
            prefix + token if token in rules else token for token in _GBNF_TOKEN.findall(body)
        )

    return prefix + top, {prefix + name: renamed(body) for name, body in rules.items()}


#: How the converter quotes a string rule of a format: ``"\"" date "\"" space``.
_QUOTES = ('"\\"" ', ' "\\"" space')


def text_format_rules(string_format: str, prefix: str) -> tuple[str, dict[str, str]] | None:
    """The converter's rules of a string ``format`` (``date``, ``time``,
    ``date-time``, ``uuid``) for the text alone, without JSON's quotes: for
    formats whose values are text. None: a format the converter does not know.

    Returns the rule to refer to and the rules it needs, named as
    :func:`schema_rules` names them.
    """
    quoted = STRING_FORMAT_RULES.get(f"{string_format}-string")
    if quoted is None and re.fullmatch(r"uuid[1-5]?", string_format):
        quoted = PRIMITIVE_RULES["uuid"]  # the converter's test, the same rule
    if quoted is None:
        return None
    opening, closing = _QUOTES
    body = quoted.content.removeprefix(opening).removesuffix(closing)
    if len(body) != len(quoted.content) - len(opening) - len(closing):
        raise SchemaGrammarError(f"the converter's {string_format} rule is not a quoted string")
    rules = {"text-" + string_format: body}
    needed = list(quoted.deps)
    while needed:
        name = needed.pop()
        rule = STRING_FORMAT_RULES[name]
        rules.setdefault(name, rule.content)
        needed += [d for d in rule.deps if d not in rules]
    return _prefixed("text-" + string_format, rules, prefix)


def repetition(item: str, low: int, high: int | None, separator: str) -> str:
    """GBNF of ``low`` to ``high`` (None: any number of) ``item``s, ``separator``
    between two: the converter's own, for arrays outside JSON (Python lists)."""
    return str(_build_repetition(item, low, high, separator_rule=separator))
