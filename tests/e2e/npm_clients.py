"""Node clients for the end-to-end tests (Claude Code, Codex), installed once with npm and cached.

Like the Python client venvs (tests/e2e/venvs.py), nothing is installed
globally: ``npm install --prefix`` puts the pinned package under::

    ${FCPROXY_E2E_CACHE:-~/.cache/fcproxy/e2e}/npm/<name>-<version>

built in a temporary folder beside it, checked by running the client's
``--version``, then renamed into place, under a file lock per package. An
interrupted build never leaves a folder the tests would take for finished.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.venvs import VenvBuildError, _locked, cache_root, run_step


@dataclass(frozen=True)
class NpmClient:
    """A pinned npm package and the command it installs."""

    package: str
    version: str
    command: str

    @property
    def folder_name(self) -> str:
        return f"{self.package.replace('/', '+').lstrip('@')}-{self.version}"


#: Claude Code's CLI; the package pulls its native binary in as an optional
#: dependency for the platform (@anthropic-ai/claude-code-linux-x64, ...).
CLAUDE_CODE = NpmClient("@anthropic-ai/claude-code", "2.1.197", "claude")
#: OpenAI's Codex CLI (the Responses API); its binary comes the same way
#: (@openai/codex-linux-x64, ...).
CODEX = NpmClient("@openai/codex", "0.171.0", "codex")


def npm_available() -> bool:
    return shutil.which("npm") is not None and shutil.which("node") is not None


def client_command(prefix: Path, client: NpmClient) -> Path:
    return prefix / "node_modules" / ".bin" / client.command


def ensure_npm_client(client: NpmClient) -> Path:
    """The path of ``client``'s command, installing the package first if it is not cached."""
    root = cache_root() / "npm"
    root.mkdir(parents=True, exist_ok=True)
    final = root / client.folder_name
    if _works(client_command(final, client)):
        return client_command(final, client)
    with _locked(root / f".{client.folder_name}.lock"):
        if _works(client_command(final, client)):
            return client_command(final, client)
        shutil.rmtree(final, ignore_errors=True)
        building = Path(tempfile.mkdtemp(prefix=f".{client.folder_name}.building-", dir=root))
        log = building / "build.log"
        try:
            run_step(
                [
                    "npm",
                    "install",
                    "--prefix",
                    str(building),
                    "--no-audit",
                    "--no-fund",
                    "--no-update-notifier",
                    f"{client.package}@{client.version}",
                ],
                log,
            )
            if not _works(client_command(building, client)):
                raise VenvBuildError(f"{client.command} --version fails after npm install")
            os.rename(building, final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return client_command(final, client)


def _works(command: Path) -> bool:
    if not command.exists():
        return False
    try:
        result = subprocess.run(
            [str(command), "--version"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0
