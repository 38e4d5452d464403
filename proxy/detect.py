"""Which LLM server answers at a URL, found by asking it.

``--backend auto`` (the default with an upstream) and ``fcproxy doctor``
call :func:`detect`::

    found = await detect("http://127.0.0.1:5001")
    found.server    # "koboldcpp"
    found.backend   # "koboldcpp": the --backend that speaks its dialect
    found.version   # "1.102"
    found.evidence  # "GET /api/extra/version: result KoboldCpp"

The probes are GETs, asked one after another until one is recognised. The
order matters because servers imitate each other: koboldcpp answers
llama-server's ``/props`` and Ollama's ``/api/version`` and ``/api/tags``, and
several servers answer ``/v1/models``. So each probe asks what only its
server answers, once the servers that imitate it have been ruled out:

1. ``GET /api/extra/version`` -> ``{"result": "KoboldCpp"}``: koboldcpp
2. ``GET /props`` -> ``default_generation_settings`` / ``total_slots``, or 503
   "Loading model": llama.cpp's llama-server
3. ``GET /api/version`` -> ``{"version"}``: Ollama
4. ``GET /v1/internal/model/info`` -> ``{"model_name"}``: text-generation-webui
5. ``GET /api/v0/models`` -> models with a ``state``: LM Studio (0.3.6 on)
6. ``GET /openapi.json`` -> title "llama.cpp Python API": llama-cpp-python's server
7. ``GET /api/v1/model`` -> ``{"result"}``: webui's old blocking API
8. ``GET /v1/models``: ``owned_by: "organization_owner"`` is LM Studio
   before 0.3.6; ``max_model_len`` or ``owned_by: "vllm"`` is vLLM;
   ``owned_by: "llamacpp"`` is llama-server behind an API key (its ``/props``
   is not public), ``owned_by: "me"`` llama-cpp-python; any other listing is
   an OpenAI-compatible server
9. anything else that answers HTTP: assumed OpenAI-compatible (logged as a guess)

Each probe waits ``timeout`` seconds at most (3 by default) and the whole
detection ``deadline`` seconds (15); an answer is read up to 1 MiB (past that
it is not what a probe looks for). Nothing listening is
:class:`UpstreamUnavailable`; a server that answers 401/403 to every probe
is an :class:`UpstreamError` that says to check the API key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from proxy.backends.upstream_http import (
    ConnectTimeout,
    TransportError,
    UpstreamHTTP,
    UpstreamResponse,
)
from proxy.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from proxy.redaction import redact_url

#: Seconds each probe may take, and the whole detection.
PROBE_TIMEOUT = 3.0
DETECT_DEADLINE = 15.0
#: The largest probe answer read: what the probes look for is a few hundred bytes.
PROBE_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Detection:
    """What answers at the URL and the backend that speaks to it."""

    #: The kind of server, e.g. "koboldcpp", "llama-server", "vllm" (see SERVERS).
    server: str
    #: The --backend name for its dialect.
    backend: str
    #: Which probe answered, and what said it.
    evidence: str
    #: The server's version or build, where the probe tells it.
    version: str | None = None

    @property
    def label(self) -> str:
        """A human-readable name, e.g. "koboldcpp 1.102"."""
        name = SERVERS.get(self.server, self.server)
        return f"{name} {self.version}" if self.version else name


#: Server kind -> how logs and ``fcproxy doctor`` name it.
SERVERS = {
    "koboldcpp": "koboldcpp",
    "llama-server": "llama.cpp's llama-server",
    "ollama": "Ollama",
    "text-generation-webui": "text-generation-webui",
    "text-generation-webui-legacy": "text-generation-webui (old blocking API)",
    "lm-studio": "LM Studio",
    "llama-cpp-python": "llama-cpp-python's server",
    "vllm": "vLLM",
    "openai-compatible": "an OpenAI-compatible server",
}

#: The backend that speaks to each kind of server.
BACKEND_FOR_SERVER = {
    "koboldcpp": "koboldcpp",
    "llama-server": "llamacpp",
    "ollama": "ollama",
    "text-generation-webui": "webui",
    "text-generation-webui-legacy": "webui-legacy",
    "lm-studio": "lmstudio",
    "llama-cpp-python": "llamacpp",
    "vllm": "openai-completions",
    "openai-compatible": "openai-completions",
}


class _Answer:
    """One probe's answer: the status and the JSON body (None when not JSON)."""

    def __init__(self, status: int, data: Any) -> None:
        self.status = status
        self.data = data

    def get(self, *keys: str) -> Any:
        node = self.data
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        return node


class _Prober:
    def __init__(
        self, http: UpstreamHTTP, url: str, timeout: float, connect_timeout: float
    ) -> None:
        self.http = http
        self.url = url
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.statuses: list[int] = []

    async def get(self, path: str) -> _Answer | None:
        """``GET path``; None when it timed out. Nothing listening raises."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.http.open("GET", path)
                try:
                    body = await _read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            return None  # it listens but is slow to answer this one
        except ConnectTimeout as exc:
            raise UpstreamUnavailable(
                f"Cannot reach the upstream at {self.url} (no connection within "
                f"{self.connect_timeout:g} s). Is it running?"
            ) from exc
        except TransportError as exc:
            raise UpstreamUnavailable(
                f"Cannot reach the upstream at {self.url} ({type(exc).__name__}: {exc}). "
                "Is it running?"
            ) from exc
        self.statuses.append(response.status_code)
        try:
            data = json.loads(body) if body is not None else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        return _Answer(response.status_code, data)


async def _read_capped(response: UpstreamResponse) -> bytes | None:
    """A probe's answer, or None past PROBE_MAX_BYTES (read no further: not what is probed for)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > PROBE_MAX_BYTES:
            return None
    return bytes(body)


Probe = Callable[[_Prober], Awaitable["Detection | None"]]


def _found(server: str, evidence: str, version: Any = None) -> Detection:
    return Detection(
        server=server,
        backend=BACKEND_FOR_SERVER[server],
        evidence=evidence,
        version=str(version) if isinstance(version, str | int | float) and version else None,
    )


async def _koboldcpp(p: _Prober) -> Detection | None:
    answer = await p.get("/api/extra/version")
    if answer and answer.status == 200 and str(answer.get("result")).lower() == "koboldcpp":
        return _found(
            "koboldcpp", "GET /api/extra/version: result KoboldCpp", answer.get("version")
        )
    return None


async def _llama_server(p: _Prober) -> Detection | None:
    answer = await p.get("/props")
    if answer is None:
        return None
    settings = {"default_generation_settings", "total_slots"}
    if answer.status == 200 and isinstance(answer.data, dict) and settings & answer.data.keys():
        return _found("llama-server", "GET /props", answer.get("build_info"))
    if answer.status == 503 and answer.get("error", "type") == "unavailable_error":
        return _found("llama-server", "GET /props: 503 while it loads its model")
    return None


async def _ollama(p: _Prober) -> Detection | None:
    answer = await p.get("/api/version")
    if answer and answer.status == 200 and isinstance(answer.get("version"), str):
        return _found("ollama", "GET /api/version", answer.get("version"))
    return None


async def _webui(p: _Prober) -> Detection | None:
    answer = await p.get("/v1/internal/model/info")
    if answer and answer.status == 200 and answer.get("model_name") is not None:
        return _found("text-generation-webui", "GET /v1/internal/model/info: model_name")
    return None


async def _lm_studio(p: _Prober) -> Detection | None:
    answer = await p.get("/api/v0/models")
    models = answer.get("data") if answer and answer.status == 200 else None
    if isinstance(models, list) and any(isinstance(m, dict) and "state" in m for m in models):
        return _found("lm-studio", "GET /api/v0/models: models with a state")
    return None


async def _llama_cpp_python(p: _Prober) -> Detection | None:
    answer = await p.get("/openapi.json")
    if answer is None or answer.status != 200:
        return None
    title = answer.get("info", "title")
    if isinstance(title, str) and "llama.cpp python" in title.lower():
        return _found(
            "llama-cpp-python", f"GET /openapi.json: title {title!r}", answer.get("info", "version")
        )
    return None


async def _webui_legacy(p: _Prober) -> Detection | None:
    answer = await p.get("/api/v1/model")
    if answer and answer.status == 200 and isinstance(answer.get("result"), str):
        return _found("text-generation-webui-legacy", "GET /api/v1/model: result")
    return None


async def _openai_models(p: _Prober) -> Detection | None:
    answer = await p.get("/v1/models")
    cards = answer.get("data") if answer and answer.status == 200 else None
    if not isinstance(cards, list):
        return None
    card = next((c for c in cards if isinstance(c, dict)), {})
    owner = card.get("owned_by")
    if owner == "organization_owner":
        return _found("lm-studio", "GET /v1/models: owned_by organization_owner")
    if owner == "llamacpp":  # /props needs the API key; /v1/models does not
        return _found("llama-server", "GET /v1/models: owned_by llamacpp")
    if owner == "me":  # /openapi.json switched off
        return _found("llama-cpp-python", "GET /v1/models: owned_by me")
    if owner == "vllm" or "max_model_len" in card:
        version = await p.get("/version")
        return _found(
            "vllm", "GET /v1/models: max_model_len", version.get("version") if version else None
        )
    evidence = f"GET /v1/models: owned_by {owner}" if owner else "GET /v1/models"
    return _found("openai-compatible", evidence)


#: The probes, in the order they are asked (see the module docstring).
PROBES: tuple[Probe, ...] = (
    _koboldcpp,
    _llama_server,
    _ollama,
    _webui,
    _lm_studio,
    _llama_cpp_python,
    _webui_legacy,
    _openai_models,
)


async def detect(
    url: str,
    *,
    api_key: str | None = None,
    timeout: float = PROBE_TIMEOUT,
    connect_timeout: float | None = None,
    deadline: float = DETECT_DEADLINE,
) -> Detection:
    """Probe ``url`` (see the module docstring) and say what serves there."""
    shown = redact_url(url.rstrip("/"))  # messages name the URL without its password
    connect = connect_timeout or timeout
    http = UpstreamHTTP.for_url(url, api_key, max_connections=2, connect_timeout=connect)
    try:
        prober = _Prober(http, shown, timeout, connect)
        try:
            async with asyncio.timeout(deadline):
                for probe in PROBES:
                    if (found := await probe(prober)) is not None:
                        return found
        except TimeoutError:
            raise UpstreamTimeout(
                f"The upstream at {shown} did not say what it is within {deadline:g} s."
            ) from None
    finally:
        await http.aclose()
    if prober.statuses and all(status in (401, 403) for status in prober.statuses):
        raise UpstreamError(
            f"The upstream at {shown} answered HTTP {prober.statuses[0]} to every probe: "
            "is upstream_api_key right?"
        )
    if not prober.statuses:
        raise UpstreamTimeout(f"The upstream at {shown} answered no probe within {timeout:g} s.")
    return Detection(
        server="openai-compatible",
        backend="openai-completions",
        evidence="no probe recognised it; assuming OpenAI's /v1/completions",
    )
