"""The embedded backend streams: real llama.cpp in-process on the bundled SmolLM2-135M.

Its worker thread hands each token to the event loop; closing the stream (or
cancelling its reader) stops the generation at the next token and frees the
model for the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from proxy.backends.base import GenerationParams, TextDelta, collect

pytestmark = pytest.mark.e2e

PROMPT = (
    "<|im_start|>user\nWrite a long poem about the sea, eight lines at least.<|im_end|>\n"
    "<|im_start|>assistant\n"
)
GREEDY = GenerationParams(max_tokens=32, temperature=0.0, seed=1)


@pytest.fixture
async def embedded() -> AsyncIterator[object]:
    pytest.importorskip("llama_cpp", reason="the embedded extra is not installed")
    from proxy.backends.embedded import EmbeddedBackend, EmbeddedConfig

    backend = EmbeddedBackend(EmbeddedConfig(n_ctx=1024, n_threads=1))
    await backend.start()
    yield backend
    await backend.aclose()


async def test_the_embedded_model_streams_token_by_token(embedded: object) -> None:
    from proxy.backends.embedded import EmbeddedBackend

    assert isinstance(embedded, EmbeddedBackend)
    deltas = [delta async for delta in embedded.stream(PROMPT, GREEDY)]
    *texts, last = deltas
    assert len(texts) > 5
    assert all(d.text for d in texts)
    assert last.text == "" and last.finish_reason in ("stop", "length")
    assert last.prompt_tokens and last.completion_tokens
    whole = await embedded.complete(PROMPT, GREEDY)
    streamed = await collect(_replay(deltas))
    assert (streamed.text, streamed.finish_reason) == (whole.text, whole.finish_reason)


async def test_a_closed_stream_frees_the_model_for_the_next_request(embedded: object) -> None:
    from proxy.backends.embedded import EmbeddedBackend

    assert isinstance(embedded, EmbeddedBackend)
    stream = embedded.stream(PROMPT, GenerationParams(max_tokens=400))
    await anext(stream)
    started = time.monotonic()
    await stream.aclose()
    # Stopped at the next token, not at the 400th.
    assert time.monotonic() - started < 1.0
    assert not embedded._lock.locked()
    completion = await asyncio.wait_for(embedded.complete(PROMPT, GREEDY), 60)
    assert completion.text


async def test_a_cancelled_reader_frees_the_model_for_the_next_request(embedded: object) -> None:
    from proxy.backends.embedded import EmbeddedBackend

    assert isinstance(embedded, EmbeddedBackend)
    first = asyncio.Event()

    async def read() -> None:
        async for _ in embedded.stream(PROMPT, GenerationParams(max_tokens=400)):
            first.set()

    reader = asyncio.create_task(read())
    await asyncio.wait_for(first.wait(), 60)
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    assert not embedded._lock.locked()
    deltas = [d async for d in embedded.stream(PROMPT, GREEDY)]
    assert len(deltas) > 2


async def _replay(deltas: list[TextDelta]) -> AsyncIterator[TextDelta]:
    for delta in deltas:
        yield delta
