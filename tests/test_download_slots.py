"""One job's downloads are bounded (16 at once, 6 to one host by default) and still overlap rendering,
seen from servers on 127.0.0.1 that count the connections open at the same time."""

from __future__ import annotations

import http.server
import io
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import pytest

from tests.helpers import leftover_workdirs, run_job
from tests.pictures import quadrants

PICTURE = io.BytesIO()
quadrants(16, 16).save(PICTURE, "PNG")


@dataclass
class Connections:
    """Connections open now and at most, per server and over all servers, counted by the servers."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    now: dict[int, int] = field(default_factory=dict)
    most: dict[int, int] = field(default_factory=dict)
    most_in_all: int = 0
    slow_sent_at: float = 0.0

    def opened(self, port: int) -> None:
        with self.lock:
            self.now[port] = self.now.get(port, 0) + 1
            self.most[port] = max(self.most.get(port, 0), self.now[port])
            self.most_in_all = max(self.most_in_all, sum(self.now.values()))

    def closed(self, port: int) -> None:
        with self.lock:
            self.now[port] -= 1


class _SlowPictures(http.server.BaseHTTPRequestHandler):
    """Every picture takes 0.2 s to come; `/slow.png` takes 2 s."""

    protocol_version = "HTTP/1.1"
    counts: Connections

    def handle(self) -> None:
        port = self.server.server_address[1]
        self.counts.opened(port)
        try:
            super().handle()
        finally:
            self.counts.closed(port)

    def do_GET(self) -> None:
        slow = self.path == "/slow.png"
        time.sleep(2.0 if slow else 0.2)
        body = PICTURE.getvalue()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if slow:
            self.counts.slow_sent_at = time.time()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def servers(count: int) -> Iterator[tuple[list[str], Connections]]:
    counts = Connections()
    handler = type("Handler", (_SlowPictures,), {"counts": counts})
    with ExitStack() as stack:
        urls = []
        for _ in range(count):
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
            urls.append(f"http://127.0.0.1:{server.server_address[1]}")
        yield urls, counts


def job(urls: list[str]) -> dict:
    images = [{"id": f"p{n}", "image_url": url, "duracao": 0.1} for n, url in enumerate(urls)]
    return {"operation": "img2vid", "images": images, "width": 16, "height": 16, "frame_rate": 10}


def test_at_most_6_connections_to_one_host_and_16_in_all_by_default(worker_env):
    """Host by host in the job's order: three hosts could take 18, the job stops at 16."""
    with servers(4) as (hosts, counts):
        result = run_job(job([f"{host}/p{n}.png" for host in hosts for n in range(8)]))
    assert result.get("success"), result
    assert max(counts.most.values()) == 6
    assert counts.most_in_all == 16
    assert leftover_workdirs(worker_env) == []


def test_the_bounds_are_settings(worker_env, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_DOWNLOADS_AT_ONCE", "3")
    monkeypatch.setenv("VIDEO_OPS_DOWNLOADS_PER_HOST", "2")
    with servers(2) as (hosts, counts):
        result = run_job(job([f"{host}/p{n}.png" for n in range(4) for host in hosts]))
    assert result.get("success"), result
    assert max(counts.most.values()) == 2
    assert counts.most_in_all == 3


def test_clips_render_while_later_images_still_download(worker_env, caplog):
    with servers(1) as (hosts, counts), caplog.at_level("INFO", logger="video_ops.jobkit.progress"):
        result = run_job(job([f"{hosts[0]}/p0.png", f"{hosts[0]}/p1.png", f"{hosts[0]}/slow.png"]))
    assert result.get("success"), result
    first_clip_done = next(record.created for record in caplog.records
                           if isinstance(record.args, dict) and record.args.get("processed") == 1)
    assert first_clip_done < counts.slow_sent_at - 0.5


@pytest.mark.parametrize("name", ["VIDEO_OPS_DOWNLOADS_AT_ONCE", "VIDEO_OPS_DOWNLOADS_PER_HOST"])
@pytest.mark.parametrize(("value", "problem"), [("many", "a number"), ("2.5", "a whole number")])
def test_a_bad_setting_is_named(worker_env, monkeypatch, name, value, problem):
    monkeypatch.setenv(name, value)
    with servers(1) as (hosts, _):
        result = run_job(job([f"{hosts[0]}/p0.png"]))
    assert result == {"error": f"Environment variable {name} must be {problem}, got '{value}'."}


def test_a_missing_picture_among_many_names_it_and_leaves_nothing(worker_env, media_server):
    with servers(1) as (hosts, _):
        urls = [f"{hosts[0]}/p{n}.png" for n in range(5)]
        urls[3] = f"{media_server}/nothing.png"
        result = run_job(job(urls))
    assert result == {"error": f"images[3] (id 'p3'): download failed: HTTP 404 File not found from "
                               f"{media_server}/nothing.png."}
    assert leftover_workdirs(worker_env) == []
