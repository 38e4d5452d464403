"""``--backend auto``: find out what the upstream is, then speak its dialect.

The default whenever an upstream URL is given. :class:`AutoBackend` probes
the upstream once at start-up (``start()``, which the app's lifespan calls;
the probes are in :mod:`proxy.detect`), logs what it found, and from then on
hands every call to the backend of that dialect::

    INFO auto: the upstream at http://127.0.0.1:5001 is koboldcpp 1.102
         (GET /api/extra/version: result KoboldCpp); speaking koboldcpp

A call that finds the upstream unreachable makes the next call probe again:
the server may come back as another one (llama-server restarted as Ollama on
the same port). If nothing answers at start-up, the first request probes.
``name`` stays "auto" (the health check and the logs name what was found);
``supports_grammar`` is the detected backend's, False until something has
been found.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import ClassVar, TypeVar

from proxy.backends.base import (
    Backend,
    Completion,
    Embeddings,
    GenerationParams,
    Health,
    SelfDescribing,
    TextDelta,
    UpstreamConfig,
    UpstreamProps,
)
from proxy.detect import PROBE_TIMEOUT, Detection, detect
from proxy.errors import UpstreamError, UpstreamUnavailable
from proxy.redaction import redact_url

logger = logging.getLogger(__name__)

T = TypeVar("T")
Factory = Callable[[str, UpstreamConfig], Backend]


class AutoBackend:
    """Whatever backend the upstream turns out to need."""

    name: ClassVar[str] = "auto"

    def __init__(self, config: UpstreamConfig, factory: Factory | None = None) -> None:
        self.config = config
        self.base_url = redact_url(config.url.rstrip("/"))  # for messages; see Backend
        #: What the last successful probe found (kept after a connection failure).
        self.detection: Detection | None = None
        self._factory = factory
        self._current: Backend | None = None
        # One backend per dialect ever found, reused if the upstream comes back as it.
        self._made: dict[str, Backend] = {}
        self._probing = asyncio.Lock()

    @property
    def supports_grammar(self) -> bool:
        return self._current.supports_grammar if self._current is not None else False

    @property
    def supports_json_schema(self) -> bool:
        return self._current.supports_json_schema if self._current is not None else False

    @property
    def supports_lazy_grammar(self) -> bool:
        return bool(getattr(self._current, "supports_lazy_grammar", False))

    @property
    def backend(self) -> Backend | None:
        """The backend in use, None until the upstream has been identified."""
        return self._current

    async def start(self) -> None:
        try:
            await self._speaker()
        except UpstreamError as exc:
            logger.warning(
                "auto: cannot tell what serves %s yet (%s); the first request probes again",
                self.base_url,
                exc.message,
            )

    async def detect(self) -> Detection:
        """Identify the upstream (probing only if not done yet) and say what it is."""
        await self._speaker()
        assert self.detection is not None
        return self.detection

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        return await self._call(lambda backend: backend.complete(prompt, params))

    async def stream(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[TextDelta, None]:
        backend = await self._speaker()
        try:
            # aclosing: closing this stream closes the backend's at once (and its request).
            async with contextlib.aclosing(backend.stream(prompt, params)) as deltas:
                async for delta in deltas:
                    yield delta
        except UpstreamUnavailable:
            self._current = None
            raise

    async def count_tokens(self, text: str) -> int | None:
        return await self._call(lambda backend: backend.count_tokens(text))

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        return await self._call(lambda backend: backend.embed(inputs, model))

    async def models(self) -> list[str]:
        try:
            backend = await self._speaker()
        except UpstreamError as exc:
            logger.debug("auto upstream %s lists no models: %s", self.base_url, exc)
            return []
        return await backend.models()

    async def health(self) -> Health:
        try:
            backend = await self._speaker()
        except UpstreamError as exc:
            return Health(ok=False, detail=exc.message)
        health = await backend.health()
        found = self.detection.label if self.detection else backend.name
        return Health(ok=health.ok, detail=f"auto-detected {found}: {health.detail}")

    async def props(self) -> UpstreamProps:
        """What the upstream says about itself, with the detected kind and version."""

        async def describe(backend: Backend) -> UpstreamProps:
            if isinstance(backend, SelfDescribing):
                return await backend.props()
            models = await backend.models()
            return UpstreamProps(server=backend.name, model=models[0] if models else None)

        props = await self._call(describe)
        if self.detection is None:
            return props
        return dataclasses.replace(
            props,
            server=self.detection.server,
            version=props.version or self.detection.version,
        )

    async def aclose(self) -> None:
        for backend in self._made.values():
            await backend.aclose()
        self._made.clear()
        self._current = None

    async def _call(self, call: Callable[[Backend], Awaitable[T]]) -> T:
        backend = await self._speaker()
        try:
            return await call(backend)
        except UpstreamUnavailable:
            # Gone: it may come back as another server; probe again next time.
            self._current = None
            raise

    async def _speaker(self) -> Backend:
        if self._current is None:
            async with self._probing:  # concurrent first requests probe once
                if self._current is None:
                    self._current = await self._identify()
        return self._current

    async def _identify(self) -> Backend:
        found = await detect(
            self.config.url,
            api_key=self.config.api_key,
            timeout=min(self.config.timeout, PROBE_TIMEOUT),
            connect_timeout=self.config.connect_timeout,
        )
        backend = self._made.get(found.backend)
        if backend is None:
            backend = self._make(found.backend)
            self._made[found.backend] = backend
            await backend.start()
        if self.detection is None or self.detection.backend != found.backend:
            logger.info(
                "auto: the upstream at %s is %s (%s); speaking %s",
                self.base_url,
                found.label,
                found.evidence,
                found.backend,
            )
        self.detection = found
        return backend

    def _make(self, name: str) -> Backend:
        if self._factory is not None:
            return self._factory(name, self.config)
        from proxy.backends import create_backend  # the registry imports this module

        return create_backend(name, self.config)
