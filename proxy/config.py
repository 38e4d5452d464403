"""Settings: YAML file < ``FCPROXY_*`` environment < CLI flags.

Every option is documented in ``config.example.yaml``; keep the two in step.
MemGPT's own local-LLM variable ``BACKEND_TYPE`` is accepted for the backend.
The backend defaults to ``embedded`` without an upstream and to ``auto``
(probe the upstream, :mod:`proxy.detect`) with one.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from proxy.errors import ConfigError

DEFAULT_CONFIG_FILE = "fcproxy.yaml"
#: The backend that runs llama.cpp in-process on the bundled model.
EMBEDDED = "embedded"
#: When decoding is constrained (``constrain`` in the config).
Constrain = Literal["auto", "always", "never"]
#: The backend that finds out what the upstream is (the default with an upstream).
AUTO = "auto"


class SamplingDefaults(BaseModel):
    """Per-model sampling defaults; a value the client sends wins."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
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
    #: Several upstreams serving this model, instead of ``upstream``: least busy
    #: first, failover and health checks (proxy/upstream_pool.py).
    upstreams: list[str] = Field(default_factory=list)
    #: Backend dialect; default: the global ``backend`` (``auto`` finds out).
    backend: str | None = None
    #: API key for this entry's upstream; default: the global ``upstream_api_key``.
    #: (repr=False: a settings object in a log line or test report shows no key.)
    upstream_api_key: str | None = Field(default=None, repr=False)
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
    #: When to constrain decoding with a grammar or schema; default: the global ``constrain``.
    constrain: Constrain | None = None
    params: SamplingDefaults = Field(default_factory=SamplingDefaults)

    @field_validator("backend", mode="before")
    @classmethod
    def _lower_backend(cls, value: Any) -> Any:
        return value.strip().lower() or None if isinstance(value, str) else value

    @field_validator("upstreams")
    @classmethod
    def _upstream_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                shown = "[redacted]@" + url.rpartition("@")[2] if "@" in url else url
                raise ValueError(f"upstreams must be http:// or https:// URLs, got {shown!r}")
        return [url.rstrip("/") for url in value]

    @model_validator(mode="after")
    def _one_kind_of_upstream(self) -> ModelEntry:
        if self.upstream and self.upstreams:
            raise ValueError("give either upstream or upstreams, not both")
        return self

    @property
    def upstream_urls(self) -> list[str | None]:
        """The entry's own upstream URLs (``[None]``: the global upstream)."""
        return list(self.upstreams) or [self.upstream]

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
    upstream_api_key: str | None = Field(default=None, repr=False)
    upstream_model: str | None = None
    wrapper: str = "chatml"
    chat_template: str | None = None
    template_parser: str | None = None
    context_window: int | None = Field(default=None, ge=16)
    default_max_tokens: int = Field(default=1024, ge=1)
    # The upstream's limits; proxy/backends/exchange.py says what each one bounds.
    timeout: float = Field(default=600.0, gt=0)
    connect_timeout: float = Field(default=5.0, gt=0)
    first_byte_timeout: float | None = Field(default=None, gt=0)
    idle_timeout: float | None = Field(default=None, gt=0)
    # 16 MiB: proxy.backends.exchange.DEFAULT_MAX_UPSTREAM_BYTES (not imported: the
    # settings load without the HTTP stack).
    max_upstream_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_connections: int = Field(default=32, ge=1)
    embedded_model: str | None = None
    embedded_n_ctx: int = Field(default=4096, ge=256)
    embedded_threads: int | None = Field(default=None, ge=1)
    max_retries: int = Field(default=1, ge=0, le=5)
    #: Seconds after which no further attempt starts (the attempt under way finishes).
    retry_budget_s: float = Field(default=60.0, gt=0)
    grammar: bool = True
    #: ``auto``: constrain where the backend can and the answer's shape is known
    #: (a required call, a strict tool, ``response_format``; under ``tool_choice:
    #: auto`` only with a lazy grammar); ``always``: under ``auto`` too, with a
    #: text-or-call grammar where no lazy one is possible; ``never``: no constraint.
    constrain: Constrain = "auto"
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Slow and idle clients (proxy/client_limits.py).
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=60.0, gt=0)
    keep_alive_timeout: float = Field(default=15.0, gt=0)
    max_client_connections: int = Field(default=1024, ge=1)
    # Processes accepting on the one socket (proxy/server.py); each has its own
    # connection cap, upstream slots and metrics.
    workers: int = Field(default=1, ge=1, le=64)
    # Upstream capacity (proxy/capacity.py); None: sized to the backend.
    max_concurrency: int | None = Field(default=None, ge=1)
    max_queue: int = Field(default=16, ge=0)
    queue_timeout_s: float = Field(default=120.0, gt=0)
    # Models with several upstreams (proxy/upstream_pool.py): how long a failed
    # upstream stays out of rotation at first, and how often those are probed.
    down_backoff_s: float = Field(default=5.0, gt=0)
    health_check_interval_s: float = Field(default=5.0, gt=0)
    # NoDecode: these three come from the environment as one key, a
    # comma-separated list or a JSON list (see _string_list), not JSON only.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # The Responses API's stored responses (previous_response_id, GET /v1/responses/{id}):
    # how many are kept (oldest out first; 0 stores none), and a SQLite file to
    # keep them in across restarts (default: in memory).
    responses_store_size: int = Field(default=1000, ge=0)
    responses_store_path: str | None = None
    # text: one readable line per record; json: one JSON object per line (proxy/logs.py).
    log_format: Literal["text", "json"] = "text"
    # GET /metrics in Prometheus' text format (proxy/metrics.py).
    metrics: bool = True
    models: list[ModelEntry] = Field(default_factory=list)

    @field_validator("upstream")
    @classmethod
    def _url_has_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            # Without a scheme, "user:password@host" is no URL to redact: cut it.
            shown = "[redacted]@" + value.rpartition("@")[2] if "@" in value else value
            raise ValueError(f"upstream must start with http:// or https://, got {shown!r}")
        return value.rstrip("/")

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_api_keys(cls, value: Any) -> Any:
        keys = _string_list(value, "api_keys")
        for key in _strings(keys):
            # Never quote the key itself: the message goes to the terminal and logs.
            if not _HEADER_TOKEN.fullmatch(key):
                raise ValueError(
                    "an API key must be printable ASCII without spaces or commas "
                    "(clients send it in the Authorization header)"
                )
        return keys

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _parse_allowed_hosts(cls, value: Any) -> Any:
        hosts = [_lower_host(host) for host in _strings(_string_list(value, "allowed_hosts"))]
        for host in hosts:
            if not _HOST_PATTERN.fullmatch(host):
                raise ValueError(
                    f"{host!r} is not a host name: give names without scheme, port or path "
                    "(example.com, *.example.com, 192.168.1.5, [::1], or * for any)"
                )
        return hosts

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_cors_origins(cls, value: Any) -> Any:
        origins = [o.rstrip("/") for o in _strings(_string_list(value, "cors_origins"))]
        for origin in origins:
            if origin != "*" and not _ORIGIN_PATTERN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme://host[:port] as a browser "
                    "sends it (https://app.example.com, http://localhost:3000), or * for any"
                )
        return origins

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
            if backend != EMBEDDED and not (entry.upstream or entry.upstreams or self.upstream):
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


#: What may appear in a bearer token (RFC 6750's b64token, without "," so that a
#: comma-separated list stays unambiguous).
_HEADER_TOKEN = re.compile(r"[A-Za-z0-9._~+/=:@!#$%&'*^`|-]+")
#: A host name, a "*." wildcard of one, an IPv4 or a bracketed IPv6 address, or "*".
_HOST_PATTERN = re.compile(r"\*|(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\]")
_ORIGIN_PATTERN = re.compile(r"https?://[^/\s?#]+")


def _string_list(value: Any, name: str) -> Any:
    """A list option as the environment or YAML give it: one value, a
    comma-separated list, or a JSON list; empty (or null) is no value.

    ``"k1"``, ``"k1, k2"``, ``'["k1", "k2"]'`` and ``["k1", "k2"]`` all work.
    """
    if value is None:
        return []
    if isinstance(value, list):  # from YAML or CLI flags
        return [v.strip() if isinstance(v, str) else v for v in value if str(v).strip()]
    if not isinstance(value, str):
        return value  # pydantic rejects it with its type
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{name} starts with '[' but is not a JSON list ({exc.msg}); "
                'give ["a", "b"] or a,b'
            ) from None
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise ValueError(f"{name} must be a JSON list of strings")
        return [v.strip() for v in parsed if v.strip()]
    return [part.strip() for part in text.split(",") if part.strip()]


def _strings(values: Any) -> list[str]:
    """The items of a list option, which must all be text."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError("must be a list of strings")
    return values


def _lower_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


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
    except SettingsError as exc:
        # pydantic-settings could not decode an FCPROXY_* variable (a JSON
        # value that is not JSON): one line, not a traceback.
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise ConfigError(f"invalid environment: {exc}{cause}") from exc
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
