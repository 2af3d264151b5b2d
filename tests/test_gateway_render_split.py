"""A long render through the gateway (and `Client.render(split_seconds=...)`): a plan, the sound and the
parts on three workers at once, then a join, answered as one job with one webhook; a cancel, a bad scene
and a killed worker end it whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.endpoint import Gateway, children, command_name, descendants, wait_until
from tests.helpers import REPO
from tests.pictures import counted_frames
from tests.servers import serving
from tests.test_gateway import gateway_env
from tests.test_gateway_split import (
    assert_cancel_stops_everything,
    assert_every_worker_asks_for_work_within_10_s,
    backend_url,
    ended,
)
from tests.test_gateway_webhooks import Receiver
from tests.test_render_split import FPS, split_job, words_over
from tests.test_samples import SAMPLES
from video_ops.client import Client, JobFailed
from video_ops.client.render_split import timeline_seconds
from video_ops.gateway.cli import SPLIT_RENDER_SECONDS

KEY = "render-split-key"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, split_media: Path) -> Iterator[Gateway]:
    """Three workers; renders longer than 5 s are split."""
    words_over(split_media, 5.0)
    tmp = tmp_path_factory.mktemp("render-split")
    env = gateway_env(tmp, VIDEO_OPS_API_KEYS=KEY, VIDEO_OPS_SPLIT_RENDER_SECONDS="5",
                      VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS="1")
    with Gateway(REPO / "handler.py", 3, tmp / "gateway.log", env) as running:
        running.output = tmp / "output"  # type: ignore[attr-defined]
        yield running


def render(server: str, name: str, **change: Any) -> dict[str, Any]:
    spec = split_job(server, output_filename=name, **change)
    return {key: value for key, value in spec.items() if key != "operation"}


def stored(gateway: Gateway) -> list[str]:
    folder = gateway.output / "out"  # type: ignore[attr-defined]
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


def test_a_long_render_runs_as_parts_at_once_and_comes_back_as_one_job(gateway: Gateway, media_server: str,
                                                                      receiver: Receiver) -> None:
    job = gateway.submit("render", {**render(media_server, "gateway.mp4"), "webhook_url": receiver.url("/split")})
    health = f"{backend_url(gateway)}/health"
    busy = wait_until(lambda: requests.get(health, timeout=30).json()["workers"]["running"] == 3, 120,
                      "the sound and the parts never ran at once", interval=0.05)
    done = ended(gateway, job)
    hooks = wait_until(lambda: receiver.received("/split"), 30, "no webhook came")

    assert job.startswith("split-") and busy
    assert done["status"] == "COMPLETED", done
    output = done["output"]
    assert (output["frames"], output["parts"], output["words"], output["encoder"]) == (150, 3, 6, "libx264")
    assert output["duration"] == pytest.approx(15.0, abs=0.05)
    assert len(output["scenes"]) == 6 and output["audio_analysis"]["narration_lufs"] is not None
    assert "gateway.mp4" in stored(gateway)
    assert not [name for name in stored(gateway) if ".part" in name or ".sound" in name]
    time.sleep(1)  # a second webhook, were one sent, would have come by now
    assert len(receiver.received("/split")) == 1
    hook = json.loads(hooks[0][1])
    assert (hook["jobId"], hook["status"]) == (job, "COMPLETED"), hook
    assert hook["result"]["video_url"] == output["video_url"] and hook["result"]["parts"] == 3
    headers = {"X-API-Key": KEY}
    current = requests.get(f"{gateway.url}/jobs/{job}", headers=headers, timeout=30).json()
    listed = requests.get(f"{gateway.url}/jobs?operation=render", headers=headers, timeout=30).json()["jobs"]
    assert current["result"] == output and current["webhook"]["status"] == "delivered"
    assert job in [item["jobId"] for item in listed]


def test_a_bad_scene_in_the_third_part_fails_the_job_naming_it_in_the_whole(gateway: Gateway,
                                                                           media_server: str) -> None:
    spec = render(media_server, "bad.mp4")
    spec["scenes"][5]["image_url"] = f"{media_server}/render_split/clip.mp4"
    failed = ended(gateway, gateway.submit("render", spec))
    assert failed["status"] == "FAILED"
    assert failed["error"].startswith("scenes[5]: "), failed
    assert "bad.mp4" not in stored(gateway)
    assert_every_worker_asks_for_work_within_10_s(gateway, 3)  # the failed part's siblings were cancelled


def test_a_cancel_stops_every_part(gateway: Gateway, media_server: str) -> None:
    job = gateway.submit("render", render(media_server, "cancelled.mp4", width=720, height=1280))
    wait_until(lambda: gateway.status(job).get("output", {}).get("stage") == "rendering", 60, "no part started")
    assert_cancel_stops_everything(gateway, job, KEY)
    assert "cancelled.mp4" not in stored(gateway)


def test_a_killed_part_worker_fails_the_job_and_nothing_is_the_result(gateway: Gateway, media_server: str) -> None:
    # Parts big enough to be still encoding when a worker is killed; the kill waits until a part's encode
    # reports progress, so the FFmpeg found is a part's or the sound's (not the plan's, which decodes the
    # narration): either fails the job.
    job = gateway.submit("render", render(media_server, "killed.mp4", width=1080, height=1920))
    wait_until(lambda: gateway.status(job).get("output", {}).get("percent", 0) > 0, 60, "no part made progress")
    encoding = wait_until(lambda: [pid for pid in descendants(gateway.proc.pid) if command_name(pid) == "ffmpeg"],
                          60, "no part's FFmpeg ran")
    worker = next(pid for pid in descendants(gateway.proc.pid) if encoding[0] in children(pid))
    os.kill(worker, signal.SIGKILL)
    failed = ended(gateway, job)
    assert failed["status"] == "FAILED"
    assert "worker process exited" in failed["error"], failed
    assert "killed.mp4" not in stored(gateway)


def test_the_client_splits_a_render_the_same_way(gateway: Gateway, media_server: str) -> None:
    """`Client.render(job, split_seconds=N)` on the gateway's local endpoint, without the gateway."""
    base, endpoint_id = backend_url(gateway).rsplit("/", 1)
    client = Client(endpoint_id, base_url=base, sleep=lambda seconds: time.sleep(min(seconds, 0.2)))
    updates: list[dict[str, Any]] = []
    output = client.wait(client.render(render(media_server, "client.mp4"), split_seconds=5), timeout=180,
                         on_update=updates.append)
    bad = render(media_server, "client-bad.mp4")
    bad["scenes"][5]["image_url"] = f"{media_server}/render_split/clip.mp4"

    assert (output["frames"], output["parts"], output["filename"]) == (150, 3, "client.mp4")
    assert round(output["duration"] * FPS) == 150
    stages = [update.get("output", {}).get("stage") for update in updates]
    assert "planning" in stages and "rendering" in stages and "joining" in stages
    with pytest.raises(JobFailed, match=r"^scenes\[5\]: "):
        client.wait(client.render(bad, split_seconds=5), timeout=180)


def test_the_long_sample_render_is_split_by_a_gateway_at_its_defaults(tmp_path: Path) -> None:
    """samples/jobs/render_long.json (the bundled image, narration and words, just over two minutes) through a
    gateway with no split setting: the users' most common video, which once failed in its plan."""
    job_input = json.loads((SAMPLES / "render_long.json").read_text())["input"]
    seconds = timeline_seconds(job_input)
    assert seconds is not None and SPLIT_RENDER_SECONDS < seconds < SPLIT_RENDER_SECONDS + 5
    env = gateway_env(tmp_path, VIDEO_OPS_API_KEYS=KEY, VIDEO_OPS_SPLIT_RENDER_SECONDS="")
    with Gateway(REPO / "handler.py", 3, tmp_path / "gateway.log", env) as running:
        job = running.submit("render", {key: value for key, value in job_input.items() if key != "operation"})
        done = ended(running, job, timeout=300)

    assert job.startswith("split-")
    assert done["status"] == "COMPLETED", done
    output, frames = done["output"], round(seconds * job_input["frame_rate"])
    assert (output["parts"], output["frames"], output["filename"]) == (2, frames, "sample_render_long.mp4")
    assert output["duration"] == pytest.approx(seconds, abs=0.05)
    assert [scene["type"] for scene in output["scenes"]] == ["image"] * 10 and output["words"] == 7
    folder = tmp_path / "output" / job_input["path"]
    assert sorted(path.name for path in folder.iterdir()) == ["sample_render_long.mp4"]  # the parts are gone
    assert counted_frames(folder / "sample_render_long.mp4") == frames


def test_zero_turns_the_render_split_off(tmp_path: Path, media_server: str) -> None:
    env = gateway_env(tmp_path, VIDEO_OPS_API_KEYS=KEY, VIDEO_OPS_SPLIT_RENDER_SECONDS="0")
    with Gateway(REPO / "handler.py", 1, tmp_path / "gateway.log", env) as running:
        job = running.submit("render", render(media_server, "whole.mp4"))
        cancelled = requests.post(f"{running.url}/job/{job}/cancel", headers={"X-API-Key": KEY}, timeout=30)
    assert not job.startswith("split-") and cancelled.status_code == 200


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("VIDEO_OPS_SPLIT_RENDER_SECONDS", "-1", "must be 0 or more"),
    ("VIDEO_OPS_SPLIT_IMAGES", "0.5", "must be a whole number"),  # not parts of 0 images: no job at all
])
def test_a_bad_split_setting_is_refused_in_one_sentence(tmp_path: Path, name: str, value: str, problem: str) -> None:
    env = {**os.environ, **gateway_env(tmp_path, **{name: value})}
    done = subprocess.run([sys.executable, "-m", "video_ops.gateway", "--port", "0"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"gateway: Environment variable {name} {problem}, got '{value}'.\n"
