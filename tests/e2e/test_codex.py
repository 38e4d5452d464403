"""OpenAI's Codex CLI → fcproxy's ``/v1/responses`` → a llama.cpp server that calls its shell tool.

Real: Codex (``@openai/codex``, pinned in tests/e2e/npm_clients.py, installed
with npm into the e2e cache on first use), run non-interactively
(``codex exec --json``) with fcproxy as a model provider of
``wire_api = "responses"``, and ``fcproxy serve`` with the ``hermes``
format. Stands in: the model, scripted as for Claude Code
(tests/e2e/scripted_agent.py): an ``exec_command`` call, then a sentence
quoting its output.

Codex's defaults also offer a hosted ``web_search`` tool and a ``namespace``
of sub-agent tools, which fcproxy refuses with a 400 naming them (it runs no
hosted tools); the configuration docs/responses.md gives turns them off, and
the test runs with it. Pinned: Codex's streamed Responses requests (``store:
false`` with the whole conversation each turn, ``developer`` messages,
``reasoning``, ``include``, ``client_metadata``) are served, the streamed
``function_call`` reaches Codex, which runs the command, and its
``function_call_output`` comes back for the final answer.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.npm_clients import CODEX, ensure_npm_client, npm_available
from tests.e2e.processes import ServerProcess
from tests.e2e.scripted_agent import COMMAND, RAN, REQUEST, scripted_fcproxy, shell_agent_model
from tests.fakes.upstream import FakeUpstream

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(600),  # a cold npm install included
    pytest.mark.skipif(not npm_available(), reason="needs npm and node to install Codex"),
]

#: docs/responses.md, "Codex": fcproxy as a Responses provider, no hosted tools.
CONFIG = """\
model = "hermes"
model_provider = "fcproxy"
web_search = "disabled"

[features]
multi_agent = false

[model_providers.fcproxy]
name = "fcproxy"
base_url = "{url}/v1"
wire_api = "responses"
env_key = "FCPROXY_API_KEY"
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerProcess, FakeUpstream]]:
    with scripted_fcproxy(shell_agent_model("exec_command", {"cmd": COMMAND}), tmp_path) as running:
        yield running


def run_codex(proxy: ServerProcess, home: Path, prompt: str) -> list[dict[str, Any]]:
    codex = ensure_npm_client(CODEX)
    codex_home, work = home / ".codex", home / "work"
    codex_home.mkdir(parents=True)
    work.mkdir()
    (codex_home / "config.toml").write_text(CONFIG.format(url=proxy.url))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),  # no config or login of the developer's
        "FCPROXY_API_KEY": "unused",
    }
    result = subprocess.run(
        [
            str(codex),
            "exec",
            "--json",
            "--skip-git-repo-check",
            # No sandbox: it runs in the test's temporary folder (and Linux
            # sandboxing may not be available in a container).
            "--sandbox",
            "danger-full-access",
            prompt,
        ],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, (
        f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-2000:]}"
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_codex_runs_a_shell_call_and_answers_from_its_output(
    served: tuple[ServerProcess, FakeUpstream], tmp_path: Path
) -> None:
    proxy, upstream = served
    events = run_codex(proxy, tmp_path / "home", REQUEST)
    kinds = [e["type"] for e in events]
    assert "turn.completed" in kinds and "turn.failed" not in kinds, events
    done = [e["item"] for e in events if e["type"] == "item.completed"]
    ran = [i for i in done if i["type"] == "command_execution"]
    assert ran and ran[0]["exit_code"] == 0 and RAN in ran[0]["aggregated_output"], events
    said = [i["text"] for i in done if i["type"] == "agent_message"]
    assert said and RAN in said[-1], events
    assert "think" not in said[-1]  # the reasoning went to a reasoning item
    assert any(RAN in prompt and "<tool_response>" in prompt for prompt in upstream.prompts_seen)
