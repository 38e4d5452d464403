"""Who may use the server, and from where: API keys, JSON bodies, Host, CORS.

- **API keys** (``api_keys``): with keys set, every route wants
  ``Authorization: Bearer KEY`` (or Anthropic's ``x-api-key: KEY``) (``/health`` answers its status without one,
  and its details only with one). Keys are compared in constant time.
- **JSON bodies only** (:func:`require_json`): a POST must say
  ``Content-Type: application/json``. A web page can make the browser send a
  form or ``text/plain`` body to any address without asking that server
  first (a CORS "simple request"), so without this any page the operator
  visits could run generations on a local fcproxy. A JSON body makes the
  browser ask first (a preflight), which fcproxy grants only to
  ``cors_origins``.
- **Hosts** (``allowed_hosts``, :class:`HostCheck`): with names set, a request
  whose ``Host`` header names another host is refused. This stops DNS
  rebinding: a page whose own domain is made to resolve to 127.0.0.1 is
  same-origin with fcproxy as far as the browser knows, but its requests
  still carry its domain in ``Host``. Loopback names are always allowed: only
  a page served from this machine can use them.
- **CORS** (``cors_origins``): off unless origins are listed; then Starlette's
  ``CORSMiddleware`` answers the browsers' preflights for them.
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from proxy.config import Settings
from proxy.envelopes import error_response
from proxy.errors import AuthenticationError, HostNotAllowed, UnsupportedMediaType

#: Host names that only this machine can make a browser send.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
#: Headers a browser page may read from fcproxy's answers (with CORS on).
EXPOSED_HEADERS = ["x-fcproxy-warning", "x-fcproxy-attempts"]


class ApiKeys:
    """The configured client keys, and the check of a request's bearer token."""

    def __init__(self, keys: list[str]) -> None:
        # Keys are printable ASCII (Settings checks): bytes compare in constant time.
        self._keys = [key.encode("ascii") for key in keys]

    @property
    def required(self) -> bool:
        return bool(self._keys)

    def allows(self, request: Request) -> bool:
        """Whether the request may use the server (always, without keys)."""
        if not self._keys:
            return True  # MemGPT sends "Bearer None"; accept anything unless keys are set
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            # Anthropic's clients send the key as ``x-api-key`` (Claude Code, the SDK).
            token = request.headers.get("x-api-key", "")
            if not token:
                return False
        # Header values arrive decoded as Latin-1, so this cannot fail.
        given = token.strip().encode("latin-1", "replace")
        matched = False
        for key in self._keys:  # every key, whichever matches: no timing tells which
            matched |= hmac.compare_digest(given, key)
        return matched

    def check(self, request: Request) -> None:
        if not self.allows(request):
            raise AuthenticationError(
                "Incorrect or missing API key (Authorization: Bearer ... or x-api-key)."
            )


def require_json(request: Request) -> None:
    """Refuse a body not declared as JSON (415): see the module docstring."""
    declared = request.headers.get("content-type")
    media_type = (declared or "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        got = f"Content-Type {declared[:100]!r}" if declared else "no Content-Type"
        raise UnsupportedMediaType(
            f"The request body must be JSON, sent with Content-Type: application/json; "
            f"got {got}. (With curl: -H 'Content-Type: application/json'.)"
        )


def host_name(header: str) -> str:
    """The host of a ``Host`` header, lower case, without port or trailing dot."""
    value = header.strip().lower()
    if value.startswith("["):  # [::1]:8000
        end = value.find("]")
        return value[: end + 1] if end > 0 else value
    return value.partition(":")[0].rstrip(".")


class HostCheck:
    """Refuse requests whose ``Host`` is not in ``allowed`` (400, the path's API's envelope).

    ``allowed`` holds names (``example.com``), wildcards (``*.example.com``:
    any subdomain) and ``*`` (any host: the check is off).
    """

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.any = "*" in allowed
        self.names = LOOPBACK_HOSTS | {h for h in allowed if not h.startswith("*")}
        self.suffixes = tuple(h[1:] for h in allowed if h.startswith("*."))

    def allows(self, host: str) -> bool:
        return self.any or host in self.names or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope.get("headers", []) if k == b"host"), b"")
        host = host_name(header.decode("latin-1"))
        if self.allows(host):
            await self.app(scope, receive, send)
            return
        shown = repr(host[:100]) if host else "none"
        error = HostNotAllowed(
            f"Host {shown} is not served here (allowed_hosts); "
            "address the server by one of its configured names."
        )
        await error_response(scope.get("path", ""), error)(scope, receive, send)


def install_access_guards(app: FastAPI, settings: Settings) -> None:
    """CORS (when origins are set) inside the Host check (when hosts are set).

    Starlette runs the middleware added last first: a request with a foreign
    Host is refused before anything else, a preflight for it included.
    """
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            # The OpenAI SDKs send their own headers (x-stainless-*, OpenAI-Organization).
            allow_headers=["*"],
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )
    if settings.allowed_hosts:
        app.add_middleware(HostCheck, allowed=settings.allowed_hosts)
