"""The reference's `POST /runpod/audio/transcribe`: synchronous, it answers when the transcription is done.

200 with the worker's result (`language`, `transcription`, `files`, `stats`...) and `jobId`; a body the
worker refuses is 400 and a failed job 500, both in the reference's `{"error", "message"}` shape; a job
still running when the gateway's sync cap passes is 202 with where to follow it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from video_ops.gateway import replies, schemas
from video_ops.gateway.backend import Backend, wait_final
from video_ops.gateway.intake import read_submission
from video_ops.gateway.watcher import Watcher
from video_ops.jobkit.contract import Operation

OPERATION = "transcribe"


def add_audio_routes(app: FastAPI, backend: Backend, watcher: Watcher, operations: dict[str, Operation],
                     guard: list[Any], sync_cap_s: float) -> None:
    async def transcribe(request: Request) -> JSONResponse:
        submission = await read_submission(request, OPERATION, operations, invalid_code=400)
        job_id = await watcher.submit(submission.job_input, OPERATION, submission.webhook)
        final = await wait_final(backend, job_id, sync_cap_s)
        headers = {"X-Job-Id": job_id}
        if final is None:
            return JSONResponse(replies.submitted(job_id, "IN_PROGRESS", OPERATION), 202, headers)
        if final.get("status") == "COMPLETED":
            return JSONResponse({"jobId": job_id, **(final.get("output") or {})}, 200, headers)
        return JSONResponse({"error": "Transcription failed", "message": replies.final_error(final),
                             "jobId": job_id, "status": final.get("status")}, 500, headers)

    extra = {"requestBody": schemas.request_body(operations[OPERATION])}
    app.add_api_route(f"/runpod/audio/{OPERATION}", transcribe, methods=["POST"], dependencies=guard,
                      openapi_extra=extra, tags=["current routes"], name="runpod_audio_transcribe",
                      summary="transcribe a sound and wait for the files (the reference's synchronous route)")
