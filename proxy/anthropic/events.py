"""Pipeline events -> Anthropic's Messages stream (server-sent events with names).

The sequence Anthropic's SDK assembles into a ``Message``
(docs.anthropic.com, "Streaming Messages")::

    event: message_start
    data: {"type": "message_start", "message": {"id": "msg_...", "content": [], ...}}

    event: ping
    data: {"type": "ping"}

    event: content_block_start
    data: {"type": "content_block_start", "index": 0,
           "content_block": {"type": "text", "text": ""}}

    event: content_block_delta
    data: {"type": "content_block_delta", "index": 0,
           "delta": {"type": "text_delta", "text": "Let me look."}}

    event: content_block_stop
    data: {"type": "content_block_stop", "index": 0}

    (a tool_use block: "content_block": {"type": "tool_use", "id", "name", "input": {}},
     then "input_json_delta" deltas with "partial_json"; reasoning: a "thinking"
     block with "thinking_delta" deltas)

    event: message_delta
    data: {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
           "usage": {"input_tokens": 52, "output_tokens": 21}}

    event: message_stop
    data: {"type": "message_stop"}

A failure after the first byte is ``event: error`` with Anthropic's error
body; warnings are SSE comments, as in the Chat Completions stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from proxy.anthropic.message import message_id, stop_fields, tool_use_id, usage_body
from proxy.envelopes import error_body
from proxy.errors import ProxyError
from proxy.pipeline import StreamEnd
from proxy.redaction import Redactor
from proxy.streaming import EventPump, warning_comment
from wrappers.streaming import OutputDelta

logger = logging.getLogger("fcproxy.anthropic")

Event = tuple[str, dict[str, Any]]


class MessageEventWriter:
    """The named events of one streamed Message, block by block."""

    def __init__(self, model: str, input_tokens: int) -> None:
        self.id = message_id()
        self.model = model
        self.input_tokens = input_tokens
        self._blocks = 0  # blocks started so far
        self._open: str | None = None  # the kind of the open block ("text", ...)
        self._call_blocks: dict[int, int] = {}  # call index -> its block index

    def opening(self) -> list[Event]:
        message: dict[str, Any] = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": 1},
        }
        return [
            ("message_start", {"type": "message_start", "message": message}),
            ("ping", {"type": "ping"}),
        ]

    def delta(self, event: OutputDelta) -> list[Event]:
        if event.kind == "content":
            return [
                *self._in_block("text", {"type": "text", "text": ""}),
                self._delta({"type": "text_delta", "text": event.text}),
            ]
        if event.kind == "reasoning":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            return [
                *self._in_block("thinking", start),
                self._delta({"type": "thinking_delta", "thinking": event.text}),
            ]
        if event.kind == "call":
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": tool_use_id(event.call_id),
                "name": event.name,
                "input": {},
            }
            events = self._close() + self._start("tool_use", block)
            self._call_blocks[event.index] = self._blocks - 1
            return events
        index = self._call_blocks.get(event.index)
        if index is None or not event.text:
            return []
        return [self._delta({"type": "input_json_delta", "partial_json": event.text}, index)]

    def closing(self, end: StreamEnd) -> list[Event]:
        usage = usage_body(end.usage)
        return [
            *self._close(),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": stop_fields(end.finish_reason, end.stop_sequence),
                    "usage": usage,
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]

    def _in_block(self, kind: str, start: dict[str, Any]) -> list[Event]:
        if self._open == kind:
            return []
        return self._close() + self._start(kind, start)

    def _start(self, kind: str, block: dict[str, Any]) -> list[Event]:
        self._open = kind
        self._blocks += 1
        data = {"type": "content_block_start", "index": self._blocks - 1, "content_block": block}
        return [("content_block_start", data)]

    def _close(self) -> list[Event]:
        if self._open is None:
            return []
        self._open = None
        return [("content_block_stop", {"type": "content_block_stop", "index": self._blocks - 1})]

    def _delta(self, delta: dict[str, Any], index: int | None = None) -> Event:
        block = self._blocks - 1 if index is None else index
        return (
            "content_block_delta",
            {"type": "content_block_delta", "index": block, "delta": delta},
        )


def named_sse(name: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, ensure_ascii=False)
    return f"event: {name}\ndata: {payload}\n\n".encode()


async def message_sse_body(
    events: EventPump, writer: MessageEventWriter, redactor: Redactor
) -> AsyncIterator[bytes]:
    """The SSE body of a streamed Message, from its first event on."""
    for name, data in writer.opening():
        yield named_sse(name, data)
    try:
        async for event in events:
            if isinstance(event, OutputDelta):
                written = writer.delta(event)
            elif isinstance(event, StreamEnd):
                for warning in event.warnings:
                    yield warning_comment(warning, redactor)
                written = writer.closing(event)
            else:
                continue
            for name, data in written:
                yield named_sse(name, data)
    except ProxyError as exc:
        # The status line has gone out: the error travels in the stream.
        logger.warning("streamed message failed after its first byte: %s", exc)
        yield named_sse("error", error_body(exc, anthropic=True, redactor=redactor))
    finally:
        await events.aclose()
