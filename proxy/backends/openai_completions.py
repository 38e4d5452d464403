"""Any server with OpenAI's text completions: vLLM, TabbyAPI, Aphrodite, SGLang, ...

``--backend openai-completions`` (alias ``vllm``, MemGPT's ``BACKEND_TYPE``
for vLLM) speaks OpenAI's legacy completions API and nothing else::

    POST /v1/completions   {"model", "prompt", "max_tokens", "stop", "temperature", "top_p",
                            "seed", "presence_penalty", "frequency_penalty"}
    -> {"choices": [{"text", "finish_reason"}], "usage": {"prompt_tokens", ...}}
    GET  /v1/models        {"data": [{"id", "owned_by", "max_model_len" (vLLM)}]}
    POST /v1/embeddings    OpenAI's shape (vLLM serving an embedding model)
    POST /tokenize         {"prompt", "model"} -> {"count", "max_model_len", "tokens"}  (vLLM)
    GET  /version          {"version"}  (vLLM)

vLLM's shapes are from ``vllm/entrypoints/openai/`` (``protocol.py``:
``CompletionRequest``, ``ModelCard`` with ``max_model_len``,
``TokenizeResponse``, ``ErrorResponse``; ``serving_engine.py``:
``_validate_input``), and MemGPT 0.3.25's ``memgpt/local_llm/vllm/api.py``.
vLLM refuses a prompt whose tokens plus ``max_tokens`` exceed
``max_model_len``: HTTP 400 ``{"error": {"message": "This model's maximum
context length is M tokens. However, you requested K output tokens and your
prompt contains at least P input tokens, ...", "type": "BadRequestError",
"code": 400}}`` (0.5.x answered the same message in a flat object), read as
``context_length_exceeded``. A request without ``max_tokens`` gets **16**
tokens (``CompletionRequest``); fcproxy always sends max tokens.

No grammar is sent: vLLM's ``guided_grammar`` (``structured_outputs.grammar``
from 0.12) takes the grammar language of its structured-output backend
(xgrammar's EBNF, guidance's Lark), not llama.cpp's GBNF, and the field name
depends on the version; so ``supports_grammar`` is False. A JSON schema is
sent as OpenAI's ``response_format`` (``{"type": "json_schema", "json_schema":
{"name", "strict", "schema"}}``): vLLM's ``CompletionRequest`` has taken it
since 0.6 and still does, while ``guided_json`` went away in 0.12 and
``structured_outputs`` only came in 0.10, so it is the one field every
version reads.

Every request names a model: the request's, else ``upstream_model``, else
the first one ``/v1/models`` lists (vLLM before 0.6 required it).

Streaming is OpenAI's (``"stream": true`` and ``stream_options:
{"include_usage": true}``, which vLLM answers with a last chunk holding only
the usage). vLLM reports a failure in the middle of a stream as a chunk
``{"error": {"message", ...}}`` (flat ``{"object": "error", ...}`` before
0.10) followed by ``data: [DONE]`` (``serving_completion.py``,
``create_streaming_error_response``): it is raised as an upstream error.
"""

from __future__ import annotations

import contextlib
from typing import Any

from proxy.backends.base import GenerationParams, UpstreamConfig, UpstreamProps
from proxy.backends.model_choice import ModelChooser
from proxy.backends.text_completion import TextCompletionBackend, as_count, as_text, dig
from proxy.backends.upstream_http import UpstreamHTTP
from proxy.errors import UpstreamError


class OpenAICompletionsBackend(TextCompletionBackend):
    """OpenAI's ``POST /v1/completions`` on any server (vLLM, TabbyAPI, Aphrodite, ...)."""

    name = "openai-completions"
    generate_path = "/v1/completions"
    sends_model = True
    takes_response_format = True
    embeddings_path = "/v1/embeddings"
    #: vLLM's tokenizer endpoint (at the root, not under /v1).
    tokenize_path = "/tokenize"

    def __init__(self, config: UpstreamConfig, http: UpstreamHTTP | None = None) -> None:
        super().__init__(config, http)
        self._chooser = ModelChooser(self.name, self.base_url, self._listed_models)
        # False once /tokenize answered 404: the server has none, stop asking.
        self._can_tokenize = True

    async def request_body(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        model = await self._chooser.choose(params.model or self.config.model)
        body = self.build_body(prompt, params)
        if model:
            body["model"] = model
        return body

    async def _listed_models(self) -> list[str]:
        # Unlike models(), a failure is raised: the request cannot go without a name.
        return self.parse_models(await self.request_json("GET", self.models_path or "/v1/models"))

    async def count_tokens(self, text: str) -> int | None:
        if not self._can_tokenize:
            return None
        body: dict[str, Any] = {"prompt": text}
        if self.config.model:
            body["model"] = self.config.model
        response = await self.send("POST", self.tokenize_path, body)
        if response.status_code in (404, 405):
            self._can_tokenize = False
            return None
        count = as_count(dig(self.read_json("POST", self.tokenize_path, response), ("count",)))
        if count is None:
            raise UpstreamError(f"Unexpected upstream answer: no count from {self.tokenize_path}")
        return count

    async def props(self) -> UpstreamProps:
        """The served model, vLLM's ``max_model_len`` and version where it tells."""
        listing = await self.request_json("GET", self.models_path or "/v1/models")
        cards = dig(listing, ("data",))
        card = cards[0] if isinstance(cards, list) and cards and isinstance(cards[0], dict) else {}
        owner = as_text(card.get("owned_by"))
        version = None
        response = await self.send("GET", "/version")
        if response.status_code == 200:
            # Not vLLM's: something else may answer /version on this server.
            with contextlib.suppress(UpstreamError):
                version = dig(self.read_json("GET", "/version", response), ("version",))
        return UpstreamProps(
            server="vllm" if owner == "vllm" or "max_model_len" in card else "openai-compatible",
            model=as_text(card.get("id")),
            model_path=as_text(card.get("root")),
            context_window=as_count(card.get("max_model_len")) or None,
            version=as_text(version),
        )
