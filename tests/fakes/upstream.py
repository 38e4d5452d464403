"""A fake upstream LLM server that answers like webui, LM Studio, llama.cpp, koboldcpp, Ollama or vLLM.

No real webui or LM Studio can run in CI (they need a model file, a GPU, and
LM Studio is a desktop app), and a real llama.cpp server is too slow for the
fast suite (tests/e2e/ meets the real one), so the integration tests talk to
this instead. It is a real HTTP server (Starlette under uvicorn, in a
background thread, bound to 127.0.0.1 on a free port) that answers on the real
servers' paths with their field names and answer shapes, taken from their
sources:

- ``webui``, ``webui-legacy``: webui's ``extensions/openai/`` at v1.14
  (``modules/api/`` today) and ``extensions/api/blocking_api.py`` at v1.7;
- ``lmstudio``, ``lmstudio-legacy``: LM Studio's OpenAI-compatible server;
- ``llama-server``: llama.cpp's ``tools/server/`` (``server.cpp`` routes,
  ``server-task.cpp`` answer shapes, ``server-common.cpp`` error shapes);
- ``llama-cpp-python``: ``llama_cpp/server/`` (``app.py``, ``types.py``,
  ``errors.py``) and ``llama.py`` of llama-cpp-python 0.3.x;
- ``koboldcpp``: ``koboldcpp.py`` of github.com/LostRuins/koboldcpp (1.76 and
  1.102: ``generate()``, ``transform_genparams()``, ``generate_text()``,
  ``do_GET`` / ``do_POST``, ``get_capabilities()``), ``gpttype_adapter.cpp``
  for the prompt cut; koboldcpp also imitates llama-server's ``/props`` and
  Ollama's ``/api/tags`` and ``/api/version``, and so does this fake;
- ``ollama``: Ollama's ``docs/api.md``, ``api/types.go``, ``server/routes.go``
  and ``llm/llama_server.go`` (github.com/ollama/ollama, 2026);
- ``vllm``: vLLM's ``vllm/entrypoints/openai/`` (``protocol.py``,
  ``serving_engine.py``, ``serving_models.py``), errors in the nested
  ``{"error": {...}}`` shape of vLLM 0.10 on;
- ``openai-completions``: OpenAI's own legacy completions API (its
  ``context_length_exceeded`` error), standing for the other servers that
  only speak it (TabbyAPI, Aphrodite, ...).

It generates nothing: it serves the texts a test queued with
:meth:`FakeUpstream.reply`::

    with FakeUpstream("webui") as fake:
        fake.reply('{"function": "send_message", "params": {"message": "hi"}}')
        ...  # point a backend or the proxy at fake.url
        assert fake.generation_requests[0].json["max_tokens"] == 64

A token is a whitespace-separated word, everywhere: usage, the token-count
endpoints, max tokens, stop-at-limit and context windows. Stop strings end the
text before the first one found, and max tokens cuts it, as a real server would.

When a prompt does not fit ``context_window`` the fake does what the real
server does:

- ``webui`` / ``webui-legacy``: nothing visible. webui keeps the last
  ``truncation_length - max_tokens`` tokens of the prompt, drops the rest
  without a word and generates (``get_max_prompt_length`` in
  ``modules/text_generation.py``); :attr:`FakeUpstream.prompts_seen` shows what
  the model saw. ``context_window`` plays webui's ``truncation_length``
  setting; a request's own ``truncation_length`` wins, as in webui.
- ``lmstudio`` / ``lmstudio-legacy``: HTTP 400 with LM Studio 0.3's error,
  ``{"error": "Trying to keep the first N tokens when context the overflows.
  However, the model is loaded with context length of only M tokens, ..."}``
  (lmstudio-bug-tracker#237, #546).
- ``llama-server``: HTTP 400 ``exceed_context_size_error`` once the prompt
  fills the context (``n_prompt >= n_ctx``); a generation that runs into the
  end of the context stops there (``stop_type: "limit"``, ``truncated``).
- ``llama-cpp-python``: HTTP 400 ``context_length_exceeded`` once the prompt
  fills the context; otherwise ``max_tokens`` is lowered to the room left,
  silently (``Llama._create_completion``).
- ``koboldcpp``: nothing visible, like webui: it keeps the last
  ``max_context_length - max_length`` tokens (``gpttype_adapter.cpp``).
- ``ollama``: nothing visible either: with context shift (most models) it
  keeps the first ``num_keep`` tokens (4) and the end, freeing about half of
  the rest (``llm/llama_server.go``); with ``context_shift = False`` it
  answers 400 "the prompt is longer than the context length ...".
- ``vllm``: HTTP 400, nested error, once prompt + ``max_tokens`` exceeds
  ``max_model_len``.
- ``openai-completions``: HTTP 400 with OpenAI's ``context_length_exceeded``.

For the llama.cpp dialects ``context_window`` is the server's ``n_ctx``
(default 4096 for llama-server, 2048 for llama-cpp-python, their defaults);
for koboldcpp its ``--contextsize``, for Ollama the default ``num_ctx``, for
vLLM its ``max_model_len``.

Streaming: a generation request that asks for a stream (``"stream": true``;
Ollama unless ``"stream": false``; koboldcpp's ``/api/extra/generate/stream``)
gets the same answer streamed in that server's framing, one event per token
(tests/fakes/streams.py, with the sources), paced by
:attr:`FakeUpstream.token_delay`. ``webui-legacy`` has no HTTP stream and
answers whole. :meth:`FakeUpstream.break_stream` and
:meth:`FakeUpstream.fail_stream` break the next stream off or make it report an
error (where the server has a way to), :meth:`FakeUpstream.trickle` sends every
generation a byte at a time, :meth:`FakeUpstream.huge` makes the next one
huge. :attr:`FakeUpstream.disconnects` records when a client closed its
connection before its answer was complete; the fake then stops generating, as
the real servers do.

Embeddings (``/v1/embeddings`` everywhere but webui-legacy) are deterministic:
each token (word) has a vector derived from its SHA-256, and a text's vector is
the mean of its tokens' (:meth:`FakeUpstream.embedding`). With
``pooling = "none"`` (the llama.cpp dialects' default: what a chat model
loaded for embeddings does) the llama.cpp servers answer one vector per token
as the real ones do, and llama-server's ``/v1/embeddings`` refuses.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.fakes.streams import Framing, frame
from tests.support.server import ServerThread

DIALECTS = (
    "webui",
    "webui-legacy",
    "lmstudio",
    "lmstudio-legacy",
    "llama-server",
    "llama-cpp-python",
    "koboldcpp",
    "ollama",
    "vllm",
    "openai-completions",
)
LLAMA_CPP_DIALECTS = ("llama-server", "llama-cpp-python")
#: The fcproxy backend that speaks each dialect: one ``llamacpp`` for both llama.cpp
#: servers, ``openai-completions`` (alias ``vllm``) for vLLM.
BACKEND_FOR = {
    dialect: "llamacpp"
    if dialect in LLAMA_CPP_DIALECTS
    else "openai-completions"
    if dialect == "vllm"
    else dialect
    for dialect in DIALECTS
}
#: The version each server reports, where it reports one.
VERSIONS = {"koboldcpp": "1.102", "ollama": "0.12.6", "vllm": "0.11.0"}

#: Defaults the real servers apply when a request leaves the field out.
WEBUI_DEFAULT_MAX_TOKENS = 512  # extensions/openai/typing.py today (16 in v1.x)
WEBUI_LEGACY_DEFAULT_MAX_NEW_TOKENS = 200  # extensions/api/util.py build_parameters
LLAMA_CPP_PYTHON_DEFAULT_MAX_TOKENS = 16  # llama_cpp/server/types.py CreateCompletionRequest
KOBOLDCPP_DEFAULT_MAX_LENGTH = 180  # koboldcpp.py generate(), 1.76
OPENAI_DEFAULT_MAX_TOKENS = 16  # vLLM's CompletionRequest, OpenAI's completions API
#: n_ctx when the server is started without one (koboldcpp: --contextsize; Ollama:
#: num_ctx; vLLM and the generic server: the model's max_model_len).
DEFAULT_N_CTX = {
    "llama-server": 4096,
    "llama-cpp-python": 2048,
    "koboldcpp": 8192,
    "ollama": 4096,
    "vllm": 4096,
    "openai-completions": 4096,
}
#: What Ollama keeps of the prompt's start when it cuts (api.DefaultOptions NumKeep).
OLLAMA_NUM_KEEP = 4
#: A model's chat template as Ollama shows it: a Go template (ChatML here).
OLLAMA_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n"
)
#: Length of the fake embedding vectors.
EMBEDDING_DIM = 4

Answer = dict[str, Any] | Response
Handler = Callable[[dict[str, Any]], Awaitable[Answer]]
#: A failure's body: JSON (a dict), text, or made from the request (to echo it).
FailureBody = dict[str, Any] | str | Callable[["RecordedRequest"], dict[str, Any] | str]

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    #: The JSON body when it was a JSON object, else None.
    json: dict[str, Any] | None
    headers: dict[str, str]


class _MissingField(Exception):
    """A request lacks a field the real server requires."""


class _BrokenOff(Exception):
    """Raised inside a streamed answer: the server drops the connection mid-answer."""


@dataclass(frozen=True)
class _StreamFault:
    """What goes wrong with the next streamed answer, after how many tokens."""

    after_tokens: int
    #: "break": the stream ends without its end; "abort": the connection drops;
    #: "error": the server's error event (where it has one, else "abort").
    kind: str
    message: str = ""


#: A huge answer's token: 1 KiB, so that megabytes stream in a thousand events.
HUGE_TOKEN = "x" * 1023 + " "


class FakeUpstream:
    """A webui, LM Studio or llama.cpp server look-alike on ``url``; see the module docstring."""

    def __init__(self, dialect: str = "webui") -> None:
        self.dialect = dialect
        self.url = ""
        #: The name the fake reports as its loaded model.
        self.model = "fake-model"
        self.default_text = "Hello from the fake upstream."
        #: Seconds to wait before answering a generation request.
        self.delay = 0.0
        #: Tokens (words) that fit the model's context; None for no limit (the
        #: llama.cpp dialects: their default n_ctx).
        self.context_window: int | None = None
        #: What a llama.cpp server reports in /props.
        self.model_path = "/models/fake-model.Q4_K_M.gguf"
        self.chat_template = "{% for message in messages %}{{ message['content'] }}{% endfor %}"
        #: Whether embeddings are served (llama.cpp servers: started with --embedding(s)).
        self.embeddings_enabled = True
        #: "none": the model has no pooling, the llama.cpp servers answer per-token vectors.
        self.pooling = "none" if dialect in LLAMA_CPP_DIALECTS else "mean"
        #: llama-server: still loading its model, every route but the model list answers 503.
        self.loading = False
        #: Ollama: cut an over-long prompt (context shift) instead of refusing it.
        self.context_shift = True
        #: Ollama: the model is in memory (listed by /api/ps).
        self.ollama_loaded = True
        #: The version the server reports (koboldcpp, Ollama, vLLM).
        self.version = VERSIONS.get(dialect, "")
        self.requests: list[RecordedRequest] = []
        #: The prompt of each generation as the model saw it (after webui's silent cut).
        self.prompts_seen: list[str] = []
        self._replies: deque[str] = deque()
        #: Writes the answer from the prompt when no reply is queued: for a client
        #: whose requests the test does not order (Claude Code's side requests).
        self.script: Callable[[str], str] | None = None
        self._failures: deque[tuple[int, FailureBody]] = deque()
        self._embedding_failures: deque[tuple[int, FailureBody]] = deque()
        self._routes: dict[tuple[str, str], Handler] = {}
        self._generation_routes: set[tuple[str, str]] = set()
        #: Seconds before each token of a streamed answer.
        self.token_delay = 0.0
        #: Seconds between the bytes of every generation answer (None: all at once).
        self.trickle_delay: float | None = None
        #: When (time.monotonic()) a client closed its connection before its answer
        #: was complete, one entry per connection.
        self.disconnects: list[float] = []
        #: Tokens of streamed answers handed to the server so far.
        self.streamed_tokens = 0
        self._stream_faults: deque[_StreamFault] = deque()
        self._huge: deque[int] = deque()
        #: koboldcpp: the last generation's figures, for /api/extra/perf.
        self._kobold_last: dict[str, Any] = {}
        self.become(dialect)
        if dialect == "ollama":
            self.chat_template = OLLAMA_TEMPLATE
        self._stopping = threading.Event()
        self._server: ServerThread | None = None

    # -- what tests call -------------------------------------------------------

    def reply(self, *texts: str) -> None:
        """Queue generated texts, served in order to generation requests."""
        self._replies.extend(texts)

    def become(self, dialect: str) -> None:
        """Answer as ``dialect`` from now on, on the same port: another server took its place."""
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; available: {', '.join(DIALECTS)}")
        self.dialect = dialect
        self._routes = self._routes_for(dialect)
        self._generation_routes = {
            ("POST", path)
            for path in (
                "/v1/completions",
                "/v1/chat/completions",
                "/api/v1/generate",
                "/completion",
                "/api/generate",
                "/api/extra/generate/stream",
            )
        } & set(self._routes)

    def remove_route(self, method: str, path: str) -> None:
        """Answer 404 on ``path`` from now on, like an older build that lacks it."""
        del self._routes[(method, path)]
        self._generation_routes.discard((method, path))

    def fail(self, status: int, body: FailureBody) -> None:
        """Answer the next generation request with this status and body (JSON if a dict).

        A callable body is called with the request: ``fake.fail(401, lambda r:
        f"bad key: {r.headers['authorization']}")`` is a server that echoes
        the credentials it was sent.
        """
        self._failures.append((status, body))

    def break_stream(self, after_tokens: int, *, abort: bool = False) -> None:
        """End the next streamed answer after ``after_tokens`` tokens, without its end.

        ``abort``: drop the connection mid-answer (an incomplete chunked body)
        instead of ending the body cleanly.
        """
        self._stream_faults.append(_StreamFault(after_tokens, "abort" if abort else "break"))

    def fail_stream(self, after_tokens: int, message: str = "CUDA error: out of memory") -> None:
        """Report an error after ``after_tokens`` tokens of the next streamed answer.

        In the server's own way (llama-server and vLLM an error object, Ollama
        an error line, koboldcpp ``finish_reason: "error"``); the servers that
        have none (webui, LM Studio, llama-cpp-python) drop the connection.
        """
        self._stream_faults.append(_StreamFault(after_tokens, "error", message))

    def trickle(self, delay: float) -> None:
        """Send every generation answer one byte at a time, ``delay`` seconds apart."""
        self.trickle_delay = delay

    def huge(self, size: int) -> None:
        """Make the next generation ``size`` bytes of text, whatever its limits say."""
        self._huge.append(size)

    def wait_for_disconnect(self, timeout: float = 2.0) -> float:
        """When the first client disconnect was recorded; AssertionError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not self.disconnects:
            assert time.monotonic() < deadline, f"no client disconnect within {timeout:g} s"
            time.sleep(0.005)
        return self.disconnects[0]

    def fail_embeddings(self, status: int, body: FailureBody) -> None:
        """Answer the next embeddings request with this status and body (JSON if a dict)."""
        self._embedding_failures.append((status, body))

    @staticmethod
    def prompt_tokens(text: str) -> int:
        """How the fake counts tokens: whitespace-separated words."""
        return len(text.split())

    @staticmethod
    def token_vectors(text: str) -> list[list[float]]:
        """One vector per token (word) of ``text``: what a model without pooling answers."""
        return [_word_vector(word) for word in text.split() or [""]]

    @classmethod
    def embedding(cls, text: str) -> list[float]:
        """The vector of ``text``: the mean of its token vectors (mean pooling)."""
        vectors = cls.token_vectors(text)
        return [sum(column) / len(vectors) for column in zip(*vectors, strict=True)]

    @property
    def grammars(self) -> list[str | None]:
        """The GBNF grammar each generation request carried (``grammar`` or ``grammar_string``)."""
        return [
            (r.json or {}).get("grammar", (r.json or {}).get("grammar_string"))
            for r in self.generation_requests
        ]

    @property
    def backend_name(self) -> str:
        """The ``--backend`` that talks to this fake's dialect."""
        return BACKEND_FOR[self.dialect]

    @property
    def listed_model(self) -> str:
        """The model's name as the server lists it ("koboldcpp/m", "m:latest", ...)."""
        if self.dialect == "koboldcpp":
            return f"koboldcpp/{self.model}"
        if self.dialect == "ollama" and ":" not in self.model:
            return f"{self.model}:latest"
        return self.model

    @property
    def generation_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if (r.method, r.path) in self._generation_routes]

    def only_generation_request(self) -> RecordedRequest:
        """The one generation request received; AssertionError unless there was exactly one."""
        received = self.generation_requests
        assert len(received) == 1, f"expected 1 generation request, got {len(received)}"
        return received[0]

    def start(self, port: int = 0) -> FakeUpstream:
        """Serve on a free port of 127.0.0.1 (or ``port``, to come back where it was);
        return once the port answers (10 s at most)."""
        self._stopping.clear()
        self._server = ServerThread(
            self.asgi_app(), name=f"fake-{self.dialect}", lifespan="off"
        ).start(port=port)
        self.url = self._server.url
        return self

    def asgi_app(self) -> Starlette:
        """The fake as an ASGI app, for serving it some other way (bench/ runs it alone)."""
        return Starlette(
            routes=[Route("/{path:path}", self._dispatch, methods=_METHODS)],
            middleware=[Middleware(_ConnectionWatch, on_disconnect=self._client_left)],
        )

    def _client_left(self) -> None:
        self.disconnects.append(time.monotonic())

    def stop(self) -> None:
        """Stop serving and wait for the server thread (idempotent)."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.stop()
        self._server = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- HTTP ------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        body = await _json_object(request)
        key = (request.method, request.url.path)
        recorded = RecordedRequest(request.method, request.url.path, body, dict(request.headers))
        self.requests.append(recorded)
        handler = self._routes.get(key)
        if handler is None:
            return self._not_found()
        if self.loading and self.dialect == "llama-server" and "models" not in key[1]:
            return _llama_server_error(503, "Loading model", "unavailable_error")
        failures = None
        if key in self._generation_routes:
            await self._pause(self.delay)
            failures = self._failures
        elif "embedding" in key[1]:
            failures = self._embedding_failures
        if failures:
            status, payload = failures.popleft()
            if callable(payload):
                payload = payload(recorded)
            if isinstance(payload, str):
                return PlainTextResponse(payload, status_code=status)
            return JSONResponse(payload, status_code=status)
        try:
            answer = await handler(body or {})
        except _MissingField as exc:
            return self._missing_field(str(exc))
        response = answer if isinstance(answer, Response) else JSONResponse(answer)
        if key not in self._generation_routes:
            return response
        if self._wants_stream(key[1], body or {}):
            streamed = self._streamed(answer, body or {})
            if streamed is not None:
                response = streamed
        if self.trickle_delay is not None:
            response = self._trickled(response, self.trickle_delay)
        return response

    # -- streaming -------------------------------------------------------------

    def _wants_stream(self, path: str, body: dict[str, Any]) -> bool:
        if self.dialect == "koboldcpp":
            return path == "/api/extra/generate/stream"
        if self.dialect == "ollama":
            return body.get("stream", True) is not False  # Ollama streams by default
        if self.dialect == "webui-legacy":
            return False  # the blocking API ignores it
        return body.get("stream") is True

    def _streamed(self, answer: Answer, body: dict[str, Any]) -> Response | None:
        """``answer`` as the dialect streams it; None: an error answered as it is."""
        fault = self._stream_faults.popleft() if self._stream_faults else None
        message = fault.message if fault else ""
        if isinstance(answer, Response):
            if self.dialect != "llama-cpp-python" or answer.status_code != 400:
                return None
            # llama-cpp-python checks the prompt inside its stream: it breaks off.
            framing = Framing(media_type="text/event-stream; charset=utf-8", broken_off=True)
        else:
            framing = frame(self.dialect, answer, body, message)
        return StreamingResponse(self._stream_body(framing, fault), media_type=framing.media_type)

    async def _stream_body(self, framing: Framing, fault: _StreamFault | None) -> Any:
        if framing.broken_off:
            raise _BrokenOff("the prompt is longer than the context")
        for part in framing.head:
            yield part
        for index, token in enumerate([*framing.tokens, None]):
            if fault is not None and index == fault.after_tokens:
                if fault.kind == "break":
                    return
                if fault.kind == "error" and framing.error is not None:
                    for part in framing.error:
                        yield part
                    return
                raise _BrokenOff(f"stream broken off after {index} tokens")
            if token is None:
                break
            await self._pause(self.token_delay)
            self.streamed_tokens += 1
            yield token
        for part in framing.tail:
            yield part

    @staticmethod
    def _trickled(response: Response, delay: float) -> Response:
        """``response`` sent one byte at a time, ``delay`` seconds apart."""
        body_iterator = getattr(response, "body_iterator", None)

        async def whole_body() -> Any:
            yield response.body

        async def trickle() -> Any:
            async for chunk in body_iterator or whole_body():
                data = chunk if isinstance(chunk, bytes) else str(chunk).encode()
                for byte in data:
                    await asyncio.sleep(delay)
                    yield bytes([byte])

        headers = {
            name: value
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "content-type")
        }
        return StreamingResponse(
            trickle(),
            status_code=response.status_code,
            headers=headers,
            media_type=response.media_type or response.headers.get("content-type"),
        )

    async def _pause(self, seconds: float) -> None:
        # Short naps instead of one sleep, so that stop() is not kept waiting.
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping.is_set():
            await asyncio.sleep(min(0.02, max(deadline - time.monotonic(), 0)))

    def _not_found(self) -> Response:
        if self.dialect == "koboldcpp":  # do_GET / do_POST fall through to this
            message = (
                "Error: KoboldCpp HTTP Server is running, but this endpoint does not exist. "
                "Please check the URL."
            )
            return PlainTextResponse(message, status_code=404, media_type="text/html")
        if self.dialect == "ollama":  # gin's NoRoute
            return PlainTextResponse("404 page not found", status_code=404)
        return JSONResponse({"detail": "Not Found"}, status_code=404)  # FastAPI's

    def _missing_field(self, field: str) -> Response:
        if self.dialect == "webui":
            # FastAPI's validation error, as webui's pydantic models produce it.
            detail = [{"type": "missing", "loc": ["body", field], "msg": "Field required"}]
            return JSONResponse({"detail": detail}, status_code=422)
        if self.dialect == "webui-legacy":
            # The old http.server handler died on the KeyError.
            return PlainTextResponse("Internal Server Error", status_code=500)
        if self.dialect == "llama-server":
            # json::at throws; handle_completions_impl answers it as an invalid request.
            message = f"[json.exception.out_of_range.403] key '{field}' not found"
            return _llama_server_error(400, message, "invalid_request_error")
        return JSONResponse({"error": f"'{field}' is required"}, status_code=400)

    def _routes_for(self, dialect: str) -> dict[tuple[str, str], Handler]:
        if dialect == "webui":
            return {
                ("POST", "/v1/completions"): self._webui_completion,
                ("POST", "/v1/internal/token-count"): self._webui_token_count,
                ("GET", "/v1/models"): self._openai_models,
                ("GET", "/v1/internal/model/info"): self._webui_model_info,
                ("POST", "/v1/embeddings"): self._webui_embeddings,
            }
        if dialect == "llama-server":
            return {
                ("POST", "/completion"): self._llama_server_completion,
                ("POST", "/completions"): self._llama_server_completion,
                ("GET", "/props"): self._llama_server_props,
                ("GET", "/health"): self._llama_server_health,
                ("GET", "/v1/models"): self._llama_server_models,
                ("GET", "/models"): self._llama_server_models,
                ("POST", "/tokenize"): self._llama_server_tokenize,
                ("POST", "/v1/embeddings"): self._llama_server_oai_embeddings,
                ("POST", "/embeddings"): self._llama_server_embeddings,
                ("POST", "/embedding"): self._llama_server_embeddings,
            }
        if dialect == "koboldcpp":
            return {
                ("POST", "/api/v1/generate"): self._kobold_generate,
                ("POST", "/api/extra/generate/stream"): self._kobold_generate,
                ("GET", "/api/extra/perf"): self._kobold_perf,
                ("GET", "/api/v1/model"): self._kobold_model,
                ("GET", "/api/extra/version"): self._kobold_version,
                ("GET", "/api/extra/true_max_context_length"): self._kobold_context,
                ("GET", "/api/v1/config/max_context_length"): self._kobold_context,
                ("POST", "/api/extra/tokencount"): self._kobold_token_count,
                ("POST", "/v1/embeddings"): self._kobold_embeddings,
                # What koboldcpp imitates of other servers' APIs.
                ("GET", "/props"): self._kobold_props,
                ("GET", "/v1/models"): self._kobold_openai_models,
                ("GET", "/api/tags"): self._kobold_ollama_tags,
                ("GET", "/api/version"): self._kobold_ollama_version,
            }
        if dialect == "ollama":
            return {
                ("POST", "/api/generate"): self._ollama_generate,
                ("GET", "/api/tags"): self._ollama_tags,
                ("GET", "/api/ps"): self._ollama_ps,
                ("POST", "/api/show"): self._ollama_show,
                ("GET", "/api/version"): self._ollama_version,
                ("POST", "/api/embed"): self._ollama_embed,
            }
        if dialect in ("vllm", "openai-completions"):
            routes: dict[tuple[str, str], Handler] = {
                ("POST", "/v1/completions"): self._openai_completion,
                ("GET", "/v1/models"): self._openai_server_models,
                ("POST", "/v1/embeddings"): self._openai_server_embeddings,
            }
            if dialect == "vllm":
                routes[("POST", "/tokenize")] = self._vllm_tokenize
                routes[("GET", "/version")] = self._vllm_version
                routes[("GET", "/health")] = self._vllm_health
            return routes
        if dialect == "llama-cpp-python":
            return {
                ("GET", "/openapi.json"): self._llama_cpp_python_openapi,
                ("POST", "/v1/completions"): self._llama_cpp_python_completion,
                ("GET", "/v1/models"): self._llama_cpp_python_models,
                ("POST", "/extras/tokenize"): self._llama_cpp_python_tokenize,
                ("POST", "/extras/tokenize/count"): self._llama_cpp_python_token_count,
                ("POST", "/v1/embeddings"): self._llama_cpp_python_embeddings,
            }
        if dialect == "webui-legacy":
            return {
                ("POST", "/api/v1/generate"): self._legacy_generate,
                ("POST", "/api/v1/token-count"): self._legacy_token_count,
                ("GET", "/api/v1/model"): self._legacy_model,
            }
        # LM Studio serves both endpoints; the two dialects differ only in the client.
        return {
            ("POST", "/v1/completions"): self._lmstudio_completion,
            ("POST", "/v1/chat/completions"): self._lmstudio_chat,
            ("GET", "/v1/models"): self._openai_models,
            ("GET", "/api/v0/models"): self._lmstudio_rest_models,
            ("POST", "/v1/embeddings"): self._lmstudio_embeddings,
        }

    # -- text-generation-webui ---------------------------------------------------

    async def _webui_completion(self, body: dict[str, Any]) -> Answer:
        prompt = _required_text(body, "prompt")
        max_tokens = body.get("max_tokens") or WEBUI_DEFAULT_MAX_TOKENS
        text, finish_reason = self._generate(self._webui_cut(prompt, body, max_tokens), body)
        # webui counts the whole prompt in usage, before its cut (completions.py).
        return self._openai_answer(
            f"conv-{time.time_ns()}", "text_completion", prompt, text, finish_reason
        )

    async def _webui_token_count(self, body: dict[str, Any]) -> Answer:
        return {"length": self.prompt_tokens(_required_text(body, "text"))}

    async def _webui_model_info(self, body: dict[str, Any]) -> Answer:
        return {"model_name": self.model, "lora_names": [], "loader": "llama.cpp"}

    async def _webui_embeddings(self, body: dict[str, Any]) -> Answer:
        texts = _inputs(body)
        if not texts:
            return JSONResponse({"detail": "Missing required argument input"}, status_code=400)
        # A sentence-transformers model of its own; it never counts tokens
        # (modules/api/embeddings.py).
        answer = self._openai_embeddings(texts, pooled=True)
        answer["model"] = "sentence-transformers/all-mpnet-base-v2"
        answer["usage"] = {"prompt_tokens": 0, "total_tokens": 0}
        return answer

    async def _legacy_generate(self, body: dict[str, Any]) -> Answer:
        prompt = _required_text(body, "prompt")
        max_tokens = body.get("max_new_tokens") or WEBUI_LEGACY_DEFAULT_MAX_NEW_TOKENS
        text, _ = self._generate(self._webui_cut(prompt, body, max_tokens), body)
        return {"results": [{"text": text}]}

    async def _legacy_token_count(self, body: dict[str, Any]) -> Answer:
        return {"results": [{"tokens": self.prompt_tokens(_required_text(body, "prompt"))}]}

    async def _legacy_model(self, body: dict[str, Any]) -> Answer:
        return {"result": self.model}

    def _webui_cut(self, prompt: str, body: dict[str, Any], max_tokens: int) -> str:
        """The prompt webui's model sees: its last ``truncation_length - max_tokens`` words."""
        window = body.get("truncation_length") or self.context_window
        if not window:
            return prompt
        return _keep_last(prompt, window - max_tokens)

    # -- LM Studio -----------------------------------------------------------------

    async def _lmstudio_completion(self, body: dict[str, Any]) -> Answer:
        prompt = _required_text(body, "prompt")
        if (too_long := self._lmstudio_overflow(prompt)) is not None:
            return too_long
        text, finish_reason = self._generate(prompt, body)
        return self._openai_answer(
            f"cmpl-{secrets.token_hex(12)}", "text_completion", prompt, text, finish_reason
        )

    async def _lmstudio_chat(self, body: dict[str, Any]) -> Answer:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _MissingField("messages")
        prompt = "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        if (too_long := self._lmstudio_overflow(prompt)) is not None:
            return too_long
        text, finish_reason = self._generate(prompt, body)
        answer = self._openai_answer(
            f"chatcmpl-{secrets.token_hex(12)}", "chat.completion", prompt, text, finish_reason
        )
        answer["system_fingerprint"] = self.model
        return answer

    async def _lmstudio_rest_models(self, body: dict[str, Any]) -> Answer:
        # LM Studio's own REST API (0.3.6 on), docs/api/rest-api.
        model = {
            "id": self.model,
            "object": "model",
            "type": "llm",
            "publisher": "lmstudio-community",
            "arch": "llama",
            "compatibility_type": "gguf",
            "quantization": "Q4_K_M",
            "state": "loaded",
            "max_context_length": 32768,
        }
        return {"object": "list", "data": [model]}

    async def _lmstudio_embeddings(self, body: dict[str, Any]) -> Answer:
        answer = self._openai_embeddings(_inputs(body), pooled=True)
        answer["model"] = body.get("model") or self.model
        return answer

    def _lmstudio_overflow(self, prompt: str) -> Response | None:
        tokens = self.prompt_tokens(prompt)
        if self.context_window is None or tokens <= self.context_window:
            return None
        message = (
            f"Trying to keep the first {tokens} tokens when context the overflows. However, "
            f"the model is loaded with context length of only {self.context_window} tokens, "
            "which is not enough. Try to load the model with a larger context length, or "
            "provide a shorter input"
        )
        return JSONResponse({"error": message}, status_code=400)

    # -- llama.cpp's llama-server ------------------------------------------------

    def _n_ctx(self) -> int:
        return self.context_window or DEFAULT_N_CTX[self.dialect]

    async def _llama_server_completion(self, body: dict[str, Any]) -> Answer:
        prompt = _required_text(body, "prompt")
        n_prompt, n_ctx = self.prompt_tokens(prompt), self._n_ctx()
        if n_prompt >= n_ctx:
            # server-context.cpp refuses a prompt that leaves no room (>=, not >).
            message = (
                f"request ({n_prompt} tokens) exceeds the available context size "
                f"({n_ctx} tokens), try increasing it"
            )
            return _llama_server_error(
                400, message, "exceed_context_size_error", n_prompt_tokens=n_prompt, n_ctx=n_ctx
            )
        # n_predict, else max_tokens, else the server's -n (-1: until EOS or the context ends).
        n_predict = body.get("n_predict", body.get("max_tokens", -1))
        room = n_ctx - n_prompt
        limit = room if n_predict is None or n_predict < 0 else min(n_predict, room)
        text, stop_type, word = self._generate_until(prompt, body, limit)
        n_decoded = self.prompt_tokens(text)
        settings = {
            "n_predict": n_predict,
            "max_tokens": n_predict,
            "stop": body.get("stop", []),
            "grammar": body.get("grammar", ""),
            "temperature": body.get("temperature", 0.8),
            "top_p": body.get("top_p", 0.95),
            "seed": body.get("seed", 4294967295),
        }
        return {
            "index": 0,
            "content": text,
            "tokens": [],
            "id_slot": 0,
            "stop": True,
            "model": body.get("model") or self.model,
            "tokens_predicted": n_decoded,
            "tokens_evaluated": n_prompt,
            "generation_settings": settings,
            "prompt": prompt,
            "has_new_line": "\n" in text,
            # Ran into the end of the context (not the n_predict budget).
            "truncated": stop_type == "limit" and limit == room,
            "stop_type": stop_type,
            "stopping_word": word,
            "tokens_cached": 0,
            "timings": {
                "cache_n": 0,
                "prompt_n": n_prompt,
                "prompt_ms": 1.0,
                "prompt_per_token_ms": 1.0 / max(n_prompt, 1),
                "prompt_per_second": 1000.0 * n_prompt,
                "predicted_n": n_decoded,
                "predicted_ms": 1.0,
                "predicted_per_token_ms": 1.0 / max(n_decoded, 1),
                "predicted_per_second": 1000.0 * n_decoded,
            },
        }

    async def _llama_server_props(self, body: dict[str, Any]) -> Answer:
        return {
            "default_generation_settings": {
                "params": {"n_predict": -1, "temperature": 0.8, "top_p": 0.95},
                "n_ctx": self._n_ctx(),
            },
            "total_slots": 1,
            "model_alias": self.model,
            "model_path": self.model_path,
            "modalities": {"vision": False, "audio": False},
            "endpoint_slots": True,
            "endpoint_props": False,
            "endpoint_metrics": False,
            "webui": True,
            "chat_template": self.chat_template,
            "bos_token": "<|im_start|>",
            "eos_token": "<|im_end|>",
            "build_info": "b6795-fake",
        }

    async def _llama_server_health(self, body: dict[str, Any]) -> Answer:
        return {"status": "ok"}

    async def _llama_server_models(self, body: dict[str, Any]) -> Answer:
        # The id is the alias, else the model path (server.cpp get_models).
        model = {
            "id": self.model,
            "object": "model",
            "created": int(time.time()),
            "owned_by": "llamacpp",
            "meta": {"n_ctx_train": 8192, "n_embd": 576, "n_vocab": 49152},
        }
        listing = {"name": self.model, "model": self.model, "type": "model", "details": {}}
        return {"models": [listing], "object": "list", "data": [model]}

    async def _llama_server_tokenize(self, body: dict[str, Any]) -> Answer:
        return {"tokens": _token_ids(str(body.get("content", "")))}

    async def _llama_server_oai_embeddings(self, body: dict[str, Any]) -> Answer:
        if (refused := self._llama_server_no_embeddings()) is not None:
            return refused
        if self.pooling == "none":
            message = (
                "Pooling type 'none' is not OAI compatible. Please use a different pooling type"
            )
            return _llama_server_error(400, message, "invalid_request_error")
        answer = self._openai_embeddings(_inputs(body), pooled=True)
        answer["model"] = body.get("model") or self.model
        return answer

    async def _llama_server_embeddings(self, body: dict[str, Any]) -> Answer:
        if (refused := self._llama_server_no_embeddings()) is not None:
            return refused
        texts = _inputs({"input": body.get("input", body.get("content"))})
        # Not OpenAI's shape: a bare list, each embedding a list of rows (one
        # per token without pooling, one pooled row otherwise; server-task.cpp).
        return JSONResponse(
            [
                {
                    "index": i,
                    "embedding": self.token_vectors(text)
                    if self.pooling == "none"
                    else [self.embedding(text)],
                }
                for i, text in enumerate(texts)
            ]
        )

    def _llama_server_no_embeddings(self) -> Response | None:
        if self.embeddings_enabled:
            return None
        message = "This server does not support embeddings. Start it with `--embeddings`"
        return _llama_server_error(501, message, "not_supported_error")

    # -- llama-cpp-python's server ---------------------------------------------------

    async def _llama_cpp_python_completion(self, body: dict[str, Any]) -> Answer:
        prompt = body.get("prompt", "")  # optional in CreateCompletionRequest
        if isinstance(prompt, list):
            prompt = prompt[0] if prompt else ""
        n_prompt, n_ctx = self.prompt_tokens(prompt), self._n_ctx()
        requested = body.get("max_tokens", LLAMA_CPP_PYTHON_DEFAULT_MAX_TOKENS)
        if n_prompt >= n_ctx:
            # llama.py raises "Requested tokens (N) exceed context window of M";
            # server/errors.py turns that into OpenAI's error.
            message = (
                f"This model's maximum context length is {n_ctx} tokens, however you "
                f"requested {(requested or 0) + n_prompt} tokens ({n_prompt} in your prompt; "
                f"{requested} for the completion). Please reduce your prompt; or completion "
                "length."
            )
            error = {
                "message": message,
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
            return JSONResponse({"error": error}, status_code=400)
        # None or <= 0: until EOS or the context ends; never past the context.
        room = n_ctx - n_prompt
        limit = room if requested is None or requested <= 0 else min(requested, room)
        text, stop_type, _ = self._generate_until(prompt, body, limit)
        finish_reason = "length" if stop_type == "limit" else "stop"
        answer = self._openai_answer(
            f"cmpl-{secrets.token_hex(16)}", "text_completion", prompt, text, finish_reason
        )
        answer["model"] = body.get("model") or self.model_path
        return answer

    async def _llama_cpp_python_openapi(self, body: dict[str, Any]) -> Answer:
        # FastAPI(title="🦙 llama.cpp Python API", version=llama_cpp.__version__), app.py.
        info = {"title": "🦙 llama.cpp Python API", "version": "0.3.36"}
        return {"openapi": "3.1.0", "info": info, "paths": {}}

    async def _llama_cpp_python_models(self, body: dict[str, Any]) -> Answer:
        model = {"id": self.model, "object": "model", "owned_by": "me", "permissions": []}
        return {"object": "list", "data": [model]}

    async def _llama_cpp_python_tokenize(self, body: dict[str, Any]) -> Answer:
        return {"tokens": _token_ids(_required_text(body, "input"))}

    async def _llama_cpp_python_token_count(self, body: dict[str, Any]) -> Answer:
        return {"count": self.prompt_tokens(_required_text(body, "input"))}

    async def _llama_cpp_python_embeddings(self, body: dict[str, Any]) -> Answer:
        if not self.embeddings_enabled:
            # Llama.embed() raises; RouteErrorHandler answers any other error with 500.
            error = {
                "message": "Llama model must be created with embedding=True to call this method",
                "type": "internal_server_error",
                "param": None,
                "code": None,
            }
            return JSONResponse({"error": error}, status_code=500)
        # Per-token vectors when the model has no pooling (Llama.embed).
        answer = self._openai_embeddings(_inputs(body), pooled=self.pooling != "none")
        answer["model"] = body.get("model") or self.model_path
        return answer

    # -- koboldcpp -------------------------------------------------------------------

    async def _kobold_generate(self, body: dict[str, Any]) -> Answer:
        prompt = str(body.get("prompt", ""))  # genparams.get('prompt', "")
        max_length = body.get("max_length", KOBOLDCPP_DEFAULT_MAX_LENGTH)
        # max_context_length is capped at --contextsize; the prompt is cut to
        # its last window - max_length tokens (gpttype_adapter.cpp).
        window = min(body.get("max_context_length") or self._n_ctx(), self._n_ctx())
        seen = _keep_last(prompt, window - max_length)
        stop = body.get("stop_sequence") or []
        text, stop_type, word = self._generate_until(seen, {"stop": stop}, max_length)
        if word and not body.get("trim_stop", False):  # trim_stop's default before 1.8x
            text += word
        result: dict[str, Any] = {
            "text": text,
            "tool_calls": [],
            # currfinishreason = "length" if stopreason != 1 else "stop": only EOS is "stop".
            "finish_reason": "stop" if stop_type == "eos" else "length",
            "logprobs": None,
            "prompt_tokens": self.prompt_tokens(seen),
            "completion_tokens": self.prompt_tokens(text),
        }
        # stop_reason: 1 EOS, 2 a stop sequence, 0 the token limit (expose.h stop_reason).
        stop_reason = {"eos": 1, "word": 2}.get(stop_type, 0)
        self._kobold_last = {
            "last_input_count": result["prompt_tokens"],
            "last_token_count": result["completion_tokens"],
            "stop_reason": stop_reason,
        }
        return {"results": [result]}

    async def _kobold_perf(self, body: dict[str, Any]) -> Answer:
        # /api/extra/perf (1.10x): the last generation's figures.
        return {
            "last_process": 0.1,
            "last_eval": 0.2,
            "last_token_count": self._kobold_last.get("last_token_count", 0),
            "last_input_count": self._kobold_last.get("last_input_count", 0),
            "last_seed": 1,
            "total_gens": 1 if self._kobold_last else 0,
            "stop_reason": self._kobold_last.get("stop_reason", -1),
            "queue": 0,
            "idle": 1,
            "hordeexitcounter": 0,
            "uptime": 10.0,
            "idletime": 1.0,
            "quiet": False,
        }

    async def _kobold_model(self, body: dict[str, Any]) -> Answer:
        return {"result": self.listed_model if self.model else "inactive"}

    async def _kobold_version(self, body: dict[str, Any]) -> Answer:
        # get_capabilities()
        return {
            "result": "KoboldCpp",
            "version": self.version,
            "protected": False,
            "llm": True,
            "txt2img": False,
            "vision": False,
            "audio": False,
            "transcribe": False,
            "multiplayer": False,
            "websearch": False,
            "tts": False,
            "embeddings": self.embeddings_enabled,
        }

    async def _kobold_context(self, body: dict[str, Any]) -> Answer:
        return {"value": self._n_ctx()}

    async def _kobold_token_count(self, body: dict[str, Any]) -> Answer:
        ids = _token_ids(str(body.get("prompt", "")))
        return {"value": len(ids), "ids": ids}

    async def _kobold_embeddings(self, body: dict[str, Any]) -> Answer:
        texts = _inputs(body)
        if not self.embeddings_enabled:
            # No --embeddingsmodel: embeddings_generate() answers [] for each input.
            data = [{"object": "embedding", "index": i, "embedding": []} for i in range(len(texts))]
            usage = {"prompt_tokens": 0, "total_tokens": 0}
            return {"object": "list", "data": data, "model": "inactive", "usage": usage}
        answer = self._openai_embeddings(texts, pooled=True)
        answer["model"] = "fake-embedder"
        return answer

    async def _kobold_props(self, body: dict[str, Any]) -> Answer:
        # llama.cpp's /props, as far as koboldcpp imitates it.
        return {
            "chat_template": self.chat_template,
            "id": 0,
            "id_task": -1,
            "total_slots": 1,
            "modalities": {"vision": False, "audio": False},
            "model_path": self.listed_model,
            "n_ctx": self._n_ctx(),
            "default_generation_settings": {"n_ctx": self._n_ctx()},
        }

    async def _kobold_openai_models(self, body: dict[str, Any]) -> Answer:
        model = {
            "id": self.listed_model,
            "object": "model",
            "created": int(time.time()),
            "owned_by": "koboldcpp",
            "permission": [],
            "root": "koboldcpp",
        }
        return {"object": "list", "data": [model]}

    async def _kobold_ollama_tags(self, body: dict[str, Any]) -> Answer:
        return {"models": [{"name": "koboldcpp", "model": f"{self.listed_model}:latest"}]}

    async def _kobold_ollama_version(self, body: dict[str, Any]) -> Answer:
        return {"version": "0.7.0"}  # "ollama compatible, NOT the kcpp version"

    # -- Ollama ----------------------------------------------------------------------

    def _ollama_knows(self, model: str) -> bool:
        return model in (self.listed_model, self.model)

    async def _ollama_generate(self, body: dict[str, Any]) -> Answer:
        model = body.get("model")
        if not model:
            return JSONResponse({"error": "model is required"}, status_code=400)
        if not self._ollama_knows(str(model)):
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        prompt = str(body.get("prompt", ""))
        if not body.get("raw"):  # Ollama applies the model's template
            prompt = f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
        options = body.get("options") or {}
        num_ctx = options.get("num_ctx") or self._n_ctx()
        words = _WORD.findall(prompt)
        if len(words) > num_ctx - 1:
            if not self.context_shift:
                message = (
                    "the prompt is longer than the context length currently available to the "
                    "model; shorten the prompt, adjust the context length in settings, or use "
                    "a model with a longer context length"
                )
                return JSONResponse({"error": message}, status_code=400)
            # Keep num_keep tokens, drop about half of the rest (contextShiftPromptLimit).
            keep = min(options.get("num_keep", OLLAMA_NUM_KEEP), num_ctx - 1)
            limit = num_ctx - max((num_ctx - keep) // 2, 1)
            words = words[:keep] + words[keep + len(words) - limit :]
            prompt = " ".join(words)
        num_predict = options.get("num_predict", -1)
        room = num_ctx - len(words)
        limit = room if num_predict is None or num_predict < 0 else min(num_predict, room)
        text, stop_type, _ = self._generate_until(prompt, {"stop": options.get("stop")}, limit)
        answer = {
            "model": model,
            "created_at": "2026-01-01T00:00:00.000000Z",
            "response": text,
            "done": True,
            "done_reason": "length" if stop_type == "limit" else "stop",
            "total_duration": 1000,
            "load_duration": 10,
            "prompt_eval_count": len(words),
            "prompt_eval_duration": 100,
            "eval_count": self.prompt_tokens(text),
            "eval_duration": 100,
        }
        return answer  # streamed by _dispatch unless "stream": false

    def _ollama_listing(self) -> dict[str, Any]:
        return {
            "name": self.listed_model,
            "model": self.listed_model,
            "modified_at": "2026-01-01T00:00:00.000000Z",
            "size": 98000000,
            "digest": hashlib.sha256(self.model.encode()).hexdigest(),
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama"],
                "parameter_size": "135M",
                "quantization_level": "Q4_1",
            },
        }

    async def _ollama_tags(self, body: dict[str, Any]) -> Answer:
        return {"models": [self._ollama_listing()] if self.model else []}

    async def _ollama_ps(self, body: dict[str, Any]) -> Answer:
        if not self.model or not self.ollama_loaded:
            return {"models": []}
        loaded = {
            **self._ollama_listing(),
            "expires_at": "2026-01-01T00:05:00.000000Z",
            "size_vram": 0,
            "context_length": self._n_ctx(),
        }
        return {"models": [loaded]}

    async def _ollama_show(self, body: dict[str, Any]) -> Answer:
        model = body.get("model") or body.get("name")  # "name" before 0.3
        if not model or not self._ollama_knows(str(model)):
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        return {
            "modelfile": f'FROM /models/{self.model}.gguf\nTEMPLATE """{self.chat_template}"""',
            "parameters": 'stop                           "<|im_end|>"',
            "template": self.chat_template,
            "details": self._ollama_listing()["details"],
            "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
            "capabilities": ["completion"],
            "modified_at": "2026-01-01T00:00:00.000000Z",
        }

    async def _ollama_version(self, body: dict[str, Any]) -> Answer:
        return {"version": self.version}

    async def _ollama_embed(self, body: dict[str, Any]) -> Answer:
        model = body.get("model")
        if not model or not self._ollama_knows(str(model)):
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        texts = _inputs(body)
        return {
            "model": model,
            "embeddings": [self.embedding(text) for text in texts],
            "total_duration": 1000,
            "load_duration": 10,
            "prompt_eval_count": sum(self.prompt_tokens(text) for text in texts),
        }

    # -- vLLM, and any server with OpenAI's completions ----------------------------

    def _unknown_model(self, body: dict[str, Any]) -> Response | None:
        model = body.get("model")
        if model is None or model == self.model:  # optional in vLLM 0.6 on
            return None
        message = f"The model `{model}` does not exist."
        return _vllm_error(404, message, "NotFoundError", param="model")

    async def _openai_completion(self, body: dict[str, Any]) -> Answer:
        if (unknown := self._unknown_model(body)) is not None:
            return unknown
        prompt = _required_text(body, "prompt")
        max_tokens = body.get("max_tokens") or OPENAI_DEFAULT_MAX_TOKENS
        n_prompt, n_ctx = self.prompt_tokens(prompt), self._n_ctx()
        if n_prompt + max_tokens > n_ctx:
            return self._openai_overflow(n_prompt, max_tokens, n_ctx)
        text, finish_reason = self._generate(prompt, {**body, "max_tokens": max_tokens})
        return self._openai_answer(
            f"cmpl-{secrets.token_hex(16)}", "text_completion", prompt, text, finish_reason
        )

    def _openai_overflow(self, n_prompt: int, max_tokens: int, n_ctx: int) -> Response:
        if self.dialect == "vllm":
            # vLLM counts the prompt only up to the first token past the window.
            counted = n_ctx - max_tokens + 1
            message = (
                f"This model's maximum context length is {n_ctx} tokens. However, you "
                f"requested {max_tokens} output tokens and your prompt contains at least "
                f"{counted} input tokens, for a total of at least {counted + max_tokens} "
                "tokens. Please reduce the length of the input prompt or the number of "
                f"requested output tokens. (parameter=input_tokens, value={counted})"
            )
            return _vllm_error(400, message, "BadRequestError", param="input_tokens")
        message = (
            f"This model's maximum context length is {n_ctx} tokens, however you requested "
            f"{n_prompt + max_tokens} tokens ({n_prompt} in your prompt; {max_tokens} for the "
            "completion). Please reduce your prompt; or completion length."
        )
        error = {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": "context_length_exceeded",
        }
        return JSONResponse({"error": error}, status_code=400)

    async def _openai_server_models(self, body: dict[str, Any]) -> Answer:
        card: dict[str, Any] = {"id": self.model, "object": "model", "created": int(time.time())}
        if self.dialect == "vllm":  # ModelCard
            card.update(
                owned_by="vllm",
                root=self.model_path,
                parent=None,
                max_model_len=self._n_ctx(),
                permission=[{"id": "modelperm-fake", "object": "model_permission"}],
            )
        else:
            card["owned_by"] = "system"
        return {"object": "list", "data": [card]}

    async def _openai_server_embeddings(self, body: dict[str, Any]) -> Answer:
        if not self.embeddings_enabled:
            # A generative model served: vLLM refuses the embeddings API.
            return _vllm_error(400, "The model does not support Embeddings API", "BadRequestError")
        answer = self._openai_embeddings(_inputs(body), pooled=True)
        answer["model"] = body.get("model") or self.model
        return answer

    async def _vllm_tokenize(self, body: dict[str, Any]) -> Answer:
        if (unknown := self._unknown_model(body)) is not None:
            return unknown
        ids = _token_ids(_required_text(body, "prompt"))
        return {"count": len(ids), "max_model_len": self._n_ctx(), "tokens": ids}

    async def _vllm_version(self, body: dict[str, Any]) -> Answer:
        return {"version": self.version}

    async def _vllm_health(self, body: dict[str, Any]) -> Answer:
        return Response(status_code=200)

    # -- shared ------------------------------------------------------------------

    async def _openai_models(self, body: dict[str, Any]) -> Answer:
        owner = "user" if self.dialect == "webui" else "organization_owner"
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": owner}
        return {"object": "list", "data": [model]}

    def _generate(self, prompt_seen: str, body: dict[str, Any]) -> tuple[str, str]:
        """The next queued text, ended by stop strings and max tokens: (text, finish_reason)."""
        max_tokens = body.get("max_tokens", body.get("max_new_tokens"))
        text, stop_type, _ = self._generate_until(prompt_seen, body, max_tokens)
        return text, "length" if stop_type == "limit" else "stop"

    def _generate_until(
        self, prompt_seen: str, body: dict[str, Any], max_tokens: int | None
    ) -> tuple[str, str, str]:
        """The next queued text, ended by stop strings and ``max_tokens``.

        Returns (text, how it stopped: "eos" | "word" | "limit", the stop string found).
        """
        self.prompts_seen.append(prompt_seen)
        if self._huge:
            # A server gone wrong: it ignores stop strings and max tokens.
            return HUGE_TOKEN * -(-self._huge.popleft() // len(HUGE_TOKEN)), "eos", ""
        if self._replies:
            text = self._replies.popleft()
        else:
            text = self.script(prompt_seen) if self.script else self.default_text
        stop = body.get("stop", body.get("stopping_strings"))
        return _end_text(text, [stop] if isinstance(stop, str) else stop or [], max_tokens)

    def _openai_embeddings(self, texts: list[str], *, pooled: bool) -> dict[str, Any]:
        """OpenAI's embeddings answer; ``pooled=False``: one vector per token (llama-cpp-python)."""
        data = [
            {
                "object": "embedding",
                "embedding": self.embedding(text) if pooled else self.token_vectors(text),
                "index": i,
            }
            for i, text in enumerate(texts)
        ]
        tokens = sum(self.prompt_tokens(text) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": self.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _openai_answer(
        self, answer_id: str, kind: str, prompt: str, text: str, finish_reason: str
    ) -> dict[str, Any]:
        """An OpenAI-style answer: a text completion, or a chat completion when ``kind`` says so."""
        choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": finish_reason}
        if kind == "chat.completion":
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        return {
            "id": answer_id,
            "object": kind,
            "created": int(time.time()),
            "model": self.model,
            "choices": [choice],
            "usage": self._usage(prompt, text),
        }

    def _usage(self, prompt: str, text: str) -> dict[str, int]:
        prompt_tokens, completion_tokens = self.prompt_tokens(prompt), self.prompt_tokens(text)
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }


_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def _end_text(text: str, stop: list[str], max_tokens: int | None) -> tuple[str, str, str]:
    """Cut ``text`` where a real server would stop generating: (text, why, stop string).

    Why, in llama-server's words: "word" (a stop string), "limit" (max tokens),
    "eos" (the model ended).
    """
    found = [(i, s) for i, s in ((text.find(s), s) for s in stop if s) if i >= 0]
    if found:
        # Like the real servers, the stop string itself is not returned.
        at, word = min(found)
        return text[:at], "word", word
    words = list(_WORD.finditer(text))
    # LM Studio takes -1 for "no limit".
    if max_tokens is not None and 0 <= max_tokens < len(words):
        return (text[: words[max_tokens - 1].end()] if max_tokens else ""), "limit", ""
    return text, "eos", ""


def _keep_last(prompt: str, room: int) -> str:
    """The last ``room`` words of ``prompt`` (all of it when it fits or room <= 0)."""
    words = list(_WORD.finditer(prompt))
    if room <= 0 or len(words) <= room:
        return prompt
    return prompt[words[-room].start() :]


def _vllm_error(status: int, message: str, error_type: str, param: str | None = None) -> Response:
    """vLLM's ErrorResponse (0.10 on): {"error": {"message", "type", "param", "code"}}."""
    error = {"message": message, "type": error_type, "param": param, "code": status}
    return JSONResponse({"error": error}, status_code=status)


def _word_vector(word: str) -> list[float]:
    digest = hashlib.sha256(word.encode()).digest()
    return [round(byte / 255 - 0.5, 6) for byte in digest[:EMBEDDING_DIM]]


def _token_ids(text: str) -> list[int]:
    return [int.from_bytes(hashlib.sha256(w.encode()).digest()[:2], "big") for w in text.split()]


def _inputs(body: dict[str, Any]) -> list[str]:
    """The texts of an embeddings request (``input``: one string or a list of them)."""
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def _llama_server_error(status: int, message: str, error_type: str, **extra: Any) -> JSONResponse:
    """llama-server's error: format_error_response() in server-common.cpp, plus ``extra``."""
    error = {"code": status, "message": message, "type": error_type, **extra}
    return JSONResponse({"error": error}, status_code=status)


def _required_text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str):
        raise _MissingField(field)
    return value


async def _json_object(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class _ConnectionWatch:
    """ASGI middleware: notes a client that leaves before its answer is complete.

    The request body is read first, so that afterwards this is the only one
    waiting on ``receive()``: uvicorn answers it with ``http.disconnect`` when
    the connection is lost (or once the answer is complete, which is not a
    client leaving). The handler is then cancelled, as the real servers stop
    generating for a client that left.
    """

    def __init__(self, app: ASGIApp, on_disconnect: Callable[[], None]) -> None:
        self.app = app
        self.on_disconnect = on_disconnect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: list[Message] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            request.append(message)
            if not message.get("more_body", False):
                break
        complete = False
        left = asyncio.Event()

        async def replay() -> Message:
            if request:
                return request.pop(0)
            await left.wait()
            return {"type": "http.disconnect"}

        async def sending(message: Message) -> None:
            nonlocal complete
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        handler = asyncio.ensure_future(self.app(scope, replay, sending))

        async def watch() -> None:
            await receive()
            if not complete:
                self.on_disconnect()
                handler.cancel()
            left.set()

        watcher = asyncio.ensure_future(watch())
        try:
            await asyncio.wait([handler])
        finally:
            watcher.cancel()
            handler.cancel()
        if not handler.cancelled() and handler.exception() is not None:
            raise handler.exception()  # type: ignore[misc]


class HeldUpstream(FakeUpstream):
    """webui whose generations wait until :attr:`held` is cleared; counts them meanwhile.

    Stands in for a busy llama.cpp / webui: a request in flight upstream for
    as long as a test needs (capacity, queueing, slow clients, disconnects).
    """

    def __init__(self) -> None:
        super().__init__("webui")
        self.held = True
        self.generating = 0
        self.most_generating = 0

    async def _webui_completion(self, body: dict[str, Any]) -> Answer:
        self.generating += 1
        self.most_generating = max(self.most_generating, self.generating)
        try:
            while self.held and not self._stopping.is_set():
                await self._pause(0.01)
            return await super()._webui_completion(body)
        finally:
            self.generating -= 1
