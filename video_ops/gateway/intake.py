"""What a submit brings: its body read within limits, checked with the worker's model, and the reference's
extra fields (webhook, script id) taken out for the gateway."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from video_ops.base.errors import JobError
from video_ops.gateway.watcher import Webhook
from video_ops.gateway.webhooks import WebhookRefused, check_target
from video_ops.jobkit.contract import Operation, parse_input

MAX_BODY_BYTES = 1024 * 1024


class Refusal(Exception):
    """A request the gateway answers itself, with an HTTP code and one sentence."""

    def __init__(self, code: int, error: str, message: str) -> None:
        super().__init__(message)
        self.code, self.error, self.message = code, error, message


@dataclass(frozen=True)
class Submission:
    job_input: dict[str, Any]  # what the worker receives
    webhook: Webhook | None
    id_roteiro: str | int | None  # the reference's script id, echoed back


Translation = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


async def read_submission(
    request: Request, name: str, operations: dict[str, Operation], invalid_code: int = 422, with_script: bool = False,
    translate: Translation | None = None,
) -> Submission:
    """The body as the worker's input for `name`, checked with the worker's model before anything is queued
    (refused with `invalid_code`), less what the gateway keeps for itself: the reference's `webhook_url`
    and `webhook_on_cancel`, and with `with_script` its `id_roteiro`. `translate` turns a body of a route
    the worker has no operation for into (operation, input)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refusal(413, "Payload Too Large", f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise Refusal(413, "Payload Too Large", f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise Refusal(400, "Bad Request", f"The request body is not valid JSON: {err}.") from None
    if not isinstance(body, dict):
        raise Refusal(400, "Bad Request", "The request body must be a JSON object (the job's input).")
    if body.get("operation", name) != name:
        raise Refusal(422, "Invalid input", f"Invalid input: field 'operation' must be '{name}' on this route, "
                      "or left out (the route names the operation).")
    webhook = await _webhook(body.pop("webhook_url", None), body.pop("webhook_on_cancel", False))
    script = body.pop("id_roteiro", None) if with_script else None
    if script is not None and not isinstance(script, str | int):
        raise Refusal(400, "Bad Request", "id_roteiro must be a string or a number.")
    if translate is not None:
        name, body = translate(body)
    job_input = {**body, "operation": name}
    try:
        parse_input(job_input, operations)
    except JobError as err:
        raise Refusal(invalid_code, "Invalid input", str(err)) from None
    return Submission(job_input, webhook, script)


async def _webhook(url: Any, on_cancel: Any) -> Webhook | None:
    if url is None:
        return None
    if not isinstance(url, str) or not isinstance(on_cancel, bool):
        raise Refusal(400, "Bad Request", "webhook_url must be a string and webhook_on_cancel true or false.")
    try:
        await check_target(url)
    except WebhookRefused as err:
        raise Refusal(400, "Bad Request", str(err)) from None
    return Webhook(url, on_cancel)


def unknown_operation_route(operations: dict[str, Operation]) -> Callable[[str], Awaitable[JSONResponse]]:
    """A catch-all for /video/<name> and /runpod/video/<name>, registered after the real ones."""
    async def unknown(operation: str) -> JSONResponse:
        valid = ", ".join(sorted(operations))
        raise Refusal(404, "Not Found", f"Unknown operation {operation[:40]!r}; valid operations: {valid}.")

    return unknown
