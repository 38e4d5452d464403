"""The server's OpenAPI description (``/openapi.json``): request bodies and error answers.

The routes read their bodies themselves (``proxy/json_body.py``: nesting
limit, strict JSON, surrogates) instead of letting FastAPI parse them, so
FastAPI cannot describe the bodies on its own. This module adds what it
cannot see: the JSON schema of each request body, from the same Pydantic
models that validate it, and OpenAI's error envelope for the error statuses.
Clients generators and API fuzzers (the test suite runs schemathesis against
this description) get a faithful picture.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

_REF = "#/components/schemas/{model}"

#: OpenAI's error envelope (proxy/errors.py builds it).
ERROR_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}

_ERRORS = {
    "400": "Invalid request (the message names the field)",
    "401": "Missing or wrong API key",
    "404": "Unknown model",
    "413": "Body larger than max_body_bytes",
    "502": "The upstream failed, or gave no call where one was required",
    "504": "The upstream did not answer in time",
}


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body ``model`` validates."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}
            },
        },
        "responses": {
            status: {
                "description": description,
                "content": {
                    "application/json": {"schema": {"$ref": _REF.format(model="ErrorResponse")}}
                },
            }
            for status, description in _ERRORS.items()
        },
    }


def install_openapi(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Make ``app.openapi()`` include ``models`` (and the error envelope) as components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["ErrorResponse"] = ERROR_RESPONSE
            for model in models:
                model_schema = model.model_json_schema(ref_template=_REF)
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
