"""Every backend streams, each against its fake streaming in the real server's framing.

Table-driven over the dialects of tests/fakes/upstream.py, like
test_backend_common.py: a streamed generation collects to the whole answer,
its request is the whole one plus the stream flag, its text arrives piece by
piece, errors before and inside the stream, a stream that breaks off, and a
stream closed early closing the upstream connection (the fake records when).
The limits of an exchange (trickling, silent and huge upstreams) are in
test_backend_limits.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import pytest

from proxy.backends import Backend
from proxy.backends.base import GenerationParams, TextDelta, collect
from proxy.errors import ContextLengthExceeded, UpstreamError
from tests.fakes.streams import split_tokens
from tests.fakes.upstream import BACKEND_FOR, DIALECTS, FakeUpstream

Connect = Callable[..., Backend]

#: The dialects that stream; webui's old blocking API answers whole (one delta).
STREAMING = [d for d in DIALECTS if d != "webui-legacy"]

PROMPT = "USER: count"
TEXT = 'one two three {"four": 4}\n five six seven eight nine ten'


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(params=STREAMING)
def streaming(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def stream_fake(streaming: str, fake_upstream: Callable[..., FakeUpstream]) -> FakeUpstream:
    return fake_upstream(streaming)


@pytest.fixture
def stream_backend(stream_fake: FakeUpstream, connect: Connect) -> Backend:
    return connect(stream_fake.backend_name, stream_fake.url)


async def deltas_of(backend: Backend, params: GenerationParams) -> list[TextDelta]:
    return [delta async for delta in backend.stream(PROMPT, params)]


# -- the same answer, in pieces ---------------------------------------------------

#: Dialects whose stream carries no token counts (the pipeline counts them itself).
NO_STREAMED_USAGE = {"llama-cpp-python"}


@pytest.mark.parametrize(
    "params",
    [
        GenerationParams(),
        GenerationParams(stop=["six"]),
        GenerationParams(max_tokens=3),
    ],
    ids=["eos", "stop-string", "max-tokens"],
)
async def test_a_streamed_generation_collects_to_the_whole_answer(
    dialect: str, fake: FakeUpstream, backend: Backend, params: GenerationParams
) -> None:
    fake.reply(TEXT, TEXT)
    whole = await backend.complete(PROMPT, params)
    deltas = await deltas_of(backend, params)
    streamed = await collect(_replay(deltas))

    assert (streamed.text, streamed.finish_reason) == (whole.text, whole.finish_reason)
    if dialect not in NO_STREAMED_USAGE:
        assert (streamed.prompt_tokens, streamed.completion_tokens) == (
            whole.prompt_tokens,
            whole.completion_tokens,
        )
    if dialect == "webui-legacy":  # no HTTP stream: the whole answer, one delta
        assert [d.text for d in deltas] == [whole.text]
        return
    # Text in pieces, token by token, then one last delta with the end and no text.
    *texts, last = deltas
    assert [d.text for d in texts] == split_tokens(whole.text)
    assert len(texts) > 1
    assert all(d.finish_reason is None for d in texts)
    assert last.text == "" and last.finish_reason is not None


async def test_the_streamed_request_is_the_whole_one_plus_the_stream_flag(
    dialect: str, fake: FakeUpstream, backend: Backend
) -> None:
    # Every parameter, a grammar and a JSON schema among them: the two bodies
    # are built by the same code, so they must not differ but for the flag.
    params = dataclasses.replace(
        EVERY_PARAM, json_schema={"type": "object", "properties": {"a": {"type": "string"}}}
    )
    await backend.complete(PROMPT, params)
    await deltas_of(backend, params)
    whole, streamed = fake.generation_requests
    path, flag = STREAMED_REQUEST[dialect]
    assert streamed.path == (path or whole.path)
    assert streamed.json == {**(whole.json or {}), **flag}


GRAMMAR = 'root ::= "{" [^}]* "}"'
EVERY_PARAM = GenerationParams(
    max_tokens=64,
    temperature=0.7,
    top_p=0.9,
    stop=["\nUSER:"],
    seed=42,
    presence_penalty=0.1,
    frequency_penalty=0.2,
    context_window=4096,
    grammar=GRAMMAR,
    model="fake-model",
)
OPENAI_FLAG = {"stream": True, "stream_options": {"include_usage": True}}

#: (the streamed request's path where it is not the whole one's, what it adds).
STREAMED_REQUEST: dict[str, tuple[str | None, dict[str, Any]]] = {
    "webui": (None, OPENAI_FLAG),
    # No HTTP stream: the same request, answered whole.
    "webui-legacy": (None, {}),
    "lmstudio": (None, OPENAI_FLAG),
    "lmstudio-legacy": (None, OPENAI_FLAG),
    # /completion knows no stream_options: its last object has the counts.
    "llama-server": (None, {"stream": True}),
    "llama-cpp-python": (None, OPENAI_FLAG),
    # The path makes it a stream.
    "koboldcpp": ("/api/extra/generate/stream", {}),
    # "stream": false becomes true; the schema stays in "format".
    "ollama": (None, {"stream": True}),
    "vllm": (None, OPENAI_FLAG),
    "openai-completions": (None, OPENAI_FLAG),
}


async def test_text_leaves_as_the_upstream_writes_it(
    stream_fake: FakeUpstream, stream_backend: Backend
) -> None:
    stream_fake.reply(TEXT)
    stream_fake.token_delay = 0.2
    stream = stream_backend.stream(PROMPT, GenerationParams())
    try:
        first = await anext(stream)
        # The first piece is here while the upstream is still writing the rest.
        assert first.text == "one"
        assert stream_fake.streamed_tokens < len(split_tokens(TEXT))
    finally:
        await stream.aclose()


async def test_an_answer_that_comes_whole_is_one_delta_and_the_end(
    dialect: str, fake: FakeUpstream, connect: Connect
) -> None:
    # A server that ignores the stream flag answers one JSON document.
    backend = connect(BACKEND_FOR[dialect], fake.url)
    fake.reply("one two")
    expected = await backend.complete(PROMPT, GenerationParams())
    fake.reply("one two")
    fake.fail(200, WHOLE_ANSWER[dialect])
    deltas = await deltas_of(backend, GenerationParams())
    if dialect == "webui-legacy":  # it always answers whole: one delta
        assert [d.text for d in deltas] == ["one two"]
        return
    assert [d.text for d in deltas] == ["one two", ""]
    assert deltas[-1].finish_reason == expected.finish_reason


#: A whole answer of "one two" as each dialect shapes it.
WHOLE_ANSWER: dict[str, dict[str, Any]] = {
    "webui": {"choices": [{"text": "one two", "finish_reason": "stop"}]},
    "webui-legacy": {"results": [{"text": "one two"}]},
    "lmstudio": {"choices": [{"text": "one two", "finish_reason": "stop"}]},
    "lmstudio-legacy": {"choices": [{"message": {"content": "one two"}, "finish_reason": "stop"}]},
    "llama-server": {"content": "one two", "stop": True, "stop_type": "eos"},
    "llama-cpp-python": {"choices": [{"text": "one two", "finish_reason": "stop"}]},
    "koboldcpp": {"results": [{"text": "one two", "finish_reason": "stop"}]},
    "ollama": {"response": "one two", "done": True, "done_reason": "stop"},
    "vllm": {"choices": [{"text": "one two", "finish_reason": "stop"}]},
    "openai-completions": {"choices": [{"text": "one two", "finish_reason": "stop"}]},
}


async def test_auto_streams_with_the_backend_it_found(
    stream_fake: FakeUpstream, connect: Connect
) -> None:
    stream_fake.reply(TEXT)
    deltas = await deltas_of(connect("auto", stream_fake.url), GenerationParams())
    assert "".join(d.text for d in deltas) == TEXT
    assert len(deltas) > 2


# -- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, "Internal Server Error"), (503, {"error": "model is loading"})],
    ids=["500", "503"],
)
async def test_an_error_status_before_the_stream_is_raised_as_for_a_whole_answer(
    status: int, body: Any, dialect: str, fake: FakeUpstream, backend: Backend
) -> None:
    fake.fail(status, body)
    with pytest.raises(UpstreamError) as whole:
        await backend.complete(PROMPT, GenerationParams())
    fake.fail(status, body)
    with pytest.raises(UpstreamError) as streamed:
        await deltas_of(backend, GenerationParams())
    assert type(streamed.value) is type(whole.value) is UpstreamError
    # The same words, but for koboldcpp's stream path.
    streamed_message = streamed.value.message.replace(
        "/api/extra/generate/stream", "/api/v1/generate"
    )
    assert streamed_message == whole.value.message
    assert f"HTTP {status}" in streamed.value.message


#: Servers that refuse an over-long prompt with an error status (the others cut it).
REFUSE_LONG_PROMPTS = ["lmstudio", "lmstudio-legacy", "llama-server", "vllm", "openai-completions"]


@pytest.mark.parametrize("refusing", REFUSE_LONG_PROMPTS)
async def test_an_over_long_prompt_is_refused_as_for_a_whole_answer(
    refusing: str, fake_upstream: Callable[..., FakeUpstream], connect: Connect
) -> None:
    fake = fake_upstream(refusing)
    backend = connect(fake.backend_name, fake.url)
    fake.context_window = 5
    long_prompt = "one two three four five six seven eight"
    params = GenerationParams(max_tokens=2, context_window=5)
    with pytest.raises(ContextLengthExceeded) as whole:
        await backend.complete(long_prompt, params)
    with pytest.raises(ContextLengthExceeded) as streamed:
        await collect(backend.stream(long_prompt, params))
    assert streamed.value.message == whole.value.message


async def test_llama_cpp_python_breaks_off_the_stream_of_an_over_long_prompt(
    fake_upstream: Callable[..., FakeUpstream], connect: Connect
) -> None:
    # It checks the length inside its stream: no status, no message, just the end.
    fake = fake_upstream("llama-cpp-python")
    fake.context_window = 5
    backend = connect(fake.backend_name, fake.url)
    with pytest.raises(UpstreamError, match="broke off its answer"):
        await collect(backend.stream("one two three four five six", GenerationParams()))


#: How each server reports a failure inside its stream: in words (its error
#: event, or koboldcpp's finish_reason), or by dropping the connection.
REPORTS_STREAM_ERRORS = {"llama-server", "vllm", "openai-completions", "ollama"}


async def test_an_error_inside_the_stream_is_an_upstream_error(
    streaming: str, stream_fake: FakeUpstream, stream_backend: Backend
) -> None:
    stream_fake.reply(TEXT)
    stream_fake.fail_stream(after_tokens=2, message="CUDA error: out of memory")
    received: list[str] = []
    with pytest.raises(UpstreamError) as caught:
        async for delta in stream_backend.stream(PROMPT, GenerationParams()):
            received.append(delta.text)
    assert received == split_tokens(TEXT)[:2]
    assert caught.value.status_code == 502
    if streaming in REPORTS_STREAM_ERRORS:
        assert "CUDA error: out of memory" in caught.value.message
    elif streaming == "koboldcpp":
        assert "finish_reason: error" in caught.value.message
    else:
        assert "broke off" in caught.value.message


@pytest.mark.parametrize("abort", [False, True], ids=["ended", "connection-dropped"])
async def test_a_stream_that_ends_before_its_end_is_an_upstream_error(
    abort: bool, stream_fake: FakeUpstream, stream_backend: Backend
) -> None:
    stream_fake.reply(TEXT)
    stream_fake.break_stream(after_tokens=3, abort=abort)
    received: list[str] = []
    with pytest.raises(UpstreamError) as caught:
        async for delta in stream_backend.stream(PROMPT, GenerationParams()):
            received.append(delta.text)
    assert received == split_tokens(TEXT)[:3]
    assert type(caught.value) is UpstreamError
    expected = "broke off its answer" if abort else "closed the stream before it finished"
    assert expected in caught.value.message


# -- closing early -----------------------------------------------------------------

LONG_TEXT = " ".join(f"w{i}" for i in range(40))


async def test_closing_the_stream_closes_the_upstream_connection(
    stream_fake: FakeUpstream, stream_backend: Backend
) -> None:
    stream_fake.reply(LONG_TEXT)
    stream_fake.token_delay = 0.1
    stream = stream_backend.stream(PROMPT, GenerationParams())
    assert (await anext(stream)).text == "w0"
    closed_at = time.monotonic()
    await stream.aclose()
    left_at = await asyncio.to_thread(stream_fake.wait_for_disconnect)
    assert left_at - closed_at < 1.0
    # It stopped generating: far fewer tokens went out than the answer has.
    assert stream_fake.streamed_tokens < 20


async def test_cancelling_the_reader_closes_the_upstream_connection(
    stream_fake: FakeUpstream, stream_backend: Backend
) -> None:
    stream_fake.reply(LONG_TEXT)
    stream_fake.token_delay = 0.1
    first = asyncio.Event()

    async def read() -> None:
        async for _ in stream_backend.stream(PROMPT, GenerationParams()):
            first.set()

    reader = asyncio.create_task(read())
    await asyncio.wait_for(first.wait(), 5)
    cancelled_at = time.monotonic()
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    left_at = await asyncio.to_thread(stream_fake.wait_for_disconnect)
    assert left_at - cancelled_at < 1.0


async def test_cancelling_a_whole_answer_closes_the_upstream_connection(
    dialect: str, fake: FakeUpstream, backend: Backend
) -> None:
    fake.delay = 5.0
    waiting = asyncio.create_task(backend.complete(PROMPT, GenerationParams()))
    while not fake.generation_requests:
        await asyncio.sleep(0.01)
    cancelled_at = time.monotonic()
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    left_at = await asyncio.to_thread(fake.wait_for_disconnect)
    assert left_at - cancelled_at < 1.0


async def _replay(deltas: list[TextDelta]) -> Any:
    for delta in deltas:
        yield delta


@pytest.mark.parametrize("reporting", sorted(REPORTS_STREAM_ERRORS))
async def test_an_error_inside_the_stream_never_shows_the_upstream_key(
    reporting: str, fake_upstream: Callable[..., FakeUpstream], connect: Connect
) -> None:
    # An upstream that echoes the request's Authorization header in its error.
    fake = fake_upstream(reporting)
    backend = connect(fake.backend_name, fake.url, api_key="sk-stream-secret-4242")
    fake.reply(TEXT)
    fake.fail_stream(after_tokens=1, message="denied: Authorization: Bearer sk-stream-secret-4242")
    with pytest.raises(UpstreamError) as caught:
        await collect(backend.stream(PROMPT, GenerationParams()))
    assert "denied" in caught.value.message
    assert "sk-stream-secret-4242" not in caught.value.message
