"""The job queue behind the local endpoint: RunPod's job states, in memory and, with a journal, on disk.

One lock and one condition guard everything; the HTTP threads long-poll on the condition, as
RunPod's own job-take and job-stop channels do. Times are seconds since the epoch (`clock`), so a
journal read by the next start means the same times.

With a journal the queue survives a restart: queued jobs run, and a job that was running when the
endpoint stopped runs again from the start, once (a stop through SIGTERM or Ctrl-C does not count: the
endpoint stopped it itself). One found running a second time is failed with a sentence saying so, so
a job that takes the process down with it cannot do so forever.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from video_ops.local_endpoint.job import PENDING, Job
from video_ops.local_endpoint.journal import Journal

RETRYABLE = ("FAILED", "TIMED_OUT", "CANCELLED")
# How long RunPod keeps a finished job's result.
KEEP_AFTER_RUN_S = 30 * 60
KEEP_AFTER_RUNSYNC_S = 60
RAN_TWICE = ("The local endpoint stopped twice while this job ran (its process was killed or crashed); "
             "it is not run a third time.")
NO_SECRETS = ("The local endpoint restarted before this job ended, and the bucket credentials it brought are "
              "never written to disk; submit it again.")


@dataclass
class Pod:
    """One worker process, known by its RUNPOD_POD_ID."""

    id: str
    polled: bool = False  # has asked for work at least once: it is up
    job: str | None = None  # the job it was last handed and has not reported finished
    stops: list[str] = field(default_factory=list)  # cancelled jobs it still has to stop


class LocalQueue:
    """Jobs, workers and the transitions between RunPod's states."""

    def __init__(self, on_final: Callable[[str, dict], None] | None = None, journal: Journal | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._cond = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[str] = deque()
        self._pods: dict[str, Pod] = {}
        self._counts = {"completed": 0, "failed": 0, "retried": 0}
        self._closing = False
        self._suspended: set[str] | None = None  # set once stopping with a journal: the jobs it stopped
        self._on_final = on_final  # called as (webhook URL, final status) for jobs that set a webhook
        self.journal = journal
        self.clock = clock
        if journal is not None:
            self._take_up(journal.load())

    def _take_up(self, jobs: list[Job]) -> None:
        """The jobs of an earlier run: finished ones keep their results, queued ones queue again, and the ones
        that were running run again first (once), unless they brought credentials that were not kept."""
        rerun: list[str] = []
        for job in jobs:
            self._jobs[job.id] = job
            if job.status not in PENDING:
                continue
            if job.secrets or (job.status == "IN_PROGRESS" and job.reruns):
                job.status, job.result, job.finished = "FAILED", {"error": NO_SECRETS if job.secrets else RAN_TWICE}, \
                    self.clock()
                self._write(job)
                continue
            if job.status == "IN_PROGRESS":
                job.status, job.started, job.worker, job.reruns = "IN_QUEUE", None, None, job.reruns + 1
                self._write(job)
                rerun.append(job.id)
            else:
                self._queue.append(job.id)
        self._queue.extendleft(reversed(rerun))

    def _write(self, job: Job) -> None:
        if self.journal is not None:
            self.journal.save(job)

    # --- public API ------------------------------------------------------------------------------
    def submit(self, request: dict, sync: bool = False) -> dict:
        with self._cond:
            now = self.clock()
            job_id = ("sync-" if sync else "") + str(uuid.uuid4())
            keep = KEEP_AFTER_RUNSYNC_S if sync else KEEP_AFTER_RUN_S
            self._jobs[job_id] = job = Job(job_id, request, keep, now)
            self._write(job)
            self._queue.append(job_id)
            self._cond.notify_all()
            return job.view(now)

    def status(self, job_id: str) -> dict | None:
        with self._cond:
            job = self._jobs.get(job_id)
            return job.view(self.clock()) if job else None

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
            job.submitted, job.started, job.finished = self.clock(), None, None
            self._write(job)
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

    def suspend(self) -> None:
        """On the way out with a journal: hand out no more jobs, and stop the running ones, which are written
        as queued so that the next start runs them (and the queued ones) again."""
        with self._cond:
            self._suspended = set()
            for job in self._jobs.values():
                if job.status == "IN_PROGRESS":
                    self._suspended.add(job.id)
                    if job.worker in self._pods:
                        self._pods[job.worker].stops.append(job.id)
                    if self.journal is not None:
                        self.journal.save(job, status="IN_QUEUE")
            self._cond.notify_all()

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
            self._cond.wait_for(lambda: (self._queue and self._suspended is None) or self._closing
                                or pod_id not in self._pods, wait_s)
            if not self._queue or self._closing or self._suspended is not None or pod_id not in self._pods:
                return None
            job = self._jobs[self._queue.popleft()]
            job.status, job.started, job.worker = "IN_PROGRESS", self.clock(), pod_id
            self._write(job)
            pod.job = job.id
            self._cond.notify_all()
            return job.work()

    def report(self, pod_id: str, job_id: str, payload: dict) -> None:
        """A worker's job-done post: a progress update (status IN_PROGRESS) or the final result."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or job.status != "IN_PROGRESS" or job.worker != pod_id or self._stopped(job):
                return  # late progress, or a job cancelled, timed out or stopped for a restart meanwhile
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
            now = self.clock()
            for job in list(self._jobs.values()):
                limit = job.execution_timeout_s
                if job.status == "IN_PROGRESS" and limit and now - job.started > limit:
                    self._end(job, "TIMED_OUT", {})
                elif job.finished is not None and now - job.finished > job.keep_s:
                    del self._jobs[job.id]
                    if self.journal is not None:
                        self.journal.forget(job.id)

    def close(self) -> None:
        """Release every long-poll so workers and /runsync callers return at once."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def _stopped(self, job: Job) -> bool:
        """Whether the endpoint stopped this job itself on its way out (it runs again at the next start)."""
        return self._suspended is not None and job.id in self._suspended

    def _fail_running(self, pod: Pod, error: str) -> None:
        job = self._jobs.get(pod.job) if pod.job else None
        if job is not None and job.status == "IN_PROGRESS" and job.worker == pod.id and not self._stopped(job):
            self._end(job, "FAILED", {"error": error})
        pod.job = None

    def _end(self, job: Job, status: str, result: dict) -> None:
        """Move a pending job to a final state; a running one's worker is told to stop it."""
        if job.status == "IN_QUEUE":
            self._queue.remove(job.id)
        elif status in ("CANCELLED", "TIMED_OUT") and job.worker in self._pods:
            self._pods[job.worker].stops.append(job.id)
        job.status, job.result, job.finished = status, result, self.clock()
        self._write(job)
        if status in ("COMPLETED", "FAILED"):
            self._counts[status.lower()] += 1
        self._cond.notify_all()
        if self._on_final is not None and job.request.get("webhook"):
            self._on_final(job.request["webhook"], job.view(job.finished))
