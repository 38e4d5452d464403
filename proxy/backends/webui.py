"""text-generation-webui ("oobabooga"): its OpenAI-compatible API and the old blocking API.

``webui`` speaks the ``openai`` extension (``--api``, port 5000 by default)::

    POST /v1/completions        {"prompt", "max_tokens", "stop", "truncation_length",
                                 "grammar_string", "temperature", ...}
    -> {"choices": [{"text", "finish_reason"}], "usage": {"prompt_tokens", ...}}

``webui-legacy`` speaks the blocking API that webui removed in November 2023::

    POST /api/v1/generate       {"prompt", "max_new_tokens", "stopping_strings",
                                 "truncation_length", "grammar_string", ...}
    -> {"results": [{"text"}]}

Streaming: ``webui`` streams OpenAI's way (``"stream": true``, SSE chunks
``{"choices": [{"text", "finish_reason"}]}``, a usage chunk when asked with
``stream_options.include_usage``, ``data: [DONE]``; ``modules/api/script.py``
and ``completions.py``); an error in the middle ends the stream without its
``[DONE]``. ``webui-legacy`` streamed over a websocket on another port
(``extensions/api/streaming_api.py``), which fcproxy does not speak: its
``stream()`` yields the whole answer as one delta.

Embeddings: ``webui`` serves OpenAI's ``POST /v1/embeddings``; the blocking API
has none.

Field names checked against webui's ``extensions/openai/typing.py`` (v1.14,
the release MemGPT 0.3.25 met; ``modules/api/typing.py`` today) and ``extensions/api/util.py`` (v1.7), and
against MemGPT 0.3.25's ``local_llm/webui/api.py`` and ``legacy_api.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from proxy.backends.text_completion import Path, TextCompletionBackend, require_count


class WebUIFamilyBackend(TextCompletionBackend):
    """What both webui APIs share: GBNF grammar, ``truncation_length``, the tokenizer endpoint.

    webui never reports an over-long prompt. Its transformers/ExLlama/llama.cpp
    loaders keep the last ``truncation_length - max_new_tokens`` tokens and
    drop the start without a word (``get_max_prompt_length`` in
    ``modules/text_generation.py``); for MemGPT the start is its system prompt
    and memory. Newer builds that run llama.cpp's server log "The request
    exceeds the available context size" and answer an empty text. So nothing
    here can turn an overflow into :class:`ContextLengthExceeded`: the
    pipeline's context-window check does, counting the prompt with
    :meth:`count_tokens` (webui's own tokenizer) and capping max tokens to the
    room left, so that webui has nothing to cut.
    """

    context_window_field = "truncation_length"
    grammar_field = "grammar_string"
    token_count_path: ClassVar[str]
    #: The field of the token-count request that holds the text.
    token_count_field: ClassVar[str]
    #: Where the count sits in the token-count answer.
    token_count_at: ClassVar[Path]
    #: The key naming the loaded model in the answer of ``models_path``.
    model_name_key: ClassVar[str]

    async def count_tokens(self, text: str) -> int:
        data = await self.post_json(self.token_count_path, {self.token_count_field: text})
        return require_count(data, *self.token_count_at)

    def parse_models(self, data: Any) -> list[str]:
        """The one loaded model: webui serves a single model at a time."""
        name = data.get(self.model_name_key) if isinstance(data, dict) else None
        # webui reports the string "None" while no model is loaded.
        return [name] if isinstance(name, str) and name not in ("", "None") else []


class WebUIBackend(WebUIFamilyBackend):
    """text-generation-webui's OpenAI-compatible API (``--api``), ``POST /v1/completions``."""

    name = "webui"
    generate_path = "/v1/completions"
    # Until v3.6 (June 2025), /v1/models listed only the dummies gpt-3.5-turbo and
    # text-embedding-ada-002; /v1/internal/model/info names the loaded model
    # in every build that has the OpenAI API (v1.8 on).
    models_path = "/v1/internal/model/info"
    model_name_key = "model_name"
    health_path = "/v1/models"
    token_count_path = "/v1/internal/token-count"
    token_count_field = "text"
    token_count_at = ("length",)
    # A sentence-transformers model of its own (OPENEDAI_EMBEDDING_MODEL), not
    # the loaded LLM; usage always reads 0 (modules/api/embeddings.py).
    embeddings_path = "/v1/embeddings"


class WebUILegacyBackend(WebUIFamilyBackend):
    """text-generation-webui's old blocking API (``--api`` before Nov 2023), ``POST /api/v1/generate``."""

    name = "webui-legacy"
    generate_path = "/api/v1/generate"
    # Its stream was a websocket on port 5005, not HTTP: one delta.
    stream_framing = None
    max_tokens_field = "max_new_tokens"
    stop_field = "stopping_strings"
    # build_parameters() reads no presence/frequency penalty (it has
    # repetition_penalty instead), so they are not sent.
    sampling_fields = ("temperature", "top_p", "top_k", "seed")
    choice_path = ("results", 0)
    models_path = "/api/v1/model"
    model_name_key = "result"
    health_path = "/api/v1/model"
    token_count_path = "/api/v1/token-count"
    token_count_field = "prompt"
    token_count_at = ("results", 0, "tokens")
