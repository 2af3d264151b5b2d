"""The job queue behind the local endpoint: RunPod's job states, kept in memory.

One lock and one condition guard everything; the HTTP threads long-poll on the condition, as
RunPod's own job-take and job-stop channels do. Times are `time.monotonic()` seconds.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PENDING = ("IN_QUEUE", "IN_PROGRESS")
RETRYABLE = ("FAILED", "TIMED_OUT", "CANCELLED")
# How long RunPod keeps a finished job's result.
KEEP_AFTER_RUN_S = 30 * 60
KEEP_AFTER_RUNSYNC_S = 60


@dataclass
class Job:
    """One request as RunPod tracks it."""

    id: str
    request: dict  # the /run body: input, s3Config, webhook, policy
    keep_s: float
    submitted: float
    status: str = "IN_QUEUE"
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    result: dict = field(default_factory=dict)  # "output" (progress while running) and/or "error"

    @property
    def execution_timeout_s(self) -> float | None:
        timeout_ms = (self.request.get("policy") or {}).get("executionTimeout")
        return timeout_ms / 1000 if timeout_ms else None

    def view(self, now: float) -> dict:
        """RunPod's status JSON."""
        started = self.started or self.finished or now
        view: dict[str, Any] = {"id": self.id, "status": self.status}
        view["delayTime"] = round((started - self.submitted) * 1000)
        if self.started is not None:
            view["executionTime"] = round(((self.finished or now) - self.started) * 1000)
            view["workerId"] = self.worker
        return {**view, **self.result}

    def work(self) -> dict:
        """What a worker's job-take receives."""
        work = {"id": self.id, "input": self.request["input"]}
        if self.request.get("s3Config"):
            work["s3Config"] = self.request["s3Config"]
        return work


@dataclass
class Pod:
    """One worker process, known by its RUNPOD_POD_ID."""

    id: str
    polled: bool = False  # has asked for work at least once: it is up
    job: str | None = None  # the job it was last handed and has not reported finished
    stops: list[str] = field(default_factory=list)  # cancelled jobs it still has to stop


class LocalQueue:
    """Jobs, workers and the transitions between RunPod's states."""

    def __init__(self, on_final: Callable[[str, dict], None] | None = None) -> None:
        self._cond = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[str] = deque()
        self._pods: dict[str, Pod] = {}
        self._counts = {"completed": 0, "failed": 0, "retried": 0}
        self._closing = False
        self._on_final = on_final  # called as (webhook URL, final status) for jobs that set a webhook

    # --- public API ------------------------------------------------------------------------------
    def submit(self, request: dict, sync: bool = False) -> dict:
        with self._cond:
            now = time.monotonic()
            job_id = ("sync-" if sync else "") + str(uuid.uuid4())
            keep = KEEP_AFTER_RUNSYNC_S if sync else KEEP_AFTER_RUN_S
            self._jobs[job_id] = job = Job(job_id, request, keep, now)
            self._queue.append(job_id)
            self._cond.notify_all()
            return job.view(now)

    def status(self, job_id: str) -> dict | None:
        with self._cond:
            job = self._jobs.get(job_id)
            return job.view(time.monotonic()) if job else None

    def wait_final(self, job_id: str, wait_s: float) -> dict | None:
        """The status once the job has ended, or as it stands after `wait_s` (for /runsync)."""
        with self._cond:
            job = self._jobs.get(job_id)
            self._cond.wait_for(lambda: job is None or job.status not in PENDING or self._closing, wait_s)
            return self.status(job_id)

    def cancel(self, job_id: str) -> dict | None:
        with self._cond:
            job = self._jobs.get(job_id)
            if job and job.status in PENDING:
                self._end(job, "CANCELLED", {})
            return self.status(job_id)

    def retry(self, job_id: str) -> dict | None:
        """Queue an ended job again under its id; ValueError when it did not fail."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.status not in RETRYABLE:
                allowed = ", ".join(RETRYABLE)
                raise ValueError(f"job {job_id} is {job.status}; only {allowed} jobs can be retried")
            job.status, job.result, job.worker = "IN_QUEUE", {}, None
            job.submitted, job.started, job.finished = time.monotonic(), None, None
            self._queue.append(job_id)
            self._counts["retried"] += 1
            self._cond.notify_all()
            return {"id": job_id, "status": job.status}

    def cancel_all(self) -> None:
        """Cancel every queued and running job: nobody can fetch their results once the endpoint stops."""
        with self._cond:
            for job in list(self._jobs.values()):
                if job.status in PENDING:
                    self._end(job, "CANCELLED", {})

    def purge(self) -> dict:
        """Drop every queued job (running ones go on), as RunPod's purge-queue does."""
        with self._cond:
            removed = len(self._queue)
            for job_id in list(self._queue):
                self._end(self._jobs[job_id], "CANCELLED", {})
            return {"removed": removed, "status": "completed"}

    def health(self) -> dict:
        with self._cond:
            running = sum(1 for pod in self._pods.values() if pod.job)
            idle = sum(1 for pod in self._pods.values() if pod.polled and not pod.job)
            in_progress = sum(1 for job in self._jobs.values() if job.status == "IN_PROGRESS")
            return {
                "jobs": {**self._counts, "inProgress": in_progress, "inQueue": len(self._queue)},
                "workers": {
                    "idle": idle,
                    "initializing": len(self._pods) - running - idle,
                    "ready": idle,
                    "running": running,
                    "throttled": 0,
                    "unhealthy": 0,
                },
            }

    # --- the worker protocol ---------------------------------------------------------------------
    def add_pod(self, pod_id: str) -> None:
        with self._cond:
            self._pods[pod_id] = Pod(pod_id)

    def all_polled(self) -> bool:
        with self._cond:
            return all(pod.polled for pod in self._pods.values())

    def wait_idle(self, wait_s: float) -> bool:
        """Wait until no worker holds a job (a worker lets go by asking for the next one)."""
        with self._cond:
            return self._cond.wait_for(lambda: not any(pod.job for pod in self._pods.values()), wait_s)

    def take(self, pod_id: str, wait_s: float) -> dict | None:
        """Hand the next queued job to a worker, waiting up to `wait_s` for one."""
        with self._cond:
            pod = self._pods.get(pod_id)
            if pod is None:
                return None
            pod.polled = True
            if pod.job:
                # A worker asks for work only once its job is done; one still running lost its result.
                self._fail_running(pod, "the worker took a new job without reporting this one's result")
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._queue or self._closing or pod_id not in self._pods, wait_s)
            if not self._queue or self._closing or pod_id not in self._pods:
                return None
            job = self._jobs[self._queue.popleft()]
            job.status, job.started, job.worker = "IN_PROGRESS", time.monotonic(), pod_id
            pod.job = job.id
            self._cond.notify_all()
            return job.work()

    def report(self, pod_id: str, job_id: str, payload: dict) -> None:
        """A worker's job-done post: a progress update (status IN_PROGRESS) or the final result."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or job.status != "IN_PROGRESS" or job.worker != pod_id:
                return  # late progress, or a job cancelled or timed out meanwhile
            if payload.get("status") == "IN_PROGRESS":
                job.result = {"output": payload.get("output")}
                self._cond.notify_all()
                return
            result = {key: payload[key] for key in ("output", "error") if key in payload}
            self._end(job, "FAILED" if "error" in result else "COMPLETED", result)
            self._pods[pod_id].job = None

    def stops(self, pod_id: str, wait_s: float) -> list[str]:
        """Jobs this worker must stop, waiting up to `wait_s` for one."""
        with self._cond:
            pod = self._pods.get(pod_id)
            if pod is None:
                return []
            self._cond.wait_for(lambda: pod.stops or self._closing or pod_id not in self._pods, wait_s)
            stops, pod.stops = pod.stops, []
            return stops

    def pod_died(self, pod_id: str, returncode: int) -> None:
        with self._cond:
            pod = self._pods.pop(pod_id, None)
            if pod is not None:
                error = f"the worker process exited with code {returncode} while running this job"
                self._fail_running(pod, error)
            self._cond.notify_all()

    # --- housekeeping ----------------------------------------------------------------------------
    def sweep(self) -> None:
        """Time out overlong jobs and forget results past their keep time."""
        with self._cond:
            now = time.monotonic()
            for job in list(self._jobs.values()):
                limit = job.execution_timeout_s
                if job.status == "IN_PROGRESS" and limit and now - job.started > limit:
                    self._end(job, "TIMED_OUT", {})
                elif job.finished is not None and now - job.finished > job.keep_s:
                    del self._jobs[job.id]

    def close(self) -> None:
        """Release every long-poll so workers and /runsync callers return at once."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def _fail_running(self, pod: Pod, error: str) -> None:
        job = self._jobs.get(pod.job) if pod.job else None
        if job is not None and job.status == "IN_PROGRESS" and job.worker == pod.id:
            self._end(job, "FAILED", {"error": error})
        pod.job = None

    def _end(self, job: Job, status: str, result: dict) -> None:
        """Move a pending job to a final state; a running one's worker is told to stop it."""
        if job.status == "IN_QUEUE":
            self._queue.remove(job.id)
        elif status in ("CANCELLED", "TIMED_OUT") and job.worker in self._pods:
            self._pods[job.worker].stops.append(job.id)
        job.status, job.result, job.finished = status, result, time.monotonic()
        if status in ("COMPLETED", "FAILED"):
            self._counts[status.lower()] += 1
        self._cond.notify_all()
        if self._on_final is not None and job.request.get("webhook"):
            self._on_final(job.request["webhook"], job.view(job.finished))
