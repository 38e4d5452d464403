"""Two fcproxy checkouts side by side, measured in turns: a before/after that noise cannot fake.

    git archive OLD_COMMIT | tar -x -C /tmp/before
    python bench/compare.py /tmp/before . [--rounds 3] [--seconds 5]

Both run at once in front of one nginx (as in bench/overhead.py), idle while
the other is measured; wrk at 32 connections alternates between them, round
after round, for each request body. On a shared machine the load drifts
between single runs by tens of per cent; in turns, both see the same drift.
Prints CPU ms per request and req/s per round and the mean CPU per checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import ROOT, SMALL_BODY, Processes, free_port, nginx_config, run_wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkouts", nargs=2, type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    bodies = {
        "memgpt": json.loads((ROOT / "tests/fixtures/shared/memgpt-0.3.25-tools.json").read_text()),
        "small": SMALL_BODY,
    }
    processes = Processes()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        try:
            nginx_port = free_port()
            processes.start(
                ["/usr/sbin/nginx", "-p", str(tmp), "-c", str(nginx_config(tmp, nginx_port))],
                nginx_port,
            )
            servers: dict[str, tuple[int, int]] = {}
            for index, checkout in enumerate(args.checkouts):
                port = free_port()
                process = processes.start(
                    [
                        sys.executable,
                        "-m",
                        "proxy.cli",
                        "serve",
                        "--backend",
                        "webui",
                        "--upstream",
                        f"http://127.0.0.1:{nginx_port}",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                        "--max-concurrency",
                        "64",
                    ],
                    port,
                    {**os.environ, "PYTHONPATH": str(checkout.resolve())},
                    tmp / f"fcproxy-{index}.log",
                )
                servers[f"{index}:{checkout}"] = (port, process.pid)
            for name, body in bodies.items():
                body_file = tmp / f"{name}.json"
                body_file.write_text(json.dumps(body))
                cpu: dict[str, list[float]] = {label: [] for label in servers}
                for port, pid in servers.values():  # warm-up
                    run_wrk(f"http://127.0.0.1:{port}/v1/chat/completions", body_file, 1, 32, pid)
                for round_ in range(args.rounds):
                    for label, (port, pid) in servers.items():
                        url = f"http://127.0.0.1:{port}/v1/chat/completions"
                        result = run_wrk(url, body_file, args.seconds, 32, pid)
                        cpu[label].append(result.cpu_ms)
                        print(
                            f"{name} round {round_} {label}: {result.rps:.0f} req/s, "
                            f"{result.cpu_ms:.2f} ms CPU/req",
                            flush=True,
                        )
                for label, values in cpu.items():
                    print(f"{name} {label}: mean {statistics.mean(values):.2f} ms CPU/req")
        finally:
            processes.stop()


if __name__ == "__main__":
    main()
