"""The backend contract: prompt text + sampling parameters in, text out.

This is the hard line between fcproxy and the upstream LLM server. The
pipeline never builds an upstream URL or JSON body, and a backend never sees
an OpenAI request object::

    backend = WebUIBackend(UpstreamConfig(url="http://127.0.0.1:5000"))
    result = await backend.complete("USER: hi\\nASSISTANT:", GenerationParams(max_tokens=64))
    result.text            # "Hello! How can I help?"
    result.prompt_tokens   # 9, or None when the upstream did not say

A backend maps the parameters onto its dialect's field names (``max_tokens``
vs ``max_new_tokens``, ``stop`` vs ``stopping_strings``, ``truncation_length``
...) and maps transport failures onto :mod:`proxy.errors`:
unreachable -> :class:`UpstreamUnavailable` (502), slow ->
:class:`UpstreamTimeout` (504), prompt too long -> :class:`ContextLengthExceeded`
(400), anything else -> :class:`UpstreamError` (502).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import anyio
import orjson

from proxy import json_codec
from proxy.backends.exchange import (
    DEFAULT_MAX_UPSTREAM_BYTES,
    Exchange,
    ExchangeClock,
    UpstreamLimits,
    timed_out,
)
from proxy.backends.upstream_http import (
    ConnectTimeout,
    TransportError,
    UpstreamHTTP,
    WholeResponse,
)
from proxy.errors import (
    ContextLengthExceeded,
    EmbeddingsNotSupported,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from proxy.redaction import Redactor, redact_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpstreamConfig:
    """Where an upstream lives and how to talk to it."""

    url: str
    api_key: str | None = None
    #: Seconds one whole exchange may take, connection to last byte (local
    #: models can be slow). The limits are explained in proxy/backends/exchange.py.
    timeout: float = 600.0
    connect_timeout: float = 5.0
    #: Seconds until the answer starts (a stream: its first text); None: ``timeout``.
    first_byte_timeout: float | None = None
    #: Longest silence once the answer has started (a stream: between texts); None: ``timeout``.
    idle_timeout: float | None = None
    #: Largest answer body, or streamed text, taken from the upstream.
    max_upstream_bytes: int = DEFAULT_MAX_UPSTREAM_BYTES
    max_connections: int = 32
    #: Model name to send upstream (LM Studio and vLLM want one).
    model: str | None = None


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters, backend-neutral. ``None`` means "upstream default"."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    #: Sample among the k likeliest tokens (0 or None: the upstream's default).
    top_k: int | None = None
    #: The format's and the operator's stop strings: they end the turn.
    stop: list[str] = field(default_factory=list)
    #: The client's stop sequences: a backend that reports which stop matched
    #: sends them with ``stop``; the others apply them itself, to know
    #: (proxy/backends/stops.py).
    stop_sequences: list[str] = field(default_factory=list)
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    #: The model's context window (webui calls it ``truncation_length``).
    context_window: int | None = None
    #: GBNF grammar constraining the output, for backends that accept one.
    grammar: str | None = None
    #: Upstream model name, for servers that route by it.
    model: str | None = None
    #: JSON schema the output must follow, for backends that take one instead
    #: of a grammar (Ollama's ``format``, LM Studio's and vLLM's ``response_format``).
    json_schema: dict[str, Any] | None = None
    #: ``grammar`` applies only from the first of ``grammar_triggers`` on (text
    #: before it is free): llama.cpp's llama-server only; a backend that cannot
    #: do this sends no grammar rather than force a call (``supports_lazy_grammar``).
    grammar_lazy: bool = False
    grammar_triggers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Completion:
    """What the upstream generated."""

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: "stop" or "length" when the upstream said which.
    finish_reason: str | None = None
    #: The stop string that ended the text, where known (proxy/backends/stops.py).
    stop_word: str | None = None


@dataclass(frozen=True)
class TextDelta:
    """A piece of generated text, as the upstream streamed it.

    The last delta of a stream carries the finish reason and the token counts
    where the upstream said them (its text may be empty)::

        async for delta in backend.stream(prompt, params):
            print(delta.text, end="")
        # ... the last one: TextDelta(text="", finish_reason="stop", completion_tokens=42)
    """

    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: On the last delta: the stop string that ended the text, where known.
    stop_word: str | None = None


async def collect(deltas: AsyncIterator[TextDelta]) -> Completion:
    """A whole :class:`Completion` out of a stream (the non-streamed view of it)."""
    parts: list[str] = []
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    stop_word: str | None = None
    async for delta in deltas:
        parts.append(delta.text)
        finish_reason = delta.finish_reason or finish_reason
        stop_word = delta.stop_word or stop_word
        prompt_tokens = delta.prompt_tokens if delta.prompt_tokens is not None else prompt_tokens
        if delta.completion_tokens is not None:
            completion_tokens = delta.completion_tokens
    return Completion(
        text="".join(parts),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        finish_reason=finish_reason,
        stop_word=stop_word,
    )


async def single_delta(completion: Completion) -> AsyncGenerator[TextDelta, None]:
    """A stream of one delta: what a dialect that cannot stream yields."""
    yield TextDelta(
        text=completion.text,
        finish_reason=completion.finish_reason,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        stop_word=completion.stop_word,
    )


@dataclass(frozen=True)
class Embeddings:
    """One flat vector per input, in input order."""

    vectors: list[list[float]]
    #: Tokens read, when the upstream said; the route estimates otherwise.
    prompt_tokens: int | None = None


@dataclass(frozen=True)
class UpstreamProps:
    """What an upstream says about itself, where it says anything (``fcproxy doctor``)."""

    #: Which server answered, e.g. "llama-server" or "llama-cpp-python".
    server: str
    #: The model it serves, as it names it (an alias or a file path).
    model: str | None = None
    #: The loaded model's file, where the server tells.
    model_path: str | None = None
    #: Tokens per sequence, where the server tells (llama-server's ``n_ctx``).
    context_window: int | None = None
    #: The model's own chat template (Jinja), where the server exposes it.
    chat_template: str | None = None
    #: The server's version, where it tells (koboldcpp, Ollama, vLLM).
    version: str | None = None
    #: The context the model was trained for, where the server tells it apart
    #: from the one it runs with (Ollama's ``model_info``).
    trained_context_window: int | None = None


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


@runtime_checkable
class Backend(Protocol):
    """One upstream dialect. Implementations live one per module in this package."""

    # name and supports_grammar are read-only properties so that a class
    # constant (HTTPBackend's ClassVars) satisfies them; mypy rejects a ClassVar
    # where the protocol declares an instance variable.
    @property
    def name(self) -> str:
        """The ``--backend`` value that selects this dialect."""
        ...

    #: Where the upstream lives, for messages and logs: its password (if the
    #: URL has one) is redacted. Requests go to ``UpstreamConfig.url``.
    base_url: str

    @property
    def supports_grammar(self) -> bool:
        """Whether ``GenerationParams.grammar`` reaches the upstream."""
        ...

    @property
    def supports_json_schema(self) -> bool:
        """Whether ``GenerationParams.json_schema`` constrains the upstream's output."""
        ...

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        """Generate a continuation of ``prompt``."""
        ...

    def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[TextDelta, None]:
        """Generate a continuation of ``prompt``, yielded as the upstream writes it.

        The same constraints, stops and context checks as :meth:`complete`;
        ``collect(backend.stream(...))`` equals ``await backend.complete(...)``.
        Closing the iterator (``aclose()``, or the task being cancelled) closes
        the upstream request, which is how a client's disconnect stops the
        generation. A dialect that cannot stream yields one delta.
        """
        ...

    async def models(self) -> list[str]:
        """Model names the upstream reports; empty when it cannot say."""
        ...

    async def health(self) -> Health:
        """Is the upstream reachable and answering?"""
        ...

    async def count_tokens(self, text: str) -> int | None:
        """Token count from the upstream's tokenizer, or None when it has no endpoint."""
        ...

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        """Embedding vectors for ``inputs`` (one flat vector each).

        Raises :class:`proxy.errors.EmbeddingsNotSupported` where the upstream
        has no embeddings endpoint.
        """
        ...

    async def start(self) -> None:
        """Get ready to serve (the embedded backend loads its model); called once at start-up."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class SelfDescribing(Protocol):
    """A backend that can say what its upstream is (``fcproxy doctor``)."""

    async def props(self) -> UpstreamProps:
        """Server, model, context window, chat template: what the upstream tells."""
        ...


# Phrases upstream servers use when a prompt does not fit their context.
# text-generation-webui, LM Studio, llama.cpp, koboldcpp, vLLM and OpenAI each
# word it differently; all of them contain one of these.
_CONTEXT_OVERFLOW = re.compile(
    r"context (length|size|window)|maximum context|too long|exceeds? the (available )?context"
    r"|prompt is longer|n_ctx|truncation_length|context_length_exceeded",
    re.IGNORECASE,
)


def looks_like_context_overflow(text: str) -> bool:
    return bool(_CONTEXT_OVERFLOW.search(text))


class HTTPBackend:
    """Shared plumbing for HTTP backends: one pooled client and error mapping.

    Subclasses implement ``complete`` with :meth:`post_json`, and set
    ``name``, ``models_path`` and ``health_path``.
    """

    name: ClassVar[str] = ""
    supports_grammar: ClassVar[bool] = False
    supports_json_schema: ClassVar[bool] = False
    models_path: ClassVar[str | None] = "/v1/models"
    health_path: ClassVar[str] = "/v1/models"

    def __init__(self, config: UpstreamConfig, http: UpstreamHTTP | None = None) -> None:
        self.config = config
        self.base_url = redact_url(config.url.rstrip("/"))
        #: Cleans quotes of the upstream's answers: a server may echo our
        #: Authorization header (the key, or the URL's password) in an error.
        self.redactor = Redactor.for_upstream(config.url, config.api_key)
        # One connection pool per upstream: it is what keeps latency low.
        self._http = http or UpstreamHTTP.for_url(
            config.url,
            config.api_key,
            max_connections=config.max_connections,
            connect_timeout=config.connect_timeout,
        )

    async def start(self) -> None:
        # Nothing to prepare: connections open on first use.
        return None

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def limits(self) -> UpstreamLimits:
        """The deadlines and size cap of every exchange with this upstream."""
        config = self.config
        return UpstreamLimits(
            total=config.timeout,
            connect=config.connect_timeout,
            first_byte=config.first_byte_timeout,
            idle=config.idle_timeout,
            max_bytes=config.max_upstream_bytes,
        )

    @contextlib.asynccontextmanager
    async def exchange(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> AsyncIterator[Exchange]:
        """Send a request; inside the block, its answer is read under this upstream's limits.

        The one way a request goes upstream, for whole answers (:meth:`send`)
        and streams alike (proxy/backends/exchange.py has the limits)::

            async with self.exchange("POST", "/completion", body) as answer:
                async for chunk in answer.chunks():
                    ...

        Transport failures are mapped onto proxy errors (unreachable ->
        :class:`UpstreamUnavailable`, slow -> :class:`UpstreamTimeout`); the
        status is the caller's to judge. Leaving the block, however it is left
        (an exception, ``aclose()`` of a generator around it, a cancelled
        task), closes the response, and with it the connection if its body
        was not read to the end: that is how the upstream learns to stop.
        """
        upstream = f"upstream {self.name} server at {self.base_url}"
        clock = ExchangeClock(self.limits)
        content = None if body is None else json_codec.dumps(body)
        deadline, limit = clock.next_deadline()
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._http.open(method, path, content)
        except TimeoutError:
            raise timed_out(clock, limit, upstream, f"{method} {path}") from None
        except ConnectTimeout as exc:
            raise UpstreamTimeout(
                f"The {upstream} accepted no connection within "
                f"{self.config.connect_timeout:g} s (connect_timeout)."
            ) from exc
        except TransportError as exc:
            raise UpstreamUnavailable(
                f"Cannot reach the {upstream} ({type(exc).__name__}: "
                f"{self.redactor.redact(str(exc))}). Is it running?"
            ) from exc
        try:
            yield Exchange(
                response,
                clock,
                upstream=upstream,
                request=f"{method} {path}",
                redact=self.redactor.redact,
            )
        finally:
            if not response.release_if_read():
                # Shielded: this runs while a cancelled task unwinds, maybe inside
                # an anyio scope that delivers its cancellation again at every
                # await; the connection must close all the same, or the upstream
                # goes on generating for nobody.
                with anyio.CancelScope(shield=True):
                    await response.aclose()

    async def send(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> WholeResponse:
        """Send a request and return the whole response whatever its status.

        The body is read under the upstream's limits (:meth:`exchange`). For
        probes that must tell "404, no such endpoint" from other failures;
        :meth:`request_json` judges the status for you.
        """
        async with self.exchange(method, path, body) as answer:
            return answer.whole(await answer.read())

    async def request_json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send a request, map transport failures onto proxy errors, return JSON."""
        return self.read_json(method, path, await self.send(method, path, body))

    def raise_for_status(self, method: str, path: str, response: WholeResponse) -> None:
        """Raise for an error status: a prompt too long, else :class:`UpstreamError`."""
        if response.status_code < 400:
            return
        # Redacted before it is cut: a cut could leave half a key behind.
        text = self.redactor.redact(response.text)
        if looks_like_context_overflow(text):
            raise ContextLengthExceeded(detail=text)
        raise UpstreamError(
            f"The upstream {self.name} server answered {method} {self.base_url}{path} with "
            f"HTTP {response.status_code}: {text[:500]}"
        )

    def read_json(self, method: str, path: str, response: WholeResponse) -> Any:
        """The JSON of a response; an error status or non-JSON raises as ``request_json`` does."""
        url = f"{self.base_url}{path}"
        self.raise_for_status(method, path, response)
        try:
            # orjson: a tenth of json.loads' time on the answers that matter most.
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass
        try:
            # What orjson refuses and the standard library reads (lone surrogates, NaN).
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # Redacted before it is cut: a cut could leave half a key behind.
            text = self.redactor.redact(response.text)
            raise UpstreamError(
                f"The upstream {self.name} server answered {method} {url} with non-JSON: "
                f"{text[:300]!r}"
            ) from exc

    async def post_json(self, path: str, body: dict[str, Any]) -> Any:
        return await self.request_json("POST", path, body)

    async def stream(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[TextDelta, None]:
        """One delta with the whole answer; dialects that can stream override this."""
        completion = await self.complete(prompt, params)  # type: ignore[attr-defined]
        async for delta in single_delta(completion):
            yield delta

    async def models(self) -> list[str]:
        if self.models_path is None:
            return []
        try:
            data = await self.request_json("GET", self.models_path)
        except UpstreamError as exc:
            logger.debug("upstream %s lists no models: %s", self.base_url, exc)
            return []
        return self.parse_models(data)

    def parse_models(self, data: Any) -> list[str]:
        """Model names in the answer of ``models_path``; OpenAI's listing by default."""
        return _model_ids(data)

    async def health(self) -> Health:
        try:
            await self.request_json("GET", self.health_path)
        except UpstreamError as exc:
            return Health(ok=False, detail=exc.message)
        return Health(ok=True, detail=f"{self.name} upstream at {self.base_url} is answering")

    async def count_tokens(self, text: str) -> int | None:
        return None

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        raise EmbeddingsNotSupported(
            f"The {self.name} backend has no embeddings endpoint; use an upstream that "
            "serves /v1/embeddings (llama.cpp, webui, LM Studio, Ollama, vLLM)."
        )


def _model_ids(data: Any) -> list[str]:
    """Model ids from an OpenAI-style ``{"data": [{"id": ...}]}`` listing."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return [str(m["id"]) for m in data["data"] if isinstance(m, dict) and "id" in m]
    return []


def require_text(data: Any, *path: str | int) -> str:
    """Dig ``data[path...]`` out of an upstream answer, or raise UpstreamError."""
    node = data
    for key in path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise UpstreamError(
                f"Unexpected upstream answer: no {'/'.join(map(str, path))} in {str(data)[:300]}"
            ) from None
    if not isinstance(node, str):
        raise UpstreamError(f"Unexpected upstream answer: {'/'.join(map(str, path))} is not text")
    return node
