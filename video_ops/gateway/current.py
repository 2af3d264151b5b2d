"""The reference orchestrator's current routes: `POST /runpod/video/<operation>` (asynchronous, with
webhooks), `GET /jobs/<id>` and `POST /jobs/<id>/cancel`, in its own shapes and status names.

Jobs are RunPod's (the ids are the backend's); what RunPod's status does not carry (operation,
`id_roteiro`, creation time) is in the gateway's record of the job, which also answers once the backend
has forgotten the job. Its `caption_style` route is translated into the
worker's `caption_segments` or `caption_highlight` input (`caption_style.py`).

`POST /vps/video/<operation>` are the reference's CPU-side twins of four of them (same bodies, same
answers): their jobs run on the CPU backend (`VIDEO_OPS_CPU_ENDPOINT_ID`) when one is set, else where the
others run; `/jobs/<id>` follows them on whichever backend holds them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from video_ops.client.api import PENDING
from video_ops.gateway import replies, schemas, webhooks
from video_ops.gateway.backend import UnknownJob
from video_ops.gateway.caption_style import to_worker_input
from video_ops.gateway.intake import Refusal, Translation, read_submission, unknown_operation_route
from video_ops.gateway.store import Record, Store
from video_ops.gateway.watcher import Watcher, moment
from video_ops.jobkit.contract import Operation

CPU_TWINS = ("img2vid", "addaudio", "concatenate")  # and caption_style: the reference's /vps/video/ routes
# RunPod's states as the reference named them (it had no TIMED_OUT: such a job failed).
STATES = {"IN_QUEUE": "QUEUED", "IN_PROGRESS": "PROCESSING", "COMPLETED": "COMPLETED", "FAILED": "FAILED",
          "CANCELLED": "CANCELLED", "TIMED_OUT": "FAILED"}


def add_current_routes(app: FastAPI, watcher: Watcher, store: Store,
                       operations: dict[str, Operation], guard: list[Any]) -> None:
    for name, operation in operations.items():
        extra = {"requestBody": _with_reference_fields(operation)}
        app.add_api_route(f"/runpod/video/{name}", _submit_route(watcher, store, name, operations),
                          methods=["POST"], dependencies=guard, openapi_extra=extra, status_code=202,
                          summary=f"queue a {name} job (the reference's current route)", tags=["current routes"],
                          name=f"queue_{name}")

    async def job(job_id: str) -> JSONResponse:
        """The job in the reference's shape; `progress` while it runs, `webhook` when it has one."""
        _recorded(store, job_id)
        status, record = await watcher.status(job_id)
        assert record is not None
        return JSONResponse(describe(record, status, watcher.view(job_id, record)))

    async def cancel(job_id: str) -> JSONResponse:
        """404 unknown, 400 when it already ended (the reference's codes on this route)."""
        _recorded(store, job_id)
        cancelled, state = await watcher.cancel(job_id)
        if cancelled:
            return JSONResponse({"message": "Job cancelled successfully", "jobId": job_id})
        raise Refusal(400, "Bad Request", f"Job {job_id} already ended as {STATES.get(state, state)}.")

    caption_style = ("queue a caption_segments or caption_highlight job from the reference's caption_style body "
                     "(`type`, `url_caption` or `transcribe`, `uppercase`, `style`)")
    app.add_api_route("/runpod/video/caption_style",
                      _submit_route(watcher, store, "caption_style", operations, to_worker_input),
                      methods=["POST"], dependencies=guard, status_code=202, tags=["current routes"],
                      summary=caption_style, name="queue_caption_style")
    for name in CPU_TWINS:
        app.add_api_route(f"/vps/video/{name}", _submit_route(watcher, store, name, operations, on_cpu=True),
                          methods=["POST"], dependencies=guard, status_code=202, tags=["current routes"],
                          openapi_extra={"requestBody": _with_reference_fields(operations[name])},
                          summary=f"queue a {name} job on the CPU backend (the reference's /vps/ twin)",
                          name=f"queue_cpu_{name}")
    app.add_api_route("/vps/video/caption_style",
                      _submit_route(watcher, store, "caption_style", operations, to_worker_input, on_cpu=True),
                      methods=["POST"], dependencies=guard, status_code=202, tags=["current routes"],
                      summary=f"{caption_style}, on the CPU backend", name="queue_cpu_caption_style")
    app.add_api_route("/runpod/video/{operation}", unknown_operation_route(operations), methods=["POST"],
                      dependencies=guard, include_in_schema=False)
    app.add_api_route("/jobs/{job_id}", job, methods=["GET"], dependencies=guard, tags=["current routes"],
                      name="current_job")
    app.add_api_route("/jobs/{job_id}/cancel", cancel, methods=["POST"], dependencies=guard,
                      tags=["current routes"], name="current_cancel")


def _submit_route(watcher: Watcher, store: Store, name: str, operations: dict[str, Operation],
                  translate: Translation | None = None, on_cpu: bool = False
                  ) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def submit(request: Request) -> JSONResponse:
        submission = await read_submission(request, name, operations, invalid_code=400, with_script=True,
                                           translate=translate)
        job_id = await watcher.submit(submission.job_input, name, submission.webhook, submission.id_roteiro, on_cpu)
        created = moment(_recorded(store, job_id).created)
        waiting = (await watcher.chosen(on_cpu).health()).get("jobs", {}).get("inQueue", 0)
        return JSONResponse({
            "jobId": job_id, "status": "QUEUED", "idRoteiro": submission.id_roteiro,
            "message": "Job queued successfully", "estimatedTime": replies.ESTIMATES.get(name, "a few minutes"),
            "queuePosition": waiting, "statusUrl": f"/jobs/{job_id}", "createdAt": webhooks.iso(created),
        }, 202)

    return submit


def _recorded(store: Store, job_id: str) -> Record:
    record = store.get(job_id)
    if record is None:
        raise UnknownJob(job_id)
    return record


def describe(record: Record, status: dict[str, Any], webhook: dict[str, Any] | None) -> dict[str, Any]:
    """`{jobId, status, operation, idRoteiro, result, error, createdAt, submittedAt, completedAt}`."""
    state = status.get("status", "")
    created = moment(record.created)
    timing = webhooks.execution(created, status)
    ended = state not in PENDING
    view: dict[str, Any] = {
        "jobId": record.job_id, "status": STATES.get(state, state), "operation": record.operation,
        "idRoteiro": record.id_roteiro, "result": status.get("output") if state == "COMPLETED" else None,
        "error": replies.final_error(status) if ended and state != "COMPLETED" else None,
        "createdAt": webhooks.iso(created), "submittedAt": webhooks.iso(created),
        "completedAt": timing["endTime"] if ended else None,
    }
    if state == "IN_PROGRESS" and status.get("output") is not None:
        view["progress"] = status["output"]
    if webhook is not None:
        view["webhook"] = webhook
    return view


REFERENCE_FIELDS = {"webhook_url": {"type": "string", "format": "uri"}, "webhook_on_cancel": {"type": "boolean"},
                    "id_roteiro": {"type": ["string", "integer"]}}


def _with_reference_fields(operation: Operation) -> dict[str, Any]:
    """The operation's body plus the reference's `webhook_url`, `webhook_on_cancel` and `id_roteiro`."""
    body = schemas.request_body(operation)
    schema = body["content"]["application/json"]["schema"]
    body["content"]["application/json"]["schema"] = {"allOf": [schema], "properties": REFERENCE_FIELDS}
    return body
