"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens`` (and without ``/v1``).

HTTP only, as in ``proxy/app.py``: auth (``x-api-key`` or a bearer token),
the JSON body, then the pipeline, answered in Anthropic's format. The
``anthropic-version`` and ``anthropic-beta`` headers are accepted and need
nothing: fcproxy serves one version of the API.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from proxy.anthropic.events import MessageEventWriter, message_sse_body
from proxy.anthropic.message import message_body
from proxy.anthropic.request import MessagesRequest, parse_messages_request, to_chat_request
from proxy.openapi import add_post_route, request_body
from proxy.pipeline import ChatPipeline
from proxy.redaction import Redactor
from proxy.request_io import answer_headers, cancel_on_disconnect, read_json
from proxy.streaming import EventStreamResponse, start_stream
from proxy.usage import count_tokens


def install_anthropic_routes(
    app: FastAPI, pipeline: ChatPipeline, check_auth: Callable[[Request], None]
) -> None:
    async def messages(request: Request) -> Response:
        check_auth(request)
        redactor: Redactor = request.app.state.redactor
        read = await read_json(request)
        parsed = parse_messages_request(read.value)
        chat_request = to_chat_request(parsed)
        if chat_request.stream:
            prepared, first, events = await start_stream(request, pipeline, chat_request)
            # message_start carries the input tokens: counted now (the upstream's
            # tokenizer where it has one) unless the context-window check did.
            counted = prepared.prompt_count
            if counted is None:
                counted = await cancel_on_disconnect(
                    request, count_tokens(prepared.route.backend, prepared.prompt.text)
                )
            input_tokens = counted[0]
            writer = MessageEventWriter(parsed.model, input_tokens)
            headers = answer_headers(first.attempt, [read.warning], redactor, streamed=True)
            return EventStreamResponse(message_sse_body(events, writer, redactor), headers=headers)
        result = await cancel_on_disconnect(request, pipeline.run(chat_request))
        headers = answer_headers(result.attempts, [read.warning, *result.warnings], redactor)
        return JSONResponse(message_body(result, parsed.model), headers=headers)

    async def count_message_tokens(request: Request) -> Response:
        check_auth(request)
        read = await read_json(request)
        chat_request = to_chat_request(parse_messages_request(read.value, counting=True))
        tokens, _ = await cancel_on_disconnect(request, pipeline.count_prompt_tokens(chat_request))
        return JSONResponse({"input_tokens": tokens})

    # The body's schema only: the error answers are Anthropic's, not the OpenAI
    # envelope that request_body() lists.
    body_only = {"requestBody": request_body(MessagesRequest)["requestBody"]}
    for prefix in ("/v1", ""):
        listed = prefix == "/v1"
        add_post_route(app, f"{prefix}/messages", messages, listed=listed, openapi_extra=body_only)
        add_post_route(
            app,
            f"{prefix}/messages/count_tokens",
            count_message_tokens,
            listed=listed,
            openapi_extra=body_only,
        )
