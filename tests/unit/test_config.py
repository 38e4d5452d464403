"""Settings precedence (YAML < FCPROXY_* env < CLI) and the documented example."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from proxy.config import Settings, load_settings
from proxy.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("FCPROXY_") or name == "BACKEND_TYPE":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray ./fcproxy.yaml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf.yaml"
    path.write_text(text)
    return path


def test_defaults_without_any_source_serve_the_embedded_model() -> None:
    s = load_settings()
    assert (s.host, s.port, s.backend_name, s.wrapper) == ("127.0.0.1", 8000, "embedded", "chatml")


def test_an_upstream_without_a_backend_is_found_out() -> None:
    assert load_settings(cli={"upstream": "http://127.0.0.1:5000"}).backend_name == "auto"


@pytest.mark.parametrize("name", ["webui", "koboldcpp", "ollama", "vllm", "llamacpp", "auto"])
def test_a_named_backend_is_kept(name: str) -> None:
    cli = {"upstream": "http://127.0.0.1:5000", "backend": name}
    assert load_settings(cli=cli).backend_name == name


def test_the_auto_backend_needs_an_upstream() -> None:
    with pytest.raises(ConfigError, match="backend 'auto' needs an upstream URL"):
        load_settings(cli={"backend": "auto"})


def test_each_model_may_have_its_own_upstream_backend_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "upstream: http://a:5001\n"
        "models:\n"
        "  - name: story\n"
        "  - name: chat\n"
        "    upstream: http://b:11434\n"
        "    backend: Ollama\n"
        "    upstream_api_key: sk-b\n",
    )
    story, chat = load_settings(path).models
    assert (story.upstream, story.backend, story.upstream_api_key) == (None, None, None)
    assert (chat.upstream, chat.backend, chat.upstream_api_key) == (
        "http://b:11434",
        "ollama",
        "sk-b",
    )


def test_an_http_backend_without_an_upstream_is_an_error() -> None:
    with pytest.raises(ConfigError, match="needs an upstream URL"):
        load_settings(cli={"backend": "lmstudio"})


def test_yaml_then_env_then_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path, "port: 1111\nwrapper: zephyr-7B\nbackend: lmstudio\nupstream: http://h:1\n"
    )
    assert load_settings(path).port == 1111

    monkeypatch.setenv("FCPROXY_PORT", "2222")
    s = load_settings(path)
    assert (s.port, s.wrapper, s.backend) == (2222, "zephyr-7B", "lmstudio")

    assert load_settings(path, {"port": 3333, "wrapper": None}).port == 3333


def test_memgpt_backend_type_variable_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCPROXY_UPSTREAM", "http://127.0.0.1:5000")
    monkeypatch.setenv("BACKEND_TYPE", "webui-legacy")
    assert load_settings().backend == "webui-legacy"
    monkeypatch.setenv("BACKEND_TYPE", "vllm")  # MemGPT's name for vLLM
    assert load_settings().backend == "vllm"
    monkeypatch.setenv("FCPROXY_BACKEND", "lmstudio")  # the project's own name wins
    assert load_settings().backend == "lmstudio"


def test_fcproxy_yaml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "fcproxy.yaml").write_text("port: 4444\n")
    assert load_settings().port == 4444


def test_model_table_from_env_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCPROXY_MODELS", '[{"name": "m1", "wrapper": "dolphin"}]')
    assert load_settings().models[0].wrapper == "dolphin"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("port: lots\n", "port"),
        ("upstream: localhost:5000\n", "http://"),
        ("colour: blue\n", "colour"),
        ("- a list\n", "mapping"),
        ("port: [\n", "not valid YAML"),
        ("models:\n  - name: x\n    wraper: chatml\n", "wraper"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings(write(tmp_path, text))


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_example_config_documents_every_option_with_its_default() -> None:
    example = yaml.safe_load((REPO / "config.example.yaml").read_text())
    assert set(example) == set(Settings.model_fields), "config.example.yaml is out of step"
    defaults = Settings()
    for name, value in example.items():
        assert value == getattr(defaults, name), f"{name}: example says {value!r}"


def test_example_model_table_in_comments_is_valid(tmp_path: Path) -> None:
    text = (REPO / "config.example.yaml").read_text()
    block = text[text.index("# models:\n") :]
    uncommented = "\n".join(line.removeprefix("# ") for line in block.splitlines())
    settings = load_settings(write(tmp_path, uncommented))
    assert [m.name for m in settings.models] == [
        "airoboros-70b",
        "dolphin-*",
        "qwen",
        "llama3-8b",
        "llama-server-*",
    ]
    assert settings.models[3].upstreams == ["http://gpu-1:8080", "http://gpu-2:8080"]


def test_a_model_has_one_upstream_or_several_not_both(tmp_path: Path) -> None:
    both = (
        "models:\n  - name: m\n    upstream: http://a:1\n    upstreams: [http://b:1, http://c:1]\n"
    )
    with pytest.raises(ConfigError, match="either upstream or upstreams"):
        load_settings(write(tmp_path, both))
    bad = "models:\n  - name: m\n    upstreams: [http://b:1, ftp://c]\n"
    with pytest.raises(ConfigError, match="http:// or https://"):
        load_settings(write(tmp_path, bad))
