"""HTTP only: routes, body limits, auth, and the error envelope. No logic.

``create_app(settings)`` builds everything (router, backends, pipeline) up
front, so a bad config fails at start-up with a clear message. Every route is
served with and without the ``/v1`` prefix: early MemGPT and other old
clients use a base URL without it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from proxy import __version__
from proxy.access import ApiKeys, install_access_guards
from proxy.anthropic.request import MessagesRequest
from proxy.anthropic.routes import install_anthropic_routes
from proxy.backends.base import Backend
from proxy.capacity import GatedBackend
from proxy.client_limits import RequestBodyLimits
from proxy.config import Settings
from proxy.embeddings import EmbeddingRequest, create_embeddings
from proxy.embeddings import parse_request as parse_embedding_request
from proxy.envelopes import error_response
from proxy.errors import (
    InvalidRequestError,
    NotFound,
    ProxyError,
)
from proxy.json_codec import FastJSONResponse
from proxy.metrics import Metrics, RequestContext
from proxy.openapi import add_post_route, install_openapi, request_body
from proxy.pipeline import ChatPipeline
from proxy.redaction import Redactor, install_log_redaction
from proxy.request_io import cancel_on_disconnect as _cancel_on_disconnect
from proxy.request_io import header_text as _header_text
from proxy.request_io import read_json as _read_json
from proxy.responses import chat_completion
from proxy.responses_api.request import ResponsesRequest
from proxy.responses_api.routes import install_responses_routes
from proxy.responses_api.store import open_store
from proxy.routing import Router
from proxy.schemas import ChatCompletionRequest, describe_validation_error, parse_chat_request
from proxy.streaming import ChunkWriter, EventStreamResponse, sse_body, start_stream

logger = logging.getLogger("fcproxy.app")


def create_app(settings: Settings, router: Router | None = None) -> FastAPI:
    router = router or Router(settings)
    metrics = Metrics()
    pipeline = ChatPipeline(router, settings, observer=metrics)
    for backend in router.gated_backends():
        backend.observer = metrics
    metrics.watch_upstreams(lambda: _upstream_states(router))
    responses_store = open_store(settings.responses_store_path, settings.responses_store_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Backends start (the embedded one loads its model, auto probes its
        # upstream), upstream chat templates are fetched, upstream model names learnt.
        await router.start()
        yield
        await router.aclose()
        responses_store.close()

    app = FastAPI(
        title="fcproxy",
        version=__version__,
        description="OpenAI-compatible function calling for local LLM servers.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.router = router
    app.state.metrics = metrics
    # Upstream keys and URL passwords never leave in an answer or a log line.
    redactor = Redactor.from_settings(settings)
    install_log_redaction(redactor)
    app.state.redactor = redactor
    keys = ApiKeys(settings.api_keys)
    app.add_middleware(
        RequestBodyLimits, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout
    )
    install_access_guards(app, settings)
    # Outermost: every answer, refusals by the guards too, gets its request id and is counted.
    app.add_middleware(RequestContext, metrics=metrics)
    _install_error_handlers(app, redactor)

    def check_auth(request: Request) -> None:
        keys.check(request)

    async def chat_completions(request: Request) -> Response:
        check_auth(request)
        read = await _read_json(request)
        body = read.value
        if not isinstance(body, dict):
            raise InvalidRequestError(
                f"The request body must be a JSON object, not a JSON {type(body).__name__}."
            )
        try:
            chat_request = parse_chat_request(body)
        except ValidationError as exc:
            message, param = describe_validation_error(exc)
            raise InvalidRequestError(message, param=param) from None
        request.state.fcproxy_model = chat_request.model
        if chat_request.stream:
            return await stream_chat(request, chat_request, read.warning)
        result = await _cancel_on_disconnect(request, pipeline.run(chat_request))
        headers = {"x-fcproxy-attempts": str(result.attempts)}
        warnings = [w for w in (read.warning, *result.warnings) if w]
        if warnings:
            headers["x-fcproxy-warning"] = _header_text(redactor.redact("; ".join(warnings)))
        return FastJSONResponse(chat_completion(result), headers=headers)

    async def stream_chat(
        request: Request, chat_request: ChatCompletionRequest, warning: str | None
    ) -> Response:
        """Answer as the model writes; errors before the first byte keep their status."""
        prepared, first, events = await start_stream(request, pipeline, chat_request)
        include_usage = bool(
            chat_request.stream_options and chat_request.stream_options.include_usage
        )
        writer = ChunkWriter(
            chat_request.model, prepared.normalized.dialect, include_usage=include_usage
        )
        headers = {"x-fcproxy-attempts": str(first.attempt), "cache-control": "no-cache"}
        if warning:
            headers["x-fcproxy-warning"] = _header_text(warning)
        return EventStreamResponse(sse_body(first, events, writer, redactor), headers=headers)

    async def embeddings(request: Request) -> JSONResponse:
        check_auth(request)
        read = await _read_json(request)
        body = parse_embedding_request(read.value)
        answer = await _cancel_on_disconnect(request, create_embeddings(router, body))
        headers = {"x-fcproxy-warning": _header_text(read.warning)} if read.warning else None
        return JSONResponse(answer, headers=headers)

    async def list_models(request: Request) -> dict[str, Any]:
        check_auth(request)
        created = int(time.time())
        # A model whose upstreams are all out of rotation is not offered.
        ids: dict[str, str] = {
            name: "fcproxy" for name in router.configured_models() if router.model_is_up(name)
        }
        # Every upstream's own models too, each name once; a down upstream lists none.
        for backend, names in await router.upstream_models():
            for name in names:
                ids.setdefault(name, _owner(backend))
        if not ids:
            # Any name works without a model table; advertise the default.
            ids[settings.wrapper] = "fcproxy"
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": created, "owned_by": owner}
                for name, owner in ids.items()
            ],
        }

    async def health(request: Request) -> JSONResponse:
        backends = router.backends()
        checks = await asyncio.gather(*(b.health() for b in backends))
        ok = _serving(router, dict(zip(backends, (c.ok for c in checks), strict=True)))
        status = {"status": "ok" if ok else "unavailable"}
        status_code = 200 if ok else 503
        if not keys.allows(request):
            # With keys set, a caller without one learns only up or down (what
            # a load balancer's check needs), not versions, URLs or errors.
            return JSONResponse(status, status_code=status_code)
        upstreams = [
            {
                "url": redactor.redact(b.base_url),
                "backend": b.name,
                "ok": c.ok,
                "detail": redactor.redact(c.detail),
                # In rotation for its models (several upstreams per model).
                "up": router.is_up(b),
                **_capacity(b),
            }
            for b, c in zip(router.backends(), checks, strict=True)
        ]
        return JSONResponse(
            {**status, "version": __version__, "upstreams": upstreams}, status_code=status_code
        )

    async def metrics_page(request: Request) -> Response:
        # With keys set, the numbers (models, upstreams, traffic) are for key holders.
        check_auth(request)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    if settings.metrics:
        app.add_api_route("/metrics", metrics_page, methods=["GET"], include_in_schema=False)

    for prefix in ("/v1", ""):
        # The routes without /v1 are aliases: /openapi.json lists each route once.
        listed = prefix == "/v1"
        add_post_route(
            app,
            f"{prefix}/chat/completions",
            chat_completions,
            listed=listed,
            openapi_extra=request_body(ChatCompletionRequest),
        )
        add_post_route(
            app,
            f"{prefix}/embeddings",
            embeddings,
            listed=listed,
            openapi_extra=request_body(EmbeddingRequest),
        )
        app.add_api_route(
            f"{prefix}/models", list_models, methods=["GET"], include_in_schema=listed
        )
        app.add_api_route(f"{prefix}/health", health, methods=["GET"], include_in_schema=listed)
    # The other APIs, each a dialect layer on the same pipeline.
    install_anthropic_routes(app, pipeline, check_auth)
    install_responses_routes(app, pipeline, responses_store, check_auth)
    install_openapi(
        app, [ChatCompletionRequest, EmbeddingRequest, MessagesRequest, ResponsesRequest]
    )
    return app


def _serving(router: Router, answering: dict[Backend, bool]) -> bool:
    """Every model can be served: each lone upstream answers, each pool has one that does."""
    pooled = {m for pool in router.pools() for m in pool.members}
    lone = all(ok for b, ok in answering.items() if b not in pooled)
    return lone and all(any(answering.get(m, False) for m in p.members) for p in router.pools())


def _upstream_states(router: Router) -> list[tuple[str, dict[str, Any]]]:
    """Each upstream's gate counts and whether it is in rotation, for the gauges."""
    return [
        (b.base_url, {**b.gate.snapshot(), "up": router.is_up(b)}) for b in router.gated_backends()
    ]


def _capacity(backend: Backend) -> dict[str, Any]:
    """In-flight and queued requests of the backend's upstream, and its limits."""
    return backend.gate.snapshot() if isinstance(backend, GatedBackend) else {}


def _owner(backend: Backend) -> str:
    """The backend's name; for ``auto``, the one it found (``owned_by`` in /v1/models)."""
    detection = getattr(backend, "detection", None)
    return str(getattr(detection, "backend", None) or backend.name)


def _install_error_handlers(app: FastAPI, redactor: Redactor) -> None:
    async def on_proxy_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProxyError)
        level = logging.WARNING if exc.status_code >= 500 else logging.INFO
        logger.log(level, "%s %s -> %d %s", request.method, request.url.path, exc.status_code, exc)
        return error_response(request.url.path, exc, redactor)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            error: ProxyError = NotFound(f"Unknown path {request.url.path}.")
        else:
            error = ProxyError(str(exc.detail))
            error.status_code = exc.status_code
            error.error_type = "invalid_request_error"
        return error_response(request.url.path, error, redactor)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        error = InvalidRequestError(f"Invalid request: {exc}")
        return error_response(request.url.path, error, redactor)

    async def on_client_disconnect(request: Request, exc: Exception) -> Response:
        # The client left (or was closed to make room) while sending its body:
        # nobody reads this answer, and it is no server error.
        logger.info(
            "%s %s: the client left before sending its whole body", request.method, request.url.path
        )
        return error_response(request.url.path, InvalidRequestError("The client disconnected."))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request.url.path,
            ProxyError(f"Internal error in fcproxy ({type(exc).__name__}); see the server log."),
        )

    app.add_exception_handler(ProxyError, on_proxy_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ClientDisconnect, on_client_disconnect)
    app.add_exception_handler(Exception, on_unexpected)
