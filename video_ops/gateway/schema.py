"""The gateway's tables and their versions: a database is upgraded step by step, old rows kept.

`schema_version` holds the version a database is at; each step runs once, in a transaction that a
second instance starting at the same moment waits for. Version 1 replaced the first gateway's
`webhooks` and `jobs` tables (a file from before versions existed) with one record per job; their rows
are carried over. Version 2 added the state of renders split across workers; version 3 the backend that
holds a job (NULL: the main one; `cpu`: the CPU endpoint of the `/vps/...` routes).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable

from video_ops.gateway.database import Database

# Times are seconds since the epoch (DOUBLE PRECISION), JSON is TEXT: the same types in both databases.
JOB_RECORDS = """
CREATE TABLE job_records (
    job_id            VARCHAR(160) PRIMARY KEY,
    operation         VARCHAR(64)  NOT NULL,
    id_roteiro        TEXT,
    status            VARCHAR(16)  NOT NULL,
    created           DOUBLE PRECISION NOT NULL,
    started           DOUBLE PRECISION,
    ended             DOUBLE PRECISION,
    job_input         TEXT         NOT NULL,
    progress          TEXT,
    output            TEXT,
    error             TEXT,
    delay_ms          INTEGER,
    execution_ms      INTEGER,
    worker_id         VARCHAR(128),
    callback          VARCHAR(64)  UNIQUE,
    webhook_url       TEXT,
    webhook_on_cancel INTEGER      NOT NULL DEFAULT 0,
    webhook_body      TEXT,
    webhook_headers   TEXT,
    webhook_status    VARCHAR(16),
    webhook_attempts  INTEGER      NOT NULL DEFAULT 0,
    webhook_error     TEXT,
    owner             VARCHAR(64),
    lease_until       DOUBLE PRECISION
)"""
VERSION_1 = (
    JOB_RECORDS,
    "CREATE INDEX job_records_created ON job_records (created, job_id)",
    "CREATE INDEX job_records_lease ON job_records (lease_until)",
    "CREATE INDEX job_records_roteiro ON job_records (id_roteiro, created)",
    "CREATE TABLE webhook_attempts (job_id VARCHAR(160) NOT NULL, attempt INTEGER NOT NULL, "
    "at DOUBLE PRECISION NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (job_id, attempt))",
    "CREATE TABLE IF NOT EXISTS splits (job_id VARCHAR(128) PRIMARY KEY, parts TEXT NOT NULL)",
)


def _version_1(db: Database) -> None:
    for statement in VERSION_1:
        db.execute(statement)
    tables = db.tables()
    if "webhooks" in tables:
        _carry_webhooks(db)
        db.execute("DROP TABLE webhooks")
    if "jobs" in tables:
        _carry_jobs(db)
        db.execute("DROP TABLE jobs")


def _epoch(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso).timestamp()


def _carry_webhooks(db: Database) -> None:
    """The first gateway's owed and settled webhooks. A job whose webhook body was built ended as that body
    says; the others are pending and are followed again (lease 0: due now)."""
    rows = db.rows("SELECT job_id, operation, id_roteiro, url, on_cancel, submitted, body, headers, status, "
                   "attempts, last_error, callback FROM webhooks")
    for job_id, operation, script, url, on_cancel, submitted, body, headers, status, attempts, error, callback in rows:
        text = bytes(body).decode() if body is not None else None
        sent = json.loads(text) if text else {}
        state = sent.get("status") or ("CANCELLED" if status == "skipped" else "IN_QUEUE")
        ended = _epoch(submitted) if state != "IN_QUEUE" else None
        output = json.dumps(sent["result"]) if "result" in sent else None
        failure = (sent.get("error") or {}).get("message")
        due = 0.0 if status == "pending" else None
        db.execute("INSERT INTO job_records (job_id, operation, id_roteiro, status, created, ended, job_input, "
                   "output, error, callback, webhook_url, webhook_on_cancel, webhook_body, webhook_headers, "
                   "webhook_status, webhook_attempts, webhook_error, lease_until) "
                   "VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (job_id, operation, script, state, _epoch(submitted), ended, output, failure, callback, url,
                    on_cancel, text, headers, status, attempts, error, due))


def _carry_jobs(db: Database) -> None:
    """The first gateway's jobs of the reference's current routes that had no webhook: followed again."""
    known = {job_id for (job_id,) in db.rows("SELECT job_id FROM job_records")}
    for job_id, operation, script, created in db.rows("SELECT job_id, operation, id_roteiro, created FROM jobs"):
        if job_id not in known:
            db.execute("INSERT INTO job_records (job_id, operation, id_roteiro, status, created, job_input, "
                       "lease_until) VALUES (?, ?, ?, 'IN_QUEUE', ?, '{}', 0)",
                       (job_id, operation, script, _epoch(created)))


def _version_2(db: Database) -> None:
    """Renders split across workers: where each one is (plan, parts, join)."""
    db.execute("CREATE TABLE render_splits (job_id VARCHAR(160) PRIMARY KEY, state TEXT NOT NULL)")


def _version_3(db: Database) -> None:
    """Jobs on a second backend (the CPU endpoint): which backend to ask about each job."""
    db.execute("ALTER TABLE job_records ADD COLUMN backend VARCHAR(16)")


STEPS: list[tuple[int, Callable[[Database], None]]] = [(1, _version_1), (2, _version_2), (3, _version_3)]
LATEST = STEPS[-1][0]


def upgrade(db: Database) -> int:
    """Bring the database to the latest version; the version it was at."""
    if "schema_version" not in db.tables():
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING")
    with db.transaction():
        # A write first: it holds the row (PostgreSQL) or the file (SQLite) until the upgrade is committed.
        db.execute("UPDATE schema_version SET version = version WHERE id = 1")
        (found,), = db.rows("SELECT version FROM schema_version WHERE id = 1")
        for number, step in STEPS:
            if number > found:
                step(db)
        db.execute("UPDATE schema_version SET version = ?", (LATEST,))
    return int(found)
