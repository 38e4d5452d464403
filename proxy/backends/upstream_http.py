"""The upstream HTTP client: one aiohttp connection pool per upstream.

Why aiohttp, and why not through httpx (bench/RESULTS.md has the figures):
with 32 requests in flight, httpx's own pool (httpcore on anyio) spent about
2 ms of CPU per upstream request, scanning every idle connection for each new
request; aiohttp's pool spends about 0.2 ms. httpx's request and response
objects on top of aiohttp's pool still cost a tenth of fcproxy's CPU per
request, and fcproxy needs none of what they bring (redirects, cookies, auth
flows, content decoding it cannot get from aiohttp): the backends speak to
this module's three small types instead.

    http = UpstreamHTTP("http://127.0.0.1:8080", headers, max_connections=8, connect_timeout=5)
    response = await http.open("POST", "/completion", body_bytes)
    async for chunk in response.aiter_bytes(): ...
    await response.aclose()

Failures are raised as this module's :class:`TransportError` subclasses,
named as httpx named them (``ConnectError``, ``ConnectTimeout``,
``ReadError``, ``RemoteProtocolError``), so error messages keep their words.
The deadlines of an exchange are the caller's (proxy/backends/exchange.py);
this client sets only the connect timeout.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from proxy import __version__


class TransportError(Exception):
    """The upstream could not be reached, or broke off."""


class ConnectError(TransportError):
    pass


class ConnectTimeout(TransportError):
    pass


class ReadError(TransportError):
    pass


class RemoteProtocolError(TransportError):
    pass


class UpstreamHTTP:
    """One upstream's connection pool, its base URL and the headers of every request."""

    @classmethod
    def for_url(
        cls, url: str, api_key: str | None, *, max_connections: int, connect_timeout: float
    ) -> UpstreamHTTP:
        """The client of the upstream at ``url``: who asks, and with which credentials.

        A URL's ``user:password@`` is sent as Basic auth and wins over the key
        (as with the httpx client fcproxy used before).
        """
        origin = URL(url.rstrip("/"))
        headers = {"Accept": "*/*", "User-Agent": f"fcproxy/{__version__}"}
        if origin.user is not None:
            pair = f"{origin.user}:{origin.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        return cls(
            str(origin.with_user(None)),
            headers,
            max_connections=max_connections,
            connect_timeout=connect_timeout,
        )

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        max_connections: int,
        connect_timeout: float,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._headers = dict(headers)
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._max_connections = max_connections
        # No total or read timeout here: the exchange's deadlines bound every answer.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_connect=connect_timeout
        )
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0),
                timeout=self._timeout,
                # Neither a cookie jar nor proxies from the environment: the
                # upstream is configured explicitly.
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    def _url(self, path: str) -> URL:
        # A backend asks for a handful of paths: each is parsed once.
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self._base + path, encoded=False)
        return url

    async def open(self, method: str, path: str, body: bytes | None = None) -> UpstreamResponse:
        """Send a request (``body`` is JSON); the response's headers are in, its body is not."""
        try:
            response = await self._get_session().request(
                method,
                self._url(path),
                data=body,
                headers=self._headers if body is None else self._json_headers,
                allow_redirects=False,
            )
        except TimeoutError as exc:
            # aiohttp raises its connect timeouts as asyncio's TimeoutError subclasses.
            raise ConnectTimeout(str(exc) or "connect timeout") from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(str(exc)) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise RemoteProtocolError(str(exc) or "server disconnected") from exc
        except aiohttp.ClientError as exc:
            raise ReadError(str(exc) or type(exc).__name__) from exc
        return UpstreamResponse(response)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _read_failure(exc: aiohttp.ClientError) -> TransportError:
    if isinstance(exc, aiohttp.ClientPayloadError):
        return RemoteProtocolError(str(exc))
    return ReadError(str(exc) or type(exc).__name__)


class UpstreamResponse:
    """An answer whose body is being read."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except aiohttp.ClientError as exc:
            raise _read_failure(exc) from exc

    def read_ready(self) -> bytes | None:
        """What has arrived, without waiting: bytes, ``b""`` at the end, None if nothing yet.

        A small answer is often all in by the time its headers are: reading it
        needs no timed wait at all (proxy/backends/exchange.py).
        """
        content = self._response.content
        try:
            chunk = content.read_nowait()
        except aiohttp.ClientError as exc:
            raise _read_failure(exc) from exc
        if chunk or content.at_eof():
            return chunk
        return None

    def release_if_read(self) -> bool:
        """Read to the end? Then the connection goes back to the pool now, without an await.

        The common case, and the cheap one: a request whose answer was read
        whole needs no shielded ``aclose``.
        """
        if not self._response.content.at_eof():
            return False
        self._response.release()
        return True

    async def aclose(self) -> None:
        if not self.release_if_read():
            # Unread body: close the connection, so the upstream stops generating.
            self._response.close()
        # Let aiohttp's connection bookkeeping run before the caller goes on.
        await asyncio.sleep(0)


@dataclass(frozen=True)
class WholeResponse:
    """A fully read answer: status, headers and body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        """The body as text (its declared charset, else UTF-8; bad bytes replaced)."""
        charset = "utf-8"
        content_type = self.headers.get("content-type", "")
        for part in content_type.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON (the standard library: any UTF encoding, lone surrogates, NaN)."""
        return json.loads(self.content)
