"""Following jobs that carry a `webhook_url` until they end, then delivering the webhook.

One status call per job with the guide's backoff (2 s, x1.5, at most 8 s). Kept in memory: a gateway
that restarts forgets the jobs it was following (their results stay available by id).
"""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from typing import Any

from video_ops.client import ClientError
from video_ops.client.api import PENDING, poll_delays
from video_ops.gateway import replies, webhooks
from video_ops.gateway.backend import Backend, UnknownJob


@dataclass(frozen=True)
class Webhook:
    """Where to report a job's end: the reference's `webhook_url`, and whether a cancel is reported too."""

    url: str
    on_cancel: bool = False


class Watcher:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.deliveries: dict[str, webhooks.Delivery] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # held so the event loop does not drop them

    def watch(self, job_id: str, operation: str, webhook: Webhook) -> None:
        self.deliveries[job_id] = webhooks.Delivery()
        submitted = datetime.datetime.now(datetime.timezone.utc)
        task = asyncio.create_task(self._follow(job_id, operation, webhook, submitted))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def view(self, job_id: str) -> dict[str, Any] | None:
        delivery = self.deliveries.get(job_id)
        return delivery.view() if delivery else None

    async def _follow(self, job_id: str, operation: str, webhook: Webhook, submitted: datetime.datetime) -> None:
        delivery = self.deliveries[job_id]
        for delay in poll_delays():
            await asyncio.sleep(delay)
            try:
                status = replies.job_view(await self.backend.status(job_id))
            except UnknownJob:
                delivery.status, delivery.last_error = "failed", "the backend no longer knows the job"
                return
            except ClientError:
                continue  # the backend is briefly unreachable: ask again at the next step
            if status.get("status") not in PENDING:
                break
        if status["status"] == "CANCELLED" and not webhook.on_cancel:
            delivery.status = "skipped"
            return
        job = {"jobId": job_id, "idRoteiro": None, "operation": operation}
        data, headers = webhooks.signed_request(webhooks.body(job, status, submitted))
        await webhooks.deliver(webhook.url, data, headers, delivery)
