"""The one SSE / NDJSON reader every backend's stream goes through: bytes -> events.

Each case is read whole, one byte at a time, and split at every position:
the events must not depend on how the bytes were cut into chunks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from proxy.backends.event_stream import StreamEvent, read_events, read_lines
from proxy.errors import UpstreamError

Event = StreamEvent

SSE_CASES: dict[str, tuple[bytes, list[StreamEvent]]] = {
    "lf": (b"data: a\n\ndata: b\n\n", [Event("a"), Event("b")]),
    "crlf": (b"data: a\r\n\r\ndata: b\r\n\r\n", [Event("a"), Event("b")]),
    "cr": (b"data: a\r\rdata: b\r\r", [Event("a"), Event("b")]),
    "comments and keep-alives": (
        b": ping - 2024-01-01 00:00:00\r\n\r\ndata: a\n: in between\n\n",
        [Event("a")],
    ),
    "multi-line data": (b"data: one\ndata: two\ndata:\n\n", [Event("one\ntwo\n")]),
    "one space dropped, not more": (b"data:  a\ndata:b\n\n", [Event(" a\nb")]),
    "named events": (
        b'event: message\ndata: {"token": "x"}\n\n',
        [Event('{"token": "x"}', "message")],
    ),
    "event type resets": (b"event: ping\ndata: 1\n\ndata: 2\n\n", [Event("1", "ping"), Event("2")]),
    "id and retry ignored": (b"id: 7\nretry: 10\ndata: a\n\n", [Event("a")]),
    "no data, no event": (b"event: empty\n\n\n\n", []),
    "last event without its empty line": (
        b"data: a\n\ndata: [DONE]",
        [Event("a"), Event("[DONE]")],
    ),
    "last line with a lone CR": (b"data: a\r", [Event("a")]),
    "llama.cpp's error field": (
        b'data: {"content": "a"}\n\nerror: {"message": "boom"}\n\n',
        [Event('{"content": "a"}'), Event('{"message": "boom"}', "error")],
    ),
    "utf-8": ('data: "héllo 😀"\n\n'.encode(), [Event('"héllo 😀"')]),
    "empty": (b"", []),
}


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _events(parts: list[bytes], framing: str = "sse", max_line: int = 1000) -> list[Event]:
    return [e async for e in read_events(_chunks(parts), framing, max_line)]  # type: ignore[arg-type]


def _splits(raw: bytes) -> list[list[bytes]]:
    whole = [[raw]]
    bytewise = [[raw[i : i + 1] for i in range(len(raw))]]
    halves = [[raw[:i], raw[i:]] for i in range(1, len(raw))]
    return whole + bytewise + halves


@pytest.mark.parametrize(("raw", "expected"), SSE_CASES.values(), ids=SSE_CASES.keys())
async def test_sse_events_do_not_depend_on_how_the_bytes_were_cut(
    raw: bytes, expected: list[StreamEvent]
) -> None:
    for parts in _splits(raw):
        assert await _events(parts) == expected, parts


NDJSON_CASES: dict[str, tuple[bytes, list[str]]] = {
    "lines": (b'{"a": 1}\n{"b": 2}\n', ['{"a": 1}', '{"b": 2}']),
    "blank lines skipped": (b'{"a": 1}\n\n  \n{"b": 2}\r\n', ['{"a": 1}', '{"b": 2}']),
    "last line without its newline": (b'{"a": 1}\n{"done": true}', ['{"a": 1}', '{"done": true}']),
}


@pytest.mark.parametrize(("raw", "expected"), NDJSON_CASES.values(), ids=NDJSON_CASES.keys())
async def test_ndjson_lines_do_not_depend_on_how_the_bytes_were_cut(
    raw: bytes, expected: list[str]
) -> None:
    for parts in _splits(raw):
        assert [e.data for e in await _events(parts, "ndjson")] == expected, parts


@pytest.mark.parametrize(
    "parts",
    [[b"data: " + b"x" * 200 + b"\n\n"], [b"data: " + b"x" * 100, b"x" * 100]],
    ids=["terminated", "unterminated"],
)
async def test_a_line_longer_than_the_cap_is_refused(parts: list[bytes]) -> None:
    with pytest.raises(UpstreamError, match="longer than 64 bytes"):
        await _events(parts, max_line=64)


async def test_lines_up_to_the_cap_pass() -> None:
    line = b"x" * 64
    assert [line.decode()] == [x async for x in read_lines(_chunks([line + b"\n"]), 64)]
