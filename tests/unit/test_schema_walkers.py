"""Every part of fcproxy that walks a tool schema survives any schema the check lets in.

Random, partly broken schemas (tests/support/schema_fuzz.py, seeded) go
through the up-front check (proxy/tool_schemas.py); each one it accepts is
rendered by every wrapper, with and without grammars, forced and free calls,
and used to check random arguments. A schema is either refused with a 400 or
handled: no other exception may escape.
"""

from __future__ import annotations

from typing import Any

import pytest

from proxy.dialects import _function_schema
from proxy.errors import InvalidRequestError
from proxy.tool_schemas import argument_error, check_function_schemas
from tests.support.schema_fuzz import SchemaFuzzer
from wrappers.base import LLMChatCompletionWrapper, RenderOptions
from wrappers.registry import get_wrapper, wrapper_names

SEEDS = range(600)
MESSAGES: list[Any] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": None, "function_call": {"name": "f0", "arguments": "{}"}},
    {"role": "function", "name": "f0", "content": "done"},
    {"role": "user", "content": "again"},
]


def accepted_schemas() -> list[tuple[int, dict[str, Any]]]:
    """(seed, function) for each seed whose schema the check accepts."""
    accepted = []
    for seed in SEEDS:
        parameters = SchemaFuzzer(seed).schema()
        if not isinstance(parameters, dict):
            continue  # the request model refuses these before any check
        function = _function_schema({"name": "f0", "parameters": parameters})
        try:
            check_function_schemas([function], "tools")
        except InvalidRequestError:
            continue
        accepted.append((seed, function))
    return accepted


#: Valid schemas in shapes the walkers once tripped over (boolean subschemas,
#: items as a list, a list of types inside oneOf), besides the random ones.
ODD_BUT_VALID: list[dict[str, Any]] = [
    {"type": "object", "properties": {"a": {"type": "array", "items": True}}},
    {"type": "object", "properties": {"a": {"type": "array", "items": False}}},
    {"type": "object", "properties": {"a": True, "b": {"oneOf": [True, {"type": "string"}]}}},
    {"type": "object", "properties": {"a": {"oneOf": [{"type": ["string", "null"]}]}}},
    {"type": "object", "properties": {"a": {"oneOf": [True, {"format": "date"}]}}},
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"a": {"type": "array", "items": [{"type": "string"}, True]}},
    },
    {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": True}}}},
    {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "array"}}}},
    {"type": "object", "properties": {"a": {"enum": [None, 1, "x", [1], {"a": 1}]}}},
    {"type": "object", "properties": {"a": {"type": "string", "examples": ["x", 1, None]}}},
]

ACCEPTED = accepted_schemas() + [
    (-1 - index, _function_schema({"name": "f0", "parameters": schema}))
    for index, schema in enumerate(ODD_BUT_VALID)
]


def test_the_fuzzer_makes_both_accepted_and_refused_schemas() -> None:
    assert 0.1 * len(SEEDS) < len(accepted_schemas()) < 0.9 * len(SEEDS)


@pytest.mark.parametrize("schema", ODD_BUT_VALID)
def test_the_odd_shapes_are_valid_schemas(schema: dict[str, Any]) -> None:
    check_function_schemas([{"name": "f0", "parameters": schema}], "tools")


@pytest.fixture(scope="module")
def wrappers() -> dict[str, LLMChatCompletionWrapper]:
    return {name: get_wrapper(name) for name in wrapper_names()}


OPTIONS = [
    RenderOptions(grammar=True),
    RenderOptions(json_schema=True, forced_function="f0", call_required=True),
    RenderOptions(first_message=True, call_required=True, parallel_calls=False),
]


@pytest.mark.parametrize("options", OPTIONS, ids=["grammar", "json-schema-forced", "required"])
def test_every_wrapper_renders_every_accepted_schema(
    wrappers: dict[str, LLMChatCompletionWrapper], options: RenderOptions
) -> None:
    # A negative seed is an entry of ODD_BUT_VALID: -1 the first.
    for seed, function in ACCEPTED:
        for name, wrapper in wrappers.items():
            try:
                wrapper.render(MESSAGES, [function], options)
            except Exception as exc:  # pragma: no cover - the failure report
                pytest.fail(f"{name} failed on seed {seed}: {exc!r}")


def test_arguments_are_checked_against_every_accepted_schema() -> None:
    for seed, function in ACCEPTED:
        fuzzer = SchemaFuzzer(seed)
        for _ in range(3):
            result = argument_error(
                function["parameters"], fuzzer.arguments(function["parameters"])
            )
            assert result is None or isinstance(result, str)
