"""Following jobs that carry a `webhook_url` until they end, then delivering the webhook.

With a public URL (`VIDEO_OPS_GATEWAY_PUBLIC_URL`) a job is sent with RunPod's own `webhook`, pointing
at `/runpod/callback/<token>`: RunPod reports the end and nothing is polled. The token is random per
job and only its SHA-256 is stored, so neither a guessed URL nor a copied job id can report an end.
Without one (and for split jobs, which are several backend jobs) each job gets one status call at a
time with the guide's backoff (2 s, x1.5, at most 8 s). What is owed lives in the store (SQLite), so
a gateway that restarts, even after a kill, resumes watching and delivering.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from video_ops.client import ClientError
from video_ops.client.api import PENDING, poll_delays
from video_ops.gateway import replies, webhooks
from video_ops.gateway.backend import Backend, UnknownJob
from video_ops.gateway.store import Owed, Store

CALLBACK_ROUTE = "/runpod/callback"
ARRIVAL_WAIT_S = 30.0  # how long an early callback waits for its job's submit to be recorded


@dataclass(frozen=True)
class Webhook:
    """Where to report a job's end: the reference's `webhook_url`, and whether a cancel is reported too."""

    url: str
    on_cancel: bool = False


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Watcher:
    def __init__(self, backend: Backend, store: Store, public_url: str | None = None) -> None:
        self.backend = backend
        self.store = store
        self.public_url = public_url.rstrip("/") if public_url else None
        self._tasks: set[asyncio.Task[None]] = set()  # held so the event loop does not drop them
        self._arriving: dict[str, asyncio.Event] = {}  # callbacks whose job is being submitted right now

    async def submit(self, job_input: dict[str, Any], operation: str, webhook: Webhook | None,
                     id_roteiro: str | int | None = None) -> str:
        """Queue the job; one with a webhook is followed until it ends. The job id."""
        if webhook is None:
            return await self.backend.submit(job_input)
        submitted = datetime.datetime.now(datetime.timezone.utc)
        if self.public_url is None or self.backend.splits(job_input):
            job_id = await self.backend.submit(job_input)
            owed = Owed(job_id, operation, id_roteiro, webhook.url, webhook.on_cancel, submitted, None, None)
            self.store.add(owed)
            self._start(self._follow(owed))
            return job_id
        token = secrets.token_urlsafe(32)
        key = digest(token)
        self._arriving[key] = recorded = asyncio.Event()
        try:
            job_id = await self.backend.submit(job_input, f"{self.public_url}{CALLBACK_ROUTE}/{token}")
            owed = Owed(job_id, operation, id_roteiro, webhook.url, webhook.on_cancel, submitted, None, None, True)
            self.store.add(owed, key)
        finally:
            recorded.set()
            del self._arriving[key]
        return job_id

    def awaits_callback(self, token: str) -> bool:
        """Whether a job is (or is being) sent with this token; answered before the caller's body is read."""
        key = digest(token)
        return key in self._arriving or self.store.watching("callback", key) is not None

    async def callback(self, token: str, status: Any) -> tuple[int, str]:
        """RunPod's webhook for the job sent with `token`: (HTTP code, why). The body must be that job's final
        status; it then ends the job as polling would have."""
        key = digest(token)
        if (recorded := self._arriving.get(key)) is not None:  # RunPod answered before the submit was recorded
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(recorded.wait(), ARRIVAL_WAIT_S)
        owed = self.store.watching("callback", key)
        if owed is None:
            return 404, "No job awaits this callback."
        if not isinstance(status, dict) or status.get("id") != owed.job_id:
            return 400, "The body is not this job's status."
        if not isinstance(status.get("status"), str) or status["status"] in PENDING:
            return 400, "The body is not a final status."
        self._end(owed, replies.job_view(status))
        return 200, "Received."

    async def settle(self, job_id: str) -> None:
        """After a cancel through the gateway: end a job RunPod reports, in case its webhook never comes."""
        owed = self.store.watching("job_id", job_id)
        if owed is not None and owed.callback:
            await self._check(owed)

    def resume(self) -> int:
        """Take up every webhook still owed (after a restart); how many."""
        owed = self.store.owed()
        for item in owed:
            if item.body is not None and item.headers is not None:
                self._start(self._send(item.job_id, item.url, item.body, item.headers))
            elif item.callback:  # its end may have been reported while the gateway was down: ask once
                self._start(self._check(item))
            else:
                self._start(self._follow(item))
        return len(owed)

    def view(self, job_id: str) -> dict[str, Any] | None:
        delivery = self.store.delivery(job_id)
        return delivery.view() if delivery else None

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow(self, owed: Owed) -> None:
        for delay in poll_delays():
            await asyncio.sleep(delay)
            try:
                status = replies.job_view(await self.backend.status(owed.job_id))
            except UnknownJob:
                self.store.record(owed.job_id, webhooks.Delivery("failed", 0, "the backend no longer knows the job"))
                return
            except ClientError:
                continue  # the backend is briefly unreachable: ask again at the next step
            if status.get("status") not in PENDING:
                break
        self._end(owed, status)

    async def _check(self, owed: Owed) -> None:
        """One status call for a job RunPod reports: end it now if it already ended."""
        try:
            status = replies.job_view(await self.backend.status(owed.job_id))
        except UnknownJob:  # its report can never come either
            self.store.record(owed.job_id, webhooks.Delivery("failed", 0, "the backend no longer knows the job"))
            return
        except ClientError:
            return  # the backend is briefly unreachable: its own report is still to come
        if status.get("status") not in PENDING and self.store.watching("job_id", owed.job_id):
            self._end(owed, status)

    def _end(self, owed: Owed, status: dict[str, Any]) -> None:
        """The job ended: keep the webhook's exact bytes, then send them. No await before the store is
        written, so two reports of one end (a callback and a cancel) cannot both get here."""
        if status["status"] == "CANCELLED" and not owed.on_cancel:
            self.store.record(owed.job_id, webhooks.Delivery("skipped"))
            return
        job = {"jobId": owed.job_id, "idRoteiro": owed.id_roteiro, "operation": owed.operation}
        data, headers = webhooks.signed_request(webhooks.body(job, status, owed.submitted))
        self.store.ready(owed.job_id, data, headers)
        self._start(self._send(owed.job_id, owed.url, data, headers))

    async def _send(self, job_id: str, url: str, data: bytes, headers: dict[str, str]) -> None:
        delivery = self.store.delivery(job_id) or webhooks.Delivery()
        await webhooks.deliver(url, data, headers, delivery, lambda: self.store.record(job_id, delivery))
