"""The access settings: api_keys, allowed_hosts, cors_origins, from YAML, env and CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proxy.config import load_settings
from proxy.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("FCPROXY_") or name == "BACKEND_TYPE":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray ./fcproxy.yaml


@pytest.mark.parametrize(
    ("value", "keys"),
    [
        ("mykey", ["mykey"]),
        ("k1,k2", ["k1", "k2"]),
        (" k1 , k2 ,", ["k1", "k2"]),
        ('["k1", "k2"]', ["k1", "k2"]),
        ("", []),
        ("  ", []),
        ("[]", []),
        ("sk-abc.DEF_123~+/=", ["sk-abc.DEF_123~+/="]),
    ],
)
def test_api_keys_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, keys: list[str]
) -> None:
    monkeypatch.setenv("FCPROXY_API_KEYS", value)
    assert load_settings().api_keys == keys


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["k1", ', "not a JSON list"),
        ('["k1", 2]', "list of strings"),
        ('{"k": 1}', None),
        ("key with spaces", "printable ASCII"),
        ("clé", "printable ASCII"),
    ],
)
def test_a_bad_api_keys_value_is_one_config_error_that_does_not_quote_the_key(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None
) -> None:
    monkeypatch.setenv("FCPROXY_API_KEYS", value)
    with pytest.raises(ConfigError, match="api_keys") as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    if expected:
        assert expected in message
    if "spaces" in value:
        assert value not in message


def test_api_keys_from_yaml_as_a_string_or_a_list(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text("api_keys: k1, k2\n")
    many = tmp_path / "many.yaml"
    many.write_text("api_keys: [k1, k2]\n")
    assert load_settings(one).api_keys == load_settings(many).api_keys == ["k1", "k2"]


def test_a_list_setting_that_is_not_json_in_the_environment_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pydantic-settings raises its own SettingsError for this, which was a traceback.
    monkeypatch.setenv("FCPROXY_MODELS", "not json")
    with pytest.raises(ConfigError, match="models"):
        load_settings()


@pytest.mark.parametrize(
    ("value", "hosts"),
    [
        ("api.example.com", ["api.example.com"]),
        ("API.Example.com., *.lan", ["api.example.com", "*.lan"]),
        ('["[::1]", "192.168.1.5", "*"]', ["[::1]", "192.168.1.5", "*"]),
        ("", []),
    ],
)
def test_allowed_hosts_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, hosts: list[str]
) -> None:
    monkeypatch.setenv("FCPROXY_ALLOWED_HOSTS", value)
    assert load_settings().allowed_hosts == hosts


@pytest.mark.parametrize("value", ["http://example.com", "example.com:8000", "example.com/x"])
def test_an_allowed_host_with_scheme_port_or_path_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"allowed_hosts.*not a host name"):
        load_settings(cli={"allowed_hosts": [value]})


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("http://localhost:3000", ["http://localhost:3000"]),
        ("https://a.example/, http://b.example", ["https://a.example", "http://b.example"]),
        ("*", ["*"]),
        ("", []),
    ],
)
def test_cors_origins_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    monkeypatch.setenv("FCPROXY_CORS_ORIGINS", value)
    assert load_settings().cors_origins == origins


@pytest.mark.parametrize("value", ["localhost:3000", "https://a.example/app", "ftp://x"])
def test_a_cors_origin_that_is_not_an_origin_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"cors_origins.*not an origin"):
        load_settings(cli={"cors_origins": [value]})


def test_cli_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCPROXY_ALLOWED_HOSTS", "a.example")
    settings = load_settings(cli={"allowed_hosts": ["b.example"]})
    assert settings.allowed_hosts == ["b.example"]


def test_a_password_in_an_upstream_without_scheme_is_not_quoted() -> None:
    with pytest.raises(ConfigError, match="http://") as caught:
        load_settings(cli={"upstream": "bob:hunter2-pw@127.0.0.1:5000"})
    assert "hunter2-pw" not in str(caught.value)
