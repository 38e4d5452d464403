"""Streamed answers, bytes -> events: Server-Sent Events and NDJSON, for every backend.

One reader for every dialect, so line endings, comments and a last line
without its newline are handled once::

    async for event in read_events(answer.chunks(), "sse", max_line=1 << 20):
        event.event   # "message" unless an "event:" field said otherwise
        event.data    # the data lines, joined by "\\n"

SSE (html.spec.whatwg.org, "Server-sent events", the event stream
interpretation): lines end in ``\\r\\n``, ``\\n`` or ``\\r``; a line starting with
``:`` is a comment (llama-cpp-python and webui send ``: ping`` keep-alives);
``data:`` lines accumulate, joined by ``\\n``; an empty line dispatches the
event; one space after the colon is dropped. Two deliberate departures, for
servers met in the wild:

- the last event is dispatched even when the stream ends without its empty
  line (koboldcpp up to 1.8x wrote its final ``data: [DONE]`` with no newline);
- an ``error:`` field, which the standard ignores, makes an ``"error"`` event
  (llama.cpp's server before 2025 reported a failure in a stream as
  ``error: {...}``).

NDJSON (Ollama): every non-empty line is one event's data.

A line longer than ``max_line`` bytes raises :class:`UpstreamError`: a
stream that never sends a newline must not fill the memory.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass
from typing import Literal

from proxy.errors import UpstreamError

Framing = Literal["sse", "ndjson"]

_END_OF_LINE = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class StreamEvent:
    """One event of a stream: its type and its data."""

    data: str
    event: str = "message"


async def read_lines(chunks: AsyncIterable[bytes], max_line: int) -> AsyncGenerator[str, None]:
    """The lines of a byte stream, without their endings; the last one may lack its ending."""
    buffer = bytearray()
    # Where to look for the next line end: what was searched once is not searched again.
    scan_from = 0
    async for chunk in chunks:
        buffer += chunk
        start = 0
        while True:
            end = _END_OF_LINE.search(buffer, scan_from)
            if end is None:
                scan_from = len(buffer)
                break
            if end.group() == b"\r" and end.end() == len(buffer):
                scan_from = end.start()  # maybe the first half of "\r\n": wait for more
                break
            if end.start() - start > max_line:
                raise _line_too_long(max_line)
            yield _decode(buffer[start : end.start()])
            start = scan_from = end.end()
        del buffer[:start]
        scan_from -= start
        if len(buffer) > max_line:
            raise _line_too_long(max_line)
    if buffer:
        # A last "\r" is a line end; anything else is a line without its end.
        yield _decode(buffer.removesuffix(b"\r"))


async def sse_events(
    chunks: AsyncIterable[bytes], max_line: int
) -> AsyncGenerator[StreamEvent, None]:
    """The events of a Server-Sent Events stream (see the module docstring)."""
    data: list[str] = []
    event = ""
    async for line in read_lines(chunks, max_line):
        if not line:
            if data:
                yield StreamEvent(data="\n".join(data), event=event or "message")
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "error":  # llama.cpp's server before 2025
            data.append(value)
            event = "error"
        # id, retry and unknown fields: nothing to do for a one-shot stream.
    if data:
        yield StreamEvent(data="\n".join(data), event=event or "message")


async def ndjson_events(
    chunks: AsyncIterable[bytes], max_line: int
) -> AsyncGenerator[StreamEvent, None]:
    """One event per non-empty line (Ollama's ``application/x-ndjson``)."""
    async for line in read_lines(chunks, max_line):
        if line.strip():
            yield StreamEvent(data=line)


def read_events(
    chunks: AsyncIterable[bytes], framing: Framing, max_line: int
) -> AsyncGenerator[StreamEvent, None]:
    """The events of a stream in ``framing``."""
    if framing == "ndjson":
        return ndjson_events(chunks, max_line)
    return sse_events(chunks, max_line)


def _line_too_long(max_line: int) -> UpstreamError:
    return UpstreamError(
        f"The upstream sent a stream line longer than {max_line} bytes; refused "
        "(max_upstream_bytes)."
    )


def _decode(line: bytearray | bytes) -> str:
    # Lines split at ASCII line ends never cut a UTF-8 sequence in two.
    return bytes(line).decode("utf-8", errors="replace")
