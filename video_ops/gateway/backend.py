"""Where the gateway's jobs run: a RunPod endpoint (or the local one), called on the event loop."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from video_ops.client import Client, ClientError
from video_ops.client.api import PENDING, poll_delays, request_body
from video_ops.gateway.transport import Transport

# RunPod's job ids (and the local endpoint's `sync-` ones); anything else never reaches the backend's
# URL, so a crafted id cannot walk to another route of its API.
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


class UnknownJob(Exception):
    """The backend does not know this job id (never did, or forgot it)."""


class Backend:
    """The job calls the routes need, awaited; `kind` names the backend in /health."""

    def __init__(self, client: Client, kind: str, s3_config: dict[str, str] | None = None) -> None:
        self.transport = Transport(client)  # the client names the endpoint: its URL, key, timeouts, retries
        self.kind = kind
        self.s3_config = s3_config  # the gateway's own bucket, sent with jobs that name none

    async def submit(self, job_input: dict[str, Any], webhook: str | None = None) -> str:
        """Queue the job; `webhook` is RunPod's own, called with the final status when the job ends."""
        s3_config = None if job_input.get("s3_config") else self.s3_config
        body = request_body(job_input, webhook=webhook, s3_config=s3_config)
        return (await self.transport.call("POST", "run", idempotent=False, body=body))["id"]

    def splits(self, job_input: dict[str, Any]) -> bool:
        """Whether this job is sent as several backend jobs (then no single RunPod webhook reports its end)."""
        return False

    async def status(self, job_id: str) -> dict[str, Any]:
        return await self._job_call("GET", "status", job_id)

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return await self._job_call("POST", "cancel", job_id)

    async def cancel_pending(self, job_id: str) -> tuple[bool, str]:
        """Cancel the job if it is queued or running: (cancelled now, the state it is in afterwards)."""
        state = (await self.status(job_id)).get("status", "")
        if state not in PENDING:
            return False, state
        state = (await self.cancel(job_id)).get("status", "")
        return state == "CANCELLED", state

    async def health(self) -> dict[str, Any]:
        return await self.transport.call("GET", "health", idempotent=True)

    async def close(self) -> None:
        await self.transport.close()

    async def _job_call(self, method: str, route: str, job_id: str) -> dict[str, Any]:
        """Status and cancel, both safe to repeat (cancelling twice is harmless)."""
        if not JOB_ID.fullmatch(job_id):
            raise UnknownJob(job_id)
        try:
            return await self.transport.call(method, f"{route}/{job_id}", idempotent=True)
        except ClientError as err:
            if err.status_code == 404:
                raise UnknownJob(job_id) from None
            raise


async def wait_final(backend: Backend, job_id: str, cap_s: float) -> dict[str, Any] | None:
    """Poll with the guide's backoff until the job ends; None once `cap_s` has passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + cap_s
    for delay in poll_delays():
        left = deadline - loop.time()
        if left <= 0:
            return None
        await asyncio.sleep(min(delay, left))
        status = await backend.status(job_id)
        if status.get("status") not in PENDING:
            return status
    return None  # poll_delays never ends; this satisfies the type checker
