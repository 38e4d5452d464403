"""Claude Code → fcproxy's ``/v1/messages`` → a llama.cpp server that calls its Bash tool.

Real: Claude Code's CLI (``@anthropic-ai/claude-code``, pinned in
tests/e2e/npm_clients.py, installed with npm into the e2e cache on first
use), run non-interactively as a user would (``claude -p ... --output-format
json``), and ``fcproxy serve`` with the ``hermes`` format. Stands in: the
model, because no model that runs here follows Claude Code's 20,000-token
prompt with 24 tools. The fake llama-server (tests/fakes/upstream.py)
answers on the real ``/completion`` wire from a script: a Bash call for the
user's request, then a sentence quoting the tool result it is sent.

What it pins: everything Claude Code sends fcproxy accepts (its ``claude-*``
model names routed to the default format, ``system`` messages between the
turns, ``anthropic-beta`` headers, ``thinking``, ``context_management``,
``output_config``, ``cache_control``, tool schemas with ``$schema`` and
``propertyNames``), the streamed ``tool_use`` reaches Claude Code, which runs
the command, and the ``tool_result`` comes back for the final answer.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.npm_clients import CLAUDE_CODE, ensure_npm_client, npm_available
from tests.e2e.processes import ServerProcess
from tests.e2e.scripted_agent import COMMAND, RAN, REQUEST, scripted_fcproxy, shell_agent_model
from tests.fakes.upstream import FakeUpstream

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(600),  # a cold npm install included
    pytest.mark.skipif(not npm_available(), reason="needs npm and node to install Claude Code"),
]

#: Bash may run without asking (there is nobody to ask); at most 4 turns.
CLAUDE_FLAGS = ("--allowedTools", "Bash", "--max-turns", "4")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerProcess, FakeUpstream]]:
    model = shell_agent_model("Bash", {"command": COMMAND, "description": "Print"})
    with scripted_fcproxy(model, tmp_path) as running:
        yield running


def run_claude(proxy: ServerProcess, home: Path, prompt: str) -> dict[str, object]:
    claude = ensure_npm_client(CLAUDE_CODE)
    work = home / "work"
    work.mkdir(parents=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # no settings or login of the developer's
        "ANTHROPIC_BASE_URL": proxy.url,
        "ANTHROPIC_API_KEY": "sk-ant-unused",
        # Nothing goes to the internet: no telemetry, error reports or update checks.
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    result = subprocess.run(
        [str(claude), "-p", prompt, "--output-format", "json", *CLAUDE_FLAGS],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, (
        f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
    )
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def test_claude_code_runs_a_bash_call_and_answers_from_its_result(
    served: tuple[ServerProcess, FakeUpstream], tmp_path: Path
) -> None:
    proxy, upstream = served
    answer = run_claude(proxy, tmp_path / "home", REQUEST)
    assert answer["is_error"] is False, answer
    assert answer["num_turns"] == 2, answer  # the call, then the answer
    assert RAN in str(answer["result"]), answer
    assert "think" not in str(answer["result"])  # the reasoning went to a thinking block
    # The Bash call went out in a streamed message Claude Code parsed, and its
    # output came back to the model as the tool result.
    assert any(RAN in prompt and "<tool_response>" in prompt for prompt in upstream.prompts_seen)
    assert any('"name": "Bash"' in prompt for prompt in upstream.prompts_seen)  # its tool list
