"""llama.cpp servers: llama.cpp's own ``llama-server`` and llama-cpp-python's server.

One ``--backend llamacpp`` for both. Which one answers is found out once, on
first use, by ``GET /props``: llama-server answers it, llama-cpp-python (a
FastAPI app) answers 404. The finding is logged and kept until a request finds
the upstream unreachable or gets an error answer; the next request probes
again (the server may have been restarted, or the other one taken the port).

llama-server (``tools/server`` in github.com/ggml-org/llama.cpp, default port 8080)::

    POST /completion     {"prompt", "n_predict", "stop", "grammar", "cache_prompt": true,
                          "temperature", "top_p", "seed", "presence_penalty", ...}
    -> {"content", "tokens_evaluated", "tokens_predicted", "stop_type": "eos"|"word"|"limit",
        "stopping_word": "###" (the stop that matched, "" unless stop_type is "word"),
        "truncated", "timings": {"prompt_n", "predicted_n", ...}, ...}
    GET  /props          {"default_generation_settings": {"n_ctx"}, "model_path", "chat_template"}
    GET  /health         {"status": "ok"}  (503 while the model loads)
    POST /tokenize       {"content"} -> {"tokens": [...]}
    POST /v1/embeddings  OpenAI's shape, when started with --embeddings and a pooling type
    POST /embeddings     [{"index", "embedding": [[...], ...]}], per token with --pooling none
    too long: 400 {"error": {"code": 400, "type": "exceed_context_size_error",
                   "message": "request (N tokens) exceeds the available context size (M tokens),
                   try increasing it", "n_prompt_tokens": N, "n_ctx": M}}

llama-cpp-python (``python -m llama_cpp.server``, port 8000; ``llama_cpp/server/``
in github.com/abetlen/llama-cpp-python, 0.3.x)::

    POST /v1/completions        {"prompt", "max_tokens", "stop", "grammar", "model", ...}
    -> OpenAI's text completion, with "usage" and "finish_reason"
    POST /extras/tokenize/count {"input"} -> {"count"}  (0.3 on; 0.2 had no tokenizer endpoint)
    POST /v1/embeddings         OpenAI's shape; per-token vectors for models without pooling
    too long: 400 {"error": {"message": "This model's maximum context length is M tokens,
                   however you requested ...", "code": "context_length_exceeded", ...}}

Streaming, the same body plus ``"stream": true``. llama-server's ``/completion``
(``server-context.cpp``/``server.cpp`` ``handle_completions_impl``,
``server-task.cpp`` ``to_json_non_oaicompat``)::

    data: {"index": 0, "content": "Hel", "tokens": [], "stop": false, "id_slot",
           "tokens_predicted", "tokens_evaluated"}
    ...
    data: {"content": "", "stop": true, "stop_type": "eos"|"word"|"limit", "stopping_word",
           "tokens_predicted", "tokens_evaluated", "truncated", "timings", ...}

with no ``[DONE]``: the ``"stop": true`` object ends it. An error before the
first token is an ordinary error answer (status and ``{"error"}``); one after it
is ``data: {"error": {...}}`` (``error: {...}`` in builds before 2025), and the
stream ends. llama-cpp-python streams OpenAI's chunks (``app.py``,
``get_event_publisher``; its last chunk has ``"text": ""`` and the finish
reason, never usage), ending in ``data: [DONE]``. It checks the prompt's length
only once the stream has begun (``Llama._create_completion`` is a generator),
so an over-long prompt breaks the stream off without a word: fcproxy reports
it as an upstream error, and the pipeline's context-window check, where one is
configured, comes first.

Both take a GBNF grammar in ``grammar``. Neither takes a context window per
request (it is fixed when the model loads). Embedding vectors come back one
flat vector per input whatever the server sends (per-token vectors are pooled
by their mean, :mod:`proxy.backends.embeddings`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from proxy.backends.base import (
    Completion,
    Embeddings,
    GenerationParams,
    Health,
    HTTPBackend,
    TextDelta,
    UpstreamConfig,
    UpstreamProps,
)
from proxy.backends.event_stream import StreamEvent
from proxy.backends.text_completion import (
    StreamEnd,
    TextCompletionBackend,
    as_count,
    dig,
    require_count,
)
from proxy.backends.upstream_http import UpstreamHTTP
from proxy.errors import UpstreamError

logger = logging.getLogger(__name__)

T = TypeVar("T")

LLAMA_SERVER = "llama-server"
LLAMA_CPP_PYTHON = "llama-cpp-python"


class _LlamaCppServer(TextCompletionBackend):
    """What both servers share; one subclass per server, driven by :class:`LlamaCppBackend`."""

    name = "llamacpp"
    #: Which server this speaks to, as logged and reported by ``props()``.
    server: ClassVar[str]
    grammar_field = "grammar"
    # The model is fixed at load; the name matters only where the server
    # routes by it (llama-cpp-python's multi-model config, llama-server's
    # router mode), and is left out where none is configured.
    sends_model = True
    embeddings_path = "/v1/embeddings"

    async def props(self) -> UpstreamProps:
        models = await self.models()
        return UpstreamProps(server=self.server, model=models[0] if models else None)


class _LlamaServer(_LlamaCppServer):
    """llama.cpp's ``llama-server``: ``POST /completion``."""

    server = LLAMA_SERVER
    generate_path = "/completion"
    max_tokens_field = "n_predict"
    # The answer is one object with the text at "content".
    choice_path = ()
    text_in_choice = ("content",)
    health_path = "/health"
    # stopping_word: the client's stop sequences can go upstream.
    reports_stop_word = True

    def __init__(self, config: UpstreamConfig, http: UpstreamHTTP | None = None) -> None:
        super().__init__(config, http)
        # Whether /v1/embeddings refused this server's pooling type ("none"):
        # then /embeddings, which answers per-token vectors, is asked instead.
        self._per_token_embeddings = False

    supports_lazy_grammar = True

    def build_body(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        # Reuse the KV cache for the prefix this prompt shares with the last
        # one: MemGPT's system prompt and memory are the same turn after turn.
        body = {**super().build_body(prompt, params), "cache_prompt": True}
        if params.grammar and params.grammar_lazy:
            # common/chat.h: COMMON_GRAMMAR_TRIGGER_TYPE_WORD is 1; the grammar
            # applies from the trigger word on, the word included.
            body["grammar_lazy"] = True
            body["grammar_triggers"] = [{"type": 1, "value": w} for w in params.grammar_triggers]
            # A trigger that is one token of the model's (Qwen's "<tool_call>")
            # must be a preserved token too, or llama-server refuses the
            # request (tools/server/server-schema.cpp); longer ones are ignored.
            body["preserved_tokens"] = list(params.grammar_triggers)
        return body

    def stream_fields(self) -> dict[str, Any]:
        # /completion knows no stream_options: the last object carries the counts.
        return {"stream": True}

    def read_stream_event(self, event: StreamEvent, end: StreamEnd, path: str) -> str:
        """``{"content", "stop": false}`` ... ``{"stop": true, "stop_type", counts}``."""
        data = self.event_json(event, path)
        if not isinstance(data, dict):
            return ""
        if "error" in data:
            self.raise_stream_error(data["error"], path)
        if data.get("stop") is True:
            end.done = True
            end.finish_reason = self.finish_reason_in(data)
            end.stop_word = self.stop_word_in(data)
            end.prompt_tokens, end.completion_tokens = self.usage_in(data)
        return self.event_text(data.get("content"))

    def usage_in(self, data: Any) -> tuple[int | None, int | None]:
        # tokens_evaluated counts the whole prompt, cached part included;
        # timings.prompt_n counts only what was evaluated this time.
        prompt = as_count(data.get("tokens_evaluated")) or (
            (as_count(dig(data, ("timings", "prompt_n"))) or 0)
            + (as_count(dig(data, ("timings", "cache_n"))) or 0)
        )
        completion = as_count(data.get("tokens_predicted"))
        if completion is None:
            completion = as_count(dig(data, ("timings", "predicted_n")))
        return prompt or None, completion

    def finish_reason_in(self, data: Any) -> str | None:
        # stop_type in newer builds; stopped_eos / stopped_word / stopped_limit in older ones.
        stop_type = data.get("stop_type")
        if stop_type == "limit" or data.get("stopped_limit") is True:
            return "length"
        if stop_type in ("eos", "word") or data.get("stopped_eos") or data.get("stopped_word"):
            return "stop"
        return None

    def parse_answer(self, data: Any) -> Completion:
        completion = super().parse_answer(data)
        return dataclasses.replace(completion, stop_word=self.stop_word_in(data))

    def stop_word_in(self, data: Any) -> str | None:
        """The stop string that ended the text (``stop_type: "word"``), else None."""
        if not isinstance(data, dict):
            return None
        word = data.get("stopping_word")
        stopped_on_word = data.get("stop_type") == "word" or data.get("stopped_word") is True
        return word if stopped_on_word and isinstance(word, str) and word else None

    async def count_tokens(self, text: str) -> int:
        # add_special: count the BOS token too, as /completion does.
        data = await self.post_json("/tokenize", {"content": text, "add_special": True})
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list):
            raise UpstreamError(f"Unexpected upstream answer: no tokens in {str(data)[:300]}")
        return len(tokens)

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        if not self._per_token_embeddings:
            try:
                return await super().embed(inputs, model)
            except UpstreamError as exc:
                # "Pooling type 'none' is not OAI compatible. Please use a different pooling type"
                if "pooling" not in exc.message.lower():
                    raise
            logger.info(
                "llama-server at %s has no pooling; asking /embeddings for per-token "
                "vectors and pooling them by their mean",
                self.base_url,
            )
            self._per_token_embeddings = True
        # "content" rather than "input": builds before 2025 read only "content".
        return await self.post_embeddings("/embeddings", inputs, model, field="content")

    async def props(self) -> UpstreamProps:
        data = await self.request_json("GET", "/props")
        return self.read_props(data)

    def read_props(self, data: Any) -> UpstreamProps:
        data = data if isinstance(data, dict) else {}
        settings = data.get("default_generation_settings")
        settings = settings if isinstance(settings, dict) else {}
        # Builds before 2025 put the model path in default_generation_settings.model.
        path = _text(data.get("model_path")) or _text(settings.get("model"))
        return UpstreamProps(
            server=self.server,
            model=_text(data.get("model_alias")) or path,
            model_path=path,
            context_window=as_count(settings.get("n_ctx")) or as_count(data.get("n_ctx")) or None,
            chat_template=_text(data.get("chat_template")),
        )


class _LlamaCppPython(_LlamaCppServer):
    """llama-cpp-python's server: OpenAI's ``POST /v1/completions`` plus ``grammar``."""

    server = LLAMA_CPP_PYTHON
    generate_path = "/v1/completions"
    health_path = "/v1/models"

    async def count_tokens(self, text: str) -> int | None:
        path = "/extras/tokenize/count"
        response = await self.send("POST", path, {"input": text})
        if response.status_code == 404:  # 0.2.x: no tokenizer endpoint
            return None
        return require_count(self.read_json("POST", path, response), "count")


class LlamaCppBackend(HTTPBackend):
    """llama.cpp's llama-server or llama-cpp-python's server, whichever answers."""

    name = "llamacpp"
    supports_grammar = True
    models_path = "/v1/models"  # both serve OpenAI's listing

    def __init__(self, config: UpstreamConfig, http: UpstreamHTTP | None = None) -> None:
        super().__init__(config, http)
        # Both speakers share this backend's connection pool.
        self._llama_server = _LlamaServer(config, http=self._http)
        self._llama_cpp_python = _LlamaCppPython(config, http=self._http)
        self._server: _LlamaCppServer | None = None
        self._probing = asyncio.Lock()

    @property
    def supports_lazy_grammar(self) -> bool:
        """llama-server takes grammar triggers; llama-cpp-python's server does not."""
        return self._server is self._llama_server

    @property
    def server(self) -> str | None:
        """ "llama-server" or "llama-cpp-python" once found out, else None."""
        return self._server.server if self._server else None

    async def detect(self) -> str:
        """Which server answers at the URL: probed once, then remembered."""
        return (await self._speaker()).server

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        return await self._with_server(lambda server: server.complete(prompt, params))

    async def stream(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[TextDelta, None]:
        server = await self._speaker()
        try:
            # aclosing: closing this stream closes the server's at once (and its request).
            async with contextlib.aclosing(server.stream(prompt, params)) as deltas:
                async for delta in deltas:
                    yield delta
        except UpstreamError:
            self._forget()
            raise

    async def count_tokens(self, text: str) -> int | None:
        return await self._with_server(lambda server: server.count_tokens(text))

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        return await self._with_server(lambda server: server.embed(inputs, model))

    async def props(self) -> UpstreamProps:
        """What the upstream says about itself: server, model, context window, chat template."""
        return await self._with_server(lambda server: server.props())

    async def health(self) -> Health:
        try:
            server = await self._speaker()
        except UpstreamError as exc:
            return Health(ok=False, detail=exc.message)
        health = await server.health()
        if not health.ok:
            self._forget()
            return health
        return Health(
            ok=True,
            detail=f"llamacpp upstream ({server.server}) at {self.base_url} is answering",
        )

    async def _with_server(self, call: Callable[[_LlamaCppServer], Awaitable[T]]) -> T:
        server = await self._speaker()
        try:
            return await call(server)
        except UpstreamError:
            # Unreachable, or an error answer (a 404 on /completion: the other
            # server took the port): probe again next time, it costs one GET.
            # A prompt that is too long is not an upstream error, and keeps it.
            self._forget()
            raise

    def _forget(self) -> None:
        """Probe again next time: the server may be restarted, or replaced by the other one."""
        self._server = None

    async def _speaker(self) -> _LlamaCppServer:
        if self._server is None:
            async with self._probing:  # concurrent first requests probe once
                if self._server is None:
                    self._server = await self._probe()
        return self._server

    async def _probe(self) -> _LlamaCppServer:
        response = await self.send("GET", "/props")
        if response.status_code == 404:
            logger.info(
                "llamacpp upstream at %s is llama-cpp-python's server (no /props); "
                "using /v1/completions with GBNF grammar",
                self.base_url,
            )
            return self._llama_cpp_python
        # Anything else but JSON (503 while the model loads, 401 for a wrong
        # key) is raised, and not remembered: the next request probes again.
        props = self._llama_server.read_props(self.read_json("GET", "/props", response))
        logger.info(
            "llamacpp upstream at %s is llama.cpp's llama-server (model %s, n_ctx %s); "
            "using /completion with GBNF grammar",
            self.base_url,
            props.model or "?",
            props.context_window or "?",
        )
        return self._llama_server


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
