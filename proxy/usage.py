"""Token counts for ``usage``: the upstream's own figures, its tokenizer, or an estimate.

Order of preference, per count:

1. what the upstream reported with the generation (``usage`` in OpenAI-style
   answers);
2. the upstream's tokenize endpoint, where its dialect has one;
3. an estimate of one token per 4 characters (rounded up), OpenAI's own rule
   of thumb for English text. Nothing here downloads a tokenizer: fcproxy
   must run offline.

A count is never zero: OpenAI clients (MemGPT among them) treat a zero as
"no usage reported".

A count never fails a request: an upstream whose tokenize endpoint is missing
or broken (webui-legacy's ``/api/v1/token-count`` answering 404 on builds and
look-alike servers without it) gets the estimate, and the log says so once
per upstream.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from proxy.backends.base import Backend

CHARS_PER_TOKEN = 4

logger = logging.getLogger(__name__)
#: Upstreams whose failing token count has been logged (once each).
_FAILED_COUNTS: set[str] = set()


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    #: "upstream", "tokenizer" or "estimate": which source gave the counts.
    source: str

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


async def count_tokens(backend: Backend, text: str) -> tuple[int, str]:
    """Tokens in ``text`` by the upstream's tokenizer, else the estimate.

    Any failure of the count (an error status, a connection refused, an
    unexpected answer) falls back to the estimate: the generation it
    measures went fine, and a 502 for a figure would lose it.
    """
    try:
        counted = await backend.count_tokens(text)
    except Exception as exc:  # a count must never fail the request
        name = getattr(backend, "name", type(backend).__name__)
        if name not in _FAILED_COUNTS:
            _FAILED_COUNTS.add(name)
            logger.warning(
                "upstream %s: token count failed (%s); using the estimate of 1 token "
                "per %d characters",
                name,
                exc,
                CHARS_PER_TOKEN,
            )
        counted = None
    if counted:
        return counted, "tokenizer"
    return estimate_tokens(text), "estimate"


async def resolve_usage(
    backend: Backend,
    prompt: str,
    completion: str,
    *,
    reported_prompt: int | None,
    reported_completion: int | None,
    known_prompt: tuple[int, str] | None = None,
) -> Usage:
    """Fill in whatever the upstream did not report.

    ``known_prompt`` is a count made earlier (for the context-window check),
    so the prompt is not tokenized twice. ``source`` names the weakest source
    used.
    """
    if reported_prompt:
        prompt_tokens, prompt_source = reported_prompt, "upstream"
    elif known_prompt:
        prompt_tokens, prompt_source = known_prompt
    else:
        prompt_tokens, prompt_source = await count_tokens(backend, prompt)
    if reported_completion:
        completion_tokens, completion_source = reported_completion, "upstream"
    else:
        completion_tokens, completion_source = await count_tokens(backend, completion)
    sources = {prompt_source, completion_source}
    source = next(s for s in ("estimate", "tokenizer", "upstream") if s in sources)
    return Usage(max(1, prompt_tokens), max(1, completion_tokens), source)
