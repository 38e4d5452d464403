"""Ollama (port 11434): its own ``POST /api/generate``, in raw mode.

Wire format, from Ollama's ``docs/api.md`` and ``api/types.go``
(github.com/ollama/ollama, main as of 2026), and MemGPT 0.3.25's
``memgpt/local_llm/ollama/api.py``, which sends the same request::

    POST /api/generate  {"model", "prompt", "raw": true, "stream": false,
                         "options": {"num_predict", "stop", "num_ctx", "temperature",
                                     "top_p", "seed", "presence_penalty",
                                     "frequency_penalty"},
                         "format": <a JSON schema>}
    -> {"model", "created_at", "response", "done": true, "done_reason": "stop" | "length",
        "prompt_eval_count", "eval_count", "total_duration", ...}
    GET  /api/tags      {"models": [{"name": "llama3.2:latest", "model", "details", ...}]}
    GET  /api/ps        {"models": [{"name", "context_length", ...}]}   the loaded models
    POST /api/show      {"model"} -> {"template", "parameters", "model_info":
                                      {"<arch>.context_length", ...}, "capabilities", ...}
    GET  /api/version   {"version": "0.12.6"}
    POST /api/embed     {"model", "input": [...]} -> {"embeddings": [[...], ...],
                                                      "prompt_eval_count"}
    errors: the HTTP status and {"error": "..."}

``raw: true`` makes Ollama apply no template of its own: the wrapper's prompt
is the whole prompt. ``stream: false``: Ollama streams NDJSON unless told not to.
A streamed generation sends the same body with ``stream: true`` and reads one
JSON object a line (``application/x-ndjson``)::

    {"model", "created_at", "response": "Hel", "done": false}
    ...
    {"model", "created_at", "response": "", "done": true, "done_reason": "stop",
     "prompt_eval_count", "eval_count", ...}

A failure once the stream has begun comes as a line ``{"error": "..."}``
(``server/routes.go``, ``streamResponse``).
Every request names a model (Ollama refuses one without, "model is
required"); with none configured the backend takes the loaded one, else the
first installed one (:mod:`proxy.backends.model_choice`).

The context window goes out per request as ``options.num_ctx``. Without it
Ollama uses its default (2048 tokens until 0.6, more since) and cuts an
over-long prompt silently, keeping ``num_keep`` tokens (4) and the end
(``llm/llama_server.go``: "truncating input prompt"); a model without
context shift answers 400 "the prompt is longer than the context length
currently available to the model ...", which is read as
``context_length_exceeded``.

No GBNF grammar: Ollama constrains output with a JSON schema in ``format``
instead, which is sent when :attr:`GenerationParams.json_schema` is set. No
tokenizer endpoint: :meth:`count_tokens` is None and the pipeline estimates.
``prompt_eval_count`` is left out when the whole prompt came from Ollama's
cache; the usage then comes from the estimate too.
"""

from __future__ import annotations

import re
from typing import Any

from proxy.backends.base import (
    Embeddings,
    GenerationParams,
    UpstreamConfig,
    UpstreamProps,
)
from proxy.backends.embeddings import read_vectors
from proxy.backends.event_stream import StreamEvent
from proxy.backends.model_choice import ModelChooser
from proxy.backends.text_completion import (
    StreamEnd,
    TextCompletionBackend,
    as_count,
    as_text,
    dig,
)
from proxy.backends.upstream_http import UpstreamHTTP
from proxy.errors import EmbeddingsNotSupported, UpstreamError, UpstreamUnavailable

#: GenerationParams attributes that go into ``options`` under the same name.
_SAME_NAME_OPTIONS = (
    "temperature",
    "top_p",
    "top_k",
    "seed",
    "presence_penalty",
    "frequency_penalty",
)
_NUM_CTX = re.compile(r"^num_ctx\s+(\d+)\s*$", re.MULTILINE)


class OllamaBackend(TextCompletionBackend):
    """Ollama, ``POST /api/generate`` with ``raw: true`` -> ``{"response"}``."""

    name = "ollama"
    supports_json_schema = True
    generate_path = "/api/generate"
    stream_framing = "ndjson"
    # Nested under "options" by build_body; named here for the docs' tables.
    max_tokens_field = "num_predict"
    context_window_field = "num_ctx"
    choice_path = ()
    text_in_choice = ("response",)
    models_path = "/api/tags"
    health_path = "/api/version"

    def __init__(self, config: UpstreamConfig, http: UpstreamHTTP | None = None) -> None:
        super().__init__(config, http)
        self._chooser = ModelChooser(self.name, self.base_url, self._local_models)

    async def request_body(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        return self.build_body(prompt, params, await self._model(params.model))

    def stream_fields(self) -> dict[str, Any]:
        return {"stream": True}

    def read_stream_event(self, event: StreamEvent, end: StreamEnd, path: str) -> str:
        """``{"response": "Hel", "done": false}`` ... ``{"done": true, "done_reason", counts}``."""
        data = self.event_json(event, path)
        if not isinstance(data, dict):
            return ""
        if "error" in data:
            self.raise_stream_error(data["error"], path)
        if data.get("done") is True:
            end.done = True
            end.finish_reason = self.finish_reason_in(data)
            end.prompt_tokens, end.completion_tokens = self.usage_in(data)
        return self.event_text(data.get("response"))

    def build_body(
        self, prompt: str, params: GenerationParams, model: str | None = None
    ) -> dict[str, Any]:
        options: dict[str, Any] = {
            "num_predict": params.max_tokens,
            "stop": list(params.stop) or None,
            "num_ctx": params.context_window,
        }
        options.update({name: getattr(params, name) for name in _SAME_NAME_OPTIONS})
        body: dict[str, Any] = {
            "model": model or params.model or self.config.model,
            "prompt": prompt,
            "raw": True,
            "stream": False,
            "options": {key: value for key, value in options.items() if value is not None},
        }
        if params.json_schema is not None:
            body["format"] = params.json_schema
        return {key: value for key, value in body.items() if value not in (None, {})}

    def parse_models(self, data: Any) -> list[str]:
        models = data.get("models") if isinstance(data, dict) else None
        if not isinstance(models, list):
            return []
        return [str(m["name"]) for m in models if isinstance(m, dict) and m.get("name")]

    def usage_in(self, data: Any) -> tuple[int | None, int | None]:
        return as_count(data.get("prompt_eval_count")) or None, as_count(data.get("eval_count"))

    def finish_reason_in(self, data: Any) -> str | None:
        reason = data.get("done_reason")  # since Ollama 0.1.3x; absent before
        return reason if reason in ("stop", "length") else None

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        """``POST /api/embed`` (Ollama 0.3 on): one vector per input, already pooled."""
        if not inputs:
            return Embeddings(vectors=[])
        path = "/api/embed"
        body = {"model": await self._model(model), "input": list(inputs)}
        response = await self.send("POST", path, body)
        if response.status_code == 404 and not response.text.lstrip().startswith("{"):
            # "404 page not found" from the router: a build before /api/embed.
            raise EmbeddingsNotSupported(
                f"The Ollama server at {self.base_url} has no /api/embed (Ollama 0.3 or "
                "later has it)."
            )
        data = self.read_json("POST", path, response)
        self.raise_for_error_answer(data, path)
        vectors = data.get("embeddings") if isinstance(data, dict) else None
        if not isinstance(vectors, list):
            raise UpstreamError(f"Unexpected upstream answer: no embeddings in {str(data)[:300]}")
        items = {"data": [{"index": i, "embedding": v} for i, v in enumerate(vectors)]}
        return Embeddings(
            vectors=read_vectors(items, len(inputs)),
            prompt_tokens=as_count(data.get("prompt_eval_count")) or None,
        )

    async def props(self) -> UpstreamProps:
        """Version, the model, its template (Go), and the context it runs with."""
        version = dig(await self.request_json("GET", "/api/version"), ("version",))
        model = await self._chooser.choose(self.config.model)
        if model is None:
            return UpstreamProps(server="ollama", version=as_text(version))
        show = await self.post_json("/api/show", {"model": model})
        show = show if isinstance(show, dict) else {}
        info = show.get("model_info")
        trained = None
        if isinstance(info, dict):
            trained = next(
                (as_count(v) for k, v in info.items() if k.endswith(".context_length")), None
            )
        parameters = as_text(show.get("parameters")) or ""
        configured = _NUM_CTX.search(parameters)
        return UpstreamProps(
            server="ollama",
            model=model,
            context_window=int(configured[1]) if configured else await self._loaded_ctx(model),
            chat_template=as_text(show.get("template")),
            version=as_text(version),
            trained_context_window=trained,
        )

    async def _model(self, named: str | None) -> str:
        model = await self._chooser.choose(named or self.config.model)
        if model is None:
            raise UpstreamError(
                f"The Ollama server at {self.base_url} has no model: `ollama pull NAME`, "
                "then set upstream_model (or a model table entry's upstream_model) to NAME."
            )
        return model

    async def _local_models(self) -> list[str]:
        """The loaded models first (no load wait), then every installed one."""
        loaded: list[str] = []
        try:
            loaded = self.parse_models(await self.request_json("GET", "/api/ps"))
        except UpstreamUnavailable:
            raise
        except UpstreamError:
            pass  # before Ollama 0.1.38 there was no /api/ps
        installed = self.parse_models(await self.request_json("GET", "/api/tags"))
        return list(dict.fromkeys([*loaded, *installed]))

    async def _loaded_ctx(self, model: str) -> int | None:
        """The context a loaded model runs with (``/api/ps``, newer builds)."""
        try:
            data = await self.request_json("GET", "/api/ps")
        except UpstreamError:
            return None
        for entry in dig(data, ("models",)) or []:
            if isinstance(entry, dict) and entry.get("name") == model:
                return as_count(entry.get("context_length")) or None
        return None
