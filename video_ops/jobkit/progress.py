"""Progress reports for RunPod's status `output` while a job runs: few, small, never blocking."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from video_ops.base.settings import is_deployed

log = logging.getLogger(__name__)
Sender = Callable[[dict[str, Any], dict[str, Any]], None]
_MIN_INTERVAL_S = 1.0


def runpod_sender(job: dict[str, Any], update: dict[str, Any]) -> None:
    """The SDK posts each update from a thread of its own; outside RunPod there is nowhere to post."""
    if is_deployed():
        from runpod.serverless import progress_update

        progress_update(job, update)
    else:
        log.info("progress %s", update)


class ProgressReporter:
    """Sends stage changes at once and percent updates at most once a second (each is an HTTP post)."""

    def __init__(self, job: dict[str, Any], send: Sender = runpod_sender, clock: Callable[[], float] = time.monotonic):
        self._job = job
        self._send = send
        self._clock = clock
        self._last: dict[str, Any] = {}
        self._last_sent_at = float("-inf")

    def stage(self, stage: str, **extra: Any) -> None:
        self._emit({"stage": stage, **extra}, force=True)

    def percent(self, stage: str, percent: float, **extra: Any) -> None:
        self._emit({"stage": stage, "percent": round(percent), **extra}, force=percent >= 100)

    def _emit(self, update: dict[str, Any], force: bool) -> None:
        now = self._clock()
        same_stage = update.get("stage") == self._last.get("stage")
        if update == self._last or (same_stage and not force and now - self._last_sent_at < _MIN_INTERVAL_S):
            return
        self._last = update
        self._last_sent_at = now
        try:
            self._send(self._job, update)
        except Exception:  # progress is best effort: a failed post must not fail the job
            log.warning("progress update could not be sent", exc_info=True)
