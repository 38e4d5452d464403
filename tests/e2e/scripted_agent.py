"""A scripted model for coding agents (Claude Code, Codex) on the fake llama-server.

No model that runs here follows these agents' 10,000-token prompts, so the
fake llama-server (tests/fakes/upstream.py) answers from this script, on the
real ``/completion`` wire, in the ``hermes`` format fcproxy is started with:
a call of the agent's shell tool for the user's request, then a sentence
quoting the tool result it is sent; each after some reasoning in
``<think>`` tags, which reaches the agent as thinking (Anthropic) or a
reasoning item (Responses) and comes back in the next request's history. The command makes the shell compute
``42``: an answer can only hold :data:`RAN` if the agent ran it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.processes import ServerProcess, start_fcproxy
from tests.fakes.upstream import FakeUpstream

COMMAND = "echo $((6*7))-fcproxy"
RAN = "42-fcproxy"
REQUEST = f"Run this and tell me what it prints: {COMMAND}"
TOOL_RESPONSE = re.compile(r"<tool_response>\s*(.*?)\s*</tool_response>", re.DOTALL)


def shell_agent_model(tool: str, arguments: dict[str, str]) -> Callable[[str], str]:
    """The script: call ``tool`` with ``arguments`` for the request, then quote its result."""
    call = f"<tool_call>\n{json.dumps({'name': tool, 'arguments': arguments})}\n</tool_call>"

    def answer(prompt: str) -> str:
        results = TOOL_RESPONSE.findall(prompt)
        if results:
            return f"<think>The tool answered.</think>The command printed: {results[-1]}"
        if COMMAND in prompt:
            return f"<think>The user wants this run.</think>{call}"
        return "Scripted answer."  # a side request (a title, a summary)

    return answer


@contextmanager
def scripted_fcproxy(
    model: Callable[[str], str], log_dir: Path
) -> Iterator[tuple[ServerProcess, FakeUpstream]]:
    """``fcproxy serve --wrapper hermes`` before the fake llama-server answering with ``model``."""
    fake = FakeUpstream("llama-server")
    fake.context_window = 200_000  # the agents' prompts are ~10,000 fake tokens
    fake.script = model
    with fake:
        proxy = start_fcproxy(
            fake.url, "llamacpp", log_dir / "fcproxy.log", extra_args=("--wrapper", "hermes")
        )
        try:
            yield proxy, fake
        finally:
            proxy.stop()
