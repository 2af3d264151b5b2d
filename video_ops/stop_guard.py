"""Every stop frees its worker's slot: a guard around the runpod SDK's job scaler, installed at start.

runpod 1.12.0's stop channel has two holes (reproduced in tests/test_stop_guard.py). A stop that cancels a
job's task before its first step skips `handle_job`'s `finally`, so the job keeps its slot and, at
concurrency 1, the worker never takes another job while its heartbeat goes on. A stop for a job still
waiting in `jobs_queue` finds no task and is dropped, so the cancelled job runs to its end. The guard
closes both without editing the SDK, and a worker it cannot mend (a job that ignores its stop, a slot held
with no handler) says why in its log and exits, so the platform starts a fresh one.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from runpod.serverless.modules import rp_scale

from video_ops.base.errors import JobError
from video_ops.base.settings import env_float

log = logging.getLogger(__name__)

GUARDED_SDK_VERSION = "1.12.0"  # the scaler's internals below were read in this version, and only this one
DEFAULT_STOP_GRACE_S = 30.0
WEDGED_EXIT_CODE = 1
_WATCH_EVERY_S = 1.0


class _TaskTable(dict[str, asyncio.Task]):
    """The scaler's `jobs_tasks`: `run_jobs` puts each job's task here right after making it, before the
    task's first step, which is the one moment a guard can still attach to it."""

    def __init__(self, on_task_made: Callable[[str, asyncio.Task], None]) -> None:
        super().__init__()
        self._on_task_made = on_task_made

    def __setitem__(self, job_id: str, task: asyncio.Task) -> None:
        super().__setitem__(job_id, task)
        self._on_task_made(job_id, task)


class SlotGuardedScaler(rp_scale.JobScaler):
    """The SDK's JobScaler whose every stop, at any moment of a job, frees the job's slot."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.grace_s = stop_grace_s()
        self.jobs_tasks = _TaskTable(self._task_made)
        self._stop_when_taken: set[str] = set()  # stopped while still in jobs_queue
        self._stop_asked: dict[str, float] = {}  # job id -> when its stop came (monotonic)
        self._unhandled_since: dict[str, float] = {}  # job id -> since when it holds a slot with no handler

    async def stop_job(self, job_id: str) -> bool:
        if job_id in self.jobs_tasks:
            self._stop_asked.setdefault(job_id, time.monotonic())
            return await super().stop_job(job_id)
        if self.job_progress.get(job_id) is None:
            return await super().stop_job(job_id)  # not ours: the SDK logs and ignores it
        log.info("job %s: stopped while it waited in the worker's queue; it will not run", job_id)
        self._stop_asked.setdefault(job_id, time.monotonic())
        self._stop_when_taken.add(job_id)
        return True

    def _task_made(self, job_id: str, task: asyncio.Task) -> None:
        task.add_done_callback(functools.partial(self._free_slot, job_id))
        if job_id in self._stop_when_taken:
            self._stop_when_taken.discard(job_id)
            task.cancel()

    def _free_slot(self, job_id: str, task: asyncio.Task) -> None:
        """A job's task ended: if the SDK's own `finally` never ran (cancelled before its first step), do
        what it would have done."""
        self._stop_asked.pop(job_id, None)
        if self.jobs_tasks.get(job_id) is not task:
            return
        log.info("job %s: stopped before its handler began; its slot is free", job_id)
        self.jobs_tasks.pop(job_id, None)
        self.job_progress.remove(job_id)
        self.jobs_queue.task_done()

    async def run(self) -> None:
        watch = asyncio.create_task(self._watch())
        try:
            await super().run()
        finally:
            watch.cancel()

    async def _watch(self) -> None:
        while self.is_alive():
            await asyncio.sleep(min(_WATCH_EVERY_S, self.grace_s / 4))
            reason = self.wedged(time.monotonic())
            if reason:
                self.exit_worker(reason)

    def wedged(self, now: float) -> str | None:
        """Why the worker can no longer be trusted to free its slots, or None."""
        for job_id, asked in self._stop_asked.items():
            if now - asked > self.grace_s:
                return f"job {job_id} was told to stop {now - asked:.1f} s ago and has not ended"
        handled = {job_id for job_id, task in self.jobs_tasks.items() if not task.done()}
        held = {job.id for job in list(self.job_progress)}
        for job_id in list(self._unhandled_since):
            if job_id not in held or job_id in handled:
                del self._unhandled_since[job_id]
        for job_id in sorted(held - handled):
            since = self._unhandled_since.setdefault(job_id, now)
            if now - since > self.grace_s:
                return f"job {job_id} has held a slot for {now - since:.1f} s with no handler running for it"
        return None

    def exit_worker(self, reason: str) -> None:
        """Exit at once: a job that ignores its stop would also hold up a graceful shutdown."""
        log.error("%s; the worker exits so that the platform starts a fresh one.", reason)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        for child in multiprocessing.active_children():  # the SDK's heartbeat, which would outlive os._exit
            child.kill()
        os._exit(WEDGED_EXIT_CODE)


def stop_grace_s() -> float:
    return env_float("VIDEO_OPS_STOP_GRACE_S", DEFAULT_STOP_GRACE_S)


def install_stop_guard() -> None:
    """Make the SDK's worker loop use the guarded scaler; refuse to start on an SDK version it was not
    checked against, whose internals may differ."""
    found = importlib.metadata.version("runpod")
    if found != GUARDED_SDK_VERSION:
        raise SystemExit(f"video-ops: the worker's stop guard (video_ops/stop_guard.py) was written for runpod "
                         f"{GUARDED_SDK_VERSION}, and this is runpod {found}; check it against this version and "
                         "update GUARDED_SDK_VERSION before starting the worker.")
    try:
        stop_grace_s()
    except JobError as err:
        raise SystemExit(f"video-ops: {err}") from None
    rp_scale.JobScaler = SlotGuardedScaler
