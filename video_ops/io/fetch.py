"""Untrusted URL -> local file: SSRF-guarded, size-capped, deadline-bound, retried, cancellable.

The runpod SDK's `rp_ssrf` decides which addresses are public and what the size cap is; its
`safe_get` is synchronous (requests), so a cancelled job could not interrupt it and a trickling
server could hold it. This module applies the same rules on aiohttp: every hop's host is resolved
and checked here, and the connection is pinned to exactly the addresses that were checked.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import shutil
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from runpod.serverless.utils.rp_ssrf import is_safe_address, max_download_bytes

from video_ops.base.errors import JobError
from video_ops.base.settings import env_bool, env_float, env_int, env_str
from video_ops.base.tasks import all_or_nothing
from video_ops.io.drive_pages import PAGE_LIMIT, is_sign_in, next_url, sign_in_error
from video_ops.io.local_results import own_result
from video_ops.io.share_links import Source, source_of

S3Reader = Callable[[str, str, Path, str, "DownloadLimits"], Awaitable[None]]
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_REDIRECTS = 5
_CHUNK = 1 << 16
DEFAULT_DOWNLOADS_AT_ONCE = 16
DEFAULT_DOWNLOADS_PER_HOST = 6  # what browsers open to one host


@dataclass(frozen=True)
class SizeCap:
    """A limit far below the download limit for an input that is never big (a subtitle or words file):
    a wrong URL (a video, an archive) is stopped at the cap while it downloads, not after."""

    megabytes: int
    question: str  # what the caller may have sent instead: "is it a subtitle file?"

    @property
    def max_bytes(self) -> int:
        return self.megabytes * 2**20


@dataclass(frozen=True)
class DownloadLimits:
    max_bytes: int
    deadline_s: float
    connect_timeout_s: float
    read_timeout_s: float
    attempts: int
    backoff_s: float
    cap: SizeCap | None = None

    def capped(self, cap: SizeCap | None) -> DownloadLimits:
        if cap is None or cap.max_bytes >= self.max_bytes:
            return self
        return replace(self, max_bytes=cap.max_bytes, cap=cap)

    def refusal(self, field: str, size: int) -> str:
        """The sentence for a file over the limit; `size` is what was declared or read so far."""
        if self.cap is not None:
            return f"{field}: the file is larger than {self.cap.megabytes} MB; {self.cap.question}"
        return (
            f"{field}: the file is larger than the download limit of {self.max_bytes} bytes "
            f"(got {'at least ' if size > self.max_bytes else ''}{size}; limit RUNPOD_MAX_DOWNLOAD_BYTES)."
        )

    @classmethod
    def from_env(cls) -> DownloadLimits:
        return cls(
            max_bytes=max_download_bytes(),
            deadline_s=env_float("VIDEO_OPS_DOWNLOAD_TIMEOUT_S", 600.0),
            connect_timeout_s=env_float("VIDEO_OPS_DOWNLOAD_CONNECT_TIMEOUT_S", 10.0),
            read_timeout_s=env_float("VIDEO_OPS_DOWNLOAD_READ_TIMEOUT_S", 30.0),
            attempts=env_int("VIDEO_OPS_DOWNLOAD_ATTEMPTS", 3),
            backoff_s=env_float("VIDEO_OPS_DOWNLOAD_BACKOFF_S", 0.5),
        )


class DownloadSlots:
    """How many downloads one job runs at once, in all and to any one host.

    A 500-image job must not open 500 connections (nor 500 files) at once, and no server should
    see more connections from one job than a browser would open to it.
    """

    def __init__(self, at_once: int, per_host: int) -> None:
        self.any = asyncio.Semaphore(at_once)
        self._per_host = per_host
        self._hosts: dict[tuple[str, int], asyncio.Semaphore] = {}

    @classmethod
    def from_env(cls) -> DownloadSlots:
        return cls(at_once=env_int("VIDEO_OPS_DOWNLOADS_AT_ONCE", DEFAULT_DOWNLOADS_AT_ONCE),
                   per_host=env_int("VIDEO_OPS_DOWNLOADS_PER_HOST", DEFAULT_DOWNLOADS_PER_HOST))

    def host(self, host: str, port: int) -> asyncio.Semaphore:
        return self._hosts.setdefault((host.lower(), port), asyncio.Semaphore(self._per_host))


class _Retryable(Exception):
    """A transient failure (connection error, 5xx, 429) worth another attempt."""


def redact_url(url: str) -> str:
    """The URL as safe to show: no user info, no query (presigned signatures live there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    shown = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else parts.path
    return shown if len(shown) <= 200 else shown[:197] + "..."


def private_urls_allowed() -> bool:
    """The SDK's own escape hatch, for self-hosted media on a private network (and the tests)."""
    return env_bool("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS")


async def fetch_all(
    urls: Mapping[str, str], workdir: Path, s3_reader: S3Reader | None, slots: DownloadSlots | None = None,
    caps: Mapping[str, SizeCap] | None = None,
) -> dict[str, Path]:
    """Download every input, as many at once as `slots` allow (a job's, shared by all its downloads, or
    fresh ones), each within the download limit or its field's tighter cap; the first failure cancels
    the rest."""
    limits = DownloadLimits.from_env()
    slots = slots or DownloadSlots.from_env()
    caps = caps or {}
    fields = list(urls)
    paths = await all_or_nothing(
        *(fetch(urls[field], workdir / _file_name(field), field, limits.capped(caps.get(field)), s3_reader, slots)
          for field in fields)
    )
    return dict(zip(fields, paths, strict=True))


async def fetch(
    url: str, dest: Path, field: str, limits: DownloadLimits, s3_reader: S3Reader | None, slots: DownloadSlots
) -> Path:
    scheme = urlsplit(url).scheme.lower()
    if scheme in {"http", "https"} and (own := own_result(url)) is not None:
        async with slots.any:
            await _copy_local(own, dest, field, limits)
    elif scheme in {"http", "https"}:
        await _fetch_http(url, dest, field, limits, slots)
    elif scheme in {"s3", "file"}:
        async with slots.any:
            await (_fetch_s3(url, dest, field, limits, s3_reader) if scheme == "s3"
                   else _fetch_file(url, dest, field, limits))
    else:
        raise JobError(f"{field}: unsupported URL scheme {scheme or '(none)'!r}; use http, https or s3.")
    return dest


async def _fetch_http(url: str, dest: Path, field: str, limits: DownloadLimits, slots: DownloadSlots) -> None:
    source = source_of(url, field)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.deadline_s
    for attempt in range(1, limits.attempts + 1):
        remaining = deadline - loop.time()
        try:
            await asyncio.wait_for(_download_once(source, dest, field, limits, slots), max(remaining, 0.01))
            return
        except asyncio.TimeoutError:
            raise JobError(
                f"{field}: download of {redact_url(url)} did not finish within {limits.deadline_s:.0f} s "
                "(limit VIDEO_OPS_DOWNLOAD_TIMEOUT_S)."
            ) from None
        except _Retryable as err:
            if attempt == limits.attempts:
                raise JobError(
                    f"{field}: download of {redact_url(url)} failed after {attempt} attempts: {err}."
                ) from None
            pause = limits.backoff_s * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            if loop.time() + pause >= deadline:
                raise JobError(f"{field}: download of {redact_url(url)} failed: {err}.") from None
            await asyncio.sleep(pause)


async def _download_once(source: Source, dest: Path, field: str, limits: DownloadLimits, slots: DownloadSlots) -> None:
    """One attempt, hop by hop: redirects, and the pages Drive answers instead of a big file."""
    current = source.url
    timeout = aiohttp.ClientTimeout(sock_connect=limits.connect_timeout_s, sock_read=limits.read_timeout_s)
    for _ in range(_MAX_REDIRECTS + 1):
        scheme = urlsplit(current).scheme
        if scheme.lower() not in {"http", "https"}:
            raise JobError(f"{field}: refused a redirect to the unsupported scheme {scheme!r}.")
        shown = source.sent if source.service else current  # a share link's rewrite is not the caller's URL
        target = _stand_in(current)
        parts = urlsplit(target)
        host = parts.hostname
        if not host:
            raise JobError(f"{field}: the URL {redact_url(shown)} has no host.")
        port = _port(parts, field)
        addresses = await _resolve_checked(host, port, field)
        connector = aiohttp.TCPConnector(resolver=_PinnedResolver(addresses), use_dns_cache=False, force_close=True)
        try:
            # The host's slot first: a download waiting for its host holds none of the job's slots.
            async with slots.host(host, port), slots.any, aiohttp.ClientSession(
                connector=connector, timeout=timeout, auto_decompress=False, trust_env=False
            ) as session, session.get(target, allow_redirects=False) as response:
                if response.status in _REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise JobError(f"{field}: {redact_url(shown)} redirected without a Location.")
                    current = urljoin(current, location)
                    if source.is_drive and is_sign_in(current):
                        raise sign_in_error(field)
                    continue
                if source.is_drive and response.content_type == "text/html" and response.status < 500:
                    following = next_url(await _read_page(response, field), current, field)
                    if following:
                        current = following
                        continue
                    if response.status < 400:
                        raise JobError(f"{field}: Google Drive answered {redact_url(shown)} with a web page, "
                                       "not the file.")
                _check_status(response, field, shown)
                await _save_body(response, dest, field, limits)
                return
        except aiohttp.ClientPayloadError as err:
            raise _Retryable(f"the transfer broke off ({err.__class__.__name__})") from None
        except aiohttp.ClientConnectionError as err:
            raise _Retryable(_connection_reason(err)) from None
    raise JobError(f"{field}: {redact_url(source.sent)} redirected more than {_MAX_REDIRECTS} times.")


def _stand_in(url: str) -> str:
    """Tests only: VIDEO_OPS_TEST_ORIGINS (`https://drive.google.com=http://127.0.0.1:8000/drive ...`) names
    servers that play other hosts. The connection goes there, through every guard; errors, redirects
    and pages still see the real URL."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    for pair in env_str("VIDEO_OPS_TEST_ORIGINS").split():
        name, _, base = pair.partition("=")
        if name.lower() == origin:
            return base.rstrip("/") + urlunsplit(("", "", parts.path, parts.query, ""))
    return url


def _port(parts, field: str) -> int:
    try:
        return parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise JobError(f"{field}: the URL has an invalid port.") from None


def _check_status(response: aiohttp.ClientResponse, field: str, url: str) -> None:
    status = response.status
    if status == 429 or status >= 500:
        raise _Retryable(f"HTTP {status} {response.reason or ''}".strip())
    if status >= 400:
        raise JobError(f"{field}: download failed: HTTP {status} {response.reason or ''} from {redact_url(url)}.")


async def _read_page(response: aiohttp.ClientResponse, field: str) -> str:
    """A web page answered in place of a file, read whole into memory: Drive's are a few KB."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > PAGE_LIMIT:
            raise JobError(f"{field}: Google Drive answered with a web page of over {PAGE_LIMIT} bytes, not the file.")
    return body.decode(response.charset or "utf-8", errors="replace")


async def _save_body(response: aiohttp.ClientResponse, dest: Path, field: str, limits: DownloadLimits) -> None:
    declared = response.content_length
    if declared is not None and declared > limits.max_bytes:
        raise JobError(limits.refusal(field, declared))
    total = 0
    try:
        with dest.open("wb") as out:
            async for chunk in response.content.iter_chunked(_CHUNK):
                total += len(chunk)
                if total > limits.max_bytes:
                    raise JobError(limits.refusal(field, total))
                out.write(chunk)
    except OSError as err:
        raise _disk_error(err, field) from None


def _disk_error(err: OSError, field: str) -> JobError:
    if err.errno == errno.ENOSPC:
        return JobError(f"{field}: the worker's temp disk is full; the download could not be stored.")
    return JobError(f"{field}: the download could not be stored ({err.strerror}).")


async def _resolve_checked(host: str, port: int, field: str) -> list[str]:
    """Resolve once and check every address; the connection then dials only these."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise JobError(f"{field}: the host {host!r} could not be resolved.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise JobError(f"{field}: the host {host!r} has no addresses.")
    if not private_urls_allowed():
        for address in addresses:
            if not is_safe_address(address):
                raise JobError(
                    f"{field}: refused to download from {host!r}: it resolves to the non-public address "
                    f"{address} (set RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS=true to allow private networks)."
                )
    return addresses


class _PinnedResolver(AbstractResolver):
    """Answers every lookup with the addresses already checked, so DNS cannot change in between."""

    def __init__(self, addresses: list[str]) -> None:
        self._addresses = addresses

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self._addresses
        ]

    async def close(self) -> None:
        return None


def _connection_reason(err: aiohttp.ClientConnectionError) -> str:
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(err, aiohttp.ClientConnectorError):
        return f"could not connect ({err.os_error.strerror or err.os_error.__class__.__name__})"
    return f"connection error ({err.__class__.__name__})"


async def _fetch_s3(url: str, dest: Path, field: str, limits: DownloadLimits, s3_reader: S3Reader | None) -> None:
    parts = urlsplit(url)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if not bucket or not key:
        raise JobError(f"{field}: an s3 URL must look like s3://bucket/key.")
    if s3_reader is None:
        raise JobError(f"{field}: s3:// URLs need storage credentials, and none are configured.")
    await s3_reader(bucket, key, dest, field, limits)


async def _fetch_file(url: str, dest: Path, field: str, limits: DownloadLimits) -> None:
    """Local files, for local runs only: a deployed worker must never read its own disk for a caller."""
    if not env_bool("VIDEO_OPS_ALLOW_FILE_URLS"):
        raise JobError(f"{field}: file:// URLs are refused (set VIDEO_OPS_ALLOW_FILE_URLS=1 for local runs).")
    parts = urlsplit(url)
    if parts.netloc not in {"", "localhost"}:
        raise JobError(f"{field}: file URLs must name a local path.")
    source = Path(parts.path)
    if not source.is_file():
        raise JobError(f"{field}: no such local file: {parts.path}.")
    await _copy_local(source, dest, field, limits)


async def _copy_local(source: Path, dest: Path, field: str, limits: DownloadLimits) -> None:
    """A local input is linked into the job's folder where it can be (no operation writes to its inputs;
    copying a 1 GB file costs a second), else copied."""
    if source.stat().st_size > limits.max_bytes:
        raise JobError(limits.refusal(field, source.stat().st_size))
    try:
        os.link(source, dest)
        return
    except OSError:
        pass  # another file system, or a file this user may not link: copied instead
    try:
        await asyncio.to_thread(shutil.copyfile, source, dest)
    except OSError as err:
        raise _disk_error(err, field) from None


def _file_name(field: str) -> str:
    """Downloads are named after their field, so FFmpeg's messages name the field, not a path."""
    return field.replace("[", "_").replace("]", "").replace(".", "_")
