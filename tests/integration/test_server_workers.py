"""``fcproxy serve --workers 2``: two processes on one port, both serving, all stopped together."""

from __future__ import annotations

import re
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


def test_each_serving_process_tunes_its_garbage_collection() -> None:
    # proxy/server.tune_garbage_collection runs in every worker once it has
    # started (its debug line says what it froze); a single process too.
    with FakeUpstream("webui") as fake:
        for workers in ("1", "2"):
            proxy = ProxyProcess(
                "--upstream", fake.url, "--backend", "webui", "--workers", workers,
                "--log-level", "debug",
            )  # fmt: skip
            with proxy:
                answer = httpx.post(
                    proxy.url + "/v1/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                    timeout=10,
                )
                assert answer.status_code == 200
                output = proxy.output()
            tuned = re.findall(
                r"garbage collection: (\d+) objects frozen, thresholds \(10000, 20, 20\)", output
            )
            assert len(tuned) == int(workers), output[-2000:]
            assert all(int(frozen) > 10_000 for frozen in tuned)  # the app and its modules
