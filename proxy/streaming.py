"""Step 7 for ``stream: true``: pipeline events -> OpenAI ``chat.completion.chunk`` SSE.

The chunk sequence OpenAI's SDK expects, sent as the model writes::

    data: {"choices": [{"delta": {"role": "assistant", "content": ""}, ...}], ...}
    data: {"choices": [{"delta": {"content": "Let me"}, "finish_reason": null}], ...}
    data: {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "call_...",
           "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}}]}
    data: {"choices": [{"delta": {"tool_calls": [{"index": 0,
           "function": {"arguments": "{\"city\": \"Par"}}]}}]}
    ...
    data: {"choices": [{"delta": {}, "finish_reason": "tool_calls"}], ...}
    data: {"choices": [], "usage": {...}}          (with stream_options.include_usage)
    data: [DONE]

Every chunk has the same ``id``, ``created`` and ``model``. The ``functions``
dialect gets ``delta.function_call`` (its first call only); reasoning goes in
``delta.reasoning_content``. A problem after the first byte (an upstream
failure mid-stream) is sent as ``data: {"error": {...}}`` before ``[DONE]``,
which the OpenAI SDK raises as an ``APIError``; warnings are SSE comments
(``: warning: ...``), which clients ignore and people reading the stream see.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from proxy import json_codec
from proxy.errors import ProxyError
from proxy.pipeline import ChatPipeline, Prepared, StreamEnd, StreamEvent, StreamStart
from proxy.redaction import Redactor
from proxy.request_io import cancel_on_disconnect
from proxy.responses import completion_id
from proxy.schemas import ChatCompletionRequest
from wrappers.streaming import OutputDelta

logger = logging.getLogger("fcproxy.streaming")


class ChunkWriter:
    """Builds the chunks of one streamed answer."""

    def __init__(self, model: str, dialect: str, *, include_usage: bool) -> None:
        self.id = completion_id()
        self.created = int(time.time())
        self.model = model
        self.dialect = dialect
        self.include_usage = include_usage

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }

    def opening(self) -> dict[str, Any]:
        return self.chunk({"role": "assistant", "content": ""})

    def delta(self, event: OutputDelta) -> dict[str, Any] | None:
        if event.kind == "content":
            return self.chunk({"content": event.text})
        if event.kind == "reasoning":
            return self.chunk({"reasoning_content": event.text})
        if self.dialect == "functions":
            if event.index != 0:
                return None  # the functions dialect has one call
            if event.kind == "call":
                return self.chunk({"function_call": {"name": event.name, "arguments": ""}})
            return self.chunk({"function_call": {"arguments": event.text}})
        if event.kind == "call":
            call = {
                "index": event.index,
                "id": event.call_id,
                "type": "function",
                "function": {"name": event.name, "arguments": ""},
            }
            return self.chunk({"tool_calls": [call]})
        return self.chunk(
            {"tool_calls": [{"index": event.index, "function": {"arguments": event.text}}]}
        )

    def closing(self, end: StreamEnd) -> list[dict[str, Any]]:
        chunks = [self.chunk({}, end.finish_reason)]
        if self.include_usage:
            usage = self.chunk({})
            usage["choices"] = []
            usage["usage"] = end.usage.as_dict()
            chunks.append(usage)
        return chunks


class EventPump:
    """Runs a pipeline's event stream in a task of its own, handing events over a queue.

    The generator (and the upstream request inside it) lives in one task
    from start to end, whichever task reads the events: the request handler
    waits for the first event (watching for a disconnect), the streaming
    response reads the rest. :meth:`aclose` cancels the task, which closes
    the upstream request.
    """

    _END = object()

    def __init__(self, events: AsyncIterator[StreamEvent], *, buffer: int = 64) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=buffer)
        self._task = asyncio.create_task(self._run(events))

    async def _run(self, events: AsyncIterator[StreamEvent]) -> None:
        try:
            async for event in events:
                await self._queue.put(event)
        except Exception as exc:  # handed to the reader, who raises it
            await self._queue.put(exc)
        finally:
            await events.aclose()  # type: ignore[attr-defined]
        await self._queue.put(self._END)

    async def next(self) -> StreamEvent:
        item = await self._queue.get()
        if item is self._END:
            raise StopAsyncIteration
        if isinstance(item, Exception):
            raise item
        return item  # type: ignore[no-any-return]

    def __aiter__(self) -> EventPump:
        return self

    async def __anext__(self) -> StreamEvent:
        return await self.next()

    async def aclose(self) -> None:
        if not self._task.done():
            self._task.cancel()
            # asyncio.wait, not ``await task``: a waiter that is cancelled itself
            # (a response whose client left is cancelled again and again)
            # would pass each cancellation on to the task, interrupting the
            # clean-up that closes the upstream connection.
            await asyncio.wait({self._task})


async def start_stream(
    request: Request, pipeline: ChatPipeline, chat_request: ChatCompletionRequest
) -> tuple[Prepared, StreamStart, EventPump]:
    """Prepare and start a streamed answer, up to its first event.

    Retries, upstream failures and refusals all happen before the first
    event: until then the answer can still be an error status, whatever the
    API's wire format. The pump is closed if this fails or the client leaves.
    """
    prepared = await cancel_on_disconnect(request, pipeline.prepare(chat_request))
    events = EventPump(pipeline.run_stream(prepared))
    try:
        first = await cancel_on_disconnect(request, events.next())
    except BaseException:
        await events.aclose()
        raise
    assert isinstance(first, StreamStart)
    return prepared, first, events


class EventStreamResponse(StreamingResponse):
    """A streaming response that stops its body as soon as the client leaves.

    Starlette trusts an ASGI 2.4 server to raise on a send after the client
    has gone; uvicorn's h11 protocol drops such a send silently, so the body
    (and the generation behind it) would run to its end for nobody. Listening
    for ``http.disconnect`` beside the body, as Starlette does for older
    servers, cancels it at once.
    """

    media_type = "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def body() -> None:
                    await self.stream_response(send)
                    group.cancel_scope.cancel()

                group.start_soon(body)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            # A body cancelled while it waited in ``send`` is left suspended at
            # a yield; close it now (shielded: this scope may be cancelled), so
            # that the pipeline and the upstream request behind it stop.
            closing = getattr(self.body_iterator, "aclose", None)
            if closing is not None:
                with anyio.CancelScope(shield=True):
                    await closing()


def sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json_codec.dumps(data) + b"\n\n"


DONE = b"data: [DONE]\n\n"


async def sse_body(
    first: StreamStart, events: EventPump, writer: ChunkWriter, redactor: Redactor
) -> AsyncIterator[bytes]:
    """The SSE body of a streamed answer, from its first event on.

    Warnings and errors quote upstream text: they pass the redactor, like
    every other error answer.
    """
    yield sse(writer.opening())
    try:
        async for event in events:
            if isinstance(event, OutputDelta):
                chunk = writer.delta(event)
                if chunk is not None:
                    yield sse(chunk)
            elif isinstance(event, StreamEnd):
                for warning in event.warnings:
                    yield warning_comment(warning, redactor)
                for chunk in writer.closing(event):
                    yield sse(chunk)
    except ProxyError as exc:
        # The status line has gone out: the error travels in the stream.
        logger.warning("streamed answer failed after its first byte: %s", exc)
        yield sse(redactor.redact_json(exc.to_body()))
    finally:
        await events.aclose()
    yield DONE


def warning_comment(warning: str, redactor: Redactor) -> bytes:
    """A warning as an SSE comment line (``: warning: ...``), redacted, on one line."""
    line = _one_line(redactor.redact(warning))
    return b": warning: " + line.encode() + b"\n\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]
