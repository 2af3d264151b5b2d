"""What an operator watches: `GET /queue/stats` (the gateway's jobs by operation and state) and
`GET /admin/workers/status` (each backend endpoint's workers, from its RunPod `/health`). Both need the key.

The reference defines neither shape, so both are plain: counts under fixed names, times in ISO 8601.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from video_ops.client import ClientError
from video_ops.gateway.backend import Backend
from video_ops.gateway.store import Store
from video_ops.gateway.watcher import moment
from video_ops.gateway.webhooks import iso

WINDOW_S = 3600
# RunPod's states under the names the stats use; a job that ran out of time failed.
COUNTED = {"IN_QUEUE": "queued", "IN_PROGRESS": "running", "COMPLETED": "completed", "FAILED": "failed",
           "TIMED_OUT": "failed", "CANCELLED": "cancelled"}
COUNTS = ("queued", "running", "completed", "failed", "cancelled")
WORKER_STATES = ("idle", "running", "throttled")


def queue_stats(tally: list[tuple[str, str, int]], operations: list[str], now: float) -> dict[str, Any]:
    """Every operation (those of the registry first, at zero when idle) with its jobs queued and running now,
    and completed, failed and cancelled in the window; `totals` adds them up."""
    def zero() -> dict[str, int]:
        return dict.fromkeys(COUNTS, 0)

    by_operation = {name: zero() for name in operations}
    totals = zero()
    for operation, status, jobs in tally:
        state = COUNTED.get(status)
        if state is None:  # a state RunPod may add one day: not one of these counts
            continue
        for counts in (by_operation.setdefault(operation, zero()), totals):
            counts[state] += jobs
    return {"windowSeconds": WINDOW_S, "since": iso(moment(now - WINDOW_S)), "until": iso(moment(now)),
            "totals": totals, "operations": by_operation}


async def endpoint_health(backend: Backend) -> dict[str, Any]:
    """One endpoint's RunPod `/health` (`workers`: idle, running, throttled...; `jobs`), or why it did not answer."""
    try:
        health = await backend.health()
    except ClientError as err:
        return {"backend": backend.kind, "status": "unavailable", "error": err.message}
    return {"backend": backend.kind, "status": "ok", "workers": health.get("workers", {}),
            "jobs": health.get("jobs", {})}


def add_admin_routes(app: FastAPI, store: Store, endpoints: dict[str, Backend], operations: list[str],
                     guard: list[Any]) -> None:
    """`endpoints`: the backend endpoints by role (`main` runs the jobs)."""

    async def stats() -> JSONResponse:
        """Jobs per operation: queued and running now; completed, failed and cancelled in the last hour."""
        now = store.clock()
        return JSONResponse(queue_stats(await store.read_tally(now - WINDOW_S), operations, now))

    async def workers() -> JSONResponse:
        """Each backend endpoint's workers and jobs as its `/health` reports them, and the workers summed;
        503 when an endpoint did not answer."""
        checked = datetime.datetime.now(datetime.timezone.utc)
        answers = await asyncio.gather(*(endpoint_health(backend) for backend in endpoints.values()))
        healthy = all(answer["status"] == "ok" for answer in answers)
        summed = {state: sum(answer.get("workers", {}).get(state, 0) for answer in answers) for state in WORKER_STATES}
        return JSONResponse({"status": "ok" if healthy else "degraded", "checkedAt": iso(checked), "workers": summed,
                             "endpoints": dict(zip(endpoints, answers, strict=True))}, 200 if healthy else 503)

    app.add_api_route("/queue/stats", stats, methods=["GET"], dependencies=guard, tags=["service"],
                      name="queue_stats", summary="jobs per operation: queued, running, and ended in the last hour")
    app.add_api_route("/admin/workers/status", workers, methods=["GET"], dependencies=guard, tags=["service"],
                      name="workers_status", summary="each backend endpoint's workers: idle, running, throttled")
