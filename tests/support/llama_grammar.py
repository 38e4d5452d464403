"""llama.cpp's own GBNF parser, for tests: does llama.cpp accept this grammar?

``LlamaGrammar.from_string`` (llama-cpp-python 0.3.x) only stores the text;
llama.cpp parses a grammar when a sampler is built from it, against a
vocabulary. So this loads the bundled SmolLM2's vocabulary (no weights) once
and builds a grammar sampler: a NULL sampler is a grammar llama.cpp refused.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest


@cache
def _vocab() -> tuple[Any, Any]:
    llama_cpp = pytest.importorskip("llama_cpp")
    from proxy.backends.embedded import bundled_model_path

    try:
        path = bundled_model_path()
    except Exception as exc:  # the model package is not installed
        pytest.skip(f"no bundled model for llama.cpp's grammar parser: {exc}")
    if not path.is_file():
        pytest.skip("no bundled model for llama.cpp's grammar parser")
    model = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    return llama_cpp, model


def llama_cpp_accepts(grammar: str, root: str = "root") -> bool:
    """Whether llama.cpp's grammar parser accepts ``grammar`` (skips without llama.cpp)."""
    llama_cpp, model = _vocab()
    vocab = llama_cpp.llama_model_get_vocab(model.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), root.encode())
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True
