"""deploy/: the configurations it ships load as fcproxy settings.

(.ci/run checks the files themselves against the Compose and Kubernetes schemas.)
"""

from __future__ import annotations

from pathlib import Path

import yaml

from proxy.config import Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_compose_model_table_loads() -> None:
    settings = load_settings(DEPLOY / "fcproxy.yaml")
    assert [m.name for m in settings.models] == ["llama", "webui"]


def test_the_compose_environment_names_real_settings() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    env = compose["services"]["fcproxy"]["environment"]
    fields = {f"FCPROXY_{name.upper()}" for name in Settings.model_fields} | {"FCPROXY_CONFIG"}
    assert set(env) <= fields


def test_the_kubernetes_config_map_holds_a_valid_model_table(tmp_path: Path) -> None:
    config_map = yaml.safe_load((DEPLOY / "k8s/configmap.yaml").read_text())
    path = tmp_path / "fcproxy.yaml"
    path.write_text(config_map["data"]["fcproxy.yaml"])
    settings = load_settings(path)
    [model] = settings.models
    assert len(model.upstreams) == 2 and settings.log_format == "json"
