"""Settings: YAML file < ``FCPROXY_*`` environment < CLI flags.

Every option is documented in ``config.example.yaml``; keep the two in step.
MemGPT's own local-LLM variable ``BACKEND_TYPE`` is accepted for the backend.
The backend defaults to ``embedded`` without an upstream and to ``auto``
(probe the upstream, :mod:`proxy.detect`) with one.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from proxy.errors import ConfigError

DEFAULT_CONFIG_FILE = "fcproxy.yaml"
#: The backend that runs llama.cpp in-process on the bundled model.
EMBEDDED = "embedded"
#: The backend that finds out what the upstream is (the default with an upstream).
AUTO = "auto"


class SamplingDefaults(BaseModel):
    """Per-model sampling defaults; a value the client sends wins."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: list[str] = Field(default_factory=list)


class ModelEntry(BaseModel):
    """One row of the model table: a public model name and how to serve it."""

    model_config = ConfigDict(extra="forbid")

    #: Public name clients send as ``model``: exact, or a glob (``airoboros-*``).
    name: str
    #: Wrapper name, alias or dotted path; default: the global ``wrapper``.
    wrapper: str | None = None
    #: For ``wrapper: jinja``: the chat template (a file, an http(s) URL, or
    #: ``upstream`` for the one the upstream reports); default: the global one.
    chat_template: str | None = None
    #: For ``wrapper: jinja``: the parser (a wrapper name); default: chosen
    #: from the template's markers.
    template_parser: str | None = None
    #: Upstream URL; default: the global ``upstream``.
    upstream: str | None = None
    #: Backend dialect; default: the global ``backend`` (``auto`` finds out).
    backend: str | None = None
    #: API key for this entry's upstream; default: the global ``upstream_api_key``.
    upstream_api_key: str | None = None
    #: Model name to send upstream (LM Studio routes by it); default: none.
    upstream_model: str | None = None
    #: Context window in tokens; default: the global ``context_window``.
    context_window: int | None = Field(default=None, ge=16)
    #: Requests at once to this entry's upstream; default: the global one.
    max_concurrency: int | None = Field(default=None, ge=1)
    #: Requests waiting for this entry's upstream; default: the global ``max_queue``.
    max_queue: int | None = Field(default=None, ge=0)
    #: Seconds a request may wait in that queue; default: the global ``queue_timeout_s``.
    queue_timeout_s: float | None = Field(default=None, gt=0)
    params: SamplingDefaults = Field(default_factory=SamplingDefaults)

    @field_validator("backend", mode="before")
    @classmethod
    def _lower_backend(cls, value: Any) -> Any:
        return value.strip().lower() or None if isinstance(value, str) else value

    @property
    def is_glob(self) -> bool:
        return any(ch in self.name for ch in "*?[")

    def matches(self, model: str) -> bool:
        if self.is_glob:
            return fnmatch.fnmatchcase(model.lower(), self.name.lower())
        return model.lower() == self.name.lower()


class Settings(BaseSettings):
    """All of fcproxy's options. See ``config.example.yaml`` for each one explained."""

    model_config = SettingsConfigDict(
        env_prefix="FCPROXY_",
        extra="forbid",
        populate_by_name=True,
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    upstream: str | None = None
    backend: str | None = None
    upstream_api_key: str | None = None
    upstream_model: str | None = None
    wrapper: str = "chatml"
    chat_template: str | None = None
    template_parser: str | None = None
    context_window: int | None = Field(default=None, ge=16)
    default_max_tokens: int = Field(default=1024, ge=1)
    timeout: float = Field(default=600.0, gt=0)
    connect_timeout: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=32, ge=1)
    embedded_model: str | None = None
    embedded_n_ctx: int = Field(default=4096, ge=256)
    embedded_threads: int | None = Field(default=None, ge=1)
    max_retries: int = Field(default=1, ge=0, le=5)
    grammar: bool = True
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Slow and idle clients (proxy/client_limits.py).
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=60.0, gt=0)
    keep_alive_timeout: float = Field(default=15.0, gt=0)
    max_client_connections: int = Field(default=1024, ge=1)
    # Upstream capacity (proxy/capacity.py); None: sized to the backend.
    max_concurrency: int | None = Field(default=None, ge=1)
    max_queue: int = Field(default=16, ge=0)
    queue_timeout_s: float = Field(default=120.0, gt=0)
    api_keys: list[str] = Field(default_factory=list)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    models: list[ModelEntry] = Field(default_factory=list)

    @field_validator("upstream")
    @classmethod
    def _url_has_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"upstream must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("backend", mode="before")
    @classmethod
    def _lower_backend(cls, value: Any) -> Any:
        return value.strip().lower() or None if isinstance(value, str) else value

    @model_validator(mode="after")
    def _backend_for_upstream(self) -> Settings:
        # No upstream at all: serve the bundled model in-process. An upstream
        # without a backend: find out what it is (auto).
        if self.backend_name != EMBEDDED and self.upstream is None:
            raise ValueError(
                f"backend {self.backend_name!r} needs an upstream URL "
                "(--upstream / FCPROXY_UPSTREAM)"
            )
        for index, entry in enumerate(self.models):
            backend = entry.backend or self.backend_name
            if backend != EMBEDDED and not (entry.upstream or self.upstream):
                raise ValueError(f"models[{index}] ({entry.name}) needs an upstream URL")
        return self

    @property
    def backend_name(self) -> str:
        """The backend in effect: as set, else embedded without an upstream, else auto."""
        if self.backend:
            return self.backend
        return EMBEDDED if self.upstream is None else AUTO

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: CLI flags arrive as init kwargs, then the
        # environment; the YAML file is passed in as init kwargs too but
        # merged underneath by load_settings().
        return (init_settings, env_settings)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of options at the top level")
    return data


def load_settings(
    config_file: str | Path | None = None, cli: dict[str, Any] | None = None
) -> Settings:
    """Build Settings from the YAML file, the environment and CLI flags.

    ``config_file`` None means ``fcproxy.yaml`` in the working directory if it
    exists (``FCPROXY_CONFIG`` names another). CLI values that are None are
    "not given" and do not override anything.
    """
    from pydantic import ValidationError

    path: Path | None
    if config_file is not None:
        path = Path(config_file)
        if not path.exists():
            raise ConfigError(f"config file {path} does not exist")
    elif os.environ.get("FCPROXY_CONFIG"):
        path = Path(os.environ["FCPROXY_CONFIG"])
        if not path.exists():
            raise ConfigError(f"config file {path} (from FCPROXY_CONFIG) does not exist")
    else:
        default = Path(DEFAULT_CONFIG_FILE)
        path = default if default.exists() else None

    file_values = read_yaml(path) if path else {}
    given = {k: v for k, v in (cli or {}).items() if v is not None}
    env_keys = _env_overrides()
    # YAML < environment < CLI: drop YAML values the environment overrides, so
    # that pydantic-settings' own env source wins over them.
    merged = {k: v for k, v in file_values.items() if k not in env_keys}
    if "BACKEND_TYPE" in os.environ and "FCPROXY_BACKEND" not in os.environ:
        # MemGPT's own variable for the same thing; FCPROXY_BACKEND wins.
        merged["backend"] = os.environ["BACKEND_TYPE"]
    merged.update(given)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        where = f" (config file {path})" if path else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise ConfigError(f"invalid configuration{where}: {problems}") from exc


def _env_overrides() -> set[str]:
    """Setting names that the environment sets."""
    names = {name for name in Settings.model_fields if f"FCPROXY_{name.upper()}" in os.environ}
    if "BACKEND_TYPE" in os.environ:
        names.add("backend")
    return names
