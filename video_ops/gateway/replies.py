"""The bodies the guide documents, built from RunPod's status JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from video_ops.client.api import PENDING, decode_error

if TYPE_CHECKING:
    from video_ops.gateway.store import Record

SUBMITTED = "Job submitted successfully. Use statusUrl to check progress."
# The guide's estimate, kept word for word: callers may show it.
ESTIMATES = {"img2vid": "2-10 minutes depending on image count"}
PENDING_MESSAGES = {"IN_QUEUE": "Job is in queue", "IN_PROGRESS": "Job is in progress"}
# A finished job without a result must stop a polling caller: never 202 (the reference's defect).
# FAILED: the job ran and failed; CANCELLED: its result will never exist; TIMED_OUT: it ran too long.
FINAL_CODES = {"FAILED": 500, "CANCELLED": 410, "TIMED_OUT": 504}


def status_url(job_id: str) -> str:
    return f"/video/job/{job_id}"


def submitted(job_id: str, status: str, operation: str) -> dict[str, Any]:
    """The async submit's answer (also the sync route's answer when its wait is capped)."""
    body = {
        "jobId": job_id,
        "status": status,
        "statusUrl": status_url(job_id),
        "resultUrl": f"{status_url(job_id)}/result",
        "message": SUBMITTED,
    }
    if operation in ESTIMATES:
        body["estimatedTime"] = ESTIMATES[operation]
    return body


def job_view(status: dict[str, Any]) -> dict[str, Any]:
    """RunPod's status JSON with `error` as the worker's one sentence, never a JSON-with-traceback string."""
    if "error" in status:
        return {**status, "error": decode_error(status["error"])}
    return status


def result_reply(status: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The result route's (HTTP code, body): 202 while pending, 200 when done, 4xx/5xx when it ended otherwise."""
    job_id, state = status.get("id", ""), status.get("status", "")
    if state in PENDING:
        message = PENDING_MESSAGES.get(state, f"Job is {state}")
        return 202, {"jobId": job_id, "status": state, "message": message, "statusUrl": status_url(job_id)}
    if state == "COMPLETED":
        timing = {key: status[key] for key in ("delayTime", "executionTime") if key in status}
        return 200, {"jobId": job_id, "status": state, "result": status.get("output"), **timing}
    return FINAL_CODES.get(state, 502), {"jobId": job_id, "status": state, "error": final_error(status)}


def final_error(status: dict[str, Any]) -> str:
    """One sentence for a job that ended without a result."""
    state = status.get("status")
    if state == "FAILED":
        return decode_error(status.get("error", "The job failed without an error message."))
    if state == "CANCELLED":
        return "The job was cancelled."
    if state == "TIMED_OUT":
        return "The job reached its execution timeout."
    return f"The job has an unknown status {state!r}."


def recorded(record: Record) -> dict[str, Any]:
    """RunPod's status JSON rebuilt from the gateway's record of the job (the backend may have forgotten it)."""
    view: dict[str, Any] = {"id": record.job_id, "status": record.status}
    for key, value in (("delayTime", record.delay_ms), ("executionTime", record.execution_ms),
                       ("workerId", record.worker_id)):
        if value is not None:
            view[key] = value
    if record.status == "COMPLETED":
        view["output"] = record.output
    elif record.pending:
        if record.progress is not None:
            view["output"] = record.progress
    elif record.error is not None:
        view["error"] = record.error
    return view
