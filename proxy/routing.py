"""Step 2 of the pipeline: model name -> wrapper + backend.

Lookup order for the ``model`` a client sends:

1. the model table (``models:`` in the config), exact names before globs,
   in the order written; each entry may name its own upstream and backend,
   so one fcproxy serves several upstreams;
2. a wrapper name or alias (MemGPT users pass ``--model airoboros-l2-70b-2.1``)
   served by the default upstream;
3. a model one of the upstreams lists itself (``/v1/models`` shows them):
   served by that upstream, with that name sent upstream and the default
   wrapper; the first upstream listing a name wins;
4. the default wrapper on the default upstream — unless a model table is
   configured, in which case an unknown model is a 404 ``model_not_found``.

Everything is built once at start-up, so a typo in a wrapper or backend name
fails then, with the list of valid names, instead of on the first request.
Each backend is wrapped in its upstream's capacity gate (:mod:`proxy.capacity`):
one gate per upstream URL, however many model entries and keys point there.
The upstreams' own model lists are learnt at start-up and refreshed by every
``/v1/models`` (:meth:`Router.upstream_models`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from proxy.backends import create_backend
from proxy.backends.base import Backend, UpstreamConfig
from proxy.capacity import GatedBackend, UpstreamGate, default_max_concurrency, unwrap
from proxy.config import EMBEDDED, Constrain, ModelEntry, SamplingDefaults, Settings
from proxy.errors import ConfigError, ModelNotFound, UpstreamUnavailable
from proxy.upstream_pool import HealthBook, UpstreamPool
from wrappers.base import LLMChatCompletionWrapper, Message
from wrappers.registry import UnknownWrapperError, find_entry, get_wrapper
from wrappers.template_errors import JINJA_WRAPPER_NAME, ChatTemplateError, TemplateSourceError

#: ``chat_template: upstream``: use the template the upstream server reports.
UPSTREAM_TEMPLATE = "upstream"

logger = logging.getLogger(__name__)

BackendFactory = Callable[[str, UpstreamConfig], Backend]

#: The capacity settings a model entry may give its upstream.
CAPACITY_FIELDS = ("max_concurrency", "max_queue", "queue_timeout_s")


@dataclass(frozen=True)
class Route:
    """How one request is served."""

    wrapper_name: str
    wrapper: LLMChatCompletionWrapper
    backend: Backend
    upstream_model: str | None
    context_window: int | None
    defaults: SamplingDefaults
    #: ``auto`` / ``always`` / ``never``: when to constrain decoding (config ``constrain``).
    constrain: Constrain = "auto"


class Router:
    def __init__(self, settings: Settings, backend_factory: BackendFactory = create_backend):
        self._settings = settings
        self._backend_factory = backend_factory
        self._backends: dict[tuple[str, str, str | None], Backend] = {}
        # Upstream (URL, or "embedded") -> its gate; and the model table's own
        # capacity settings for it, checked for conflicts before anything is built.
        self._gates: dict[str, UpstreamGate] = {}
        self._upstream_capacity = _capacity_per_upstream(settings)
        self._wrappers: dict[str, LLMChatCompletionWrapper] = {}
        # Models served by several upstreams: their pools, and who is in rotation.
        self.healthbook = HealthBook(
            backoff=settings.down_backoff_s, probe_interval=settings.health_check_interval_s
        )
        self._pools: dict[tuple[str, ...], UpstreamPool] = {}
        # An upstream's own model name (lower case) -> (its spelling, its backend).
        self._upstream_models: dict[str, tuple[str, Backend]] = {}
        self.default_backend = self._backend(
            settings.backend_name, settings.upstream, settings.upstream_api_key
        )
        self.default_wrapper_name = settings.wrapper
        # jinja wrappers whose template comes from their upstream: built in start().
        self._pending_templates: dict[str, tuple[Backend, str | None, str]] = {}
        self._wrapper(settings.wrapper, "wrapper", backend=self.default_backend)
        # Exact names win over globs, whatever order the user wrote them in.
        self._table = sorted(settings.models, key=lambda e: e.is_glob)
        self._routes: dict[str, Route] = {}
        for index, entry in enumerate(settings.models):
            self._entry_wrapper(entry, f"models[{index}]")

    @property
    def has_model_table(self) -> bool:
        return bool(self._table)

    def configured_models(self) -> list[str]:
        """Exact model names from the table (globs cannot be listed)."""
        return [e.name for e in self._settings.models if not e.is_glob]

    def backends(self) -> list[Backend]:
        return list(self._backends.values())

    def gated_backends(self) -> list[GatedBackend]:
        """Every upstream's backend behind its gate (all of them, as built here)."""
        return [b for b in self._backends.values() if isinstance(b, GatedBackend)]

    def is_up(self, backend: Backend) -> bool:
        """Is ``backend`` in rotation (not marked down by failures)?"""
        return self.healthbook.is_up(backend)

    def pools(self) -> list[UpstreamPool]:
        return list(self._pools.values())

    def model_is_up(self, name: str) -> bool:
        """False for a table model whose upstreams are all out of rotation."""
        for entry in self._table:
            if entry.matches(name):
                backend = self._entry_backend(entry)
                return not isinstance(backend, UpstreamPool) or backend.any_up()
        return True

    async def upstream_models(self) -> list[tuple[Backend, list[str]]]:
        """Each upstream's own models (none for one that is down), learnt for routing."""
        backends = self.backends()
        listings = await asyncio.gather(*(b.models() for b in backends), return_exceptions=True)
        found: list[tuple[Backend, list[str]]] = []
        for backend, listing in zip(backends, listings, strict=True):
            if isinstance(listing, BaseException):
                logger.warning("listing the models of %s failed: %r", backend.base_url, listing)
                listing = []
            found.append((backend, listing))
        learnt = {
            name.lower(): (name, backend) for backend, names in reversed(found) for name in names
        }
        if learnt != self._upstream_models:
            self._upstream_models = learnt
            self._routes.clear()  # names routed to the default may now have an upstream
        return found

    def route(self, model: str) -> Route:
        cached = self._routes.get(model)
        if cached is not None:
            return cached
        route = self._resolve(model)
        if len(self._routes) < 1024:  # clients may send arbitrary names
            self._routes[model] = route
        return route

    def _resolve(self, model: str) -> Route:
        s = self._settings
        for entry in self._table:
            if entry.matches(model):
                return self._route_for_entry(entry)
        if find_entry(model) is not None:
            return Route(
                wrapper_name=model,
                wrapper=self._wrapper(model, "model", backend=self.default_backend),
                backend=self.default_backend,
                upstream_model=s.upstream_model,
                context_window=self.context_window(self.default_backend, s.context_window),
                defaults=SamplingDefaults(),
                constrain=s.constrain,
            )
        listed = self._upstream_models.get(model.lower())
        if listed is not None:
            name, backend = listed
            return Route(
                wrapper_name=s.wrapper,
                wrapper=self._wrapper(s.wrapper, "wrapper", backend=backend),
                backend=backend,
                upstream_model=name,
                context_window=self.context_window(backend, s.context_window),
                defaults=SamplingDefaults(),
                constrain=s.constrain,
            )
        if self.has_model_table:
            raise ModelNotFound(model, self.configured_models())
        return Route(
            wrapper_name=s.wrapper,
            wrapper=self._wrapper(s.wrapper, "wrapper", backend=self.default_backend),
            backend=self.default_backend,
            upstream_model=s.upstream_model,
            context_window=self.context_window(self.default_backend, s.context_window),
            defaults=SamplingDefaults(),
            constrain=s.constrain,
        )

    def _route_for_entry(self, entry: ModelEntry) -> Route:
        s = self._settings
        backend = self._entry_backend(entry)
        return Route(
            wrapper_name=entry.wrapper or s.wrapper,
            wrapper=self._entry_wrapper(entry, f"model {entry.name}"),
            backend=backend,
            upstream_model=entry.upstream_model or s.upstream_model,
            context_window=self.context_window(backend, entry.context_window or s.context_window),
            defaults=entry.params,
            constrain=entry.constrain or s.constrain,
        )

    def _entry_wrapper(self, entry: ModelEntry, where: str) -> LLMChatCompletionWrapper:
        s = self._settings
        return self._wrapper(
            entry.wrapper or s.wrapper,
            f"{where}.wrapper",
            backend=self._entry_backend(entry),
            template=entry.chat_template or s.chat_template,
            parser=entry.template_parser or s.template_parser,
        )

    def _wrapper(
        self,
        name: str,
        where: str,
        *,
        backend: Backend,
        template: str | None = None,
        parser: str | None = None,
    ) -> LLMChatCompletionWrapper:
        if name.lower() == JINJA_WRAPPER_NAME:
            s = self._settings
            return self._jinja_wrapper(
                where, backend, template or s.chat_template, parser or s.template_parser
            )
        key = name.lower()
        if key not in self._wrappers:
            try:
                self._wrappers[key] = get_wrapper(name)
            except UnknownWrapperError as exc:
                raise ConfigError(f"{where}: {exc}") from exc
        return self._wrappers[key]

    def _jinja_wrapper(
        self, where: str, backend: Backend, template: str | None, parser: str | None
    ) -> LLMChatCompletionWrapper:
        """The model's own chat template, from a file, a URL, or the upstream (at start())."""
        if not template:
            raise ConfigError(
                f"{where}: wrapper 'jinja' needs chat_template: a file, an http(s) URL, "
                "or 'upstream' (the template the upstream server reports)"
            )
        from_upstream = template == UPSTREAM_TEMPLATE
        key = f"jinja|{template}|{parser}|{id(backend) if from_upstream else ''}"
        if key in self._wrappers:
            return self._wrappers[key]
        if from_upstream:
            self._pending_templates[key] = (backend, parser, where)
            return _TemplatePending(key)
        # Imported where a model uses its own chat template, not at start-up.
        from wrappers.jinja_template import JinjaTemplateWrapper, load_template_source

        try:
            source = load_template_source(template)
            self._wrappers[key] = JinjaTemplateWrapper.from_template(
                source.text, parser=parser, bos_token=source.bos_token, eos_token=source.eos_token
            )
        except (ChatTemplateError, TemplateSourceError, UnknownWrapperError) as exc:
            raise ConfigError(f"{where}: chat template {template}: {exc}") from exc
        return self._wrappers[key]

    async def start(self) -> None:
        """Start every backend (the embedded one loads its model), then fetch
        the chat templates that come from an upstream."""
        for backend in self.backends():
            await backend.start()
            health = await backend.health()
            if health.ok:
                logger.info("upstream ready: %s", health.detail)
            else:
                logger.warning(
                    "upstream not reachable yet (requests get 502 until it is): %s", health.detail
                )
        for key, (backend, parser, where) in self._pending_templates.items():
            from wrappers.jinja_template import (
                JinjaTemplateWrapper,
                template_source_from_upstream,
            )

            source = await template_source_from_upstream(unwrap(backend))
            if source is None:
                raise ConfigError(
                    f"{where}: chat_template is 'upstream' but {backend.base_url} reports no "
                    "chat template (llama.cpp's llama-server does; set a file or URL instead)"
                )
            try:
                self._wrappers[key] = JinjaTemplateWrapper.from_template(
                    source.text,
                    parser=parser,
                    bos_token=source.bos_token,
                    eos_token=source.eos_token,
                )
            except (ChatTemplateError, UnknownWrapperError) as exc:
                raise ConfigError(f"{where}: the upstream's chat template: {exc}") from exc
            logger.info("%s: using the chat template %s reports", where, backend.base_url)
        self._pending_templates.clear()
        self._routes.clear()  # routes built before start() hold placeholders
        await self.upstream_models()
        if self._pools:
            self.healthbook.start()

    def _entry_backend(self, entry: ModelEntry) -> Backend:
        s = self._settings
        name = entry.backend or s.backend_name
        key = entry.upstream_api_key or s.upstream_api_key
        if len(entry.upstreams) < 2:
            return self._backend(name, entry.upstream_urls[0] or s.upstream, key)
        pool_key = (name, key or "", *entry.upstreams)
        if pool_key not in self._pools:
            members = [self._backend(name, url, key) for url in entry.upstreams]
            self._pools[pool_key] = UpstreamPool(members, self.healthbook)
        return self._pools[pool_key]

    def _backend(self, name: str, url: str | None, api_key: str | None) -> Backend:
        # Keyed by the key too: the same server behind two keys is two clients.
        key = (name, (url or "").rstrip("/"), api_key)
        if key in self._backends:
            return self._backends[key]
        gate, sized_by_default = self._gate(name, url)
        inner: Backend
        if name == EMBEDDED:
            inner = self._embedded_backend()
        else:
            assert url is not None  # Settings validation guarantees it
            s = self._settings
            config = UpstreamConfig(
                url=url,
                api_key=api_key,
                timeout=s.timeout,
                connect_timeout=s.connect_timeout,
                first_byte_timeout=s.first_byte_timeout,
                idle_timeout=s.idle_timeout,
                max_upstream_bytes=s.max_upstream_bytes,
                # Room for every slot plus the health checks and listings,
                # which do not wait for a slot.
                max_connections=max(s.max_connections, gate.max_concurrency + 2),
                model=s.upstream_model,
            )
            try:
                inner = self._backend_factory(name, config)
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
        self._backends[key] = GatedBackend(inner, gate, sized_by_default=sized_by_default)
        return self._backends[key]

    def _gate(self, name: str, url: str | None) -> tuple[UpstreamGate, bool]:
        """The upstream's gate (made on first use) and whether its size is the backend's default."""
        upstream = _upstream_key(name, url)
        own = self._upstream_capacity.get(upstream, {})
        s = self._settings
        concurrency = own.get("max_concurrency", s.max_concurrency)
        if upstream not in self._gates:
            self._gates[upstream] = UpstreamGate(
                max_concurrency=int(concurrency or default_max_concurrency(name)),
                max_queue=int(own.get("max_queue", s.max_queue)),
                queue_timeout=float(own.get("queue_timeout_s", s.queue_timeout_s)),
                label=name,
            )
        return self._gates[upstream], concurrency is None

    def _embedded_backend(self) -> Backend:
        # Imported here: llama-cpp-python is an optional extra.
        from proxy.backends.embedded import EmbeddedBackend, EmbeddedConfig

        s = self._settings
        return EmbeddedBackend(
            EmbeddedConfig(
                model_path=s.embedded_model,
                n_ctx=self._embedded_n_ctx(),
                n_threads=s.embedded_threads,
            )
        )

    def _embedded_n_ctx(self) -> int:
        # --context-window sizes the embedded model's context too: one number.
        return self._settings.context_window or self._settings.embedded_n_ctx

    def context_window(self, backend: Backend, configured: int | None) -> int | None:
        """The configured window, or what the embedded model was loaded with."""
        if configured is None and backend.name == EMBEDDED:
            return self._embedded_n_ctx()
        return configured

    async def aclose(self) -> None:
        await self.healthbook.aclose()
        for backend in self._backends.values():
            await backend.aclose()


def _upstream_key(backend_name: str, url: str | None) -> str:
    """What one gate stands for: a server (its URL), or the in-process model."""
    return EMBEDDED if backend_name == EMBEDDED else (url or "").rstrip("/")


def _capacity_per_upstream(settings: Settings) -> dict[str, dict[str, float]]:
    """The model table's capacity settings, per upstream.

    One server has one capacity whichever entry names it, so two entries
    giving the same upstream different values is a configuration error.
    """
    found: dict[str, dict[str, tuple[float, str]]] = {}
    for index, entry in enumerate(settings.models):
        where = f"models[{index}] ({entry.name})"
        for url in entry.upstream_urls:
            upstream = _upstream_key(
                entry.backend or settings.backend_name, url or settings.upstream
            )
            for field_name in CAPACITY_FIELDS:
                value = getattr(entry, field_name)
                if value is None:
                    continue
                seen = found.setdefault(upstream, {}).get(field_name)
                if seen is not None and seen[0] != value:
                    raise ConfigError(
                        f"{where}: {field_name} {value:g} conflicts with {field_name} "
                        f"{seen[0]:g} of {seen[1]}: both use the same upstream, which has "
                        "one capacity"
                    )
                found[upstream][field_name] = (value, where)
    return {
        upstream: {name: value for name, (value, _) in fields.items()}
        for upstream, fields in found.items()
    }


class _TemplatePending(LLMChatCompletionWrapper):
    """Stands in for a jinja wrapper until :meth:`Router.start` fetched its template."""

    def __init__(self, key: str) -> None:
        self.key = key

    def _not_ready(self) -> UpstreamUnavailable:
        return UpstreamUnavailable("The chat template has not been fetched from the upstream yet.")

    def chat_completion_to_prompt(
        self, messages: list[Message], functions: list[dict[str, Any]], **kwargs: Any
    ) -> str:
        raise self._not_ready()

    def output_to_chat_completion_response(self, raw_llm_output: str, **kwargs: Any) -> Message:
        raise self._not_ready()
