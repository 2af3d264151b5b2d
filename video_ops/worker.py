"""One job, start to end: validate, open a temp folder, run the operation, report; never leak a traceback."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from typing import Any

from video_ops.base.errors import JobError
from video_ops.base.lifetime import end_with_parent, parent_named_in
from video_ops.io.local_results import local_output_dir
from video_ops.io.storage import open_storage
from video_ops.jobkit.context import JobContext, safe_job_id
from video_ops.jobkit.contract import parse_input
from video_ops.jobkit.progress import ProgressReporter
from video_ops.ops import OPERATIONS

log = logging.getLogger(__name__)


async def handle_job(job: dict[str, Any]) -> dict[str, Any]:
    """The RunPod handler: the operation's result, or `{"error": "<one clear sentence>"}`."""
    started = time.monotonic()
    job_id = str(job.get("id") or "local")
    try:
        operation, job_input = parse_input(job.get("input"), OPERATIONS)
        storage = open_storage(job_input.s3_config, job.get("s3Config"), uploads=operation.uploads)
        async with JobContext.open(job_id, storage, ProgressReporter(job)) as ctx:
            output = await operation.run(ctx, job_input)
            timings = {**ctx.timings, "total_s": round(time.monotonic() - started, 3)}
    except JobError as err:
        log.warning("job %s failed: %s", job_id, err)
        return {"error": str(err)}
    except Exception as err:
        log.exception("job %s crashed", job_id)  # the traceback stays in the worker's log
        return {"error": f"Internal error in the worker ({err.__class__.__name__}); the job was not completed."}
    log.info("job %s done in %.2f s", job_id, timings["total_s"])
    return {"success": True, **output, "timings": timings}


async def handle_local_job(job: dict[str, Any]) -> dict[str, Any]:
    """`python handler.py`: as `handle_job`, and a successful result is also saved whole as JSON.

    The SDK cuts each log line at 4096 characters, so the result it prints for a big job (85 images)
    is not valid JSON; the saved file is. A failure is one sentence and needs no file.
    """
    result = await handle_job(job)
    if result.get("success"):
        folder = local_output_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{safe_job_id(str(job.get('id') or 'local'))}.result.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        log.info("job %s: the whole result is in %s", job.get("id"), path.resolve())
    return result


def end_with_local_endpoint() -> None:
    """Under the local endpoint (which names itself in VIDEO_OPS_LOCAL_ENDPOINT_PID), end with it, FFmpeg and
    the SDK's heartbeat included: a worker whose endpoint was killed would otherwise poll the dead address
    for ever, the SDK retrying at once and using half a core."""
    endpoint = parent_named_in("VIDEO_OPS_LOCAL_ENDPOINT_PID")
    if endpoint is None:
        return
    signal.signal(signal.SIGHUP, lambda *_: os.killpg(os.getpgrp(), signal.SIGKILL))
    if not end_with_parent(endpoint, signal.SIGHUP):
        os.killpg(os.getpgrp(), signal.SIGKILL)
