"""The local endpoint driving real SDK worker processes (tests/handlers/sleepy_handler.py) via the client."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.endpoint import SLEEPY, LocalEndpoint, alive, command_name, descendants, wait_until
from tests.helpers import REPO
from video_ops.client import ClientError, JobCancelled, JobFailed, JobNotReady, JobTimedOut


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    """Two workers shared by the tests of this module."""
    tmp = tmp_path_factory.mktemp("endpoint")
    with LocalEndpoint(SLEEPY, 2, tmp / "endpoint.log", {"SLEEPY_LOG": str(tmp / "ran.txt")}) as running:
        yield running


def ran(endpoint: LocalEndpoint) -> list[str]:
    """Ids of the jobs the handler started, in order, repeats included."""
    return Path(endpoint.env["SLEEPY_LOG"]).read_text().split()


def child_pid(endpoint: LocalEndpoint, job: str) -> int:
    pid_file = Path(f"{endpoint.env['SLEEPY_LOG']}.{job}.pid")
    text = wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 15, "the job started no child")
    return int(text)


def test_a_job_goes_from_queue_through_progress_to_completed(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()
    for _ in range(2):  # both workers busy, so the next job has to queue
        client.submit({"steps": 4, "step_s": 0.4})
    job = client.submit({"steps": 5, "step_s": 0.3})

    with pytest.raises(JobNotReady) as not_ready:
        client.result(job)
    updates: list[dict] = []
    output = client.wait(job, timeout=30, on_update=updates.append)

    assert not_ready.value.status["status"] == "IN_QUEUE"
    states = [u["status"] for u in updates]
    assert (states[0], states[-1]) == ("IN_QUEUE", "COMPLETED")
    progress = [u["output"] for u in updates if u["status"] == "IN_PROGRESS" and "output" in u]
    assert progress and all(p["stage"] == "sleeping" for p in progress)
    assert output == {"slept": 5, "job": job, "s3Config": None}
    final = client.status(job)
    assert {"delayTime", "executionTime"} <= final.keys()
    assert final["workerId"].startswith("local-worker-")


def test_a_failed_job_carries_the_handlers_error(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()
    returned = client.submit({"error": "url_video: 404 Not Found"})
    raised = client.submit({"raise": "exploded"})

    with pytest.raises(JobFailed) as returned_error:
        client.wait(returned, timeout=30)
    with pytest.raises(JobFailed) as raised_error:
        client.wait(raised, timeout=30)

    assert returned_error.value.error == "url_video: 404 Not Found"
    assert client.status(returned)["error"] == "url_video: 404 Not Found"
    assert raised_error.value.error == "exploded"  # decoded from the SDK's JSON string with the traceback
    assert "Traceback" in json.loads(raised_error.value.status["error"])["error_traceback"]


def test_cancel_stops_the_running_job_and_its_child_then_the_worker_goes_on(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()
    job = client.submit({"child_s": 60})
    pid = child_pid(endpoint, job)
    worker = client.status(job)["workerId"]

    assert client.cancel(job)["status"] == "CANCELLED"

    wait_until(lambda: not alive(pid), 2, "the child process outlived its cancelled job")
    with pytest.raises(JobCancelled):
        client.result(job)
    after = [client.submit({"steps": 3, "step_s": 0.3}) for _ in range(2)]  # two at once need both workers
    for later in after:
        client.wait(later, timeout=30)
    assert worker in {client.status(later)["workerId"] for later in after}


def test_twenty_jobs_on_two_workers_all_run_exactly_once(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()
    jobs = [client.submit({"steps": 1, "step_s": 0.05}) for _ in range(20)]

    outputs = [client.wait(job, timeout=60) for job in jobs]

    assert [output["job"] for output in outputs] == jobs
    assert sorted(job for job in ran(endpoint) if job in set(jobs)) == sorted(jobs)
    assert len({client.status(job)["workerId"] for job in jobs}) == 2
    health = client.health()
    assert health["jobs"]["inQueue"] == 0
    assert health["jobs"]["completed"] >= 20
    assert health["workers"]["idle"] + health["workers"]["running"] == 2


def test_retry_queues_a_failed_job_again(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()
    job = client.submit({"error": "try again"})
    with pytest.raises(JobFailed):
        client.wait(job, timeout=30)

    assert client.retry(job) == {"id": job, "status": "IN_QUEUE"}
    with pytest.raises(JobFailed, match="try again"):
        client.wait(job, timeout=30)

    assert ran(endpoint).count(job) == 2
    assert client.health()["jobs"]["retried"] >= 1
    done = client.submit({})
    client.wait(done, timeout=30)
    with pytest.raises(ClientError) as refused:
        client.retry(done)
    assert refused.value.status_code == 400


def test_runsync_answers_with_the_output_or_goes_on_polling(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()
    updates: list[dict] = []

    quick = client.run_sync({"steps": 1, "step_s": 0.05}, wait_s=30)
    slow = client.run_sync({"steps": 4, "step_s": 0.3}, wait_s=0.2, on_update=updates.append)

    assert quick["slept"] == 1
    assert quick["job"].startswith("sync-")
    assert slow["slept"] == 4
    assert updates[0]["status"] in ("IN_QUEUE", "IN_PROGRESS")


def test_unknown_jobs_are_404(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()

    for call in (client.status, client.cancel, client.retry):
        with pytest.raises(ClientError) as missing:
            call("no-such-job")
        assert (missing.value.status_code, missing.value.message) == (404, "job no-such-job not found")


def test_purge_queue_drops_queued_jobs_only(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()
    running = [client.submit({"steps": 3, "step_s": 0.3}) for _ in range(2)]
    wait_until(lambda: all(client.status(job)["status"] == "IN_PROGRESS" for job in running), 10, "workers idle")
    queued = [client.submit({}) for _ in range(3)]

    purged = requests.post(f"{endpoint.url}/purge-queue", timeout=10).json()

    assert purged == {"removed": 3, "status": "completed"}
    assert {client.status(job)["status"] for job in queued} == {"CANCELLED"}
    for job in running:
        client.wait(job, timeout=30)


def test_execution_timeout_policy_stops_the_job(endpoint: LocalEndpoint) -> None:
    client = endpoint.client()
    job = client.submit({"child_s": 60}, policy={"executionTimeout": 500})
    pid = child_pid(endpoint, job)

    with pytest.raises(JobTimedOut):
        client.wait(job, timeout=30)
    wait_until(lambda: not alive(pid), 2, "the child process outlived its timed-out job")


def test_the_webhook_receives_the_final_status_as_runpod_sends_it(endpoint: LocalEndpoint) -> None:
    """RunPod POSTs the status route's JSON, and tries again (10 s later) after anything but a 200."""
    received: queue.Queue[dict] = queue.Queue()
    codes = [500]

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.put(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(codes.pop(0) if codes else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, args=(0.05,), daemon=True).start()
    try:
        client = endpoint.client()
        job = client.submit({}, webhook=f"http://127.0.0.1:{hook.server_address[1]}/done")
        first, again = received.get(timeout=30), received.get(timeout=30)
        time.sleep(0.5)  # a third post would come now
    finally:
        hook.shutdown()
        hook.server_close()

    assert received.empty() and first == again
    assert first == client.status(job)  # the same JSON as GET /status: id, status, delayTime, executionTime...
    assert (first["id"], first["status"]) == (job, "COMPLETED") and first["output"]["job"] == job


def test_a_worker_that_dies_fails_its_job_and_is_replaced(tmp_path: Path) -> None:
    log = tmp_path / "ran.txt"
    with LocalEndpoint(SLEEPY, 1, tmp_path / "endpoint.log", {"SLEEPY_LOG": str(log)}) as endpoint:
        client = endpoint.client()
        crashed = client.submit({"crash": True})
        with pytest.raises(JobFailed, match="exited with code 3 while running this job"):
            client.wait(crashed, timeout=30)

        after = client.submit({"steps": 1})
        assert client.wait(after, timeout=60)["job"] == after
        assert client.status(after)["workerId"] != client.status(crashed)["workerId"]

        busy = client.submit({"child_s": 60})  # stopping the endpoint must not leave this behind
        pid = child_pid(endpoint, busy)
    assert not alive(pid)


def test_the_endpoint_exits_when_a_worker_cannot_start(tmp_path: Path) -> None:
    broken = tmp_path / "broken_handler.py"
    broken.write_text("raise SystemExit(5)\n")

    done = subprocess.run(
        [sys.executable, "-m", "video_ops.local_endpoint", "--port", "0", "--handler", str(broken)],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert "exited with code 5 before taking a job" in done.stderr


def test_help_says_development_only() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "video_ops.local_endpoint", "--help"], capture_output=True, text=True, check=True
    )

    assert "FOR DEVELOPMENT ONLY" in done.stdout
    assert "127.0.0.1" in done.stdout
    assert "not checked" in done.stdout


def test_a_killed_endpoint_takes_its_workers_and_their_ffmpeg_with_it(tmp_path: Path) -> None:
    """SIGKILL leaves no cleanup to the endpoint: its workers end themselves, or they would poll the dead
    address for ever (the SDK retries at once, at half a core each)."""
    env = {"VIDEO_OPS_ALLOW_FILE_URLS": "1", "VIDEO_OPS_OUTPUT_DIR": str(tmp_path / "output"),
           "VIDEO_OPS_WORKDIR": str(tmp_path / "work"), "VIDEO_OPS_ENCODER": "x264", "BUCKET_NAME": ""}
    with LocalEndpoint(REPO / "handler.py", 2, tmp_path / "endpoint.log", env) as endpoint:
        image = {"id": "long", "image_url": (REPO / "samples" / "sample_image.jpg").as_uri(), "duration": 600}
        endpoint.client().submit({"operation": "img2vid", "images": [image], "width": 1920, "height": 1080,
                                  "path": "long"})
        wait_until(lambda: [pid for pid in descendants(endpoint.proc.pid) if command_name(pid) == "ffmpeg"], 60,
                   "no FFmpeg ran")
        left = descendants(endpoint.proc.pid)
        endpoint.proc.kill()
        endpoint.proc.wait()
        wait_until(lambda: not [pid for pid in left if alive(pid)], 20,
                   f"still running: {[command_name(pid) for pid in left if alive(pid)]}")
    assert len(left) >= 5  # two workers, their heartbeats, an FFmpeg


# Stop signals that land while the stop event's lock is held, as it is inside `stop.wait` and `stop.set`
# (a gateway sends its endpoint SIGTERM more than once): the endpoint must still stop.
SIGNAL_WHILE_WAITING = """
import os, signal, sys, time
from video_ops.local_endpoint.server import LocalEndpoint

def serve(stop):
    with stop._cond:  # where Event.wait and Event.set hold it
        for _ in range(20):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)  # the handler runs now, if this is the main thread
    for _ in range(20):
        os.kill(os.getpid(), signal.SIGTERM)
    return 0 if stop.wait(30) else 3

raise SystemExit(LocalEndpoint("127.0.0.1", 0, 1, sys.argv[1]).run("test", serve))
"""


def test_a_stop_signal_during_a_wait_on_the_stop_event_still_stops_the_endpoint(tmp_path: Path) -> None:
    env = {**os.environ, "SLEEPY_LOG": str(tmp_path / "ran.txt"), "VIDEO_OPS_OUTPUT_DIR": str(tmp_path / "out")}
    done = subprocess.run([sys.executable, "-c", SIGNAL_WHILE_WAITING, str(SLEEPY)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
