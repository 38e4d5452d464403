"""Unmodified MemGPT 0.3.25 → fcproxy → a real llama.cpp server with SmolLM2-135M-Instruct.

Real: MemGPT 0.3.25 from PyPI in a venv of its own (tests/e2e/venvs.py), run
by clients/memgpt_driver.py the way a MemGPT user's program runs it
(``create_client()``, ``create_agent()``, ``user_message()``; endpoint type
``openai`` pointed at fcproxy; tiktoken's encoding seeded from a PyPI package
instead of downloaded); ``fcproxy serve`` as a subprocess; llama-cpp-python's
server. Nothing stands in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import LLAMA_BACKEND, LLAMA_N_CTX, MakeProxy
from tests.e2e.drivers import assert_turn_clean, assert_turn_delivered, run_memgpt
from tests.e2e.processes import ServerProcess

# Includes building the MemGPT venv on first use (~1-3 min cold).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

THREE_TURNS = [
    "Hi! My name is Brad and I live in Lisbon.",
    "What is my name, and where do I live?",
    "Tell me one short fact about the ocean.",
]

#: The window fcproxy enforces in the overflow test (llama.cpp's n_ctx is larger, so
#: the limit is fcproxy's). MemGPT's own prompt (system prompt, memory, function
#: docs) is ~2,750 SmolLM2 tokens; each turn below adds ~470, so the conversation
#: overflows at the 4th or 5th turn. The margin left after MemGPT summarizes has
#: to hold a summary of up to 1,024 tokens: SmolLM2 sometimes ignores MemGPT's
#: "less than 100 words" and writes until fcproxy's default max_tokens.
OVERFLOW_WINDOW = 4800
#: The embedded model's context (--context-window sizes it), as the llama server's.
EMBEDDED_N_CTX = LLAMA_N_CTX
#: ~320 tokens each.
STORY = " ".join(
    [
        "Yesterday I walked along the river for hours, counting the boats,",
        "the herons and the old stone bridges, and I kept thinking about",
        "the summer my grandfather taught me to sail on that same water.",
    ]
    * 5
)
OVERFLOW_TURNS = [f"Part {n} of my story: {STORY}" for n in range(1, 9)]


def test_three_turns_each_deliver_a_send_message(
    memgpt_python: Path, llama_proxy: ServerProcess, tmp_path: Path
) -> None:
    """Each of three user messages gets a send_message that MemGPT delivers, and no error."""
    result = run_memgpt(
        memgpt_python,
        endpoint=llama_proxy.url + "/v1",
        home=tmp_path / "home",
        messages=THREE_TURNS,
        context_window=LLAMA_N_CTX,
        timeout=600,
    )

    assert result.agent is not None, f"MemGPT did not create its agent\n{result.describe()}"
    assert len(result.turns) == 3, result.describe()
    for turn in result.turns:
        assert_turn_delivered(result, turn)
    assert result.done and result.run.returncode == 0, result.describe()


def test_three_turns_through_the_embedded_backend(
    memgpt_python: Path, make_proxy: MakeProxy, tmp_path: Path
) -> None:
    """The same three turns with no LLM server at all: ``fcproxy serve`` with no
    upstream runs SmolLM2 in-process (llama-cpp-python), grammar-constrained."""
    proxy = make_proxy(None, "embedded", context_window=EMBEDDED_N_CTX)
    result = run_memgpt(
        memgpt_python,
        endpoint=proxy.url + "/v1",
        home=tmp_path / "home",
        messages=THREE_TURNS,
        context_window=EMBEDDED_N_CTX,
        timeout=600,
    )

    assert "embedded backend" in proxy.log_text()
    assert result.agent is not None, f"MemGPT did not create its agent\n{result.describe()}"
    assert len(result.turns) == 3, result.describe()
    for turn in result.turns:
        assert_turn_delivered(result, turn)
    assert result.done and result.run.returncode == 0, result.describe()


def test_context_overflow_makes_memgpt_summarize_and_carry_on(
    memgpt_python: Path, llama_server: ServerProcess, make_proxy: MakeProxy, tmp_path: Path
) -> None:
    """A conversation longer than fcproxy's --context-window: MemGPT gets the
    context_length_exceeded 400, summarizes its history, and the turn still
    delivers a send_message; so does the turn after it.

    fcproxy's window (OVERFLOW_WINDOW) is smaller than llama.cpp's n_ctx, so
    the error comes from fcproxy's own check, as it would for a model whose
    context is that small. MemGPT is told the same window, as a user would.
    """
    proxy = make_proxy(llama_server.url, LLAMA_BACKEND, context_window=OVERFLOW_WINDOW)
    result = run_memgpt(
        memgpt_python,
        endpoint=proxy.url + "/v1",
        home=tmp_path / "home",
        messages=OVERFLOW_TURNS,
        context_window=OVERFLOW_WINDOW,
        # Stop two turns after the first summary: those turns are the "carry on".
        turns_after_summary=2,
        timeout=720,
    )

    context = result.describe()
    assert result.agent is not None, f"MemGPT did not create its agent\n{context}"
    assert "maximum context length" in proxy.log_text(), (
        f"fcproxy never refused an over-long prompt\n{context}"
    )
    summarized = [t for t in result.turns if t["summaries_in_context"]]
    assert summarized, f"MemGPT never summarized its history\n{context}"
    first = summarized[0]
    # MemGPT's summary replaced the oldest messages in its context window.
    assert "have been hidden from view" in first["summaries"][0], context
    # The turn that overflowed still reached the user.
    assert_turn_delivered(result, first)
    assert first["turn"] + 1 < len(OVERFLOW_TURNS), f"overflow on the last turns\n{context}"
    # And the agent carried on: the next two turns raised nothing, and one of
    # them reached the user again. (Not necessarily the first: at MemGPT's
    # temperature SmolLM2-135M now and then answers a turn with
    # pause_heartbeats alone, a valid MemGPT call that sends the user nothing;
    # seen once in CI, 2026-12-07.)
    after = result.turns[first["turn"] : first["turn"] + 2]
    assert len(after) == 2, f"MemGPT stopped before two more turns\n{context}"
    for turn in after:
        assert_turn_clean(result, turn)
    assert any(turn["send_message_delivered"] for turn in after), (
        f"no turn after the summary reached the user\n{context}"
    )
