"""Running the local endpoint and the gateway in tests, and reading the process table to see what they left
running."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import requests
import uvicorn
from fastapi import FastAPI

from tests.helpers import REPO, new_bucket
from video_ops.client import Client

SLEEPY = REPO / "tests" / "handlers" / "sleepy_handler.py"
T = TypeVar("T")


class LocalEndpoint:
    """`python -m video_ops.local_endpoint` on a free port; leaving the `with` stops it and its workers."""

    module = "video_ops.local_endpoint"
    ready_prefix = "local endpoint ready: "

    def __init__(self, handler: Path, workers: int, log: Path, env: dict[str, str] | None = None) -> None:
        self.argv = [sys.executable, "-m", self.module, "--port", "0", "--workers", str(workers),
                     "--handler", str(handler)]
        self.log = log
        self.env = {**os.environ, **(env or {})}
        self.url = ""

    def __enter__(self) -> LocalEndpoint:
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=log,
                                         text=True)
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], 60)
            line = self.proc.stdout.readline() if ready else ""
            assert line.startswith(self.ready_prefix), f"no ready line (got {line!r}); log:\n{self.log.read_text()}"
        except BaseException:
            self.stop()
            raise
        self.url = line[len(self.ready_prefix):].strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        workers = self.worker_pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
        wait_until(lambda: not [pid for sid in workers for pid in session_members(sid)], 2,
                   "the endpoint left worker processes running")

    def client(self, **options: object) -> Client:
        """A client of this endpoint that polls every 0.1 s instead of the guide's 2 s and more."""
        base, endpoint_id = self.url.rsplit("/", 1)
        return Client(endpoint_id, base_url=base, sleep=lambda seconds: time.sleep(min(seconds, 0.1)), **options)

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid)


@contextmanager
def worker_with_a_bucket(s3_server: str, tmp: Path, **env: str) -> Iterator[tuple[LocalEndpoint, dict[str, str]]]:
    """One real worker (`python handler.py`) configured as on RunPod: a fresh bucket through the environment
    it inherits, its own temp root; yields the endpoint and the bucket's settings."""
    settings = new_bucket(s3_server)
    env = {**settings, "VIDEO_OPS_WORKDIR": str(tmp / "work"), **env}
    with LocalEndpoint(REPO / "handler.py", 1, tmp / "endpoint.log", env) as endpoint:
        yield endpoint, settings


class Gateway(LocalEndpoint):
    """`python -m video_ops.gateway` on a free port over its own local endpoint; `url` is the API's base."""

    module = "video_ops.gateway"
    ready_prefix = "gateway ready: "

    @property
    def key(self) -> str:
        """The first of the gateway's keys (VIDEO_OPS_API_KEYS), or none."""
        return self.env.get("VIDEO_OPS_API_KEYS", "").split(",")[0].strip()

    def submit(self, operation: str, body: dict) -> str:
        """POST /video/<operation>/async; the job id."""
        answer = requests.post(f"{self.url}/video/{operation}/async", json=body, headers={"X-API-Key": self.key},
                               timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["jobId"]

    def status(self, job_id: str) -> dict:
        return requests.get(f"{self.url}/video/job/{job_id}", headers={"X-API-Key": self.key}, timeout=30).json()

    def endpoint_pid(self) -> int:
        """The gateway's local endpoint: its one child process."""
        (endpoint,) = children(self.proc.pid)
        return endpoint

    def worker_pids(self) -> list[int]:
        """The endpoint's workers: the gateway's grandchildren."""
        return [worker for endpoint in children(self.proc.pid) for worker in children(endpoint)]


@contextmanager
def serving_app(make_app: Callable[[str], FastAPI]) -> Iterator[str]:
    """A gateway app served by uvicorn on 127.0.0.1, in a thread of this process (so a test can reach into its
    backend); yields its URL. The app is made in the server's thread, where SQLite objects must stay, and is
    given its own URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    servers: list[uvicorn.Server] = []

    def serve() -> None:
        servers.append(uvicorn.Server(uvicorn.Config(make_app(url), log_level="warning")))
        servers[0].run(sockets=[listener])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    wait_until(lambda: servers and servers[0].started, 30, "the gateway did not start")
    try:
        yield url
    finally:
        servers[0].should_exit = True
        thread.join(30)


def _stat(pid: int | str) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the state on (state, ppid, pgrp, session, ...); None once gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _processes() -> dict[int, list[str]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(entry)) is not None and fields[0] not in ("Z", "X"):
            found[int(entry)] = fields
    return found


def children(pid: int) -> list[int]:
    return [child for child, fields in _processes().items() if int(fields[1]) == pid]


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def session_members(sid: int) -> list[int]:
    return [pid for pid, fields in _processes().items() if int(fields[3]) == sid]


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return ""


def wait_until(condition: Callable[[], T], timeout: float, message: str, interval: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy; fail with `message` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, message
        time.sleep(interval)
