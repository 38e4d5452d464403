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

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import Match, Route
from starlette.types import Scope

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


def add_post_route(
    app: FastAPI,
    path: str,
    endpoint: Callable[[Request], Awaitable[Response]],
    *,
    listed: bool,
    openapi_extra: dict[str, Any] | None = None,
) -> None:
    """Serve ``path`` as a plain Starlette route, listed in /openapi.json as FastAPI's would be.

    The API endpoints take the request and read their JSON body themselves
    (proxy/request_io.py). FastAPI's per-request dependency machinery around
    them did nothing for them and cost 0.05-0.15 ms of CPU per request, a
    tenth of fcproxy's own (bench/RESULTS.md). The route that documents it is
    never mounted; :func:`install_openapi` reads it. Errors take the app's
    handlers either way (they sit in the middleware around every route).
    """
    app.router.routes.append(_PlainRoute(path, endpoint, methods=["POST"]))
    if listed:
        _documented(app).append(
            APIRoute(path, endpoint, methods=["POST"], openapi_extra=openapi_extra)
        )


class _PlainRoute(Route):
    """Starlette's route, which names itself in ``scope["route"]`` as FastAPI's do
    (the metrics' route label, proxy/metrics.py)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match != Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def _documented(app: FastAPI) -> list[APIRoute]:
    routes: list[APIRoute] | None = getattr(app.state, "documented_routes", None)
    if routes is None:
        routes = app.state.documented_routes = []
    return routes


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
                routes=[*app.routes, *_documented(app)],
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
