"""httpx's client API over aiohttp's connection pool: the upstream transport.

Measured on this project's benchmark (bench/overhead.py, bench/RESULTS.md):
at 32 requests at once, httpx's own pool (httpcore on anyio) spends about
2.5 ms of CPU per upstream request; aiohttp's pool about 0.2 ms. Everything
above the transport stays httpx (requests, responses, errors), so the
backends, the exchange limits (proxy/backends/exchange.py) and the tests'
error mapping do not change::

    client = httpx.AsyncClient(base_url=url, transport=AiohttpTransport(max_connections=8,
                                                                      connect_timeout=5))

Errors are raised as httpx's (``ConnectTimeout``, ``ConnectError``,
``ReadError``, ``RemoteProtocolError``). A response closed before its body was
read to the end closes its connection, as httpx's own pool does: that is how
an upstream learns to stop generating for a client that left.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int, connect_timeout: float) -> None:
        self._max_connections = max_connections
        # No total or read timeout here: the exchange's deadlines bound every answer.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_connect=connect_timeout
        )
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0),
                timeout=self._timeout,
                # httpx decodes the body by its content-encoding itself.
                auto_decompress=False,
                # Neither a cookie jar nor proxies from the environment: the upstream is
                # configured explicitly, as with httpx's trust_env defaults for this client.
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._get_session()
        body = await request.aread()
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"]
        # httpx has turned the URL's credentials into the Authorization header
        # already; aiohttp refuses a URL with credentials next to that header.
        url = request.url.copy_with(userinfo=b"") if request.url.userinfo else request.url
        try:
            response = await session.request(
                request.method,
                str(url),
                data=body or None,
                headers=headers,
                allow_redirects=False,
                compress=None,
            )
        except TimeoutError as exc:
            # aiohttp raises its connect timeouts as asyncio's TimeoutError subclasses.
            raise httpx.ConnectTimeout(str(exc) or "connect timeout", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(
                str(exc) or "server disconnected", request=request
            ) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timeout", request=self._request) from exc
        except aiohttp.ClientPayloadError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=self._request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=self._request) from exc

    async def aclose(self) -> None:
        response = self._response
        if response.content.at_eof():
            response.release()  # read to the end: the connection goes back to the pool
        else:
            # Unread body: close the connection, so the upstream stops generating.
            response.close()
        # Let aiohttp's connection bookkeeping run before the caller goes on.
        await asyncio.sleep(0)
