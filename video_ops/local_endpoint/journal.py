"""The local endpoint's jobs written to a SQLite file, so its queue outlives the process (RunPod's does).

Every change of a job's state is written before the change is seen by anyone (progress updates are
not: they are redone by the rerun). Bucket credentials are never written: a job that brought its own
(`s3_config` in its input, or RunPod's request-level `s3Config`) is kept without them, and is failed
with a sentence saying so if it has to run again after a restart.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from video_ops.local_endpoint.job import Job

SCHEMA = """
CREATE TABLE IF NOT EXISTS local_jobs (
    id        TEXT PRIMARY KEY,
    request   TEXT NOT NULL,
    secrets   INTEGER NOT NULL,
    keep_s    REAL NOT NULL,
    submitted REAL NOT NULL,
    status    TEXT NOT NULL,
    started   REAL,
    finished  REAL,
    worker    TEXT,
    result    TEXT NOT NULL,
    reruns    INTEGER NOT NULL
)"""


def without_secrets(request: dict) -> tuple[dict, bool]:
    """The request as it may be written, and whether credentials were taken out."""
    kept = {key: value for key, value in request.items() if key != "s3Config"}
    job_input = dict(kept.get("input") or {})
    secrets = "s3Config" in request or "s3_config" in job_input
    job_input.pop("s3_config", None)
    return {**kept, "input": job_input}, secrets


class Journal:
    """Used under the queue's lock, from any of the endpoint's threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(SCHEMA)
        self._lock = threading.Lock()

    def save(self, job: Job, status: str | None = None) -> None:
        """Write the job as it stands (or, with `status`, as it must be taken up at the next start)."""
        request, secrets = without_secrets(job.request)
        row = (job.id, json.dumps(request), int(secrets or job.secrets), job.keep_s, job.submitted,
               status or job.status, None if status else job.started, job.finished, None if status else job.worker,
               json.dumps(job.result), job.reruns)
        with self._lock:
            self.db.execute("INSERT OR REPLACE INTO local_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def forget(self, job_id: str) -> None:
        with self._lock:
            self.db.execute("DELETE FROM local_jobs WHERE id = ?", (job_id,))

    def load(self) -> list[Job]:
        """Every job written, oldest first."""
        with self._lock:
            rows = self.db.execute("SELECT id, request, secrets, keep_s, submitted, status, started, finished, "
                                   "worker, result, reruns FROM local_jobs ORDER BY submitted").fetchall()
        return [Job(job_id, json.loads(request), keep_s, submitted, status, started, finished, worker,
                    json.loads(result), reruns, bool(secrets))
                for job_id, request, secrets, keep_s, submitted, status, started, finished, worker, result, reruns
                in rows]
