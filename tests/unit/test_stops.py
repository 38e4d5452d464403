"""The client's stop sequences cut by fcproxy: every split of the stream gives the one-shot cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from proxy.backends.base import Completion, TextDelta, collect
from proxy.backends.stops import cut_at_stops, cut_completion, first_stop, partial_stop_length

CASES = [
    # (text, stops, expected text, expected stop word)
    ("Hello ### more", ["###"], "Hello ", "###"),
    ("Hello world", ["###"], "Hello world", None),
    ("ends with ##", ["###"], "ends with ##", None),
    ("a STOP b END c", ["END", "STOP"], "a ", "STOP"),
    ("###start", ["###"], "", "###"),
    # The first stop to be complete wins, as an upstream checking each token finds it.
    ("x\n\nHuman: hi", ["\n\nHuman:", "\n\n"], "x", "\n\n"),
    ("abcd", ["abcd", "c"], "ab", "c"),
]


async def _deltas(pieces: list[str], finish: str = "stop") -> AsyncIterator[TextDelta]:
    for piece in pieces:
        yield TextDelta(text=piece)
    yield TextDelta(text="", finish_reason=finish, completion_tokens=9)


def _splits(text: str) -> list[list[str]]:
    """The text whole, a character at a time, and cut in two at every position."""
    return [[text], list(text), *([text[:i], text[i:]] for i in range(1, len(text)))]


@pytest.mark.parametrize(("text", "stops", "expected", "word"), CASES)
def test_every_split_cuts_where_the_whole_text_does(
    text: str, stops: list[str], expected: str, word: str | None
) -> None:
    assert cut_completion(Completion(text=text, finish_reason="stop"), stops).text == expected
    for pieces in _splits(text):
        got = asyncio.run(collect(cut_at_stops(_deltas(pieces), stops)))
        assert (got.text, got.stop_word) == (expected, word), pieces
        if word is None:  # no match: the upstream's own end passes through
            assert got.completion_tokens == 9


def test_a_match_closes_the_upstream_stream() -> None:
    closed = []

    async def upstream() -> AsyncIterator[TextDelta]:
        try:
            yield TextDelta(text="one ### two")
            yield TextDelta(text="never read")
        finally:
            closed.append(True)

    got = asyncio.run(collect(cut_at_stops(upstream(), ["###"])))
    assert (got.text, got.finish_reason, got.stop_word, closed) == ("one ", "stop", "###", [True])


def test_helpers() -> None:
    assert first_stop("ab END cd STOP", ["STOP", "END"]) == (3, "END")
    assert first_stop("abcd", ["abcd", "bc"]) == (1, "bc")
    assert first_stop("nothing", ["END"]) is None
    assert partial_stop_length("text EN", ["END"]) == 2
    assert partial_stop_length("text E", ["XY", "END"]) == 1
    assert partial_stop_length("text", ["END"]) == 0
