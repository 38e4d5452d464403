"""Pipeline events -> the Responses API's event stream.

The sequence OpenAI's SDK assembles into a ``response`` (platform.openai.com,
"Streaming events"); each event is ``event: <type>`` + ``data: {...}`` with a
``sequence_number`` that counts from 0::

    response.created              {"response": {... "status": "in_progress", "output": []}}
    response.in_progress          {"response": {...}}
    response.output_item.added    {"output_index": 0, "item": {"type": "message", ...}}
    response.content_part.added   {"item_id", "output_index", "content_index": 0,
                                   "part": {"type": "output_text", "text": ""}}
    response.output_text.delta    {"item_id", "output_index", "content_index", "delta": "Let"}
    response.output_text.done     {... "text": "Let me look."}
    response.content_part.done    {... "part": {...}}
    response.output_item.done     {"output_index": 0, "item": {... "status": "completed"}}
    response.output_item.added    {"output_index": 1, "item": {"type": "function_call",
                                   "call_id", "name", "arguments": ""}}
    response.function_call_arguments.delta   {"item_id", "output_index", "delta": "{\"ci"}
    response.function_call_arguments.done    {"item_id", "output_index", "arguments": "..."}
    response.output_item.done     {...}
    response.completed            {"response": {... "status": "completed", "output": [...]}}

Reasoning is a ``reasoning`` item with ``response.reasoning_text.delta`` /
``.done``. A model cut off ends with ``response.incomplete``. A failure after
the first byte (the upstream broke off or reported an error) ends the stream
with ``response.failed``, as OpenAI's own streams do::

    response.failed               {"response": {... "status": "failed", "output": [items done],
                                   "error": {"code": "server_error", "message": "..."}}}
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from proxy.errors import ProxyError
from proxy.pipeline import StreamEnd
from proxy.redaction import Redactor
from proxy.responses_api.output import (
    function_call_item,
    message_item,
    new_id,
    reasoning_item,
    response_body,
    text_part,
)
from proxy.responses_api.request import ResponsesRequest
from proxy.streaming import EventPump, warning_comment
from wrappers.streaming import OutputDelta

logger = logging.getLogger("fcproxy.responses_api")


class ResponseEventWriter:
    """The events of one streamed response, item by item; :attr:`final` at the end."""

    def __init__(self, request: ResponsesRequest, response_id: str, model: str) -> None:
        self.request = request
        self.id = response_id
        self.model = model
        self.items: list[dict[str, Any]] = []  # output items, as sent so far
        self.final: dict[str, Any] | None = None  # the completed response
        self._sequence = 0
        self._open: int | None = None  # output index of the open message/reasoning item
        self._calls: dict[int, int] = {}  # call index -> output index
        self._texts: dict[int, str] = {}  # output index -> text or arguments so far

    def opening(self) -> list[dict[str, Any]]:
        snapshot = self._response()
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def delta(self, event: OutputDelta) -> list[dict[str, Any]]:
        if event.kind in ("content", "reasoning"):
            kind = "message" if event.kind == "content" else "reasoning"
            events = self._open_item(kind)
            index = self._open
            assert index is not None
            self._texts[index] += event.text
            name = "output_text" if kind == "message" else "reasoning_text"
            fields: dict[str, Any] = {"logprobs": []} if kind == "message" else {}
            events.append(
                self._event(
                    f"response.{name}.delta",
                    item_id=self.items[index]["id"],
                    output_index=index,
                    content_index=0,
                    delta=event.text,
                    **fields,
                )
            )
            return events
        if event.kind == "call":
            events = self._close_open()
            item = function_call_item(event.call_id, event.name, "")
            item["status"] = "in_progress"
            index = self._add(item)
            self._calls[event.index] = index
            return [
                *events,
                self._event("response.output_item.added", output_index=index, item=item),
            ]
        index_of_call = self._calls.get(event.index)
        if index_of_call is None or not event.text:
            return []
        self._texts[index_of_call] += event.text
        return [
            self._event(
                "response.function_call_arguments.delta",
                item_id=self.items[index_of_call]["id"],
                output_index=index_of_call,
                delta=event.text,
            )
        ]

    def closing(self, end: StreamEnd) -> list[dict[str, Any]]:
        events = self._close_open()
        for index in self._calls.values():
            item = self.items[index]
            item.update(arguments=self._texts[index], status="completed")
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
            events.append(self._event("response.output_item.done", output_index=index, item=item))
        self.final = self._response(end)
        kind = (
            "response.incomplete" if self.final["status"] == "incomplete" else "response.completed"
        )
        events.append(self._event(kind, response=self.final))
        return events

    def failed(self, error: ProxyError) -> dict[str, Any]:
        """``response.failed``: the items finished so far, and what went wrong."""
        done = [dict(item) for item in self.items if item.get("status") == "completed"]
        response = response_body(self.request, response_id=self.id, model=self.model, output=done)
        response.update(
            status="failed", error={"code": failure_code(error), "message": error.message}
        )
        return self._event("response.failed", response=response)

    def _response(self, end: StreamEnd | None = None) -> dict[str, Any]:
        return response_body(
            self.request,
            response_id=self.id,
            model=self.model,
            output=[dict(item) for item in self.items] if end else [],
            finish_reason=end.finish_reason if end else None,
            usage=end.usage if end else None,
        )

    def _add(self, item: dict[str, Any]) -> int:
        self.items.append(item)
        index = len(self.items) - 1
        self._texts[index] = ""
        return index

    def _open_item(self, kind: str) -> list[dict[str, Any]]:
        if self._open is not None and self.items[self._open]["type"] == kind:
            return []
        events = self._close_open()
        if kind == "message":
            item, part = message_item("", new_id("msg")), text_part("")
        else:
            item = reasoning_item("", new_id("rs"))
            part = {"type": "reasoning_text", "text": ""}
        item.update(status="in_progress", content=[])
        index = self._add(item)
        self._open = index
        return [
            *events,
            self._event("response.output_item.added", output_index=index, item=dict(item)),
            self._event(
                "response.content_part.added",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part=part,
            ),
        ]

    def _close_open(self) -> list[dict[str, Any]]:
        index = self._open
        if index is None:
            return []
        self._open = None
        item, text = self.items[index], self._texts[index]
        extra: dict[str, Any]
        if item["type"] == "message":
            part, name, extra = text_part(text), "output_text", {"logprobs": []}
        else:
            part, name, extra = {"type": "reasoning_text", "text": text}, "reasoning_text", {}
        item.update(status="completed", content=[part])
        where = {"item_id": item["id"], "output_index": index, "content_index": 0}
        return [
            self._event(f"response.{name}.done", text=text, **where, **extra),
            self._event("response.content_part.done", part=part, **where),
            self._event("response.output_item.done", output_index=index, item=item),
        ]

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event


def failure_code(error: ProxyError) -> str:
    """The ``error.code`` of a failed response: one of the codes OpenAI's schema lists."""
    if error.status_code == 429:
        return "rate_limit_exceeded"
    return "invalid_prompt" if error.status_code < 500 else "server_error"


def named_sse(data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, ensure_ascii=False)
    return f"event: {data['type']}\ndata: {payload}\n\n".encode()


async def response_sse_body(
    events: EventPump,
    writer: ResponseEventWriter,
    redactor: Redactor,
    on_final: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """The SSE body of a streamed response, from its first event on.

    ``on_final`` gets the completed response (to store it) before its last
    event leaves, so a client that chains at once finds it.
    """
    for event in writer.opening():
        yield named_sse(event)
    try:
        async for piece in events:
            if isinstance(piece, OutputDelta):
                written = writer.delta(piece)
            elif isinstance(piece, StreamEnd):
                for warning in piece.warnings:
                    yield warning_comment(warning, redactor)
                written = writer.closing(piece)
                if on_final is not None and writer.final is not None:
                    await on_final(writer.final)
            else:
                continue
            for event in written:
                yield named_sse(event)
    except ProxyError as exc:
        # The status line has gone out: the error travels in the stream.
        logger.warning("streamed response failed after its first byte: %s", exc)
        yield named_sse(redactor.redact_json(writer.failed(exc)))
    finally:
        await events.aclose()
