"""The upstream's limits as settings: defaults, sources, validation, and their way to a backend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proxy.backends.base import UpstreamConfig
from proxy.backends.exchange import DEFAULT_MAX_UPSTREAM_BYTES, UpstreamLimits
from proxy.config import Settings, load_settings
from proxy.errors import ConfigError
from proxy.routing import Router

UPSTREAM = {"upstream": "http://127.0.0.1:5000", "backend": "webui"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("FCPROXY_") or name == "BACKEND_TYPE":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_defaults_are_the_backends_defaults() -> None:
    settings = Settings()
    config = UpstreamConfig(url="http://x")
    limits = UpstreamLimits()
    assert (settings.timeout, settings.connect_timeout) == (config.timeout, config.connect_timeout)
    assert (settings.first_byte_timeout, settings.idle_timeout) == (None, None)
    assert settings.max_upstream_bytes == config.max_upstream_bytes == DEFAULT_MAX_UPSTREAM_BYTES
    assert (limits.total, limits.connect, limits.max_bytes) == (600.0, 5.0, 16 * 1024 * 1024)


def test_each_limit_comes_from_yaml_env_and_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "conf.yaml"
    path.write_text("first_byte_timeout: 30\nidle_timeout: 20\nmax_upstream_bytes: 4096\n")
    monkeypatch.setenv("FCPROXY_IDLE_TIMEOUT", "10")
    settings = load_settings(path, {**UPSTREAM, "max_upstream_bytes": 2048})
    assert (settings.first_byte_timeout, settings.idle_timeout) == (30, 10)
    assert settings.max_upstream_bytes == 2048


@pytest.mark.parametrize(
    "bad",
    [
        {"first_byte_timeout": 0},
        {"idle_timeout": -1},
        {"connect_timeout": 0},
        {"timeout": 0},
        {"max_upstream_bytes": 10},
    ],
)
def test_a_limit_that_cannot_work_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        load_settings(cli={**UPSTREAM, **bad})


def test_the_router_hands_the_limits_to_every_backend() -> None:
    settings = Settings(
        **UPSTREAM,
        timeout=60,
        connect_timeout=2,
        first_byte_timeout=30,
        idle_timeout=5,
        max_upstream_bytes=4096,
    )
    backend = Router(settings).default_backend
    assert backend.limits == UpstreamLimits(  # type: ignore[attr-defined]
        total=60, connect=2, first_byte=30, idle=5, max_bytes=4096
    )


def test_serve_takes_each_limit_as_a_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from proxy import cli

    given: dict[str, object] = {}

    def capture(config: object, values: dict[str, object]) -> Settings:
        given.update(values)
        raise SystemExit(0)  # stop before serving

    monkeypatch.setattr(cli, "_load_or_exit", capture)
    flags = [
        "--timeout=60",
        "--connect-timeout=2",
        "--first-byte-timeout=30",
        "--idle-timeout=5",
        "--max-upstream-bytes=4096",
    ]
    CliRunner().invoke(cli.app, ["serve", *flags])
    assert {k: given[k] for k in LIMITS} == {
        "timeout": 60.0,
        "connect_timeout": 2.0,
        "first_byte_timeout": 30.0,
        "idle_timeout": 5.0,
        "max_upstream_bytes": 4096,
    }
    help_text = CliRunner().invoke(cli.app, ["serve", "--help"]).output
    for flag in ("--first-byte-timeout", "--idle-timeout", "--max-upstream-bytes"):
        assert flag in help_text


LIMITS = ("timeout", "connect_timeout", "first_byte_timeout", "idle_timeout", "max_upstream_bytes")
