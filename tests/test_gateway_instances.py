"""Two gateway instances on one PostgreSQL database in front of one backend (a local endpoint standing in for
RunPod): they share the work, every webhook is delivered exactly once, every job is readable from any
instance (and counted in its queue stats), and when one is killed mid-delivery the other takes its work over."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.endpoint import SLEEPY, Gateway, LocalEndpoint, wait_until
from tests.helpers import REPO
from tests.servers import serving
from tests.services import Postgres
from tests.test_gateway import gateway_env

KEY = "instances-key"
JOBS = 50
BODY = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3", "path": "two"}


class Receiver(ThreadingHTTPServer):
    """Answers each job's first webhook attempt with 503 and later ones with 200, and counts them. The first
    attempt of a job that `victim` owns kills `victim` with SIGKILL before it hears the answer: that
    instance dies in the middle of a delivery, having delivered nothing."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, list[int]] = collections.defaultdict(list)
        self.owner: dict[str, str] = {}  # webhook path -> the instance the job was submitted to
        self.victim: tuple[str, subprocess.Popen] | None = None
        self.killed_after: int | None = None  # how many jobs had been submitted when the victim was killed
        self.submitted = 0
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def delivered(self) -> dict[str, int]:
        with self.lock:
            return {path: codes.count(200) for path, codes in self.answers.items() if 200 in codes}


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        receiver = self.server
        with receiver.lock:
            first = not receiver.answers[self.path]
            code = 503 if first else 200
            receiver.answers[self.path].append(code)
            if first and receiver.victim and receiver.owner.get(self.path) == receiver.victim[0]:
                os.kill(receiver.victim[1].pid, signal.SIGKILL)
                receiver.killed_after, receiver.victim = receiver.submitted, None
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


def read(gateway: Gateway, job_id: str) -> dict[str, Any]:
    return requests.get(f"{gateway.url}/video/job/{job_id}", headers={"X-API-Key": KEY}, timeout=30).json()


def test_two_gateways_share_the_work_and_one_killed_mid_delivery_loses_nothing(
    postgres: Postgres, receiver: Receiver, tmp_path: Path
) -> None:
    database = postgres.database()
    with LocalEndpoint(SLEEPY, 4, tmp_path / "endpoint.log", {"SLEEPY_LOG": str(tmp_path / "ran.txt")}) as runpod:
        base, endpoint_id = runpod.url.rsplit("/", 1)
        env = gateway_env(tmp_path, VIDEO_OPS_API_KEYS=KEY, VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS="1",
                          RUNPOD_ENDPOINT_ID=endpoint_id, RUNPOD_API_KEY="k", RUNPOD_ENDPOINT_BASE_URL=base,
                          VIDEO_OPS_GATEWAY_DB=database, VIDEO_OPS_GATEWAY_LEASE_S="3")
        with Gateway(REPO / "handler.py", 1, tmp_path / "a.log", env) as first, \
                Gateway(REPO / "handler.py", 1, tmp_path / "b.log", env) as second:
            receiver.victim = ("a", first.proc)
            pick = random.Random(25)
            jobs: list[str] = []
            for n in range(JOBS):
                path = f"/hook/{n}"
                name, target = pick.choice([("a", first), ("b", second)])
                if first.proc.poll() is not None:
                    name, target = "b", second
                receiver.owner[path] = name
                try:
                    jobs.append(target.submit("addaudio", {**BODY, "webhook_url": receiver.url(path)}))
                except requests.ConnectionError:  # killed while answering: the caller submits again elsewhere
                    receiver.owner[path] = "b"
                    jobs.append(second.submit("addaudio", {**BODY, "webhook_url": receiver.url(path)}))
                receiver.submitted = n + 1
                time.sleep(0.1)
            wait_until(lambda: len(receiver.delivered()) == JOBS, 120,
                       f"webhooks delivered: {len(receiver.delivered())} of {JOBS}", interval=0.2)
            time.sleep(2.0)  # a duplicate would come now
            from_second = [read(second, job) for job in jobs]
        with Gateway(REPO / "handler.py", 1, tmp_path / "c.log", env) as third:  # a new instance knows them all
            from_third = [read(third, job) for job in jobs]
            stats = requests.get(f"{third.url}/queue/stats", headers={"X-API-Key": KEY}, timeout=30).json()
    takeover = (tmp_path / "b.log").read_text()

    assert first.proc.returncode == -signal.SIGKILL
    assert receiver.killed_after is not None and receiver.killed_after < JOBS  # mid-burst
    assert receiver.delivered() == {f"/hook/{n}": 1 for n in range(JOBS)}  # each exactly once
    assert all(view["status"] == "COMPLETED" for view in from_second + from_third)
    assert all(view["webhook"]["status"] == "delivered" for view in from_second + from_third)
    assert "took over" in takeover
    # The stats come from the shared records: every job any instance took, as completed within the hour.
    assert stats["operations"]["addaudio"] == {"queued": 0, "running": 0, "completed": JOBS, "failed": 0,
                                               "cancelled": 0}
    assert stats["totals"] == stats["operations"]["addaudio"]
