"""koboldcpp (port 5001): its KoboldAI API, ``POST /api/v1/generate``.

Wire format, from ``koboldcpp.py`` in github.com/LostRuins/koboldcpp
(``generate()``, ``transform_genparams()``, ``do_GET`` / ``do_POST`` of
``KcppServerRequestHandler``; read at 1.76 and 1.102), its API docs at
``/api`` (lite.koboldai.net/koboldcpp_api), and MemGPT 0.3.25's
``memgpt/local_llm/koboldcpp/api.py``::

    POST /api/v1/generate   {"prompt", "max_length", "max_context_length", "stop_sequence",
                             "grammar", "temperature", "top_p", "presence_penalty",
                             "sampler_seed", "trim_stop": true, ...}
    -> {"results": [{"text", "finish_reason": "stop" | "length",
                     "prompt_tokens", "completion_tokens"}]}   (the counts: 1.9x on)
    GET  /api/v1/model                   {"result": "koboldcpp/<model>"} ("inactive": none)
    GET  /api/extra/version              {"result": "KoboldCpp", "version": "1.102",
                                          "embeddings": bool, ...}
    GET  /api/extra/true_max_context_length   {"value": <--contextsize>}
    POST /api/extra/tokencount           {"prompt"} -> {"value": N, "ids": [...]}
    GET  /props                          {"chat_template", "n_ctx", ...}  (llama.cpp-style;
                                          newer builds)
    POST /v1/embeddings                  OpenAI's shape, with an --embeddingsmodel loaded

Streaming: the same body to ``POST /api/extra/generate/stream`` (the path says
it; ``handle_sse_stream()``), one SSE event per piece of text::

    event: message
    data: {"token": "Hel", "finish_reason": null}     ("null", a string, in 1.76)
    ...
    event: message
    data: {"token": "", "finish_reason": "stop" | "length"}   ("error" in 1.10x)

then koboldcpp closes the connection. The stream says nothing of token counts,
so once it has ended ``GET /api/extra/perf`` is asked for the last
generation's (``last_input_count``, ``last_token_count``), and the finish reason
is read from them as the whole answer's is (below). koboldcpp generates one
request at a time, so the figures are this stream's unless another request
finished in the few milliseconds between.

The names differ from OpenAI's: ``max_length``, ``stop_sequence``,
``sampler_seed``; there is no frequency penalty. koboldcpp takes a GBNF
grammar in ``grammar``, and the context window per request
(``max_context_length``, capped at ``--contextsize``).

Quirks handled here:

- ``trim_stop`` is sent always: before 1.8x it defaulted to false and the
  stop sequence that ended the text was left in it.
- koboldcpp reports ``finish_reason: "length"`` for every stop but the
  model's own end-of-text, a stop sequence included (``currfinishreason =
  "length" if stopreason != 1``); it is read as "stop" when fewer tokens than
  ``max_length`` came back.
- A prompt that does not fit is cut silently: koboldcpp keeps its last
  ``max_context_length - max_length`` tokens (``gpttype_adapter.cpp``,
  "truncate to front of the prompt if its too long"), as webui does. Set
  ``context_window`` so that the pipeline checks first.
- Without an embeddings model koboldcpp answers empty vectors; builds before
  embeddings answer 404. Both are :class:`EmbeddingsNotSupported`.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Protocol

from proxy.backends.base import Completion, Embeddings, GenerationParams, UpstreamProps
from proxy.backends.event_stream import StreamEvent
from proxy.backends.text_completion import (
    StreamEnd,
    TextCompletionBackend,
    as_count,
    as_text,
    dig,
    require_count,
)
from proxy.errors import EmbeddingsNotSupported, UpstreamError

logger = logging.getLogger(__name__)

#: What /api/v1/model reports while no text model is loaded.
NO_MODEL = "inactive"


class KoboldCppBackend(TextCompletionBackend):
    """koboldcpp, ``POST /api/v1/generate`` -> ``{"results": [{"text"}]}``."""

    name = "koboldcpp"
    generate_path = "/api/v1/generate"
    stream_path = "/api/extra/generate/stream"
    max_tokens_field = "max_length"
    stop_field = "stop_sequence"
    context_window_field = "max_context_length"
    grammar_field = "grammar"
    # seed is "sampler_seed" here (build_body); no frequency penalty at all.
    sampling_fields = ("temperature", "top_p", "top_k", "presence_penalty")
    choice_path = ("results", 0)
    models_path = "/api/v1/model"
    health_path = "/api/v1/model"
    embeddings_path = "/v1/embeddings"

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        completion = await super().complete(prompt, params)
        return dataclasses.replace(
            completion,
            finish_reason=_finish_reason(completion.finish_reason, completion, params),
        )

    def stream_fields(self) -> dict[str, Any]:
        return {}  # the path makes it a stream

    def read_stream_event(self, event: StreamEvent, end: StreamEnd, path: str) -> str:
        """``{"token": "Hel", "finish_reason": null}`` ... ``{"token": "", "finish_reason": "stop"}``."""
        data = self.event_json(event, path)
        if not isinstance(data, dict):
            return ""
        reason = data.get("finish_reason")
        if reason == "error":  # a failed generation (koboldcpp 1.10x)
            self.raise_stream_error("the generation failed (finish_reason: error)", path)
        if reason in ("stop", "length"):
            end.done = True
            end.finish_reason = reason
        return self.event_text(data.get("token"))

    async def finish_stream(self, end: StreamEnd, params: GenerationParams) -> StreamEnd:
        """Token counts from ``/api/extra/perf``, then the finish reason as ``complete`` reads it."""
        try:
            perf = await self.request_json("GET", "/api/extra/perf")
        except UpstreamError as exc:
            logger.debug("koboldcpp at %s has no /api/extra/perf: %s", self.base_url, exc)
            perf = None
        if isinstance(perf, dict):
            end.prompt_tokens = as_count(perf.get("last_input_count")) or None
            end.completion_tokens = as_count(perf.get("last_token_count"))
        end.finish_reason = _finish_reason(end.finish_reason, end, params)
        return end

    def build_body(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        body = super().build_body(prompt, params)
        if params.seed is not None:
            body["sampler_seed"] = params.seed
        # Cut the stop sequence off the text (the default only from 1.8x on).
        body["trim_stop"] = True
        return body

    def parse_models(self, data: Any) -> list[str]:
        name = as_text(dig(data, ("result",)))
        return [name] if name and name != NO_MODEL else []

    def usage_in(self, data: Any) -> tuple[int | None, int | None]:
        result = dig(data, self.choice_path)
        if not isinstance(result, dict):
            return None, None
        return as_count(result.get("prompt_tokens")) or None, as_count(
            result.get("completion_tokens")
        )

    async def count_tokens(self, text: str) -> int:
        data = await self.post_json("/api/extra/tokencount", {"prompt": text})
        return require_count(data, "value")

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        try:
            embeddings = await super().embed(inputs, model)
        except UpstreamError as exc:
            if "HTTP 404" in exc.message:
                raise EmbeddingsNotSupported(
                    f"The koboldcpp server at {self.base_url} has no /v1/embeddings "
                    "(koboldcpp 1.9x or later has it)."
                ) from None
            if "not a list of numbers" in exc.message:
                # No embeddings model loaded: koboldcpp answers [] for each input.
                raise EmbeddingsNotSupported(
                    f"The koboldcpp server at {self.base_url} has no embeddings model: "
                    "start it with --embeddingsmodel FILE.gguf."
                ) from None
            raise
        return embeddings

    async def props(self) -> UpstreamProps:
        """Version, model, ``--contextsize`` and (newer builds) the chat template."""
        version = await self.request_json("GET", "/api/extra/version")
        models = await self.models()
        context = await self.request_json("GET", "/api/extra/true_max_context_length")
        response = await self.send("GET", "/props")  # 404 before koboldcpp 1.9x
        props = self.read_json("GET", "/props", response) if response.status_code == 200 else {}
        return UpstreamProps(
            server="koboldcpp",
            model=models[0] if models else None,
            context_window=as_count(dig(context, ("value",))) or None,
            chat_template=as_text(dig(props, ("chat_template",))),
            version=as_text(dig(version, ("version",))),
        )


class _Counted(Protocol):
    @property
    def completion_tokens(self) -> int | None: ...


def _finish_reason(reported: str | None, counted: _Counted, params: GenerationParams) -> str | None:
    """koboldcpp's finish reason, with a stop sequence read as "stop".

    koboldcpp calls every stop but the model's own end-of-text "length"; fewer
    tokens than ``max_length`` means something else than the limit ended it.
    """
    if (
        reported == "length"
        and counted.completion_tokens is not None
        and params.max_tokens is not None
        and counted.completion_tokens < params.max_tokens
    ):
        return "stop"
    return reported
