"""The client's stop sequences, applied by fcproxy where the upstream cannot say which matched.

Anthropic's Messages API answers ``stop_reason: "stop_sequence"`` with the
matched string in ``stop_sequence``. An upstream that applies the stops
itself cuts them out of the text and says only ``finish_reason: "stop"``,
the same as for the end-of-sequence token, so the match is lost. Only
llama-server's ``/completion`` names it (``"stop_type": "word",
"stopping_word": "###"``; ``server-task.cpp``, ``to_json_non_oaicompat``);
OpenAI's completions, llama-cpp-python, Ollama, LM Studio, koboldcpp and the
webui do not.

So the client's stop sequences (``GenerationParams.stop_sequences``) go
upstream only to a backend that reports the match
(``reports_stop_word``). Every other backend keeps them back and cuts the
text here, as it streams: text that could be the start of a stop sequence
is held until it is clearly one or clearly not, and a match ends the stream,
which closes the upstream request, so the model stops at once. The format's
own stops (``<|im_end|>``, ...) still go upstream: they end the turn
(``end_turn``), not a client's sequence.

::

    deltas = cut_at_stops(backend_stream, ["###"])
    # "Hello #", "## more"  ->  TextDelta("Hello "), TextDelta("", finish_reason="stop",
    #                                                         stop_word="###")
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Sequence

from proxy.backends.base import Completion, TextDelta


def first_stop(text: str, stops: Sequence[str]) -> tuple[int, str] | None:
    """The stop sequence that a model writing ``text`` completes first, and where it starts.

    The first to *end*, as an upstream that checks after each token sees it:
    with ``["abcd", "c"]``, ``"abcd"`` stops at ``"c"``.
    """
    found: tuple[int, int, str] | None = None
    for stop in stops:
        at = text.find(stop)
        if at >= 0 and (found is None or (at + len(stop), at) < found[:2]):
            found = (at + len(stop), at, stop)
    return None if found is None else (found[1], found[2])


def partial_stop_length(text: str, stops: Sequence[str]) -> int:
    """How many characters at the end of ``text`` could begin a stop sequence."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


async def cut_at_stops(
    deltas: AsyncGenerator[TextDelta, None], stops: Sequence[str]
) -> AsyncGenerator[TextDelta, None]:
    """``deltas`` up to the first stop sequence; a match ends them with ``stop_word`` set.

    The stream is closed on a match (closing the upstream request); the last
    delta then carries no token counts, which the usage step estimates.
    """
    held = ""
    async with contextlib.aclosing(deltas):
        async for delta in deltas:
            text = held + delta.text
            match = first_stop(text, stops)
            if match is not None:
                at, stop = match
                if at:
                    yield TextDelta(text=text[:at])
                yield TextDelta(text="", finish_reason="stop", stop_word=stop)
                return
            last = delta.finish_reason is not None
            keep = 0 if last else partial_stop_length(text, stops)
            held = text[len(text) - keep :]
            out = text[: len(text) - keep]
            said = (delta.prompt_tokens, delta.completion_tokens, delta.stop_word)
            if out or last or any(value is not None for value in said):
                yield TextDelta(
                    text=out,
                    finish_reason=delta.finish_reason,
                    prompt_tokens=delta.prompt_tokens,
                    completion_tokens=delta.completion_tokens,
                    stop_word=delta.stop_word,
                )
        if held:
            yield TextDelta(text=held)


def cut_completion(completion: Completion, stops: Sequence[str]) -> Completion:
    """A whole answer cut at its first stop sequence (a dialect that cannot stream)."""
    match = first_stop(completion.text, stops)
    if match is None:
        return completion
    at, stop = match
    return Completion(
        text=completion.text[:at],
        prompt_tokens=completion.prompt_tokens,
        finish_reason="stop",
        stop_word=stop,
    )
