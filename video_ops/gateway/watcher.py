"""Following every job until it ends, keeping its record, then delivering its webhook.

With a public URL (`VIDEO_OPS_GATEWAY_PUBLIC_URL`) a job is sent with RunPod's own `webhook`, pointing
at `/runpod/callback/<token>`: RunPod reports the end and nothing is polled. The token is random per
job and only its SHA-256 is stored, so neither a guessed URL nor a copied job id can report an end.
Without one (and for split jobs, which are several backend jobs) each job gets one status call at a
time with the guide's backoff (2 s, x1.5, at most 8 s).

Each instance has an id; the work it does on a record (following, delivering) is leased to it in the
store and renewed by a heartbeat. Another instance (or this one after a restart) takes over work whose
lease ran out, so a gateway killed mid-delivery loses nothing, and exactly one instance works on a job
at a time.

Jobs of the `/vps/...` routes go to the CPU backend when one is set (`VIDEO_OPS_CPU_ENDPOINT_ID`); the
record says which backend holds each job, so its status and cancel go to that one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from video_ops.client import ClientError
from video_ops.client.api import PENDING, poll_delays
from video_ops.gateway import replies, webhooks
from video_ops.gateway.backend import Backend, UnknownJob
from video_ops.gateway.store import Record, Store

LOG = logging.getLogger("uvicorn.error")
CALLBACK_ROUTE = "/runpod/callback"
ARRIVAL_WAIT_S = 30.0  # how long an early callback waits for its job's submit to be recorded
LEASE_S = 30.0  # how long work stays with an instance that stopped renewing it
RETENTION_DAYS = 30.0
PRUNE_EVERY_S = 3600.0
CPU = "cpu"  # a record's backend for jobs on the CPU endpoint (the `/vps/...` routes)
LOST = "The backend no longer knows this job: it was lost, or ended longer ago than the backend keeps results."


@dataclass(frozen=True)
class Webhook:
    """Where to report a job's end: the reference's `webhook_url`, and whether a cancel is reported too."""

    url: str
    on_cancel: bool = False


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def moment(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


class Watcher:
    def __init__(self, backend: Backend, store: Store, public_url: str | None = None, lease_s: float = LEASE_S,
                 retention_days: float = RETENTION_DAYS, cpu: Backend | None = None) -> None:
        self.backend = backend
        self.cpu = cpu  # None: the main backend runs CPU jobs too
        self.store = store
        self.public_url = public_url.rstrip("/") if public_url else None
        self.lease_s = lease_s
        self.keep_s = retention_days * 86400
        self.me = uuid.uuid4().hex[:16]  # this instance, as the owner of the work it holds
        self._tasks: set[asyncio.Task[None]] = set()  # held so the event loop does not drop them
        self._working: dict[str, asyncio.Task[None]] = {}  # the job this instance follows or delivers, and how
        self._arriving: dict[str, asyncio.Event] = {}  # callbacks whose job is being submitted right now

    # --- jobs coming in --------------------------------------------------------------------------
    def chosen(self, on_cpu: bool) -> Backend:
        """The backend a job goes to: the CPU one for `on_cpu` jobs when it is set, else the main one."""
        return self.cpu if on_cpu and self.cpu is not None else self.backend

    def holder(self, record: Record | None) -> Backend:
        """The backend that holds a recorded job."""
        return self.chosen(record is not None and record.backend == CPU)

    async def submit(self, job_input: dict[str, Any], operation: str, webhook: Webhook | None,
                     id_roteiro: str | int | None = None, on_cpu: bool = False) -> str:
        """Queue the job (on the CPU backend with `on_cpu`) and record it; it is followed until it ends. The
        job id."""
        hook = (webhook.url, webhook.on_cancel) if webhook else None
        backend = self.chosen(on_cpu)
        held_by = CPU if backend is self.cpu else None
        if self.public_url is None or backend.splits(job_input):
            job_id = await backend.submit(job_input)
            self.store.add(job_id, operation, id_roteiro, job_input, hook, self.me, self.lease_s, backend=held_by)
            self._work(job_id, self._follow(job_id))
            return job_id
        token = secrets.token_urlsafe(32)
        key = digest(token)
        self._arriving[key] = recorded = asyncio.Event()
        try:
            job_id = await backend.submit(job_input, f"{self.public_url}{CALLBACK_ROUTE}/{token}")
            self.store.add(job_id, operation, id_roteiro, job_input, hook, None, self.lease_s, key, held_by)
        finally:
            recorded.set()
            del self._arriving[key]
        return job_id

    def awaits_callback(self, token: str) -> bool:
        """Whether a job is (or is being) sent with this token; answered before the caller's body is read."""
        key = digest(token)
        return key in self._arriving or self.store.by_callback(key) is not None

    async def callback(self, token: str, status: Any) -> tuple[int, str]:
        """RunPod's webhook for the job sent with `token`: (HTTP code, why). The body must be that job's final
        status; it then ends the job as polling would have."""
        key = digest(token)
        if (recorded := self._arriving.get(key)) is not None:  # RunPod answered before the submit was recorded
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(recorded.wait(), ARRIVAL_WAIT_S)
        record = self.store.by_callback(key)
        if record is None:
            return 404, "No job awaits this callback."
        if not isinstance(status, dict) or status.get("id") != record.job_id:
            return 400, "The body is not this job's status."
        if not isinstance(status.get("status"), str) or status["status"] in PENDING:
            return 400, "The body is not a final status."
        self._end(record.job_id, replies.job_view(status))
        return 200, "Received."

    async def cancel(self, job_id: str) -> tuple[bool, str]:
        """Cancel the job if it is queued or running: (cancelled now, the state it is in afterwards). A job
        whose record says it ended is not asked about (the backend may have forgotten it); one cancelled
        now has its end recorded at once, whoever follows it."""
        record = self.store.get(job_id)
        if record is not None and not record.pending:
            return False, record.status
        cancelled, state = await self.holder(record).cancel_pending(job_id)
        if cancelled and record is not None:
            await self._check(job_id)
        return cancelled, state

    # --- what the routes read --------------------------------------------------------------------
    async def status(self, job_id: str) -> tuple[dict[str, Any], Record | None]:
        """RunPod's status JSON for the job, from its record once it ended (however old), else from the
        backend; and the record, if the gateway has one."""
        record = await self.store.read(job_id)
        if record is not None and not record.pending:
            return replies.recorded(record), record
        try:
            return replies.job_view(await self.holder(record).status(job_id)), record
        except UnknownJob:
            if record is None:
                raise
            return replies.recorded(record), record

    def view(self, job_id: str, record: Record | None = None) -> dict[str, Any] | None:
        record = record or self.store.get(job_id)
        delivery = record.delivery() if record else None
        return delivery.view() if delivery else None

    # --- the instance's own work -----------------------------------------------------------------
    def start(self) -> int:
        """Take up the work left by an earlier run (a SQLite file belongs to one process: all of it at once;
        on a shared database, what other instances will not renew is taken as its lease runs out), and
        start the heartbeat, the takeover and the pruning. How many webhooks were taken up."""
        taken = self._take_over(everything=not self.store.shared)
        for record in self.store.awaiting_callbacks():  # its end may have been reported while no gateway was up
            self._start(self._check(record.job_id))
            taken += record.webhook_url is not None
        self._start(self._every(self.lease_s / 3, self._heartbeat))
        self._start(self._every(PRUNE_EVERY_S, self.prune, at_once=True))
        return taken

    async def stop(self) -> None:
        """Stop working; on a shared database what this instance held is due at once for the others."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.store.shared:
            self.store.release(self.me)

    def prune(self) -> None:
        removed = self.store.prune(self.keep_s)
        if removed:
            LOG.info("forgot %d job record(s) older than the retention", removed)

    def _heartbeat(self) -> None:
        self.store.renew(self.me, self.lease_s)
        taken = self._take_over(everything=False)
        if taken:
            LOG.info("took over %d webhook(s) from a gateway instance that stopped", taken)

    def _take_over(self, everything: bool) -> int:
        webhooks_taken = 0
        for record in self.store.claim(self.me, self.lease_s, everything=everything):
            if record.job_id in self._working:
                continue  # this instance's own work, whose lease it renewed late
            if record.pending:
                self._work(record.job_id, self._follow(record.job_id))
            elif record.webhook_body is not None and record.webhook_status == "pending":
                self._work(record.job_id, self._send(record))
            webhooks_taken += record.webhook_url is not None
        return webhooks_taken

    async def _every(self, period_s: float, step: Callable[[], None], at_once: bool = False) -> None:
        if not at_once:
            await asyncio.sleep(period_s)
        while True:
            try:
                step()
            except Exception:  # the database briefly unreachable: try again at the next beat
                LOG.exception("gateway background step failed")
            await asyncio.sleep(period_s)

    def _start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _work(self, job_id: str, work: Coroutine[Any, Any, None]) -> None:
        task = self._working[job_id] = self._start(work)
        task.add_done_callback(lambda _: self._working.pop(job_id) if self._working.get(job_id) is task else None)

    async def _follow(self, job_id: str) -> None:
        last: tuple[Any, Any] = (None, None)
        backend = self.holder(self.store.get(job_id))
        for delay in poll_delays():
            await asyncio.sleep(delay)
            try:
                status = replies.job_view(await backend.status(job_id))
            except UnknownJob:
                self.store.lose(job_id, LOST)
                return
            except ClientError:
                continue  # the backend is briefly unreachable: ask again at the next step
            if status.get("status") not in PENDING:
                break
            if (status.get("status"), status.get("output")) == last:
                continue  # nothing new to write: neither its state nor its progress moved
            if not self.store.seen(job_id, self.me, status):
                return  # it ended meanwhile (a cancel, a callback), or another instance follows it now
            last = (status.get("status"), status.get("output"))
        self._end(job_id, status)

    async def _check(self, job_id: str) -> None:
        """One status call: record the end now if the job already ended."""
        try:
            status = replies.job_view(await self.holder(self.store.get(job_id)).status(job_id))
        except UnknownJob:  # its report can never come either
            self.store.lose(job_id, LOST)
            return
        except ClientError:
            return  # the backend is briefly unreachable: the follower or RunPod's report will tell
        if status.get("status") not in PENDING:
            self._end(job_id, status)

    def _end(self, job_id: str, status: dict[str, Any]) -> None:
        """The job ended: record it with the webhook's exact bytes, then send them. No await between reading the
        record and the conditional write, and only the first report of an end is taken, so two reports (a
        callback and a cancel, or two instances) cannot both send."""
        record = self.store.get(job_id)
        if record is None or not record.pending:
            return
        request, hook_status = None, None
        if record.webhook_url is not None:
            if status["status"] == "CANCELLED" and not record.webhook_on_cancel:
                hook_status = "skipped"
            else:
                job = {"jobId": job_id, "idRoteiro": record.id_roteiro, "operation": record.operation}
                data, headers = webhooks.signed_request(webhooks.body(job, status, moment(record.created)))
                request = (data.decode(), headers)
        if self.store.end(job_id, status, request, hook_status, self.me, self.lease_s) and request is not None:
            sending = self.store.get(job_id)
            if sending is not None:
                self._work(job_id, self._send(sending))

    async def _send(self, record: Record) -> None:
        assert record.webhook_url and record.webhook_body is not None and record.webhook_headers is not None
        job_id = record.job_id
        delivery = record.delivery() or webhooks.Delivery()
        await webhooks.deliver(
            record.webhook_url, record.webhook_body.encode(), record.webhook_headers, delivery,
            lambda outcome: self.store.attempted(job_id, self.me, delivery, outcome, self.lease_s),
            lambda: self.store.holds(job_id, self.me, self.lease_s))
