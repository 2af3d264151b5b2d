"""A gateway restart with the embedded local endpoint: its queue is kept, so the jobs queued or running when
it stopped run after the restart, and their webhooks are delivered."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.endpoint import Gateway, alive, descendants, wait_until
from tests.helpers import REPO
from tests.servers import serving
from tests.test_gateway import gateway_env
from tests.test_gateway_webhooks import Receiver

KEY = "restart-key"
LONG = {"images": [{"id": "long", "image_url": "file:samples/sample_image.jpg", "duracao": 20}],
        "zoom_types": ["zoomin"], "width": 1280, "height": 720, "path": "restart"}
SHORT = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
         "path": "restart"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_queued_and_running_jobs_run_after_a_gateway_restart(
    receiver: Receiver, tmp_path: Path, stop: signal.Signals
) -> None:
    env = gateway_env(tmp_path, VIDEO_OPS_API_KEYS=KEY, VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS="1")
    with Gateway(REPO / "handler.py", 1, tmp_path / "first.log", env) as first:
        running = first.submit("img2vid", {**LONG, "webhook_url": receiver.url("/long")})
        wait_until(lambda: first.status(running)["status"] == "IN_PROGRESS", 60, "the long job never started")
        queued = [first.submit("addaudio", {**SHORT, "output_filename": f"q{n}.mp4",
                                            "webhook_url": receiver.url(f"/queued-{n}")}) for n in range(2)]
        before = [first.status(job)["status"] for job in (running, *queued)]
        left_behind = descendants(first.proc.pid)  # its endpoint, the worker, the worker's FFmpeg
        first.proc.send_signal(stop)
        wait_until(lambda: not [pid for pid in left_behind if alive(pid)], 20,
                   f"the gateway's endpoint, worker or FFmpeg outlived a {stop.name}")
    # Nothing ran meanwhile.
    with Gateway(REPO / "handler.py", 1, tmp_path / "second.log", env) as second:
        paths = ("/long", "/queued-0", "/queued-1")
        wait_until(lambda: all(receiver.received(path) for path in paths), 180, "not every webhook came",
                   interval=0.2)
        time.sleep(0.5)  # a duplicate would come now
        after = [second.status(job) for job in (running, *queued)]

    assert before == ["IN_PROGRESS", "IN_QUEUE", "IN_QUEUE"]
    assert [view["status"] for view in after] == ["COMPLETED"] * 3
    assert [len(receiver.received(path)) for path in paths] == [1, 1, 1]
    assert after[0]["output"]["videos"][0]["frames"] == 20 * 24
    assert [json.loads(receiver.received(path)[0][1])["jobId"] for path in paths] == [running, *queued]


def test_a_gateway_whose_endpoint_dies_stops_with_one_sentence(tmp_path: Path) -> None:
    with Gateway(REPO / "handler.py", 1, tmp_path / "gateway.log", gateway_env(tmp_path)) as gateway:
        workers = gateway.worker_pids()
        os.kill(gateway.endpoint_pid(), signal.SIGKILL)
        assert gateway.proc.wait(20) == 1
    assert "gateway: the local endpoint exited with code -9; stopping" in gateway.log.read_text()
    wait_until(lambda: not [pid for pid in workers if alive(pid)], 10, "the workers outlived their endpoint")
