"""``fcproxy serve`` as a real process on a free 127.0.0.1 port, for tests.

For what a server thread cannot show: the HTTP server ``fcproxy serve``
builds (its protocol, its connection cap), and limits of the process itself
(its open-files limit, set in the child before it starts).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.fakes.net import free_port

#: The checkout under test: the child imports ``proxy`` from here.
REPO_ROOT = Path(__file__).resolve().parents[2]


class ProxyProcess:
    """``with ProxyProcess("--upstream", url, open_files=1024) as proxy: proxy.url``"""

    def __init__(self, *args: str, open_files: int | None = None) -> None:
        self.args = args
        self.open_files = open_files
        self.port = 0
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed on __exit__)

    def start(self, timeout: float = 30.0) -> ProxyProcess:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FCPROXY_")}
        env.pop("BACKEND_TYPE", None)
        env["PYTHONPATH"] = str(REPO_ROOT)
        # The child sets its own open-files limit before fcproxy starts (soft
        # and hard, so raising the soft one to the hard one changes nothing):
        # a preexec_fn is not safe in a test process that runs server threads.
        limit = (
            f"import resource; resource.setrlimit(resource.RLIMIT_NOFILE, "
            f"({self.open_files}, {self.open_files})); "
            if self.open_files
            else ""
        )
        start = f"{limit}import sys; from proxy.cli import main; sys.argv[0] = 'fcproxy'; main()"
        command = [sys.executable, "-c", start, "serve", "--port", str(self.port)]
        self._process = subprocess.Popen(
            [*command, *self.args],
            env=env,
            cwd=tempfile.gettempdir(),  # no ./fcproxy.yaml of the developer's
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"fcproxy exited at start-up:\n{self.output()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code in (200, 503):
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"fcproxy did not answer within {timeout:g} s:\n{self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        """What the process wrote to stdout and stderr so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> ProxyProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._log.close()
