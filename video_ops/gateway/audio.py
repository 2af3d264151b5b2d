"""The reference's synchronous sound routes: each answers when its job is done.

- `POST /runpod/audio/transcribe` and `/runpod/audio/transcribe-whisper` (the same operation; model `base`
  unless the body names one): 200 with the worker's result, `jobId`, and the reference's `code: 200`, `job_id`
  and `execution {startTime, endTime, durationMs, durationSeconds}`; a body the worker refuses is 400 and a
  failed job 500 (with `job_id` and `execution` too), both in the reference's `{"error", "message"}` shape.
- `POST /vps/audio/concatenate` and `/vps/audio/trilhasonora` (the worker's `audio_concatenate`, and
  `trilhasonora` under a sound file), on the CPU backend: 200 `{success: true, ..., processing_time_ms}`; 400
  `{success: false, error: "Validation error", message}`; 500 `{success: false, error, message,
  processing_time_ms}`.

A job still running when the gateway's sync cap passes is 202 with where to follow it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from video_ops.gateway import replies, schemas, webhooks
from video_ops.gateway.backend import wait_final
from video_ops.gateway.intake import Refusal, Translation, read_submission
from video_ops.gateway.watcher import Watcher
from video_ops.jobkit.contract import Operation

TRANSCRIBE = "transcribe"
WHISPER_DEFAULT_MODEL = "base"  # the reference's transcribe-whisper route
MAX_DB_OFFSET = 50.0
Reply = Callable[["Ran"], JSONResponse]
# The reference's bodies of its /vps/audio routes, for the OpenAPI document.
CONCATENATE_BODY = {"type": "object", "required": ["audio_urls"], "properties": {
    "audio_urls": {"type": "array", "minItems": 2, "items": {
        "type": "object", "required": ["audio_url"], "properties": {"audio_url": {"type": "string"}}}},
    "path": {"type": "string"}, "output_filename": {"type": "string", "default": "audio_concatenated.mp3"}}}
TRILHASONORA_BODY = {"type": "object", "required": ["audio_url", "trilha_sonora"], "properties": {
    "audio_url": {"type": "string"}, "trilha_sonora": {"type": "string"}, "path": {"type": "string"},
    "output_filename": {"type": "string", "default": "audio_with_trilha.mp3"},
    "db_offset": {"type": "number", "minimum": 0, "maximum": MAX_DB_OFFSET, "default": 30,
                  "description": "how far (dB) below the narration's loudness the music lies"}}}


@dataclass(frozen=True)
class Ran:
    """A job run to its end (or to the cap) for a synchronous route."""

    job_id: str
    final: dict[str, Any] | None  # RunPod's final status; None: still running at the cap
    started: datetime.datetime
    ended: datetime.datetime

    @property
    def execution(self) -> dict[str, Any]:
        """The reference's `execution`: the request's own start and end."""
        ms = round((self.ended - self.started).total_seconds() * 1000)
        return {"startTime": webhooks.iso(self.started), "endTime": webhooks.iso(self.ended), "durationMs": ms,
                "durationSeconds": round(ms / 1000, 3)}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def with_whisper_model(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return TRANSCRIBE, {"model": WHISPER_DEFAULT_MODEL, **body}


def concatenate_body(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "audio_concatenate", {"output_filename": "audio_concatenated.mp3", **body}


def trilhasonora_body(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The reference's `db_offset` (0-50, default 30): how far below the narration's loudness the music lies."""
    offset = body.pop("db_offset", 30)
    if isinstance(offset, bool) or not isinstance(offset, int | float) or not 0 <= offset <= MAX_DB_OFFSET:
        raise Refusal(400, "Invalid input", f"Invalid input: field 'db_offset' must be a number from 0 to "
                      f"{MAX_DB_OFFSET:g} (dB below the narration).")
    return "trilhasonora", {"output_filename": "audio_with_trilha.mp3", **body, "music_offset_lu": offset}


def add_audio_routes(app: FastAPI, watcher: Watcher, operations: dict[str, Operation], guard: list[Any],
                     sync_cap_s: float) -> None:
    def route(path: str, operation: str, translate: Translation | None, reply: Reply, on_cpu: bool,
              body: dict[str, Any], summary: str) -> None:
        """`body`: the route's OpenAPI requestBody."""
        async def run(request: Request) -> JSONResponse:
            started = _now()
            try:
                submission = await read_submission(request, operation, operations, invalid_code=400,
                                                   translate=translate)
            except Refusal as err:
                if not on_cpu:
                    raise
                return _validation_error(err)
            name = submission.job_input["operation"]
            job_id = await watcher.submit(submission.job_input, name, submission.webhook, on_cpu=on_cpu)
            final = await wait_final(watcher.chosen(on_cpu), job_id, sync_cap_s)
            ran = Ran(job_id, final, started, _now())
            if final is None:
                return JSONResponse(replies.submitted(job_id, "IN_PROGRESS", name), 202, {"X-Job-Id": job_id})
            answer = reply(ran)
            answer.headers["X-Job-Id"] = job_id
            return answer

        app.add_api_route(path, run, methods=["POST"], dependencies=guard, openapi_extra={"requestBody": body},
                          tags=["current routes"], name=path.strip("/").replace("/", "_").replace("-", "_"),
                          summary=summary)

    transcribe = schemas.request_body(operations[TRANSCRIBE])
    for path, translate in ((f"/runpod/audio/{TRANSCRIBE}", None), ("/runpod/audio/transcribe-whisper",
                                                                    with_whisper_model)):
        route(path, TRANSCRIBE, translate, _transcription, False, transcribe,
              "transcribe a sound and wait for the files (the reference's synchronous route)")
    route("/vps/audio/concatenate", "audio_concatenate", concatenate_body, _sound, True, _json(CONCATENATE_BODY),
          "join sound files end to end on the CPU backend and wait for the file (`audio_urls`)")
    route("/vps/audio/trilhasonora", "trilhasonora", trilhasonora_body, _sound, True, _json(TRILHASONORA_BODY),
          "lay music under a sound file on the CPU backend and wait for the file (`audio_url`, `trilha_sonora`, "
          "`db_offset`)")


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _transcription(ran: Ran) -> JSONResponse:
    final = ran.final or {}
    if final.get("status") == "COMPLETED":
        return JSONResponse({"code": 200, "jobId": ran.job_id, "job_id": ran.job_id, **(final.get("output") or {}),
                             "execution": ran.execution}, 200)
    return JSONResponse({"error": "Transcription failed", "message": replies.final_error(final), "jobId": ran.job_id,
                         "job_id": ran.job_id, "status": final.get("status"), "execution": ran.execution}, 500)


def _sound(ran: Ran) -> JSONResponse:
    final = ran.final or {}
    elapsed = ran.execution["durationMs"]
    if final.get("status") == "COMPLETED":
        return JSONResponse({**(final.get("output") or {}), "success": True, "processing_time_ms": elapsed}, 200)
    return JSONResponse({"success": False, "error": "Processing error", "message": replies.final_error(final),
                         "processing_time_ms": elapsed}, 500)


def _validation_error(err: Refusal) -> JSONResponse:
    error = "Validation error" if err.code in (400, 422) else err.error
    return JSONResponse({"success": False, "error": error, "message": err.message}, err.code)
