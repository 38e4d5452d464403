"""llama.cpp's own GBNF parser and grammar sampler, for tests.

``LlamaGrammar.from_string`` (llama-cpp-python 0.3.x) only stores the text;
llama.cpp parses a grammar when a sampler is built from it, against a
vocabulary. So this loads the bundled SmolLM2's vocabulary (no weights) once
and builds a grammar sampler: a NULL sampler is a grammar llama.cpp refused.

:func:`llama_cpp_matches` then asks the same sampler whether a text is a
whole answer under the grammar: the text is tokenized with SmolLM2's
vocabulary and fed token by token, each one first offered to the sampler
(``llama_sampler_apply`` masks a token the grammar forbids to -inf) and then
accepted; at the end, the end-of-generation token must be allowed (the
grammar is complete). That is what llama.cpp does while it samples, so a
text it matches is one a model could be made to write.
"""

from __future__ import annotations

import ctypes
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

import pytest


@cache
def _model() -> tuple[Any, Any]:
    llama_cpp = pytest.importorskip("llama_cpp")
    from proxy.backends.embedded import bundled_model_path

    try:
        path = bundled_model_path()
    except Exception as exc:  # the model package is not installed
        pytest.skip(f"no bundled model for llama.cpp's grammar parser: {exc}")
    if not path.is_file():
        pytest.skip("no bundled model for llama.cpp's grammar parser")
    return llama_cpp, llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)


def _vocab() -> tuple[Any, Any]:
    """llama_cpp and the vocabulary (valid while the cached model lives)."""
    llama_cpp, model = _model()
    return llama_cpp, llama_cpp.llama_model_get_vocab(model.model)


@contextmanager
def _sampler(grammar: str, root: str, triggers: Sequence[str]) -> Iterator[Any]:
    llama_cpp, vocab = _vocab()
    if triggers:
        # llama-server's word triggers, as common/chat.cpp turns them into
        # patterns: the grammar applies from the first group, the trigger, on.
        patterns = [rf"[\s\S]*?({re.escape(word)})[\s\S]*".encode() for word in triggers]
        array = (ctypes.c_char_p * len(patterns))(*patterns)
        no_tokens = (llama_cpp.llama_token * 1)()
        sampler = llama_cpp.llama_sampler_init_grammar_lazy_patterns(
            vocab, grammar.encode(), root.encode(), array, len(patterns), no_tokens, 0
        )
    else:
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), root.encode())
    try:
        yield sampler
    finally:
        if sampler:
            llama_cpp.llama_sampler_free(sampler)


def llama_cpp_accepts(grammar: str, root: str = "root") -> bool:
    """Whether llama.cpp's grammar parser accepts ``grammar`` (skips without llama.cpp)."""
    with _sampler(grammar, root, ()) as sampler:
        return bool(sampler)


def _allowed(sampler: Any, token: int) -> bool:
    """Does the grammar let ``token`` come next? (One candidate, masked or not.)"""
    llama_cpp, _ = _vocab()
    data = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(token, 0.0, 0.0))
    candidates = llama_cpp.llama_token_data_array(data, 1, -1, False)
    llama_cpp.llama_sampler_apply(sampler, ctypes.byref(candidates))
    return not math.isinf(data[0].logit)


def _tokens(text: str) -> list[int]:
    llama_cpp, vocab = _vocab()
    raw = text.encode()
    buffer = (llama_cpp.llama_token * (len(raw) + 8))()
    count = llama_cpp.llama_tokenize(vocab, raw, len(raw), buffer, len(buffer), False, False)
    assert count >= 0, "the text did not fit the token buffer"
    return list(buffer[:count])


def _piece(token: int) -> bytes:
    llama_cpp, vocab = _vocab()
    buffer = ctypes.create_string_buffer(64)
    size = llama_cpp.llama_token_to_piece(vocab, token, buffer, len(buffer), 0, False)
    assert size >= 0, "a token piece longer than the buffer"
    return buffer.raw[:size]


def llama_cpp_starts_with(grammar: str, root: str, text: str) -> bool:
    """Can an answer under ``grammar`` start with ``text``? (Every token allowed.)"""
    llama_cpp, _ = _vocab()
    with _sampler(grammar, root, ()) as sampler:
        for token in _tokens(text):
            if not _allowed(sampler, token):
                return False
            llama_cpp.llama_sampler_accept(sampler, token)
    return True


def _trigger_feed(tokens: list[int], triggers: Sequence[str]) -> str | None:
    """What a lazy grammar is fed when a trigger fires: the text from the trigger
    to the end of the token that completed it (None: no trigger in the text)."""
    written = b""
    for token in tokens:
        written += _piece(token)
        text = written.decode(errors="ignore")
        found = [text.find(t) for t in triggers if t in text]
        if found:
            return text[min(found) :]
    return None


def llama_cpp_matches(
    grammar: str, text: str, *, triggers: Sequence[str] = (), root: str = "root"
) -> bool:
    """Whether llama.cpp's grammar sampler lets a model write exactly ``text``.

    ``triggers``: the grammar is lazy (llama-server's ``grammar_lazy``): text
    is free until one of these words, and held to the grammar from it on.
    A grammar llama.cpp refuses fails the test rather than matching nothing.
    """
    llama_cpp, vocab = _vocab()
    tokens = _tokens(text)
    if triggers:
        # llama.cpp feeds the text from the trigger on to the grammar without
        # asking first, and aborts the process when the grammar refuses it
        # (a grammar that does not start with its trigger): ask first.
        fed = _trigger_feed(tokens, triggers)
        if fed is not None and not llama_cpp_starts_with(grammar, root, fed):
            return False
    with _sampler(grammar, root, triggers) as sampler:
        assert sampler, "llama.cpp refused the grammar"
        for token in tokens:
            if not _allowed(sampler, token):
                return False
            # Only an allowed token is accepted: llama.cpp throws on another.
            llama_cpp.llama_sampler_accept(sampler, token)
        return _allowed(sampler, llama_cpp.llama_vocab_eos(vocab))


class LlamaCppGrammar:
    """A grammar llama.cpp parsed, asked what it matches (``Grammar``'s interface)."""

    def __init__(self, text: str, *, triggers: Sequence[str] = ()) -> None:
        assert llama_cpp_accepts(text), "llama.cpp refused the grammar"
        self.text = text
        self.triggers = tuple(triggers)

    def matches(self, sample: str) -> bool:
        return llama_cpp_matches(self.text, sample, triggers=self.triggers)
