"""RunPod's REST API awaited on the gateway's event loop (aiohttp), with the client's retry rule and errors.

`video_ops.client` is synchronous: every call the gateway made through it took a worker thread, and a
status call cost the gateway 1.2 ms of CPU (requests alone 0.6 ms). Through this transport it costs
0.6 ms, which is what a burst of 50 status polls at once is made of.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import certifi
from requests.utils import get_environ_proxies

from video_ops.client import Client, ClientError
from video_ops.client.api import api_error, backoff_s, json_answer, retry_pause_s

CONNECTIONS = 64  # kept-alive connections to the backend: enough for a burst of concurrent callers


class Transport:
    """The routes of `client`'s endpoint (its URL, key, timeouts and retries), one kept-alive session."""

    def __init__(self, client: Client, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.url = client.url
        self.retries = client.retries
        self.headers = {key: value for key, value in client.session.headers.items() if key == "Authorization"}
        connect_s, read_s = client.timeout if isinstance(client.timeout, tuple) else (client.timeout,) * 2
        self.timeout = aiohttp.ClientTimeout(sock_connect=connect_s, sock_read=read_s)
        # The environment's proxy for this URL, read once: aiohttp's trust_env reads it again on every call,
        # which doubled a status call's cost.
        proxies = get_environ_proxies(self.url)
        self.proxy = proxies.get(self.url.split(":", 1)[0]) or proxies.get("all")
        self._sleep = sleep  # injectable, so retries can be tested without waiting
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        """The session, made on the running loop at the first call; certificates from certifi, as requests
        checks them."""
        if self._session is None or self._session.closed:
            tls = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=CONNECTIONS, ssl=tls)
            self._session = aiohttp.ClientSession(headers=self.headers, timeout=self.timeout, connector=connector)
        return self._session

    async def call(self, method: str, route: str, *, idempotent: bool, body: dict | None = None) -> Any:
        """One API call, retried when repeating it cannot do harm; the JSON body, or ClientError."""
        url = f"{self.url}/{route}"
        attempt = 0
        while True:
            try:
                async with self._open().request(method, url, json=body, proxy=self.proxy) as response:
                    text = await response.text()
                    status, reason, retry_after = response.status, response.reason, response.headers.get("Retry-After")
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                # A connection never made sent nothing, so even a submit is safe to repeat.
                nothing_sent = isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError))
                if attempt == self.retries or not (idempotent or nothing_sent):
                    raise ClientError(f"{method} {url} failed: {exc or type(exc).__name__}") from exc
                pause = backoff_s(attempt)
            else:
                if status < 400:
                    return json_answer(method, url, status, text)
                pause = retry_pause_s(idempotent, attempt, self.retries, status, retry_after)
                if pause is None:
                    raise api_error(status, text, reason)
            await self._sleep(pause)
            attempt += 1

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

