"""Checks of answers against Anthropic's and the Responses API's schemas.

The schemas are in tests/fixtures/api/: OpenAI's own OpenAPI spec for the
Responses API (``openai-responses-openapi.json``, its source inside), and for
both APIs the official SDKs' types as JSON Schema (how and from which version:
tests/fixtures/api/generate.py; Anthropic publishes no machine-readable spec).
Each check validates the JSON against every schema it has and parses it with
the SDK's own type, which also applies the discriminators of its unions.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from anthropic.types import Message, RawMessageStreamEvent
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter
from referencing import Registry
from referencing.jsonschema import DRAFT202012

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api"


@cache
def _validator(file: str, name: str) -> jsonschema.protocols.Validator:
    document = json.loads((FIXTURES / file).read_text(encoding="utf-8"))
    schema = document["schemas"][name]
    return jsonschema.Draft202012Validator(schema)


def _check(file: str, name: str, value: Any) -> None:
    errors = sorted(_validator(file, name).iter_errors(value), key=lambda e: list(e.path))
    assert not errors, f"not a valid {name}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:3]
    )


@cache
def _openapi_validator(name: str) -> jsonschema.protocols.Validator:
    spec = json.loads((FIXTURES / "openai-responses-openapi.json").read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        "urn:openai-responses", DRAFT202012.create_resource(spec)
    )
    schema = {"$ref": f"urn:openai-responses#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _check_openapi(name: str, value: Any) -> None:
    errors = sorted(_openapi_validator(name).iter_errors(value), key=lambda e: list(e.path))
    assert not errors, f"not a valid {name} (OpenAI's spec): " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message[:300]}" for e in errors[:3]
    )


def assert_anthropic_message(value: Any) -> None:
    _check("anthropic-messages-schemas.json", "Message", value)
    Message.model_validate(value)


def assert_anthropic_event(value: Any) -> None:
    _check("anthropic-messages-schemas.json", "RawMessageStreamEvent", value)
    TypeAdapter(RawMessageStreamEvent).validate_python(value)


def assert_response(value: Any) -> None:
    _check_openapi("Response", value)
    _check("openai-responses-schemas.json", "Response", value)
    Response.model_validate(value)


def assert_response_event(value: Any) -> None:
    _check_openapi("ResponseStreamEvent", value)
    _check("openai-responses-schemas.json", "ResponseStreamEvent", value)
    TypeAdapter(ResponseStreamEvent).validate_python(value)


def as_sent(model: Any) -> Any:
    """An SDK object as the JSON it was parsed from (fields it did not carry left out)."""
    return model.model_dump(mode="json", exclude_unset=True, by_alias=True)
