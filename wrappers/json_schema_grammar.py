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
from functools import lru_cache
from typing import Any

from wrappers.json_key import json_key
from wrappers.vendor.json_schema_to_gbnf import SchemaConverter

#: ``response_format: {"type": "json_object"}``: any JSON object.
JSON_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}


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
    except (AssertionError, ValueError, KeyError, TypeError, RecursionError) as exc:
        # The converter asserts on what it cannot express; say so in one line.
        raise SchemaGrammarError(str(exc) or type(exc).__name__) from None
    return str(converter.format_grammar()) + "\n"
