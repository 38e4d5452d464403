"""Tool schemas checked up front: local references only, bounded size, valid, loop-free."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing.exceptions

from proxy.errors import InvalidRequestError
from proxy.parse_command import ParseCommandError, parse_raw_output
from proxy.tool_schemas import (
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_OBJECTS,
    NO_RETRIEVAL,
    argument_error,
    check_function_schemas,
    schema_validator,
)
from tests.support.shared import fixture


def check(parameters: Any, name: str = "lookup") -> None:
    check_function_schemas([{"name": name, "parameters": parameters}], "tools")


def refusal(parameters: Any) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        check(parameters)
    assert caught.value.param == "tools.0.function.parameters"
    assert caught.value.message.startswith("The parameters schema of function 'lookup' ")
    return caught.value.message


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"k": schema}}
    return schema


ACCEPTED: list[Any] = [
    {},
    {"type": "object", "properties": {"a": True, "b": False}, "additionalProperties": False},
    {"$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s"}}},
    {"definitions": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/s"}}},
    {"$defs": {"s": {"$anchor": "str", "type": "string"}}, "properties": {"a": {"$ref": "#str"}}},
    {"properties": {"next": {"$ref": "#"}}},  # recursive, but each step needs more input
    {"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}]},
    {"$schema": "http://json-schema.org/draft-04/schema#", "required": ["a"]},
    {"$schema": "https://example.com/unknown-dialect", "type": "object"},
    {"$id": "https://example.com/tool.json", "$defs": {"s": {}}, "$ref": "#/$defs/s"},
    {"properties": {"emoji": {"type": "string", "pattern": r"^\p{Extended_Pictographic}+$"}}},
    nested((MAX_SCHEMA_DEPTH - 1) // 2),
]


@pytest.mark.parametrize("parameters", ACCEPTED)
def test_accepted_schemas(parameters: Any) -> None:
    check(parameters)
    assert schema_validator(parameters) is not None


@pytest.mark.parametrize("name", ["memgpt-0.3.25-tools.json", "memgpt-0.1-functions.json"])
def test_real_clients_schemas_are_accepted(name: str) -> None:
    body = fixture(name)
    functions = [t["function"] for t in body["tools"]] if "tools" in body else body["functions"]
    check_function_schemas(functions, "tools")


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"$ref": "http://127.0.0.1:9/admin.json"}, "'http://127.0.0.1:9/admin.json' ($ref)"),
        ({"$ref": "file:///etc/passwd"}, "'file:///etc/passwd' ($ref)"),
        ({"properties": {"a": {"$ref": "other.json#/x"}}}, "'other.json#/x' ($ref)"),
        ({"properties": {"a": {"$ref": "/etc/passwd"}}}, "'/etc/passwd' ($ref)"),
        ({"$id": "http://127.0.0.1:9/", "$ref": "x.json"}, "'x.json' ($ref)"),
        ({"$dynamicRef": "http://127.0.0.1:9/m.json#meta"}, "($dynamicRef)"),
        ({"$recursiveRef": "http://127.0.0.1:9/"}, "($recursiveRef)"),
        ({"enum": [{"$ref": "http://127.0.0.1:9/"}]}, "($ref)"),  # data too: one simple rule
        ({"$ref": "#/$defs/missing"}, "'#/$defs/missing' ($ref), which is not in the schema"),
        ({"$ref": "#nowhere"}, "'#nowhere' ($ref), which is not in the schema"),
        ({"$ref": "#/description", "description": "x"}, "which is not a schema"),
        ({"$ref": "#/properties", "properties": {"type": {}}}, "which is not a valid JSON schema"),
        ({"$ref": "#"}, "loop"),
        (
            {
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
                "$ref": "#/$defs/a",
            },
            "loop",
        ),
        ({"items": {"$ref": "#/items"}}, "loop"),
        ({"additionalProperties": {"$ref": "#/additionalProperties"}}, "loop"),
        ({"properties": "key"}, "at ['properties']: 'key' is not of type 'object'"),
        ({"properties": {"a": {"type": "strin"}}}, "at ['properties']['a']['type']: 'strin'"),
        ({"required": True}, "at ['required']"),
        ({"$schema": 5}, "$schema that is not a string"),
        (nested(MAX_SCHEMA_DEPTH), f"nested more than {MAX_SCHEMA_DEPTH} levels deep"),
        ({"enum": [{"a": [1]}] * (MAX_SCHEMA_OBJECTS + 1)}, f"more than {MAX_SCHEMA_OBJECTS}"),
    ],
)
def test_refused_schemas_name_the_function_and_the_problem(parameters: Any, expected: str) -> None:
    assert expected in refusal(parameters)


def test_the_object_budget_is_for_all_tools_together() -> None:
    # 1000 objects: the schema, its properties map and 998 properties.
    tool = {"properties": {f"p{i}": {"type": "string"} for i in range(998)}}
    functions = [{"name": f"f{i}", "parameters": tool} for i in range(MAX_SCHEMA_OBJECTS // 1000)]
    check_function_schemas(functions, "functions")
    functions.append({"name": "one_too_many", "parameters": tool})
    with pytest.raises(InvalidRequestError, match=r"'one_too_many'.*in all") as caught:
        check_function_schemas(functions, "functions")
    assert caught.value.param == f"functions.{len(functions) - 1}.parameters"


def test_the_validator_retrieves_nothing_even_when_asked_directly(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    target.write_text(json.dumps({"type": "string"}))
    schema = {"$ref": target.as_uri()}
    # jsonschema's own default registry would read the file (urlopen, with a
    # DeprecationWarning); the one fcproxy gives its validators refuses.
    validator = jsonschema.Draft202012Validator(schema, registry=NO_RETRIEVAL)
    with pytest.raises(referencing.exceptions.Unresolvable):
        list(validator.iter_errors(1))
    assert schema_validator(schema) is None


def test_argument_errors() -> None:
    schema = {
        "type": "object",
        "$defs": {"unit": {"enum": ["c", "f"]}},
        "properties": {"unit": {"$ref": "#/$defs/unit"}, "next": {"$ref": "#"}},
    }
    check(schema)
    assert argument_error(schema, {"unit": "c"}) is None
    assert argument_error(schema, {"unit": "k"}) == "'k' is not one of ['c', 'f']"
    deep: dict[str, Any] = {}
    for _ in range(2000):
        deep = {"next": deep}
    assert argument_error(schema, deep) == "they are nested too deeply to be checked against it"


def test_a_pattern_python_cannot_compile_is_not_checked() -> None:
    schema = {"properties": {"e": {"type": "string", "pattern": r"^\p{L}+$"}}}
    check(schema)
    assert argument_error(schema, {"e": "abc"}) is None
    assert argument_error(schema, {"e": 5}) == "5 is not of type 'string'"


def test_fcproxy_parse_reports_a_refused_schema(tmp_path: Path) -> None:
    functions = tmp_path / "functions.json"
    functions.write_text(json.dumps([{"name": "lookup", "parameters": {"$ref": "file:///x"}}]))
    with pytest.raises(ParseCommandError, match="'lookup' refers to 'file:///x'") as caught:
        parse_raw_output('{"function": "lookup", "params": {}}', "chatml", functions)
    assert caught.value.exit_code == 2
