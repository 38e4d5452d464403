"""``fcproxy serve`` and ``doctor`` with the access settings in the environment:
one key, a list, JSON or nothing start; a bad value is one line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.net import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"FCPROXY_API_KEYS": '["unclosed'}, "api_keys"),
        ({"FCPROXY_API_KEYS": "has spaces in it"}, "api_keys"),
        ({"FCPROXY_MODELS": "not json"}, "models"),
        ({"FCPROXY_ALLOWED_HOSTS": "http://x.example"}, "allowed_hosts"),
    ],
)
def test_a_bad_environment_value_is_one_line_and_exit_2(env: dict[str, str], problem: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FCPROXY_")}
    result = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "serve", "--upstream", "http://127.0.0.1:1"],
        capture_output=True,
        text=True,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("fcproxy: error:") and problem in line
    assert "spaces in it" not in line  # a key is never quoted


@pytest.mark.parametrize("keys", ["mykey", "key-1,key-2", '["key-1", "key-2"]', ""])
def test_api_keys_in_the_environment_do_not_stop_the_cli(keys: str) -> None:
    # `doctor` loads every setting, then reports the unreachable upstream (exit 1).
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FCPROXY_")}
    upstream = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "doctor", "--upstream", upstream],
        capture_output=True,
        text=True,
        env={**clean, "PYTHONPATH": str(REPO), "FCPROXY_API_KEYS": keys},
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "Cannot reach" in result.stderr and "Traceback" not in result.stderr


def test_serve_help_shows_the_access_flags() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
        timeout=60,
    )
    assert result.returncode == 0
    for text in (
        "--allowed-host",
        "FCPROXY_ALLOWED_HOSTS",
        "--cors-origin",
        "FCPROXY_CORS_ORIGINS",
    ):
        assert text in result.stdout
    assert "--api-key" not in result.stdout  # keys stay off the command line (ps shows it)
