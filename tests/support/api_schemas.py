"""Checks of answers against Anthropic's and the Responses API's schemas.

The schemas are in tests/fixtures/api/ (their source and how to regenerate
them: tests/fixtures/api/generate.py). Each check validates the JSON against
the schema (jsonschema) and parses it with the SDK's own type, which also
applies the discriminators of its unions.
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


def assert_anthropic_message(value: Any) -> None:
    _check("anthropic-messages-schemas.json", "Message", value)
    Message.model_validate(value)


def assert_anthropic_event(value: Any) -> None:
    _check("anthropic-messages-schemas.json", "RawMessageStreamEvent", value)
    TypeAdapter(RawMessageStreamEvent).validate_python(value)


def assert_response(value: Any) -> None:
    _check("openai-responses-schemas.json", "Response", value)
    Response.model_validate(value)


def assert_response_event(value: Any) -> None:
    _check("openai-responses-schemas.json", "ResponseStreamEvent", value)
    TypeAdapter(ResponseStreamEvent).validate_python(value)
