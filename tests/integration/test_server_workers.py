"""``fcproxy serve --workers 2``: two processes on one port, both serving, all stopped together."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.fakes.upstream import FakeUpstream
from tests.support.process import ProxyProcess


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def test_two_workers_serve_the_port_and_stop_with_the_parent() -> None:
    with FakeUpstream("webui") as fake:
        proxy = ProxyProcess("--upstream", fake.url, "--backend", "webui", "--workers", "2")
        with proxy:
            assert proxy._process is not None
            parent = proxy._process.pid
            workers = children(parent)
            assert len(workers) == 2
            for _ in range(20):
                # A new connection each time: the kernel hands them to either worker.
                answer = httpx.post(
                    proxy.url + "/v1/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                    timeout=10,
                )
                assert answer.status_code == 200
        # Stopped: the parent's SIGTERM went on to its workers.
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
