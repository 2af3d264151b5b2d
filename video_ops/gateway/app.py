"""The guide's routes, generated from the worker's operation table.

Every refusal is `{"error": <title>, "message": <one sentence>}` (the reference's shape); a job's own
failure is `{"jobId", "status", "error": <the worker's sentence>}`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException

from video_ops.client import ClientError
from video_ops.gateway import replies, schemas
from video_ops.gateway.admin import add_admin_routes
from video_ops.gateway.audio import add_audio_routes
from video_ops.gateway.backend import Backend, UnknownJob, wait_final
from video_ops.gateway.current import add_current_routes
from video_ops.gateway.intake import Refusal, read_submission, unknown_operation_route
from video_ops.gateway.listing import add_listing_routes
from video_ops.gateway.page import add_page
from video_ops.gateway.service import add_service_route
from video_ops.gateway.store import Store
from video_ops.gateway.watcher import CALLBACK_ROUTE, LEASE_S, RETENTION_DAYS, Watcher
from video_ops.jobkit.contract import Operation

LOG = logging.getLogger("uvicorn.error")  # uvicorn's own log: configured, on stderr
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="one of VIDEO_OPS_API_KEYS")
Route = Callable[..., Awaitable[JSONResponse]]
MAX_CALLBACK_BYTES = 16 * 1024 * 1024  # a final status with a large batch's outputs


def create_app(
    backend: Backend, operations: dict[str, Operation], api_keys: list[str], sync_cap_s: float, store: Store,
    public_url: str | None = None, lease_s: float = LEASE_S, retention_days: float = RETENTION_DAYS,
    cpu: Backend | None = None,
) -> FastAPI:
    """The API over `backend`; with no `api_keys` every caller is let in (the command then binds loopback only).
    `store` keeps a record of every job and the webhooks owed; work left by an earlier run (or by an instance
    that stopped, on a shared database) is taken up when the server starts. With `public_url` (where the
    backend reaches this gateway) RunPod reports the end of jobs itself. With `cpu` the `/vps/...` routes' jobs
    run there (a CPU endpoint of the same image), else on `backend`."""
    watcher = Watcher(backend, store, public_url, lease_s, retention_days, cpu)
    hide_callback_tokens()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resumed = watcher.start()
        if resumed:
            LOG.info("resumed %d webhook(s) owed by an earlier run", resumed)
        yield
        await watcher.stop()
        await backend.close()
        if cpu is not None:
            await cpu.close()

    app = FastAPI(
        lifespan=lifespan,
        title="video-ops gateway",
        summary="The reference guide's REST API in front of the video-ops worker.",
        description="Submit jobs synchronously (`POST /video/<operation>`) or asynchronously "
        "(`POST /video/<operation>/async`), then follow them by id. Send `X-API-Key` on every route but /, /health "
        "and the /ui page.",
    )
    app.state.watcher = watcher
    guard = [Security(_key_check([key.encode() for key in api_keys]))]

    for name, operation in operations.items():
        extra = {"requestBody": schemas.request_body(operation)}
        for wait, path, summary in ((False, f"/video/{name}/async", "submit"), (True, f"/video/{name}", "run")):
            route = _submit_route(backend, watcher, name, operations, sync_cap_s if wait else None)
            app.add_api_route(path, route, methods=["POST"], dependencies=guard, openapi_extra=extra,
                              summary=f"{summary} a {name} job", tags=["jobs"], name=f"{summary}_{name}")
    unknown = unknown_operation_route(operations)
    for path in ("/video/{operation}/async", "/video/{operation}"):
        app.add_api_route(path, unknown, methods=["POST"], dependencies=guard, include_in_schema=False)

    async def job_status(job_id: str) -> JSONResponse:
        """RunPod's status: id, status, delayTime, executionTime, output (progress while running) or error."""
        view, record = await watcher.status(job_id)
        delivery = watcher.view(job_id, record) if record else None
        return JSONResponse(view if delivery is None else {**view, "webhook": delivery})

    async def job_result(job_id: str) -> JSONResponse:
        """202 while queued or running, 200 with the result when done, 410/500/504 when it ended without one."""
        code, body = replies.result_reply((await watcher.status(job_id))[0])
        return JSONResponse(body, code)

    async def cancel_job(job_id: str) -> JSONResponse:
        """Cancel a queued or running job: its FFmpeg is stopped and nothing is uploaded."""
        cancelled, state = await watcher.cancel(job_id)
        if cancelled:
            return JSONResponse({"message": "Job cancelled successfully", "jobId": job_id})
        raise Refusal(409, "Conflict", f"Job {job_id} already ended as {state}; it cannot be cancelled.")

    async def health() -> JSONResponse:
        """The gateway's and its backend's state (no key needed)."""
        try:
            counts = await backend.health()
        except ClientError as err:
            return JSONResponse({"status": "unavailable", "backend": backend.kind, "error": err.message}, 503)
        return JSONResponse({"status": "ok", "backend": backend.kind, **counts})

    for path, route, method, route_name in (
        ("/video/job/{job_id}", job_status, "GET", "job_status"),
        ("/job/{job_id}", job_status, "GET", "job_status_legacy"),
        ("/video/job/{job_id}/result", job_result, "GET", "job_result"),
        ("/job/{job_id}/cancel", cancel_job, "POST", "cancel_job"),
    ):
        app.add_api_route(path, route, methods=[method], dependencies=guard, tags=["jobs"], name=route_name)
    app.add_api_route("/health", health, methods=["GET"], tags=["service"])
    app.add_api_route(CALLBACK_ROUTE + "/{token}", _callback_route(watcher), methods=["POST"],
                      include_in_schema=False)
    add_current_routes(app, watcher, store, operations, guard)
    add_audio_routes(app, watcher, operations, guard, sync_cap_s)
    add_listing_routes(app, store, guard)
    endpoints = {"main": backend} if cpu is None else {"main": backend, "cpu": cpu}
    add_admin_routes(app, store, endpoints, list(operations), guard)
    add_page(app)
    add_service_route(app, list(operations), guard)
    _add_error_handlers(app)
    _describe_bodies(app, operations)
    return app


def _callback_route(watcher: Watcher) -> Route:
    """RunPod's webhook: no API key (RunPod sends none); the unguessable token in the path is the credential,
    checked before the body is read, and the body must be that job's final status."""

    async def runpod_callback(token: str, request: Request) -> JSONResponse:
        if not watcher.awaits_callback(token):
            return JSONResponse({"error": "Not Found", "message": "No job awaits this callback."}, 404)
        declared = request.headers.get("content-length", "")
        raw = await request.body() if declared.isdigit() and int(declared) <= MAX_CALLBACK_BYTES else b""
        try:
            status = json.loads(raw)
        except ValueError:
            status = None
        code, message = await watcher.callback(token, status)
        return JSONResponse({"message": message}, code)

    return runpod_callback


class _HideCallbackTokens(logging.Filter):
    """The access log shows callback paths without their token: a logged token could report a job's end."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and str(args[2]).startswith(CALLBACK_ROUTE + "/"):
            record.args = (*args[:2], CALLBACK_ROUTE + "/<token>", *args[3:])
        return True


def hide_callback_tokens() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(known, _HideCallbackTokens) for known in access.filters):
        access.addFilter(_HideCallbackTokens())


def _key_check(keys: list[bytes]) -> Callable[[str | None], Awaitable[None]]:
    async def require_key(key: str | None = Security(API_KEY)) -> None:
        if not keys:
            return
        given = (key or "").encode()
        # Every configured key is compared, in constant time, so timing tells nothing about any of them.
        matched = False
        for expected in keys:
            matched |= hmac.compare_digest(given, expected)
        if not matched:
            raise Refusal(401, "Unauthorized", "Invalid or missing API key")

    return require_key


def _submit_route(
    backend: Backend, watcher: Watcher, name: str, operations: dict[str, Operation], cap_s: float | None
) -> Route:
    """POST /video/<name>/async (cap_s None) or the synchronous POST /video/<name>, waiting at most cap_s."""

    async def submit(request: Request) -> JSONResponse:
        submission = await read_submission(request, name, operations)
        job_id = await watcher.submit(submission.job_input, name, submission.webhook)
        LOG.info("%s job %s submitted (%s)", name, job_id, "async" if cap_s is None else "sync")
        if cap_s is None:
            return JSONResponse(replies.submitted(job_id, "IN_QUEUE", name))
        final = await wait_final(backend, job_id, cap_s)
        if final is None:  # still running at the cap: the caller goes on polling; the job is not touched
            return JSONResponse(replies.submitted(job_id, "IN_PROGRESS", name), 202, {"X-Job-Id": job_id})
        if final.get("status") == "COMPLETED":
            return JSONResponse(final.get("output"), 200, {"X-Job-Id": job_id})
        code, body = replies.result_reply(final)
        return JSONResponse(body, code, {"X-Job-Id": job_id})

    return submit


def _add_error_handlers(app: FastAPI) -> None:
    def reply(code: int, error: str, message: str) -> JSONResponse:
        return JSONResponse({"error": error, "message": message}, code)

    async def refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refusal)
        return reply(exc.code, exc.error, exc.message)

    async def unknown_job(request: Request, exc: Exception) -> JSONResponse:
        return reply(404, "Not Found", f"Job {str(exc)[:128]!r} not found (unknown, or older than the backend keeps).")

    async def backend_down(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ClientError)
        return reply(502, "Bad Gateway", f"The job backend did not answer as expected: {exc.message}")

    async def bad_query(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        return reply(400, "Bad Request", f"{field}: {first.get('msg', 'invalid')}.")

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = f"No route {request.method} {request.url.path}." if exc.status_code in (404, 405) else exc.detail
        return reply(exc.status_code, str(exc.detail), str(message))

    app.add_exception_handler(Refusal, refused)
    app.add_exception_handler(UnknownJob, unknown_job)
    app.add_exception_handler(ClientError, backend_down)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_query)


def _describe_bodies(app: FastAPI, operations: dict[str, Operation]) -> None:
    """Add the operations' body schemas to the generated OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            document.setdefault("components", {}).setdefault("schemas", {}).update(schemas.body_schemas(operations))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
