"""The response_format converter (llama.cpp's, vendored) over a table of schemas.

Each grammar is accepted by llama.cpp's own parser and matches exactly the
JSON the schema accepts (checked with tests/support/gbnf.py on valid and
invalid samples).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from tests.support.llama_grammar import LlamaCppGrammar, llama_cpp_accepts, llama_cpp_matches
from wrappers.json_schema_grammar import JSON_OBJECT_SCHEMA, SchemaGrammarError, schema_grammar

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}

#: (case, schema, valid samples, invalid samples)
CASES: list[tuple[str, dict[str, Any], list[Any], list[Any]]] = [
    ("string", {"type": "string"}, ["", 'a "q" \n'], [1, None]),
    ("integer", {"type": "integer"}, [0, -12, 36], [1.5, "1", True]),
    ("integer-range", {"type": "integer", "minimum": 1, "maximum": 5}, [1, 3, 5], [0, 6, 10, -1]),
    (
        "integer-exclusive",
        {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 24},
        [1, 23],
        [0, 24],
    ),
    ("number", {"type": "number"}, [0, -1.25, 3e5], ["1", None]),
    ("boolean", {"type": "boolean"}, [True, False], [0, "true"]),
    ("null", {"type": "null"}, [None], [0, ""]),
    ("required", PERSON, [{"name": "Ada", "age": 36}], [{"name": "Ada"}, {"age": 3}]),
    (
        "optional",
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
            "required": ["a"],
            "additionalProperties": False,
        },
        [{"a": 1}, {"a": 1, "b": "x"}],
        [{"b": "x"}, {"a": 1, "c": 2}],
    ),
    (
        "enum",
        {"type": "string", "enum": ["celsius", "fahrenheit"]},
        ["celsius", "fahrenheit"],
        ["kelvin", ""],
    ),
    ("const", {"const": "fixed"}, ["fixed"], ["other"]),
    (
        "nested",
        {
            "type": "object",
            "properties": {
                "where": {
                    "type": "object",
                    "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                    "required": ["lat", "lon"],
                    "additionalProperties": False,
                }
            },
            "required": ["where"],
            "additionalProperties": False,
        },
        [{"where": {"lat": 1.5, "lon": -2}}],
        [{"where": {"lat": 1.5}}, {"where": "here"}],
    ),
    (
        "array-min-max",
        {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3},
        [[1], [1, 2, 3]],
        [[], [1, 2, 3, 4], ["a"]],
    ),
    ("array-any", {"type": "array"}, [[], [1, "a", None]], [{}, "[]"]),
    (
        "anyOf",
        {"anyOf": [{"type": "integer"}, {"type": "string", "enum": ["none"]}]},
        [3, "none"],
        ["3", 1.5],
    ),
    (
        "ref-defs",
        {
            "$defs": {"Person": PERSON},
            "type": "object",
            "properties": {"people": {"type": "array", "items": {"$ref": "#/$defs/Person"}}},
            "required": ["people"],
            "additionalProperties": False,
        },
        [{"people": []}, {"people": [{"name": "Ada", "age": 36}]}],
        [{"people": [{"name": "Ada"}]}, {"folk": []}],
    ),
    (
        "additionalProperties-false",
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
        [{}, {"a": "x"}],
        [{"b": 1}],
    ),
    ("json_object", JSON_OBJECT_SCHEMA, [{}, {"a": [1, {"b": None}]}], [[], "x", 1]),
]


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize(("case", "schema", "valid", "invalid"), CASES, ids=[c[0] for c in CASES])
def test_grammar_matches_exactly_what_the_schema_accepts(
    case: str, schema: dict[str, Any], valid: list[Any], invalid: list[Any]
) -> None:
    grammar = LlamaCppGrammar(schema_grammar(schema))
    for value in valid:
        jsonschema.validate(value, schema)  # the table itself is right
        assert grammar.matches(_text(value)), (case, value)
    for value in invalid:
        assert not grammar.matches(_text(value)), (case, value)


@pytest.mark.parametrize(
    ("case", "schema"), [(c[0], c[1]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_llama_cpp_parses_every_grammar(case: str, schema: dict[str, Any]) -> None:
    assert llama_cpp_accepts(schema_grammar(schema)), case


def test_llama_cpp_check_can_fail() -> None:
    assert not llama_cpp_accepts('root ::= ( "a"')


def test_strings_hold_no_raw_control_characters() -> None:
    grammar = LlamaCppGrammar(schema_grammar({"type": "string"}))
    assert grammar.matches('"line\\nbreak"')
    assert not grammar.matches('"line\nbreak"')


def test_property_order_is_the_schemas() -> None:
    grammar = LlamaCppGrammar(schema_grammar(PERSON))
    assert grammar.matches('{"name": "Ada", "age": 36}')
    assert not grammar.matches('{"age": 36, "name": "Ada"}')


def test_a_remote_reference_is_refused_not_fetched() -> None:
    with pytest.raises(SchemaGrammarError):
        schema_grammar({"$ref": "https://example.invalid/schema.json"})


def test_a_string_pattern_converts() -> None:
    # The vendored converter used itertools.groupby without importing it: any
    # schema with a pattern failed to convert.
    grammar = schema_grammar({"type": "string", "pattern": "^[A-Z]{3}$"})
    assert llama_cpp_matches(grammar, '"ABC"')
    assert not llama_cpp_matches(grammar, '"ABCD"')
