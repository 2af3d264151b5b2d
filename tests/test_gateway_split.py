"""Big img2vid batches split into parts that run on several workers at once, answered as one job."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.endpoint import Gateway, command_name, descendants, wait_until
from tests.helpers import REPO
from tests.test_gateway import gateway_env
from video_ops.client import Client, JobFailed
from video_ops.client.split import in_whole_batch, plan

KEY = "split-key"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Three workers, the default split size (20 images a part)."""
    tmp = tmp_path_factory.mktemp("split")
    with Gateway(REPO / "handler.py", 3, tmp / "gateway.log", gateway_env(tmp, VIDEO_OPS_API_KEYS=KEY)) as running:
        yield running


def backend_url(gateway: Gateway) -> str:
    """The local endpoint behind the gateway, as its log names it."""
    return re.search(r"jobs run on the local endpoint (\S+)", gateway.log.read_text()).group(1)


def assert_every_worker_asks_for_work_within_10_s(gateway: Gateway, workers: int) -> None:
    """After a cancel, every worker has freed its slot: none holds a job it no longer runs."""
    health = f"{backend_url(gateway)}/health"
    wait_until(lambda: requests.get(health, timeout=30).json()["workers"]["idle"] == workers, 10,
               "a worker did not ask for work within 10 s of the cancel", interval=0.05)


def images(count: int, url: str = "file:samples/sample_image.jpg") -> list[dict[str, Any]]:
    return [{"id": f"img-{n}", "image_url": url, "duracao": 0.5} for n in range(count)]


def ended(gateway: Gateway, job_id: str, timeout: float = 180) -> dict[str, Any]:
    return wait_until(lambda: (view := gateway.status(job_id))["status"] not in ("IN_QUEUE", "IN_PROGRESS") and view,
                      timeout, f"job {job_id} did not end", interval=0.3)


def test_60_images_run_as_3_parts_at_once_and_come_back_as_one_job(gateway: Gateway) -> None:
    job = gateway.submit("img2vid", {"images": images(60), "path": "split", "width": 160, "height": 90})
    health = f"{backend_url(gateway)}/health"
    busy = wait_until(lambda: requests.get(health, timeout=30).json()["workers"]["running"] == 3, 60,
                      "the three parts never ran at once", interval=0.05)
    done = ended(gateway, job)

    assert job.startswith("split-") and busy
    assert done["status"] == "COMPLETED"
    output = done["output"]
    assert (output["total"], output["processed"]) == (60, 60)
    # What a single job gives: its names (n = start_index + position + 1), ids in input order, 12 frames each.
    assert [video["filename"] for video in output["videos"]] == [f"video_{n}.mp4" for n in range(1, 61)]
    assert [video["id"] for video in output["videos"]] == [f"img-{n}" for n in range(60)]
    assert {video["frames"] for video in output["videos"]} == {12}
    assert {video["s3_key"] for video in output["videos"]} == {f"split/video_{n}.mp4" for n in range(1, 61)}


def test_one_bad_image_fails_the_whole_job_naming_it_in_the_whole_batch(gateway: Gateway) -> None:
    batch = images(30)
    batch[25]["image_url"] = "file:samples/missing.jpg"
    job = gateway.submit("img2vid", {"images": batch, "path": "bad", "width": 160, "height": 90})
    failed = ended(gateway, job)
    assert failed["status"] == "FAILED"
    assert failed["error"].startswith("images[25] (id 'img-25'): ")


def test_a_cancel_stops_every_part(gateway: Gateway) -> None:
    heavy = [{**image, "duracao": 6} for image in images(45)]
    job = gateway.submit("img2vid", {"images": heavy, "path": "cancelled", "width": 1280, "height": 720,
                           "zoom_types": ["zoomin"]})
    wait_until(lambda: gateway.status(job)["status"] == "IN_PROGRESS", 60, "the parts never started")
    assert_cancel_stops_everything(gateway, job, KEY)


def assert_cancel_stops_everything(gateway: Gateway, job: str, key: str) -> None:
    """A cancel through the gateway: every part's FFmpeg stops, nothing is left queued or running."""
    cancelled = requests.post(f"{gateway.url}/job/{job}/cancel", headers={"X-API-Key": key}, timeout=30)
    wait_until(lambda: not [pid for pid in descendants(gateway.proc.pid) if command_name(pid) == "ffmpeg"], 20,
               "a part's FFmpeg survived the cancel")
    counts = requests.get(f"{backend_url(gateway)}/health", timeout=30).json()["jobs"]

    assert cancelled.status_code == 200 and gateway.status(job)["status"] == "CANCELLED"
    assert (counts["inQueue"], counts["inProgress"]) == (0, 0)
    assert_every_worker_asks_for_work_within_10_s(gateway, 3)


def test_the_client_splits_a_batch_the_same_way(gateway: Gateway) -> None:
    """`Client.img2vid(..., split=N)`, for orchestrators without the gateway (here on its local endpoint)."""
    base, endpoint_id = backend_url(gateway).rsplit("/", 1)
    client = Client(endpoint_id, base_url=base, sleep=lambda seconds: time.sleep(min(seconds, 0.2)))
    job = client.img2vid(images(45), "client-split", width=160, height=90, split=20)
    output = client.wait(job, timeout=180)
    bad = images(25)
    bad[22]["image_url"] = "file:samples/missing.jpg"
    failing = client.img2vid(bad, "client-bad", width=160, height=90, split=20)

    assert job.startswith("parts:") and job.count(",") == 2
    assert [video["filename"] for video in output["videos"]] == [f"video_{n}.mp4" for n in range(1, 46)]
    assert (output["total"], output["processed"]) == (45, 45)
    with pytest.raises(JobFailed, match=r"^images\[22\] \(id 'img-22'\): "):
        client.wait(failing, timeout=180)


def test_a_parts_error_is_renumbered_for_the_whole_batch() -> None:
    assert in_whole_batch("images[3] (id 'x'): download failed.", 40) == "images[43] (id 'x'): download failed."
    assert in_whole_batch("Upload failed.", 40) == "Upload failed."


def test_a_batch_split_one_image_a_part_names_its_videos_as_one_job_would() -> None:
    parts = plan({"operation": "img2vid", "images": images(3), "start_index": 4}, 1)
    assert [(part["images"], part["start_index"], offset, count) for part, offset, count in parts] == [
        (images(3)[k:k + 1], 4 + k, k, 1) for k in range(3)]


@pytest.mark.parametrize("size", [0, -2])
def test_parts_of_no_image_are_refused_in_one_sentence(size: int) -> None:
    """A split into parts that hold no image would be no job at all, reported as done."""
    with pytest.raises(ValueError, match=rf"^images per part must be at least 1, got {size}\.$"):
        plan({"operation": "img2vid", "images": images(3)}, size)
