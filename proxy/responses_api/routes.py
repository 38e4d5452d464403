"""``POST /v1/responses``, ``GET`` / ``DELETE /v1/responses/{id}`` (and without ``/v1``).

HTTP only, as in ``proxy/app.py``: auth, the JSON body, the stored
conversation a ``previous_response_id`` names, then the pipeline, answered
as a ``response`` object or its event stream. Errors keep OpenAI's envelope
(the app's handlers). A response is stored unless the request says
``store: false``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from proxy.errors import InvalidRequestError, NotFound
from proxy.openapi import add_post_route, request_body
from proxy.pipeline import ChatPipeline
from proxy.redaction import Redactor
from proxy.request_io import answer_headers, cancel_on_disconnect, read_json
from proxy.responses_api.events import ResponseEventWriter, response_sse_body
from proxy.responses_api.output import new_id, output_items, response_body
from proxy.responses_api.request import (
    ResponsesRequest,
    input_items,
    parse_responses_request,
    to_chat_request,
)
from proxy.responses_api.store import ResponseStore, StoredResponse
from proxy.streaming import EventStreamResponse, start_stream


def install_responses_routes(
    app: FastAPI,
    pipeline: ChatPipeline,
    store: ResponseStore,
    check_auth: Callable[[Request], None],
) -> None:
    async def conversation_so_far(request: ResponsesRequest) -> tuple[list[dict[str, Any]], str]:
        """The stored conversation before this request's input, and the model to use."""
        if request.previous_response_id is None:
            if request.model is None:
                raise InvalidRequestError("model: Field required", param="model")
            return [], request.model
        stored = await store.get(request.previous_response_id)
        if stored is None:
            raise InvalidRequestError(
                f"Previous response with id {request.previous_response_id!r} not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        return list(stored.conversation), request.model or str(stored.response["model"])

    async def create_response(request: Request) -> Response:
        check_auth(request)
        redactor: Redactor = request.app.state.redactor
        read = await read_json(request)
        parsed = parse_responses_request(read.value)
        history, model = await conversation_so_far(parsed)
        items = history + input_items(parsed)
        chat_request = to_chat_request(parsed, items, model)
        response_id = new_id("resp")
        created_at = int(time.time())

        async def keep(response: dict[str, Any]) -> None:
            if parsed.store is not False:
                await store.put(StoredResponse(response, items + response["output"]))

        if chat_request.stream:
            _, first, events = await start_stream(request, pipeline, chat_request)
            writer = ResponseEventWriter(parsed, response_id, model)
            headers = answer_headers(first.attempt, [read.warning], redactor, streamed=True)
            body = response_sse_body(events, writer, redactor, on_final=keep)
            return EventStreamResponse(body, headers=headers)
        result = await cancel_on_disconnect(request, pipeline.run(chat_request))
        answer = response_body(
            parsed,
            response_id=response_id,
            model=model,
            created_at=created_at,
            output=output_items(result.output),
            finish_reason=result.finish_reason,
            usage=result.usage,
        )
        await keep(answer)
        headers = answer_headers(result.attempts, [read.warning, *result.warnings], redactor)
        return JSONResponse(answer, headers=headers)

    async def get_response(request: Request, response_id: str) -> Response:
        check_auth(request)
        stored = await store.get(response_id)
        if stored is None:
            raise NotFound(f"Response with id {response_id!r} not found.", param="response_id")
        return JSONResponse(stored.response)

    async def delete_response(request: Request, response_id: str) -> Response:
        check_auth(request)
        if not await store.delete(response_id):
            raise NotFound(f"Response with id {response_id!r} not found.", param="response_id")
        return JSONResponse({"id": response_id, "object": "response.deleted", "deleted": True})

    for prefix in ("/v1", ""):
        listed = prefix == "/v1"
        add_post_route(
            app,
            f"{prefix}/responses",
            create_response,
            listed=listed,
            openapi_extra=request_body(ResponsesRequest),
        )
        app.add_api_route(
            f"{prefix}/responses/{{response_id}}",
            get_response,
            methods=["GET"],
            include_in_schema=listed,
        )
        app.add_api_route(
            f"{prefix}/responses/{{response_id}}",
            delete_response,
            methods=["DELETE"],
            include_in_schema=listed,
        )
