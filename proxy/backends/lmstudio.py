"""LM Studio's local server (port 1234 by default): OpenAI text and chat completions.

``lmstudio`` sends the rendered prompt as a text completion::

    POST /v1/completions        {"model", "prompt", "max_tokens", "stop", "temperature", ...}
    -> {"choices": [{"text", "finish_reason"}], "usage": {...}}

``lmstudio-legacy`` is MemGPT's older mode: the whole rendered prompt goes in
as one user message of a chat completion (LM Studio then wraps it in the
model's chat template)::

    POST /v1/chat/completions   {"model", "messages": [{"role": "user", "content": prompt}], ...}
    -> {"choices": [{"message": {"content"}, "finish_reason"}], "usage": {...}}

LM Studio fixes the context window when it loads the model, so none is sent
per request; it takes no GBNF grammar, but constrains the output to a JSON
schema given as OpenAI's ``response_format`` (``{"type": "json_schema",
"json_schema": {"name", "strict", "schema"}}``, LM Studio 0.3.x), which
fcproxy fills from :attr:`GenerationParams.json_schema`. Checked against MemGPT 0.3.25's
``local_llm/lmstudio/api.py``. MemGPT also sent
``"lmstudio": {"context_overflow_policy": 0}``; LM Studio 0.3 rejects that
number (letta#1782), so it is not sent: set the overflow policy to "stop at
limit" in LM Studio instead (docs/backends.md).

Both stream OpenAI's way with ``"stream": true``: ``lmstudio`` text chunks
(``choices[0].text``), ``lmstudio-legacy`` chat chunks (``choices[0].delta.content``,
the first one carrying only the role), each ended by ``data: [DONE]``, the usage
in a last chunk when asked with ``stream_options.include_usage``.

Both modes serve OpenAI's ``POST /v1/embeddings`` (an embedding model must be
loaded in LM Studio).
"""

from __future__ import annotations

from typing import Any

from proxy.backends.text_completion import TextCompletionBackend


class LMStudioBackend(TextCompletionBackend):
    """LM Studio, text completions: ``POST /v1/completions``."""

    name = "lmstudio"
    generate_path = "/v1/completions"
    # LM Studio can hold several models and picks one by this name.
    sends_model = True
    takes_response_format = True
    # It picks the embedding model by the request's "model" too.
    embeddings_path = "/v1/embeddings"


class LMStudioLegacyBackend(LMStudioBackend):
    """LM Studio, the prompt as one chat message: ``POST /v1/chat/completions``."""

    name = "lmstudio-legacy"
    generate_path = "/v1/chat/completions"
    text_in_choice = ("message", "content")
    stream_text_in_choice = ("delta", "content")

    def prompt_fields(self, prompt: str) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": prompt}]}
