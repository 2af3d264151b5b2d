"""Following jobs that carry a `webhook_url` until they end, then delivering the webhook.

One status call per job with the guide's backoff (2 s, x1.5, at most 8 s). What is owed lives in the
store (SQLite), so a gateway that restarts, even after a kill, resumes watching and delivering.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from video_ops.client import ClientError
from video_ops.client.api import PENDING, poll_delays
from video_ops.gateway import replies, webhooks
from video_ops.gateway.backend import Backend, UnknownJob
from video_ops.gateway.store import Owed, Store


@dataclass(frozen=True)
class Webhook:
    """Where to report a job's end: the reference's `webhook_url`, and whether a cancel is reported too."""

    url: str
    on_cancel: bool = False


class Watcher:
    def __init__(self, backend: Backend, store: Store) -> None:
        self.backend = backend
        self.store = store
        self._tasks: set[asyncio.Task[None]] = set()  # held so the event loop does not drop them

    def watch(self, job_id: str, operation: str, webhook: Webhook, id_roteiro: str | int | None = None) -> None:
        submitted = datetime.datetime.now(datetime.timezone.utc)
        owed = Owed(job_id, operation, id_roteiro, webhook.url, webhook.on_cancel, submitted, None, None)
        self.store.add(owed)
        self._start(self._follow(owed))

    def resume(self) -> int:
        """Take up every webhook still owed (after a restart); how many."""
        owed = self.store.owed()
        for item in owed:
            if item.body is None or item.headers is None:
                self._start(self._follow(item))
            else:
                self._start(self._send(item.job_id, item.url, item.body, item.headers))
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
        if status["status"] == "CANCELLED" and not owed.on_cancel:
            self.store.record(owed.job_id, webhooks.Delivery("skipped"))
            return
        job = {"jobId": owed.job_id, "idRoteiro": owed.id_roteiro, "operation": owed.operation}
        data, headers = webhooks.signed_request(webhooks.body(job, status, owed.submitted))
        self.store.ready(owed.job_id, data, headers)
        await self._send(owed.job_id, owed.url, data, headers)

    async def _send(self, job_id: str, url: str, data: bytes, headers: dict[str, str]) -> None:
        delivery = self.store.delivery(job_id) or webhooks.Delivery()
        await webhooks.deliver(url, data, headers, delivery, lambda: self.store.record(job_id, delivery))
