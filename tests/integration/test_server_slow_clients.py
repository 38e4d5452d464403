"""Slow and idle clients: head and body deadlines, the connection cap, a slowloris.

The body deadline lives in the app (a server thread shows it); the head
deadline and the connection cap live in the HTTP server ``fcproxy serve``
builds, so those tests run the real command, with a lowered open-files limit
where it matters. Every socket is closed and every wait bounded.
"""

from __future__ import annotations

import json
import re
import resource
import selectors
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field

import httpx
import openai
import pytest

from tests.fakes.upstream import FakeUpstream, HeldUpstream
from tests.integration.conftest import MakeProxy
from tests.support.process import ProxyProcess

CHAT = "/v1/chat/completions"
BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
JSON = {"content-type": "application/json"}
HEAD = (
    f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    f"Content-Length: {len(BODY)}\r\n\r\n"
).encode()

#: The three ways to stall: inside the request line, inside the headers, inside the body.
PARTIAL_LINE = b"POST /v1/chat/compl"
PARTIAL_HEADERS = f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty".encode()
PARTIAL_BODY = HEAD + BODY[:10]


@dataclass
class Stalled:
    """A client socket that sent part of a request and waits."""

    sock: socket.socket
    sent: bytes
    opened: float
    received: bytes = b""
    closed_after: float | None = None
    reset: bool = False

    @property
    def status(self) -> int | None:
        """The status of the answer the server gave before closing, if any."""
        if not self.received.startswith(b"HTTP/1.1 "):
            return None
        return int(self.received.split(b" ", 2)[1])

    def envelope(self) -> dict[str, object]:
        body = self.received.partition(b"\r\n\r\n")[2]
        error: dict[str, object] = json.loads(body)["error"]
        return error


@dataclass
class Stalls:
    """Many stalled sockets; :meth:`wait_closed` watches the server close them."""

    items: list[Stalled] = field(default_factory=list)

    def open(self, port: int, sent: bytes) -> Stalled:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if sent:
            sock.sendall(sent)
        sock.setblocking(False)
        stalled = Stalled(sock, sent, time.monotonic())
        self.items.append(stalled)
        return stalled

    def poll(self, timeout: float) -> None:
        """Read what arrived within ``timeout`` seconds, noting the sockets closed."""
        with selectors.DefaultSelector() as selector:
            for stalled in self.open_ones():
                selector.register(stalled.sock, selectors.EVENT_READ, stalled)
            if not selector.get_map():
                return
            for key, _ in selector.select(timeout):
                item: Stalled = key.data
                try:
                    data = item.sock.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    item.reset, data = True, b""
                if data:
                    item.received += data
                else:
                    item.closed_after = time.monotonic() - item.opened

    def wait_closed(self, timeout: float) -> None:
        self.wait_until(lambda: not self.open_ones(), timeout)

    def wait_until(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            self.poll(min(0.1, max(deadline - time.monotonic(), 0)))

    def open_ones(self) -> list[Stalled]:
        return [s for s in self.items if s.closed_after is None]

    def close(self) -> None:
        for stalled in self.items:
            stalled.sock.close()


@pytest.fixture
def stalls() -> Iterator[Stalls]:
    made = Stalls()
    yield made
    made.close()


@pytest.fixture
def webui(fake_upstream: Callable[..., FakeUpstream]) -> FakeUpstream:
    return fake_upstream("webui")


def fcproxy(fake: FakeUpstream, *flags: str, open_files: int | None = None) -> ProxyProcess:
    return ProxyProcess(
        "--upstream",
        fake.url,
        "--backend",
        "webui",
        "--log-level",
        "warning",
        *flags,
        open_files=open_files,
    )


# -- bodies (the app) -----------------------------------------------------------------


@pytest.mark.parametrize("trickle", [False, True], ids=["stalled", "trickled"])
def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closes(
    make_proxy: MakeProxy, stalls: Stalls, trickle: bool
) -> None:
    proxy = make_proxy(body_timeout=1.0)
    stalled = stalls.open(proxy.server.port, PARTIAL_BODY)
    deadline = time.monotonic() + 10
    sent = 10
    while stalled.closed_after is None and time.monotonic() < deadline:
        stalls.poll(0.1)
        if trickle and stalled.closed_after is None and sent < len(BODY) - 1:
            # One byte every 0.1 s: never idle, and yet never done in time.
            with suppress(OSError):  # the server may have closed since
                stalled.sock.send(BODY[sent : sent + 1])
            sent += 1
    assert stalled.closed_after is not None, "the connection was held open"
    assert stalled.status == 408
    assert stalled.envelope()["code"] == "request_timeout"
    assert "body_timeout" in str(stalled.envelope()["message"])
    # Not before the deadline (less the few ms between this test's clock
    # starting and the server's), and not long after it.
    assert 0.9 <= stalled.closed_after < 5


def test_a_body_sent_in_time_is_served(make_proxy: MakeProxy) -> None:
    proxy = make_proxy(body_timeout=5.0)
    with socket.create_connection(("127.0.0.1", proxy.server.port), timeout=10) as sock:
        sock.sendall(HEAD + BODY[:10])
        time.sleep(0.3)
        sock.sendall(BODY[10:])
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 ")


# -- heads (the server fcproxy serve runs) ----------------------------------------------------


def test_a_head_that_never_completes_is_closed_after_header_timeout(
    webui: FakeUpstream, stalls: Stalls
) -> None:
    with fcproxy(webui, "--header-timeout", "1") as proxy:
        silent = stalls.open(proxy.port, b"")
        partial_line = stalls.open(proxy.port, PARTIAL_LINE)
        partial_headers = stalls.open(proxy.port, PARTIAL_HEADERS)
        # On Anthropic's path the 408 is in Anthropic's envelope (proxy/envelopes.py).
        anthropic_headers = stalls.open(
            proxy.port, PARTIAL_HEADERS.replace(CHAT.encode(), b"/v1/messages?beta=true")
        )
        # A kept-alive connection: one request served, then half of the next.
        kept_alive = stalls.open(proxy.port, HEAD + BODY)
        deadline = time.monotonic() + 15
        while b"Hello from the fake" not in kept_alive.received and time.monotonic() < deadline:
            stalls.poll(0.1)
        assert kept_alive.status == 200
        kept_alive.received = b""
        kept_alive.sock.send(PARTIAL_HEADERS)

        stalls.wait_closed(timeout=10)

    assert not stalls.open_ones(), "connections held open past header_timeout"
    for quiet in (silent, partial_line):
        assert quiet.received == b"" and quiet.closed_after is not None
        # The deadline, less the few ms between this test's clock and the server's.
        assert 0.9 <= quiet.closed_after < 5
    for told in (partial_headers, kept_alive):
        assert told.status == 408
        assert told.envelope()["code"] == "request_timeout"
        assert "header_timeout" in str(told.envelope()["message"])
    assert anthropic_headers.status == 408
    assert anthropic_headers.envelope()["type"] == "timeout_error"
    assert "header_timeout" in str(anthropic_headers.envelope()["message"])


def test_past_max_client_connections_the_oldest_stalled_connection_makes_room(
    webui: FakeUpstream, stalls: Stalls
) -> None:
    with fcproxy(webui, "--max-client-connections", "20", "--header-timeout", "60") as proxy:
        stalled = [stalls.open(proxy.port, PARTIAL_HEADERS) for _ in range(20)]
        stalls.poll(0.3)
        assert len(stalls.open_ones()) == 20, "all 20 fit"
        for _ in range(3):
            # A fresh connection at the cap: it pushes out the oldest stalled one.
            with httpx.Client(timeout=10) as client:
                answer = client.post(proxy.url + CHAT, content=BODY, headers=JSON)
            assert answer.status_code == 200
            stalled.append(stalls.open(proxy.port, PARTIAL_HEADERS))  # back to the cap
        stalls.wait_until(lambda: all(s.closed_after for s in stalled[:3]), timeout=5)

    assert all(s.closed_after is not None and s.received == b"" for s in stalled[:3]), (
        "the oldest stalled connections made room, without an answer"
    )
    assert all(s.closed_after is None for s in stalled[-10:]), "the newer ones stayed"


def test_serve_flags_set_the_capacity_and_keep_alive(webui: FakeUpstream, stalls: Stalls) -> None:
    flags = ("--max-concurrency", "2", "--max-queue", "3", "--queue-timeout", "5")
    with fcproxy(webui, *flags, "--keep-alive-timeout", "1") as proxy:
        [upstream] = httpx.get(proxy.url + "/health", timeout=5).json()["upstreams"]
        assert (upstream["max_concurrency"], upstream["max_queue"]) == (2, 3)
        idle = stalls.open(proxy.port, HEAD + BODY)
        stalls.wait_until(lambda: idle.closed_after is not None, timeout=10)
    assert idle.status == 200, "served, then closed once idle for keep_alive_timeout"
    assert idle.closed_after is not None and 1.0 <= idle.closed_after < 5


def test_when_every_connection_is_busy_a_new_one_gets_503(stalls: Stalls) -> None:
    with ExitStack() as stack:
        held = stack.enter_context(HeldUpstream())
        proxy = stack.enter_context(fcproxy(held, "--max-client-connections", "16"))
        busy = [stalls.open(proxy.port, HEAD + BODY) for _ in range(16)]
        deadline = time.monotonic() + 10
        while held.generating < 4 and time.monotonic() < deadline:
            time.sleep(0.02)  # 4 upstream (max_concurrency), 12 in the queue: all busy
        refused = stalls.open(proxy.port, b"")
        stalls.wait_until(lambda: refused.closed_after is not None, timeout=5)
        assert refused.status == 503
        assert refused.envelope()["code"] == "too_many_connections"
        assert b"retry-after: 1" in refused.received.lower()
        held.held = False
        stalls.wait_until(lambda: all(s.status for s in busy), timeout=10)
    assert [s.status for s in busy] == [200] * 16


# -- a slowloris under a 1,024 open-files limit --------------------------------------------

SLOWLORIS = 1100
TIMEOUT = 4.0


@pytest.fixture
def enough_files() -> Iterator[None]:
    """This process needs SLOWLORIS sockets of its own too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = SLOWLORIS + 256
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"the open-files hard limit ({hard}) is below {need}")
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_slowloris_of_1100_connections_neither_locks_out_clients_nor_lingers(
    webui: FakeUpstream, stalls: Stalls, enough_files: None
) -> None:
    timeouts = ("--header-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT))
    with fcproxy(webui, *timeouts, open_files=1024) as proxy:
        kinds = [PARTIAL_LINE, PARTIAL_HEADERS, PARTIAL_BODY]
        started = time.monotonic()
        for index in range(SLOWLORIS):
            stalls.open(proxy.port, kinds[index % 3])
        opened_in = time.monotonic() - started

        # Clients keep being served while the stalled connections are open:
        # the OpenAI SDK (one pooled connection, no retries) and fresh
        # connections, each of which pushes out a stalled one.
        served = 0
        sdk = openai.OpenAI(base_url=proxy.url + "/v1", api_key="none", max_retries=0)
        for _ in range(10):
            answer = sdk.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], timeout=10
            )
            assert answer.choices[0].message.content
            served += 1
            with httpx.Client(timeout=10) as client:
                assert client.post(proxy.url + CHAT, content=BODY, headers=JSON).status_code == 200
            served += 1
        sdk.close()
        stalls.poll(0)
        still_open = len(stalls.open_ones())
        served_by = time.monotonic() - started
        assert served_by < TIMEOUT, "the clients were served after the stalls timed out"

        stalls.wait_closed(timeout=TIMEOUT + 10)
        lingering = len(stalls.open_ones())
        log = proxy.output()

    closed = [s.closed_after for s in stalls.items if s.closed_after is not None]
    answered_408 = sum(1 for s in stalls.items if s.status == 408)
    print(
        f"\n{SLOWLORIS} stalled connections opened in {opened_in:.2f} s; {served} requests "
        f"served by {served_by:.2f} s with {still_open} still open; all closed within "
        f"{max(closed):.2f} s ({answered_408} with a 408, {SLOWLORIS - still_open} pushed "
        f"out early to make room); lingering: {lingering}"
    )
    assert lingering == 0
    assert "Traceback" not in log
    assert max(closed) < TIMEOUT + 5
    # The cap under 1,024 open files, as fcproxy logged it: the stalls filled it,
    # and the clients were served while they did.
    lowered = re.search(r"max_client_connections lowered from \d+ to (\d+)", log)
    assert lowered, log
    assert int(lowered[1]) - 30 <= still_open <= int(lowered[1])
    assert answered_408 >= SLOWLORIS // 3, "the stalled bodies and headers were told why"
