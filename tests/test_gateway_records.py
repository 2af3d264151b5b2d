"""The gateway's job records, on SQLite and on PostgreSQL alike: old jobs answer from the record after the
backend forgot them, retention prunes, `GET /jobs` lists, filters and pages, secrets are never stored,
a file written by the first gateway keeps its rows through the schema upgrade, and the queue stats count
what is pending and what ended within the hour."""

from __future__ import annotations

import datetime
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from tests.endpoint import wait_until
from tests.helpers import REPO
from tests.test_gateway import gateway_env
from video_ops.client import Client
from video_ops.gateway import schema
from video_ops.gateway.admin import WINDOW_S, queue_stats
from video_ops.gateway.app import create_app
from video_ops.gateway.backend import Backend
from video_ops.gateway.store import Store
from video_ops.local_endpoint.server import LocalEndpoint
from video_ops.ops import OPERATIONS

KEY = "records-key"
HEADERS = {"X-API-Key": KEY}
ADDAUDIO = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
            "path": "records"}
DAY_S = 86400.0


class Clock:
    """The real time, moved forward on demand."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    """The local endpoint in this process (so its clock can be moved), with one real worker."""
    tmp = tmp_path_factory.mktemp("records")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in gateway_env(tmp).items():
            patch.setenv(name, value)
        local = LocalEndpoint("127.0.0.1", 0, 1, str(REPO / "handler.py"))
        stop = threading.Event()
        assert local.start(stop), "the local endpoint's worker did not start"
        yield local
        stop.set()
        local.close()


def record_status(store: Store, job_id: str) -> str:
    record = store.get(job_id)
    return record.status if record else ""


def test_an_ended_job_answers_from_its_record_after_the_backend_forgot_it_until_retention_prunes(
    endpoint: LocalEndpoint, database: str | Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(endpoint.queue, "clock", clock)
    store = Store(database, clock=clock)
    backend = Backend(Client("local", base_url=endpoint.api_url), "local endpoint")
    app = create_app(backend, OPERATIONS, [KEY], 60, store, retention_days=30)
    with TestClient(app) as client:
        done = client.post("/video/addaudio/async", json={**ADDAUDIO, "output_filename": "kept.mp4"},
                           headers=HEADERS).json()["jobId"]
        failed = client.post("/runpod/video/addaudio", json={**ADDAUDIO, "url_video": "file:samples/none.mp4",
                                                              "id_roteiro": 41}, headers=HEADERS).json()["jobId"]
        reader = Store(database)  # its own connection: the gateway's is used by the server's thread
        for job in (done, failed):
            wait_until(lambda job=job: record_status(reader, job) in ("COMPLETED", "FAILED"), 90,
                       f"the record of {job} never saw its end", interval=0.2)
        fresh = client.get(f"/video/job/{done}", headers=HEADERS).json()

        clock.advance(2 * 3600)  # two hours later: the backend (RunPod keeps results 30 minutes) forgot both
        endpoint.queue.sweep()
        forgotten = requests.get(f"{endpoint.api_url}/local/status/{done}", timeout=10).status_code
        later = client.get(f"/video/job/{done}", headers=HEADERS)
        result = client.get(f"/video/job/{done}/result", headers=HEADERS)
        failure = client.get(f"/video/job/{failed}/result", headers=HEADERS)
        current = client.get(f"/jobs/{failed}", headers=HEADERS).json()
        cancel = client.post(f"/jobs/{failed}/cancel", headers=HEADERS)

        clock.advance(30 * DAY_S)  # past the 30 days kept since they ended
        app.state.watcher.prune()
        pruned = [client.get(f"/video/job/{job}", headers=HEADERS).status_code for job in (done, failed)]
        listed = client.get("/jobs", headers=HEADERS).json()["jobs"]

    assert forgotten == 404
    assert later.status_code == 200 and later.json()["status"] == "COMPLETED"
    assert later.json()["output"] == fresh["output"] and fresh["output"]["s3_key"] == "records/kept.mp4"
    assert result.status_code == 200 and result.json()["result"] == fresh["output"]
    assert failure.status_code == 500 and failure.json()["error"].startswith("url_video: ")
    assert (current["status"], current["idRoteiro"], current["error"]) == ("FAILED", 41, failure.json()["error"])
    assert cancel.status_code == 400  # it ended: the record says so, though the backend forgot it
    assert pruned == [404, 404] and listed == []


def add_job(store: Store, clock: Clock, job_id: str, operation: str, script: Any, final: str | None,
            **extra: Any) -> None:
    clock.advance(1.0)
    store.add(job_id, operation, script, {"operation": operation, **extra}, None, None, 30)
    if final is not None:
        outcome = {"output": {"video_url": f"https://cdn.example.com/{job_id}.mp4"}} if final == "COMPLETED" \
            else {"error": f"{job_id} failed"}
        store.end(job_id, {"id": job_id, "status": final, **outcome}, None, None, "test", 30)


@pytest.fixture
def listed(database: str | Path) -> Iterator[tuple[TestClient, Store, Clock]]:
    """A gateway over 120 recorded jobs (their backend is never asked: nothing listens there)."""
    clock = Clock()
    clock.advance(-1000)
    store = Store(database, clock=clock)
    finals = ("COMPLETED", "FAILED", None)
    for n in range(120):
        operation = ("addaudio", "caption", "img2vid")[n % 3]
        add_job(store, clock, f"job-{n:03d}", operation, n % 10 if n % 2 else f"script-{n % 10}", finals[n % 4 % 3])
    backend = Backend(Client("none", base_url="http://127.0.0.1:9/v2"), "nowhere")
    with TestClient(create_app(backend, OPERATIONS, [KEY], 60, store)) as client:
        yield client, store, clock


def pages(client: TestClient, query: str) -> list[dict[str, Any]]:
    """Every job of a listing, following its cursor page by page."""
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        answer = client.get(f"/jobs?{query}{cursor}", headers=HEADERS)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += body["jobs"]
        if body["nextCursor"] is None:
            return found
        cursor = f"&cursor={body['nextCursor']}"


def ids(jobs: list[dict[str, Any]]) -> list[str]:
    return [job["jobId"] for job in jobs]


def test_the_listing_is_newest_first_paged_and_filtered(listed: tuple[TestClient, Store, Clock]) -> None:
    client, store, _clock = listed
    first = client.get("/jobs", headers=HEADERS).json()
    every = pages(client, "limit=7")
    since = store.get("job-100")
    assert since is not None
    moment = datetime.datetime.fromtimestamp(since.created - 0.5, datetime.timezone.utc).isoformat().replace("+", "%2B")

    assert ids(first["jobs"]) == [f"job-{n:03d}" for n in range(119, 69, -1)] and first["nextCursor"]
    assert ids(every) == [f"job-{n:03d}" for n in range(119, -1, -1)]  # each once, in order, across 18 pages
    assert ids(pages(client, "status=FAILED&limit=10")) == [f"job-{n:03d}" for n in range(119, -1, -1)
                                                             if n % 4 % 3 == 1]
    assert {job["status"] for job in pages(client, "status=QUEUED")} == {"IN_QUEUE"}  # the reference's name
    assert {job["operation"] for job in pages(client, "operation=caption")} == {"caption"}
    assert ids(pages(client, "id_roteiro=7")) == [f"job-{n:03d}" for n in range(119, -1, -1) if n % 10 == 7]
    assert ids(pages(client, "id_roteiro=script-4&operation=addaudio")) == ["job-114", "job-084", "job-054",
                                                                           "job-024"]
    assert ids(pages(client, f"since={moment}")) == [f"job-{n:03d}" for n in range(119, 99, -1)]
    done = first["jobs"][3]
    assert (done["jobId"], done["status"], done["result"]) == ("job-116", "COMPLETED",
                                                               {"video_url": "https://cdn.example.com/job-116.mp4"})


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "status=DONE", "cursor=%21%21", "since=yesterday"])
def test_a_bad_listing_query_is_a_400_naming_the_field(listed: tuple[TestClient, Store, Clock], query: str) -> None:
    client, _store, _clock = listed
    answer = client.get(f"/jobs?{query}", headers=HEADERS)
    assert answer.status_code == 400 and answer.json()["message"].startswith(query.split("=")[0] + ": ")


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_the_listing_needs_the_key(listed: tuple[TestClient, Store, Clock], key: str | None) -> None:
    client, _store, _clock = listed
    for path in ("/jobs", "/jobs/job-001/record"):
        answer = client.get(path, headers={"X-API-Key": key} if key else {})
        assert answer.status_code == 401 and "job-" not in answer.text


def test_the_listing_is_in_the_openapi_schema(listed: tuple[TestClient, Store, Clock]) -> None:
    client, _store, _clock = listed
    route = client.get("/openapi.json").json()["paths"]["/jobs"]["get"]
    assert {parameter["name"] for parameter in route["parameters"]} == {"status", "operation", "id_roteiro", "since",
                                                                        "limit", "cursor"}


def test_bucket_keys_are_never_stored(listed: tuple[TestClient, Store, Clock], database: str | Path) -> None:
    client, store, clock = listed
    s3 = {"endpoint_url": "https://s3.example.com", "bucket_name": "theirs", "access_key": "AKIA-VISIBLE-NOT",
          "secret_key": "very-secret-value"}
    add_job(store, clock, "with-bucket", "addaudio", None, None, s3_config=s3)
    shown = client.get("/jobs/with-bucket/record", headers=HEADERS).json()["input"]["s3_config"]
    raw = str(store.db.rows("SELECT * FROM job_records WHERE job_id = 'with-bucket'"))
    assert shown == {**s3, "access_key": "[redacted]", "secret_key": "[redacted]"}
    assert "very-secret-value" not in raw and "AKIA-VISIBLE-NOT" not in raw


FIRST_SCHEMA = """
CREATE TABLE webhooks (job_id VARCHAR(128) PRIMARY KEY, operation VARCHAR(64) NOT NULL, id_roteiro TEXT,
    url TEXT NOT NULL, on_cancel INTEGER NOT NULL, submitted VARCHAR(40) NOT NULL, body BLOB, headers TEXT,
    status VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL, last_error TEXT, callback VARCHAR(64) UNIQUE);
CREATE TABLE splits (job_id VARCHAR(128) PRIMARY KEY, parts TEXT NOT NULL);
CREATE TABLE jobs (job_id VARCHAR(128) PRIMARY KEY, operation VARCHAR(64) NOT NULL, id_roteiro TEXT,
    created VARCHAR(40) NOT NULL);
INSERT INTO webhooks VALUES ('owed', 'addaudio', '"r-9"', 'https://hooks.example.com/a', 0,
    '2026-01-02T03:04:05+00:00', NULL, NULL, 'pending', 0, NULL, NULL);
INSERT INTO webhooks VALUES ('sent', 'caption', 'null', 'https://hooks.example.com/b', 0, '2026-01-02T03:00:00+00:00',
    X'7B226A6F624964223A2273656E74222C22737461747573223A22434F4D504C45544544222C22726573756C74223A7B2278223A317D7D',
    '{"X-Webhook-JobId": "sent"}', 'delivered', 1, NULL, NULL);
INSERT INTO splits VALUES ('split-1', '[["part-a", 0, 20], ["part-b", 20, 5]]');
INSERT INTO jobs VALUES ('tracked', 'img2vid', '7', '2026-01-02T02:00:00+00:00');
"""


def test_a_file_of_the_first_gateway_keeps_its_rows_through_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "gateway.sqlite"
    with sqlite3.connect(path) as old:
        old.executescript(FIRST_SCHEMA)
    store = Store(path)
    again = Store(path)
    owed, sent, tracked = (store.get(job) for job in ("owed", "sent", "tracked"))

    assert (store.upgraded_from, again.upgraded_from) == (0, schema.LATEST)
    assert owed is not None and (owed.status, owed.id_roteiro, owed.webhook_status) == ("IN_QUEUE", "r-9", "pending")
    assert sent is not None and (sent.status, sent.output, sent.webhook_status) == ("COMPLETED", {"x": 1}, "delivered")
    assert tracked is not None and (tracked.operation, tracked.id_roteiro) == ("img2vid", 7)
    assert store.split("split-1") == [("part-a", 0, 20), ("part-b", 20, 5)]
    store.save_render_split("split-2", {"plan_id": "p", "parts": [["a", 0, 30]]})  # version 2's table
    store.save_render_split("split-2", {"plan_id": "p", "parts": [["a", 0, 30]], "last_id": "j"})
    assert again.render_split("split-2") == {"plan_id": "p", "parts": [["a", 0, 30]], "last_id": "j"}
    assert {record.job_id for record in store.claim("next", 30)} == {"owed", "tracked"}  # followed again at once


def test_a_split_renders_state_is_kept_and_replaced_on_both_databases(database: str | Path) -> None:
    """The gateway moves a split render on by rewriting its state; any instance reads the latest."""
    first, other = Store(database), Store(database)
    first.save_render_split("split-r", {"plan_id": "plan-1", "parts": []})
    first.save_render_split("split-r", {"plan_id": "plan-1", "parts": [["part-1", 0, 75], ["part-2", 75, 150]]})
    assert other.render_split("split-r") == {"plan_id": "plan-1", "parts": [["part-1", 0, 75], ["part-2", 75, 150]]}
    assert other.render_split("split-unknown") is None
    first.close()
    other.close()


def test_work_is_taken_over_only_once_its_lease_ran_out_on_both_databases(database: str | Path) -> None:
    """An instance that keeps renewing keeps its work; another takes it only after the lease ran out, and the
    first then knows it lost it (it stops delivering)."""
    clock = Clock()
    first, other = Store(database, clock=clock), Store(database, clock=clock)
    first.add("held", "addaudio", None, {}, ("http://127.0.0.1:9/hook", False), "first", 30)
    assert other.claim("other", 30) == []
    clock.advance(20)
    assert first.renew("first", 30) == 1
    clock.advance(20)  # 40 s after the submit, 20 s after the renewal: still held
    assert other.claim("other", 30) == []
    clock.advance(11)
    taken = other.claim("other", 30)
    assert [(record.job_id, record.owner) for record in taken] == [("held", "other")]
    assert other.claim("third", 30) == [] and not first.holds("held", "first", 30)
    first.close()
    other.close()


def test_queue_stats_count_pending_jobs_and_those_that_ended_within_the_hour_on_both_databases(
    database: str | Path,
) -> None:
    clock = Clock()
    store = Store(database, clock=clock)
    add_job(store, clock, "ended-long-ago", "addaudio", None, "COMPLETED")
    add_job(store, clock, "waiting-long", "caption", None, None)  # queued for over an hour: still counted
    clock.advance(WINDOW_S / 2)
    for job_id, operation, final in (("failed", "addaudio", "FAILED"), ("timed-out", "addaudio", "TIMED_OUT"),
                                     ("cancelled", "img2vid", "CANCELLED"), ("done", "caption", "COMPLETED"),
                                     ("waiting", "img2vid", None), ("style", "caption_style", "COMPLETED")):
        add_job(store, clock, job_id, operation, None, final)
    store.add("running", "img2vid", None, {}, None, "test", 30)
    assert store.seen("running", "test", {"status": "IN_PROGRESS", "executionTime": 500})
    old = store.get("ended-long-ago")
    assert old is not None and old.ended is not None

    def stats(now: float) -> dict[str, Any]:
        return queue_stats(store.tally(now - WINDOW_S), list(OPERATIONS), now)

    edge, past = stats(old.ended + WINDOW_S), stats(old.ended + WINDOW_S + 0.01)
    store.close()

    moved = {operation: {state: n for state, n in found.items() if n} for operation, found in edge["operations"].items()
             if any(found.values())}
    assert moved == {
        "addaudio": {"completed": 1, "failed": 2}, "caption": {"queued": 1, "completed": 1},
        "img2vid": {"cancelled": 1, "queued": 1, "running": 1}, "caption_style": {"completed": 1}}
    assert list(edge["operations"]) == [*OPERATIONS, "caption_style"]  # a route's own name, after the registry's
    assert edge["totals"] == {"queued": 2, "running": 1, "completed": 3, "failed": 2, "cancelled": 1}
    assert past["totals"] == {**edge["totals"], "completed": 2}  # "ended-long-ago" left the window
