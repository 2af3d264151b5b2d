"""`GET /jobs`: the gateway's job records, newest first, filtered and paginated; and one job's whole record.

Pages are cut by keyset (the last job's creation time and id, as an opaque cursor), so a page costs
the same however deep it is and a job created meanwhile never shifts the next page.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

from video_ops.gateway.backend import UnknownJob
from video_ops.gateway.intake import Refusal
from video_ops.gateway.store import Listing, Record, Store
from video_ops.gateway.watcher import moment
from video_ops.gateway.webhooks import iso

STATES = ("IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")
ALIASES = {"QUEUED": "IN_QUEUE", "PROCESSING": "IN_PROGRESS"}  # the reference's names
MAX_LIMIT = 500


def item(record: Record) -> dict[str, Any]:
    """A job as the listing shows it: what it was asked (secrets redacted), where it stands, what came of it."""
    def when(epoch: float | None) -> str | None:
        return iso(moment(epoch)) if epoch is not None else None

    delivery = record.delivery()
    return {
        "jobId": record.job_id, "operation": record.operation, "idRoteiro": record.id_roteiro,
        "status": record.status, "createdAt": when(record.created), "startedAt": when(record.started),
        "endedAt": when(record.ended), "progress": record.progress if record.pending else None,
        "input": record.job_input, "result": record.output, "error": record.error,
        "webhook": None if delivery is None else {"url": record.webhook_url, **delivery.view()},
    }


def _cursor(record: Record) -> str:
    return base64.urlsafe_b64encode(json.dumps([record.created, record.job_id]).encode()).decode()


def _after(cursor: str | None) -> tuple[float, str] | None:
    if not cursor:
        return None
    try:
        created, job_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(created), str(job_id)
    except (ValueError, TypeError, binascii.Error):
        raise Refusal(400, "Bad Request", "cursor: not a cursor this listing gave.") from None


def _since(since: str | None) -> float | None:
    if not since:
        return None
    try:
        moment_ = datetime.datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise Refusal(400, "Bad Request", f"since: {since[:40]!r} is not an ISO 8601 time.") from None
    if moment_.tzinfo is None:
        moment_ = moment_.replace(tzinfo=datetime.timezone.utc)
    return moment_.timestamp()


def _statuses(status: str | None) -> tuple[str, ...] | None:
    if not status:
        return None
    wanted = tuple(ALIASES.get(name, name) for name in (part.strip().upper() for part in status.split(",")) if name)
    unknown = [name for name in wanted if name not in STATES]
    if unknown:
        raise Refusal(400, "Bad Request", f"status: unknown {unknown[0][:20]!r}; valid: {', '.join(STATES)}.")
    return wanted


def _scripts(id_roteiro: str | None) -> tuple[str, ...] | None:
    """The stored (JSON) forms of an `id_roteiro` given in a query string: the string, and the number it spells."""
    if id_roteiro is None:
        return None
    forms = [json.dumps(id_roteiro)]
    if id_roteiro.lstrip("-").isdigit():
        forms.append(json.dumps(int(id_roteiro)))
    return tuple(forms)


def add_listing_routes(app: FastAPI, store: Store, guard: list[Any]) -> None:
    async def list_jobs(
        status: str | None = Query(None, description="IN_QUEUE, IN_PROGRESS, COMPLETED, FAILED, CANCELLED or "
                                   "TIMED_OUT (QUEUED and PROCESSING too); several comma-separated"),
        operation: str | None = Query(None, description="the operation, e.g. addaudio"),
        id_roteiro: str | None = Query(None, description="the reference's script id the job was sent with"),
        since: str | None = Query(None, description="jobs created at or after this ISO 8601 time"),
        limit: int = Query(50, ge=1, le=MAX_LIMIT, description="jobs per page"),
        cursor: str | None = Query(None, description="`nextCursor` of the previous page"),
    ) -> JSONResponse:
        """The gateway's jobs, newest first: `{"jobs": [...], "nextCursor"}` (null on the last page)."""
        wanted = Listing(_statuses(status), operation or None, _scripts(id_roteiro), _since(since))
        records = store.listing(wanted, limit + 1, _after(cursor))
        page = records[:limit]
        more = len(records) > limit
        return JSONResponse({"jobs": [item(record) for record in page],
                             "nextCursor": _cursor(page[-1]) if more else None})

    async def job_record(job_id: str) -> JSONResponse:
        """One job's whole record, with every webhook attempt (when, and what the receiver answered)."""
        record = store.get(job_id)
        if record is None:
            raise UnknownJob(job_id)
        view = item(record)
        if view["webhook"] is not None:
            view["webhook"]["history"] = [{**attempt, "at": iso(moment(attempt["at"]))}
                                          for attempt in store.attempts(job_id)]
        return JSONResponse(view)

    app.add_api_route("/jobs", list_jobs, methods=["GET"], dependencies=guard, tags=["jobs"], name="list_jobs")
    app.add_api_route("/jobs/{job_id}/record", job_record, methods=["GET"], dependencies=guard, tags=["jobs"],
                      name="job_record")
