"""What a proxy in front of an instant upstream costs: fcproxy against a bare proxy and LiteLLM.

One command, everything on 127.0.0.1, everything it starts stopped at the end:

    apt-get install -y nginx-light wrk      # Debian's; the upstream and the load
    python bench/overhead.py --seconds 8    # ~3 minutes; prints a Markdown table

The upstream is nginx answering every POST with a canned JSON body (``return
200``): the fastest upstream there is, so what remains is each proxy's own
work. For each request body (MemGPT 0.3.25's captured request, 8 tools,
15 kB; a small one, 2 tools) and each concurrency (1 and 32 connections), wrk
with a Lua body runs against:

- ``direct``  — nginx itself (``/v1/chat/completions``, the same body);
- ``fcproxy`` — ``fcproxy serve --backend webui`` in front of nginx's
  ``/v1/completions`` (render with grammar, upstream call, parse, schema check);
- ``bare``    — bench/bare_proxy.py: FastAPI + one shared ``httpx.AsyncClient``
  forwarding the body to nginx's ``/v1/chat/completions``, nothing else;
- ``litellm`` — LiteLLM's proxy (``litellm[proxy]`` in its own virtualenv,
  ``--litellm-venv``, default ``~/.cache/fcproxy-bench/litellm-venv``; left
  out when not installed: ``python -m venv DIR && DIR/bin/pip install 'litellm[proxy]'``).

Columns: requests/s, p50 / p99 latency, the proxy process's CPU per request
(user + system time from ``/proc/PID/stat`` over the run, children included,
divided by the requests served), its RSS after the run, and ratios against
fcproxy. bench/RESULTS.md records runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.net import free_port, wait_until_answering  # noqa: E402

DEFAULT_LITELLM_VENV = Path.home() / ".cache/fcproxy-bench/litellm-venv"
MODEL = "fcproxy-test-model"
MASTER_KEY = "sk-bench-only-0123456789abcdef"
#: What the upstream "generates" for fcproxy: a MemGPT call to send_message,
#: which both request bodies offer.
CALL_TEXT = json.dumps(
    {"function": "send_message", "params": {"inner_thoughts": "Hi.", "message": "Hello Brad"}}
)
SMALL_BODY = {
    "model": MODEL,
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the weather in Paris?"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "send_message",
                "description": "Send a message to the user.",
                "parameters": {
                    "type": "object",
                    "properties": {"message": {"type": "string"}},
                    "required": ["message"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    },
                    "required": ["city"],
                },
            },
        },
    ],
}


def upstream_answers() -> dict[str, object]:
    """nginx's canned answers, by path."""
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    return {
        "/v1/completions": {
            "id": "cmpl-bench",
            "object": "text_completion",
            "created": 0,
            "model": "bench",
            "choices": [{"index": 0, "text": CALL_TEXT, "finish_reason": "stop"}],
            "usage": usage,
        },
        "/v1/chat/completions": {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": "bench",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_bench",
                                "type": "function",
                                "function": {
                                    "name": "send_message",
                                    "arguments": '{"message": "Hello Brad"}',
                                },
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ],
            "usage": usage,
        },
        "/v1/models": {"object": "list", "data": [{"id": "bench", "object": "model"}]},
        "/v1/internal/model/info": {"model_name": "bench", "lora_names": []},
        "/v1/internal/token-count": {"length": 100},
    }


def nginx_config(directory: Path, port: int) -> Path:
    def quoted(value: object) -> str:
        return "'" + json.dumps(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    locations = "".join(
        f"    location = {path} {{ default_type application/json; return 200 {quoted(body)}; }}\n"
        for path, body in upstream_answers().items()
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        "daemon off;\nmaster_process off;\nworker_processes 1;\n"
        f"pid {directory}/nginx.pid;\nerror_log {directory}/nginx-error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n  access_log off;\n  keepalive_requests 1000000;\n"
        f"  client_body_temp_path {directory};\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n{locations}  }}\n}}\n"
    )
    return conf


@dataclass
class Result:
    rps: float
    p50: float
    p99: float
    requests: int
    non2xx: int
    cpu_ms: float
    rss_mb: float


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (LiteLLM and uvicorn may fork workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process tree, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def rss_mb(pid: int) -> float:
    total = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(found[1]) if found else 0
    return total / 1024


def run_wrk(url: str, body_file: Path, seconds: int, connections: int, pid: int) -> Result:
    script = body_file.with_suffix(".lua")
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        # LiteLLM's proxy refuses to start without a master key; the others ignore it.
        f'wrk.headers["Authorization"] = "Bearer {MASTER_KEY}"\n'
        f'local f = io.open("{body_file}", "r")\n'
        "wrk.body = f:read('*a')\nf:close()\n"
    )
    threads = 1 if connections == 1 else 2
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    cpu = cpu_seconds(pid) - cpu_before

    def latency(pct: str) -> float:
        value, unit = re.search(rf"{pct}%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        p50=latency("50"),
        p99=latency("99"),
        requests=requests,
        non2xx=int(errors[1]) if errors else 0,
        cpu_ms=1000 * cpu / max(requests, 1),
        rss_mb=rss_mb(pid),
    )


class Processes:
    """What the benchmark started, stopped in reverse order at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        command: list[str],
        port: int,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        output = log.open("wb") if log else subprocess.DEVNULL
        # `python -m` puts the working directory first on sys.path, before
        # PYTHONPATH: run a checkout's code from that checkout, or a before/after
        # started from another checkout would measure the same code twice.
        cwd = env.get("PYTHONPATH") if env else None
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT
        )
        self.started.append(process)
        try:
            wait_until_answering("127.0.0.1", port, timeout=90)
        except TimeoutError:
            raise SystemExit(f"{command[0]} did not start; see {log}") from None
        return process

    def stop(self) -> None:
        for process in reversed(self.started):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="per wrk run")
    parser.add_argument("--connections", default="1,32", help="comma-separated")
    parser.add_argument("--litellm-venv", type=Path, default=DEFAULT_LITELLM_VENV)
    parser.add_argument("--targets", default="direct,fcproxy,bare,litellm")
    parser.add_argument(
        "--fcproxy-source",
        type=Path,
        default=ROOT,
        help="the checkout whose fcproxy to run (e.g. an older commit, for a before/after)",
    )
    parser.add_argument(
        "--fcproxy-args",
        default="--max-concurrency 64",
        help="`fcproxy serve` arguments besides upstream and port (default: enough upstream "
        "slots for the load; the default 4 would answer the rest with 429 by design)",
    )
    args = parser.parse_args()
    # Killed: still stop what was started (the finally blocks below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path("/usr/sbin/nginx").exists():
            sys.exit(f"{tool} is not installed: apt-get install -y nginx-light wrk")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    targets = args.targets.split(",")
    litellm = args.litellm_venv / "bin/litellm"
    if "litellm" in targets and not litellm.exists():
        print(f"LiteLLM not found at {litellm}: its rows are left out", file=sys.stderr)
        targets.remove("litellm")

    bodies = {
        "memgpt (8 tools, 15 kB)": json.loads(
            (ROOT / "tests/fixtures/shared/memgpt-0.3.25-tools.json").read_text(encoding="utf-8")
        ),
        "small (2 tools)": SMALL_BODY,
    }
    processes = Processes()
    rows: list[tuple[str, int, str, Result]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        try:
            ports = {name: free_port() for name in ("direct", "fcproxy", "bare", "litellm")}
            upstream = f"http://127.0.0.1:{ports['direct']}"
            pids = {
                "direct": processes.start(
                    [nginx, "-p", str(tmp), "-c", str(nginx_config(tmp, ports["direct"]))],
                    ports["direct"],
                ).pid
            }
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            if "fcproxy" in targets:
                pids["fcproxy"] = processes.start(
                    [
                        sys.executable,
                        "-m",
                        "proxy.cli",
                        "serve",
                        "--upstream",
                        upstream,
                        "--backend",
                        "webui",
                        "--port",
                        str(ports["fcproxy"]),
                        "--log-level",
                        "warning",
                        *args.fcproxy_args.split(),
                    ],
                    ports["fcproxy"],
                    {**env, "PYTHONPATH": str(args.fcproxy_source.resolve())},
                    tmp / "fcproxy.log",
                ).pid
            if "bare" in targets:
                pids["bare"] = processes.start(
                    [
                        sys.executable,
                        str(ROOT / "bench/bare_proxy.py"),
                        "--port",
                        str(ports["bare"]),
                        "--upstream",
                        upstream,
                    ],
                    ports["bare"],
                    env,
                    tmp / "bare.log",
                ).pid
            if "litellm" in targets:
                config = tmp / "litellm.yaml"
                config.write_text(
                    json.dumps(
                        {
                            "model_list": [
                                {
                                    "model_name": MODEL,
                                    "litellm_params": {
                                        "model": "openai/bench",
                                        "api_base": f"{upstream}/v1",
                                        "api_key": "none",
                                    },
                                }
                            ],
                            "litellm_settings": {"telemetry": False, "set_verbose": False},
                        }
                    )
                )
                pids["litellm"] = processes.start(
                    [
                        str(litellm),
                        "--config",
                        str(config),
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(ports["litellm"]),
                    ],
                    ports["litellm"],
                    {
                        **os.environ,
                        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                        "LITELLM_TELEMETRY": "False",
                        "LITELLM_LOG": "ERROR",
                        "LITELLM_MASTER_KEY": MASTER_KEY,
                    },
                    tmp / "litellm.log",
                ).pid
            for body_name, body in bodies.items():
                body_file = tmp / f"body-{len(rows)}.json"
                body_file.write_text(json.dumps(body))
                for connections in (int(c) for c in args.connections.split(",")):
                    for target in ("direct", *(t for t in targets if t != "direct")):
                        url = f"http://127.0.0.1:{ports[target]}/v1/chat/completions"
                        # A short warm-up: caches, connection pools, lazy imports.
                        run_wrk(url, body_file, 1, connections, pids[target])
                        result = run_wrk(url, body_file, args.seconds, connections, pids[target])
                        rows.append((body_name, connections, target, result))
                        print(f"{body_name} c={connections} {target}: {result}", file=sys.stderr)
        finally:
            processes.stop()
    print_table(rows, args)


def print_table(rows: list[tuple[str, int, str, Result]], args: argparse.Namespace) -> None:
    print(
        f"`python bench/overhead.py --seconds {args.seconds}`, {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print()
    print(
        "| body | conns | target | req/s | req/s vs fcproxy | p50 ms | p99 ms | added p50 ms "
        "| CPU ms/req | CPU vs fcproxy | RSS MB | non-2xx |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for body, connections, target, r in rows:
        same = {t: x for b, c, t, x in rows if b == body and c == connections}
        fc, direct = same.get("fcproxy"), same.get("direct")
        print(
            f"| {body} | {connections} | {target} | {r.rps:.0f} | "
            f"{r.rps / fc.rps if fc else float('nan'):.2f} | {r.p50:.2f} | {r.p99:.2f} | "
            f"{r.p50 - direct.p50 if direct and target != 'direct' else 0:.2f} | "
            f"{r.cpu_ms:.2f} | {r.cpu_ms / fc.cpu_ms if fc else float('nan'):.2f} | "
            f"{r.rss_mb:.0f} | {r.non2xx} |"
        )


if __name__ == "__main__":
    main()
