"""The gateway's memory: one record per job, the parts of split jobs, and every webhook attempt.

A record holds what the caller sent (bucket secrets redacted), the job's state, progress and final
result or error as last seen, and its webhook: while the job runs `webhook_body` is empty; once it
ended it holds the exact bytes to send (so a delivery resumed elsewhere carries the same signature).

Work on a record (following the job, then delivering its webhook) belongs to one gateway instance at a
time: `owner` names it and `lease_until` says until when. The owner renews its leases every few
seconds; a record whose lease ran out (its owner died) is claimed by another instance with a row lock
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), so exactly one instance takes it over. `lease_until` NULL
means nothing is left to do.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from video_ops.client.api import PENDING
from video_ops.gateway import schema
from video_ops.gateway.database import Database
from video_ops.gateway.webhooks import Delivery

COLUMNS = ("job_id, operation, id_roteiro, status, created, started, ended, job_input, progress, output, error, "
           "delay_ms, execution_ms, worker_id, callback, webhook_url, webhook_on_cancel, webhook_body, "
           "webhook_headers, webhook_status, webhook_attempts, webhook_error, owner, lease_until, backend")
PENDING_SQL = "status IN ('IN_QUEUE', 'IN_PROGRESS')"
T = TypeVar("T")
SHOWN_S3_FIELDS = ("endpoint_url", "bucket_name", "region", "endpointUrl", "bucketName")


@dataclass(frozen=True)
class Record:
    """One job as the gateway last saw it (times in seconds since the epoch)."""

    job_id: str
    operation: str
    id_roteiro: str | int | None
    status: str
    created: float
    started: float | None
    ended: float | None
    job_input: dict[str, Any]
    progress: Any
    output: Any
    error: str | None
    delay_ms: int | None
    execution_ms: int | None
    worker_id: str | None
    callback: str | None  # the digest of RunPod's webhook token, when RunPod reports this job's end
    webhook_url: str | None
    webhook_on_cancel: bool
    webhook_body: str | None
    webhook_headers: dict[str, str] | None
    webhook_status: str | None
    webhook_attempts: int
    webhook_error: str | None
    owner: str | None
    lease_until: float | None
    backend: str | None  # which backend holds the job: None the main one, "cpu" the CPU endpoint

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    def delivery(self) -> Delivery | None:
        if self.webhook_url is None:
            return None
        return Delivery(self.webhook_status or "pending", self.webhook_attempts, self.webhook_error)


def _record(row: tuple[Any, ...]) -> Record:
    values = list(row)
    for index in (2, 7, 8, 9, 18):  # id_roteiro, job_input, progress, output, webhook_headers: JSON
        values[index] = json.loads(values[index]) if values[index] is not None else None
    values[16] = bool(values[16])
    return Record(*values)


def redacted(job_input: dict[str, Any]) -> dict[str, Any]:
    """The input as it may be stored: an `s3_config` keeps its endpoint, bucket and region, never its keys."""
    config = job_input.get("s3_config")
    if not isinstance(config, dict):
        return job_input
    hidden = {key: value if key in SHOWN_S3_FIELDS else "[redacted]" for key, value in config.items()}
    return {**job_input, "s3_config": hidden}


@dataclass(frozen=True)
class Listing:
    """What `GET /jobs` filters on; None: any."""

    statuses: tuple[str, ...] | None = None
    operation: str | None = None
    id_roteiro: tuple[str, ...] | None = None  # the JSON forms the value may be stored as
    since: float | None = None


class Store:
    """The gateway's database (a SQLite file, or PostgreSQL shared by several instances), used from the event
    loop's thread (a status route's PostgreSQL read from a thread: psycopg's connection takes one call at a
    time): every statement is short and commits on its own."""

    def __init__(self, target: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.db = Database(target)
        self.clock = clock
        self.upgraded_from = schema.upgrade(self.db)

    @property
    def shared(self) -> bool:
        """Whether other gateway instances may use this database too (PostgreSQL)."""
        return self.db.shared

    # --- records ---------------------------------------------------------------------------------
    def add(self, job_id: str, operation: str, id_roteiro: str | int | None, job_input: dict[str, Any],
            webhook: tuple[str, bool] | None, owner: str | None, lease_s: float, callback: str | None = None,
            backend: str | None = None) -> None:
        """A job just submitted to `backend` (None: the main one); `owner` follows it (None when RunPod reports
        its end to `callback`)."""
        url, on_cancel = webhook or (None, False)
        now = self.clock()
        self.db.execute(
            "INSERT INTO job_records (job_id, operation, id_roteiro, status, created, job_input, callback, "
            "webhook_url, webhook_on_cancel, webhook_status, owner, lease_until, backend) "
            "VALUES (?, ?, ?, 'IN_QUEUE', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, operation, json.dumps(id_roteiro), now, json.dumps(redacted(job_input)), callback, url,
             int(on_cancel), "pending" if url else None, owner, now + lease_s if owner else None, backend))

    def get(self, job_id: str) -> Record | None:
        rows = self.db.rows(f"SELECT {COLUMNS} FROM job_records WHERE job_id = ?", (job_id,))
        return _record(rows[0]) if rows else None

    async def read(self, job_id: str) -> Record | None:
        """`get` for the status routes."""
        return await self._from_route(self.get, job_id)

    async def _from_route(self, read: Callable[..., T], *args: Any) -> T:
        """A read for a route. A PostgreSQL read waits on another process (on a busy machine, for its turn on
        a core), so it runs in a thread and the event loop answers other polls meanwhile; a SQLite read is a
        call in this process, quicker than the hop to a thread."""
        if self.shared:
            return await asyncio.to_thread(read, *args)
        return read(*args)

    def by_callback(self, digest: str) -> Record | None:
        """The job RunPod reports to this callback token's digest, while its end is still awaited."""
        rows = self.db.rows(f"SELECT {COLUMNS} FROM job_records WHERE callback = ? AND {PENDING_SQL}", (digest,))
        return _record(rows[0]) if rows else None

    def awaiting_callbacks(self) -> list[Record]:
        rows = self.db.rows(f"SELECT {COLUMNS} FROM job_records WHERE callback IS NOT NULL AND {PENDING_SQL}")
        return [_record(row) for row in rows]

    def seen(self, job_id: str, owner: str, status: dict[str, Any]) -> bool:
        """A pending job's state as the backend reports it; False when this instance no longer owns it."""
        started = self._started(status)
        return bool(self.db.execute(
            f"UPDATE job_records SET status = ?, progress = ?, started = COALESCE(started, ?), delay_ms = ?, "
            f"worker_id = ? WHERE job_id = ? AND owner = ? AND {PENDING_SQL}",
            (status.get("status"), json.dumps(status.get("output")), started, status.get("delayTime"),
             status.get("workerId"), job_id, owner)))

    def end(self, job_id: str, status: dict[str, Any], webhook: tuple[str, dict[str, str]] | None,
            webhook_status: str | None, owner: str, lease_s: float) -> bool:
        """The job ended as `status` (RunPod's final status JSON); `webhook` is the request to send, which
        `owner` then delivers. Only the first report of an end counts: False for any later one."""
        now = self.clock()
        body, headers = webhook if webhook else (None, None)
        completed = status.get("status") == "COMPLETED"
        return bool(self.db.execute(
            f"UPDATE job_records SET status = ?, started = COALESCE(started, ?), ended = ?, progress = NULL, "
            f"output = ?, error = ?, delay_ms = ?, execution_ms = ?, worker_id = COALESCE(?, worker_id), "
            f"webhook_body = ?, webhook_headers = ?, webhook_status = COALESCE(?, webhook_status), owner = ?, "
            f"lease_until = ? WHERE job_id = ? AND {PENDING_SQL}",
            (status["status"], self._started(status) or now, now,
             json.dumps(status.get("output")) if completed else None, None if completed else status.get("error"),
             status.get("delayTime"), status.get("executionTime"), status.get("workerId"), body,
             json.dumps(headers) if headers else None, webhook_status, owner,
             now + lease_s if body is not None else None, job_id)))

    def _started(self, status: dict[str, Any]) -> float | None:
        """When the job started, from its submit time and RunPod's delayTime; None while it waits."""
        if status.get("status") == "IN_QUEUE" or status.get("executionTime") is None:
            return None
        return self.clock() - (status["executionTime"] or 0) / 1000

    # --- webhooks --------------------------------------------------------------------------------
    def attempted(self, job_id: str, owner: str, delivery: Delivery, outcome: str | None, lease_s: float) -> bool:
        """After an attempt (`outcome`: what the receiver answered) or at the end of a delivery: keep it. False
        when this instance no longer owns the delivery (another took it over)."""
        now = self.clock()
        final = delivery.status != "pending"
        kept = self.db.execute(
            "UPDATE job_records SET webhook_status = ?, webhook_attempts = ?, webhook_error = ?, lease_until = ? "
            "WHERE job_id = ? AND owner = ? AND lease_until IS NOT NULL",
            (delivery.status, delivery.attempts, delivery.last_error, None if final else now + lease_s, job_id, owner))
        if kept and outcome is not None:
            self.db.execute("INSERT INTO webhook_attempts (job_id, attempt, at, outcome) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT DO NOTHING", (job_id, delivery.attempts, now, outcome))
        return bool(kept)

    def settle(self, job_id: str, delivery: Delivery) -> None:
        """A webhook settled without a delivery (skipped, or its job lost)."""
        self.db.execute("UPDATE job_records SET webhook_status = ?, webhook_attempts = ?, webhook_error = ? "
                        "WHERE job_id = ?", (delivery.status, delivery.attempts, delivery.last_error, job_id))

    def attempts(self, job_id: str) -> list[dict[str, Any]]:
        rows = self.db.rows("SELECT attempt, at, outcome FROM webhook_attempts WHERE job_id = ? ORDER BY attempt",
                            (job_id,))
        return [{"attempt": attempt, "at": at, "outcome": outcome} for attempt, at, outcome in rows]

    # --- who works on what -----------------------------------------------------------------------
    def renew(self, owner: str, lease_s: float) -> int:
        """Extend every lease this instance holds (its heartbeat)."""
        return self.db.execute("UPDATE job_records SET lease_until = ? WHERE owner = ? AND lease_until IS NOT NULL",
                               (self.clock() + lease_s, owner))

    def holds(self, job_id: str, owner: str, lease_s: float) -> bool:
        """Renew one lease, if this instance still holds it."""
        return bool(self.db.execute("UPDATE job_records SET lease_until = ? WHERE job_id = ? AND owner = ? "
                                    "AND lease_until IS NOT NULL", (self.clock() + lease_s, job_id, owner)))

    def claim(self, owner: str, lease_s: float, limit: int = 100, everything: bool = False) -> list[Record]:
        """Take over work whose lease ran out (or, with `everything`, all work: one process owns a SQLite
        file, so what it finds there was left by an earlier run). Rows another instance is claiming right
        now are skipped, never waited for."""
        now = self.clock()
        due = "lease_until IS NOT NULL" if everything else "lease_until < ?"
        params: tuple[Any, ...] = () if everything else (now,)
        claimed = self.db.rows(
            f"UPDATE job_records SET owner = ?, lease_until = ? WHERE job_id IN (SELECT job_id FROM job_records "
            f"WHERE {due} ORDER BY lease_until LIMIT {int(limit)}{self.db.lock_rows}) RETURNING {COLUMNS}",
            (owner, now + lease_s, *params))
        return [_record(row) for row in claimed]

    def release(self, owner: str) -> None:
        """On the way out: what this instance was doing is due at once for the others."""
        self.db.execute("UPDATE job_records SET lease_until = 0 WHERE owner = ? AND lease_until IS NOT NULL",
                        (owner,))

    def lose(self, job_id: str, error: str) -> None:
        """The backend no longer knows a job that had not ended: it failed, and its webhook cannot be sent."""
        now = self.clock()
        self.db.execute(f"UPDATE job_records SET status = 'FAILED', ended = ?, error = ?, progress = NULL, "
                        f"webhook_status = CASE WHEN webhook_url IS NULL THEN NULL ELSE 'failed' END, "
                        f"webhook_error = CASE WHEN webhook_url IS NULL THEN NULL ELSE ? END, lease_until = NULL "
                        f"WHERE job_id = ? AND {PENDING_SQL}", (now, error, error, job_id))

    # --- listing and retention -------------------------------------------------------------------
    def listing(self, wanted: Listing, limit: int, after: tuple[float, str] | None = None) -> list[Record]:
        """Newest first; `after` is the (created, job_id) of the last record of the previous page."""
        conditions, params = [], []
        if wanted.statuses:
            conditions.append(f"status IN ({', '.join('?' for _ in wanted.statuses)})")
            params += wanted.statuses
        if wanted.operation:
            conditions.append("operation = ?")
            params.append(wanted.operation)
        if wanted.id_roteiro:
            conditions.append(f"id_roteiro IN ({', '.join('?' for _ in wanted.id_roteiro)})")
            params += wanted.id_roteiro
        if wanted.since is not None:
            conditions.append("created >= ?")
            params.append(wanted.since)
        if after is not None:
            conditions.append("(created < ? OR (created = ? AND job_id < ?))")
            params += [after[0], after[0], after[1]]
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self.db.rows(f"SELECT {COLUMNS} FROM job_records {where} ORDER BY created DESC, job_id DESC "
                            f"LIMIT {int(limit)}", params)
        return [_record(row) for row in rows]

    def tally(self, ended_since: float) -> list[tuple[str, str, int]]:
        """(operation, status, jobs) for the jobs pending now and those that ended at or after `ended_since`."""
        rows = self.db.rows(f"SELECT operation, status, COUNT(*) FROM job_records WHERE {PENDING_SQL} OR ended >= ? "
                            f"GROUP BY operation, status", (ended_since,))
        return [(operation, status, int(count)) for operation, status, count in rows]

    async def read_tally(self, ended_since: float) -> list[tuple[str, str, int]]:
        """`tally` for a route."""
        return await self._from_route(self.tally, ended_since)

    def prune(self, keep_s: float) -> int:
        """Forget jobs that ended (or, never seen ending, were created) more than `keep_s` ago; how many."""
        cutoff = self.clock() - keep_s
        old = "COALESCE(ended, created) < ? AND lease_until IS NULL"
        for table in ("webhook_attempts", "splits", "render_splits"):
            self.db.execute(f"DELETE FROM {table} WHERE job_id IN (SELECT job_id FROM job_records WHERE {old})",
                            (cutoff,))
        return self.db.execute(f"DELETE FROM job_records WHERE {old}", (cutoff,))

    # --- split jobs ------------------------------------------------------------------------------
    def add_split(self, job_id: str, parts: list[tuple[str, int, int]]) -> None:
        """A job sent as parts: each part's id, the offset of its first image and its image count."""
        self.db.execute("INSERT INTO splits (job_id, parts) VALUES (?, ?)", (job_id, json.dumps(parts)))

    def split(self, job_id: str) -> list[tuple[str, int, int]] | None:
        rows = self.db.rows("SELECT parts FROM splits WHERE job_id = ?", (job_id,))
        return [tuple(part) for part in json.loads(rows[0][0])] if rows else None  # type: ignore[misc]

    def save_render_split(self, job_id: str, state: dict[str, Any]) -> None:
        """A render sent as plan, parts and join: where it is (`RenderSplit`'s fields)."""
        self.db.execute("INSERT INTO render_splits (job_id, state) VALUES (?, ?) "
                        "ON CONFLICT (job_id) DO UPDATE SET state = excluded.state", (job_id, json.dumps(state)))

    def render_split(self, job_id: str) -> dict[str, Any] | None:
        rows = self.db.rows("SELECT state FROM render_splits WHERE job_id = ?", (job_id,))
        return json.loads(rows[0][0]) if rows else None

    def close(self) -> None:
        self.db.close()
