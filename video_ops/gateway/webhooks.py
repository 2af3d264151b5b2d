"""Webhooks as the reference orchestrator sent them: its body and headers, signed, retried, to public targets only.

A target must resolve to public addresses only (the worker's download rule, the runpod SDK's
`is_safe_address`), checked when the job is submitted and again before every attempt, since DNS can
change in between. `VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS=1` lifts the rule for receivers on a private
network and for tests.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from runpod.serverless.utils.rp_ssrf import is_safe_address

from video_ops.base.settings import env_bool, env_str

RETRY_DELAYS_S = (1.0, 5.0, 15.0)  # the reference's: three retries after the first attempt
TIMEOUT_S = 30.0


class WebhookRefused(ValueError):
    """A webhook target that may not be called; the message names `webhook_url`."""


@dataclass
class Delivery:
    """One job's webhook, as `GET /video/job/<id>` shows it: pending, delivered, failed or skipped."""

    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None

    def view(self) -> dict[str, Any]:
        return {"status": self.status, "attempts": self.attempts, "last_error": self.last_error}


async def check_target(url: str) -> None:
    """Refuse what the worker's downloader would refuse: other schemes, and hosts with non-public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("webhook_url: must be an http or https URL with a host.")
    if env_bool("VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS"):
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError):
        raise WebhookRefused(f"webhook_url: the host {parts.hostname!r} could not be resolved.") from None
    for address in dict.fromkeys(info[4][0] for info in infos):
        if not is_safe_address(address):
            raise WebhookRefused(f"webhook_url: refused: {parts.hostname!r} resolves to the non-public address "
                                 f"{address} (set VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS=1 for private receivers).")


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def body(job: dict[str, Any], status: dict[str, Any], submitted: datetime.datetime) -> dict[str, Any]:
    """The reference's body for a job that ended: `result` when COMPLETED, else `error` {code, message}.

    `job` holds jobId, idRoteiro and operation; start and end come from RunPod's delayTime and executionTime.
    """
    payload: dict[str, Any] = {**job, "status": status["status"]}
    if status["status"] == "COMPLETED":
        payload["result"] = status.get("output")
    else:
        payload["error"] = {"code": "PROCESSING_ERROR", "message": status.get("error", "")}
    payload["execution"] = execution(submitted, status)
    payload["timestamp"] = iso(datetime.datetime.now(datetime.timezone.utc))
    return payload


def execution(submitted: datetime.datetime, status: dict[str, Any]) -> dict[str, Any]:
    """Start and end of the run, from the submit time and RunPod's delayTime and executionTime (ms)."""
    started = submitted + datetime.timedelta(milliseconds=status.get("delayTime") or 0)
    duration_ms = status.get("executionTime") or 0
    ended = started + datetime.timedelta(milliseconds=duration_ms)
    return {"startTime": iso(started), "endTime": iso(ended), "durationMs": duration_ms,
            "durationSeconds": round(duration_ms / 1000, 3)}


def signed_request(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The exact bytes to send and the reference's headers; the signature covers those bytes."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Webhook-JobId": str(payload["jobId"]),
               "X-Webhook-Status": str(payload["status"]), "X-Webhook-Timestamp": str(payload["timestamp"])}
    secret = env_str("WEBHOOK_SECRET")
    if secret:
        digest = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        headers["X-Webhook-Signature"] = f"sha256={digest}"
    return data, headers


async def deliver(
    url: str, data: bytes, headers: dict[str, str], delivery: Delivery, record: Callable[[str | None], bool],
    mine: Callable[[], bool] = lambda: True,
) -> None:
    """POST until a 2xx or a 4xx (final), retrying at 1, 5 and 15 s on errors, timeouts and 5xx. `record` is
    called after every attempt with what the receiver answered, and at the end with None, to keep `delivery`
    where it survives; `mine` is asked before every attempt. Either answering False means another gateway
    instance took the delivery over: this one stops."""
    for pause in (0.0, *RETRY_DELAYS_S)[delivery.attempts:]:  # a delivery taken over goes on where it was
        await asyncio.sleep(pause)
        if not mine():
            return
        delivery.attempts += 1
        settled, outcome = await _attempt(url, data, headers, delivery)
        if not record(outcome) or settled:
            return
    delivery.status = "failed"
    record(None)


async def _attempt(url: str, data: bytes, headers: dict[str, str], delivery: Delivery) -> tuple[bool, str]:
    """One POST: (whether the outcome is final: delivered, refused by the receiver, or a forbidden target;
    what happened, for the attempts' history)."""
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    try:
        await check_target(url)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
            url, data=data, headers=headers, allow_redirects=False
        ) as response:
            code = response.status
    except WebhookRefused as err:
        delivery.status, delivery.last_error = "failed", str(err)
        return True, str(err)
    except (aiohttp.ClientError, asyncio.TimeoutError) as err:
        delivery.last_error = f"{type(err).__name__}: {err}"[:300]
        return False, delivery.last_error
    if code < 300:
        delivery.status, delivery.last_error = "delivered", None
        return True, f"HTTP {code}"
    delivery.last_error = f"HTTP {code}"
    if code < 500:
        delivery.status = "failed"  # the receiver refused it: sending it again would not change its mind
        return True, delivery.last_error
    return False, delivery.last_error
