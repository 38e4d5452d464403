"""``fcproxy parse --wrapper auto`` reads every format's parallel calls, given a tools file.

The command runs as a user runs it (a subprocess of this worktree's code);
the tools file is a list of ``{"type": "function", "function": {...}}``.
Each output is a real parallel-call output from the format's case table
(GigaChat 3 writes one call per answer; Apriel's row is its template's layout; openPangu's row
is in LFM2's tokens, which `auto` reads as `lfm2`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit import (
    test_format_apertus,
    test_format_apriel,
    test_format_cwm,
    test_format_deepseek_dsml,
    test_format_dots,
    test_format_ernie45,
    test_format_functiongemma,
    test_format_gemma4,
    test_format_gigachat3,
    test_format_glm4,
    test_format_granite4,
    test_format_granite_20b_fc,
    test_format_granite_pythonic,
    test_format_harmony,
    test_format_hermes,
    test_format_hunyuan,
    test_format_hyperclovax,
    test_format_hyperclovax_32b,
    test_format_internlm2,
    test_format_iquest_coder,
    test_format_jamba,
    test_format_k2_horizon,
    test_format_kimi_k3,
    test_format_longcat,
    test_format_minicpm5,
    test_format_minimax,
    test_format_minimax_m1,
    test_format_nemotron,
    test_format_olmo3,
    test_format_pangu,
    test_format_plamo3,
    test_format_qwen25_coder,
    test_format_rwkv,
    test_format_solar_open2,
    test_format_step3,
    test_format_xlam,
)

ROOT = Path(__file__).resolve().parents[2]

#: (format module, id of a parallel-call row of its REAL_OUTPUTS)
PARALLEL = [
    (test_format_gemma4, "vllm-parallel"),
    (test_format_harmony, "vllm-parallel"),
    (test_format_minimax, "vllm-different-functions"),
    (test_format_deepseek_dsml, "vllm-parallel"),
    (test_format_glm4, "llama.cpp-glm-4.7-flash-parallel"),
    (test_format_functiongemma, "vllm-parallel"),
    (test_format_nemotron, "parallel-in-one-list"),
    (test_format_apertus, "vllm-parallel"),
    (test_format_hermes, "vllm-parallel"),
    (test_format_minicpm5, "vllm-parallel-with-text"),
    (test_format_kimi_k3, "template-parallel"),
    (test_format_xlam, "vllm-parallel"),
    (test_format_olmo3, "vllm-parallel"),
    (test_format_internlm2, "template-layout-two-actions"),
    (test_format_hunyuan, "vllm-parallel"),
    (test_format_granite4, "vllm-prose-between-calls"),
    (test_format_granite_20b_fc, "vllm-parallel"),
    (test_format_gigachat3, "vllm-mixed-eos-31"),  # one call per answer
    (test_format_ernie45, "vllm-parallel"),
    (test_format_longcat, "vllm-parallel"),
    (test_format_jamba, "vllm-parallel"),
    (test_format_apriel, "template-parallel"),
    (test_format_step3, "vllm-parallel"),
    (test_format_minimax_m1, "vllm-parallel"),
    (test_format_hyperclovax, "vllm-parallel"),
    (test_format_qwen25_coder, "vllm-parallel"),
    (test_format_dots, "vllm-invokes-and-json-block"),
    (test_format_solar_open2, "vllm-parallel"),
    (test_format_plamo3, "vllm-parallel"),
    (test_format_cwm, "vllm-function-label-parallel"),
    (test_format_iquest_coder, "vllm-parallel"),
    (test_format_k2_horizon, "vllm-xml-parallel"),
    (test_format_rwkv, "vllm-parallel"),
    (test_format_pangu, "vllm-parallel"),  # LFM2's tokens: auto reads them as lfm2
    (test_format_granite_pythonic, "vllm-parallel"),  # an answer of call lines only
    (test_format_hyperclovax_32b, "vllm-parallel"),
]


def fcproxy_parse(raw: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", "parse", *args],
        input=raw,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


@pytest.mark.parametrize(("module", "row_id"), PARALLEL, ids=[m.NAME for m, _ in PARALLEL])
def test_auto_reports_every_parallel_call_of_each_format(
    module: object, row_id: str, tmp_path: Path
) -> None:
    row = next(r for r in module.REAL_OUTPUTS if r[0] == row_id)  # type: ignore[attr-defined]
    _, raw, _, calls = row
    tools = tmp_path / "tools.json"
    functions = module.FUNCTIONS  # type: ignore[attr-defined]
    tools.write_text(json.dumps([{"type": "function", "function": f} for f in functions]))
    result = fcproxy_parse(raw, "--wrapper", "auto", "--functions", str(tools))
    assert result.returncode == 0, result.stderr
    message = json.loads(result.stdout)
    got = [
        (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for c in message["tool_calls"]
    ]
    assert got == calls


def test_hermes_reads_the_fenced_json_calls_qwen_coder_writes(tmp_path: Path) -> None:
    # Issue 13: Qwen2.5-Coder-0.5B-Instruct under tool_choice auto answered BFCL's
    # parallel questions with fenced JSON instead of <tool_call> blocks.
    raw = (
        "```json\n"
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
        "```\n```json\n"
        '{"name": "get_weather", "arguments": {"city": "Rome"}}\n'
        "```"
    )
    tools = tmp_path / "tools.json"
    tools.write_text(
        json.dumps(
            [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "parameters": {
                            "type": "object",
                            "properties": {"city": {"type": "string"}},
                        },
                    },
                }
            ]
        )
    )
    result = fcproxy_parse(raw, "--wrapper", "hermes", "--functions", str(tools))
    assert result.returncode == 0, result.stderr
    cities = [
        json.loads(c["function"]["arguments"])["city"]
        for c in json.loads(result.stdout)["tool_calls"]
    ]
    assert cities == ["Paris", "Rome"]
