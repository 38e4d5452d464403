"""Run an ASGI app under a real uvicorn on 127.0.0.1, in a thread, for tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from tests.fakes.net import listening_socket, listening_socket_on, wait_until_answering


class ServerThread:
    """A real uvicorn server on a free loopback port.

    ``with ServerThread(app) as server: httpx.get(server.url + "/health")``
    """

    def __init__(
        self, app: Any, *, name: str = "server", log_level: str = "warning", lifespan: str = "on"
    ) -> None:
        self.app = app
        self.name = name
        self.log_level = log_level
        self.lifespan = lifespan
        self.url = ""
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0, port: int = 0) -> ServerThread:
        """Serve on ``port`` (0: a free one; a given one: to restart a server where it was)."""
        # Binding here and handing the socket to uvicorn leaves no gap in which
        # another process could take the port.
        sock = listening_socket_on(port) if port else listening_socket()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level=self.log_level,
            access_log=False,
            lifespan=self.lifespan,
        )
        self._server = _PromptServer(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"{self.name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"{self.name} did not start within {timeout:g} s")
            time.sleep(0.005)
        wait_until_answering("127.0.0.1", self.port, timeout=max(deadline - time.monotonic(), 0.1))
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _PromptServer(uvicorn.Server):
    """uvicorn, stopping in a few milliseconds instead of 0.2 s.

    Every test starts and stops its own fake, and uvicorn's fixed naps (0.1 s
    between checks of ``should_exit``, 0.1 s more in ``shutdown``) were most of
    the suite's run time.
    """

    async def main_loop(self) -> None:
        tick = 0
        while not await self.on_tick(tick):
            # on_tick wants a call every 0.1 s (it refreshes the Date header once a second).
            for _ in range(20):
                if self.should_exit:
                    break
                await asyncio.sleep(0.005)
            tick = (tick + 1) % 864000

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own shutdown, with its fixed 0.1 s nap replaced by a wait
        # that ends once no connection or request is left (1 s at most).
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = time.monotonic() + 1.0
        while self.server_state.connections or self.server_state.tasks:
            if time.monotonic() > deadline:
                for task in self.server_state.tasks:
                    task.cancel()
                break
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()
