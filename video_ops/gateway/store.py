"""What the gateway must remember across restarts, in SQLite: the webhooks it still owes, the parts of
split jobs, and the jobs of the reference's current routes.

One row per job submitted with a `webhook_url`: while `body` is empty the job is still being
watched (by polling, or, when `callback` holds the SHA-256 of the job's callback token, by waiting for
RunPod's own webhook); once it ended, `body` and `headers` hold the exact bytes to send (so a delivery resumed
after a restart carries the same signature). Plain SQL with portable types: a deployment with
several gateway instances would keep this table in a shared database (PostgreSQL) and claim rows with
`SELECT ... FOR UPDATE SKIP LOCKED` instead of one process owning the file.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from video_ops.gateway.webhooks import Delivery

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    job_id     VARCHAR(128) PRIMARY KEY,
    operation  VARCHAR(64)  NOT NULL,
    id_roteiro TEXT,
    url        TEXT         NOT NULL,
    on_cancel  INTEGER      NOT NULL,
    submitted  VARCHAR(40)  NOT NULL,
    body       BLOB,
    headers    TEXT,
    status     VARCHAR(16)  NOT NULL,
    attempts   INTEGER      NOT NULL,
    last_error TEXT,
    callback   VARCHAR(64)  UNIQUE
);
CREATE TABLE IF NOT EXISTS splits (
    job_id     VARCHAR(128) PRIMARY KEY,
    parts      TEXT         NOT NULL
);
CREATE TABLE IF NOT EXISTS render_splits (
    job_id     VARCHAR(128) PRIMARY KEY,
    state      TEXT         NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id     VARCHAR(128) PRIMARY KEY,
    operation  VARCHAR(64)  NOT NULL,
    id_roteiro TEXT,
    created    VARCHAR(40)  NOT NULL
)
"""


@dataclass(frozen=True)
class Owed:
    """A webhook not yet settled: still watching its job (`body` None) or still delivering it."""

    job_id: str
    operation: str
    id_roteiro: str | int | None
    url: str
    on_cancel: bool
    submitted: datetime.datetime
    body: bytes | None
    headers: dict[str, str] | None
    callback: bool = False  # RunPod reports the job's end to the gateway: nothing to poll


@dataclass(frozen=True)
class Tracked:
    """A job of the reference's current routes: what RunPod's status does not say."""

    job_id: str
    operation: str
    id_roteiro: str | int | None
    created: datetime.datetime


class Store:
    """Used from the event loop's thread only; each write is committed at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(webhooks)")}
        if "callback" not in columns:  # a file written before callbacks existed
            self.db.execute("ALTER TABLE webhooks ADD COLUMN callback VARCHAR(64)")

    def add(self, owed: Owed, callback: str | None = None) -> None:
        """A webhook owed; `callback` is the digest of the token of RunPod's webhook, when RunPod reports the end."""
        self.db.execute("INSERT INTO webhooks (job_id, operation, id_roteiro, url, on_cancel, submitted, status, "
                        "attempts, callback) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                        (owed.job_id, owed.operation, json.dumps(owed.id_roteiro), owed.url, int(owed.on_cancel),
                         owed.submitted.isoformat(), callback))

    def ready(self, job_id: str, body: bytes, headers: dict[str, str]) -> None:
        """The job ended: keep the exact request to send."""
        self.db.execute("UPDATE webhooks SET body = ?, headers = ? WHERE job_id = ?",
                        (body, json.dumps(headers), job_id))

    def record(self, job_id: str, delivery: Delivery) -> None:
        self.db.execute("UPDATE webhooks SET status = ?, attempts = ?, last_error = ? WHERE job_id = ?",
                        (delivery.status, delivery.attempts, delivery.last_error, job_id))

    def delivery(self, job_id: str) -> Delivery | None:
        row = self.db.execute("SELECT status, attempts, last_error FROM webhooks WHERE job_id = ?",
                              (job_id,)).fetchone()
        return Delivery(*row) if row else None

    def owed(self) -> list[Owed]:
        return self._owed("status = 'pending' ORDER BY submitted", ())

    def watching(self, where: str, value: str) -> Owed | None:
        """The job whose `job_id` or `callback` is `value`, while its end is still awaited."""
        column = {"job_id": "job_id", "callback": "callback"}[where]
        found = self._owed(f"{column} = ? AND status = 'pending' AND body IS NULL", (value,))
        return found[0] if found else None

    def _owed(self, condition: str, values: tuple[str, ...]) -> list[Owed]:
        rows = self.db.execute("SELECT job_id, operation, id_roteiro, url, on_cancel, submitted, body, headers, "
                               f"callback FROM webhooks WHERE {condition}", values).fetchall()
        return [Owed(job_id, operation, json.loads(script), url, bool(on_cancel),
                     datetime.datetime.fromisoformat(submitted), body, json.loads(headers) if headers else None,
                     callback is not None)
                for job_id, operation, script, url, on_cancel, submitted, body, headers, callback in rows]

    def add_split(self, job_id: str, parts: list[tuple[str, int, int]]) -> None:
        """A job sent as parts: each part's id, the offset of its first image and its image count."""
        self.db.execute("INSERT INTO splits (job_id, parts) VALUES (?, ?)", (job_id, json.dumps(parts)))

    def split(self, job_id: str) -> list[tuple[str, int, int]] | None:
        row = self.db.execute("SELECT parts FROM splits WHERE job_id = ?", (job_id,)).fetchone()
        return [tuple(part) for part in json.loads(row[0])] if row else None  # type: ignore[misc]

    def save_render_split(self, job_id: str, state: dict[str, Any]) -> None:
        """A render sent as plan, parts and join: where it is (`RenderSplit`'s fields)."""
        self.db.execute("INSERT OR REPLACE INTO render_splits (job_id, state) VALUES (?, ?)",
                        (job_id, json.dumps(state)))

    def render_split(self, job_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT state FROM render_splits WHERE job_id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def add_job(self, job: Tracked) -> None:
        """A job submitted on the reference's current routes, which `GET /jobs/<id>` describes."""
        self.db.execute("INSERT INTO jobs (job_id, operation, id_roteiro, created) VALUES (?, ?, ?, ?)",
                        (job.job_id, job.operation, json.dumps(job.id_roteiro), job.created.isoformat()))

    def job(self, job_id: str) -> Tracked | None:
        row = self.db.execute("SELECT job_id, operation, id_roteiro, created FROM jobs WHERE job_id = ?",
                              (job_id,)).fetchone()
        if row is None:
            return None
        return Tracked(row[0], row[1], json.loads(row[2]), datetime.datetime.fromisoformat(row[3]))
