"""End to end: client -> local endpoint -> `python handler.py` -> FFmpeg -> moto S3, all on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.endpoint import LocalEndpoint, command_name, descendants, wait_until, worker_with_a_bucket
from tests.helpers import leftover_workdirs, stored_keys
from tests.media import make_video, probe, stream
from video_ops.client import Client, JobCancelled, JobFailed, JobNotReady


@pytest.fixture(scope="module")
def deployment(s3_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalEndpoint, dict]]:
    """One real worker configured as on RunPod: the bucket through the environment it inherits."""
    with worker_with_a_bucket(s3_server, tmp_path_factory.mktemp("e2e"), RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS="true") \
            as running:
        yield running


@pytest.fixture
def client(deployment: tuple[LocalEndpoint, dict]) -> Client:
    return deployment[0].client()


def test_a_job_completes_with_a_playable_video_in_the_bucket(
    client: Client, deployment: tuple[LocalEndpoint, dict], media_server: str, tmp_path: Path
) -> None:
    first = client.addaudio(f"{media_server}/video.mp4", f"{media_server}/tone.mp3", "videos/e2e",
                            output_filename="first.mp4")
    job = client.addaudio(f"{media_server}/silent.mp4", f"{media_server}/tone.mp3", "videos/e2e",
                          output_filename="with_audio.mp4", mode="mix")

    with pytest.raises(JobNotReady):  # the one worker is busy with the first job
        client.result(job)
    updates: list[dict] = []
    output = client.wait(job, timeout=120, on_update=updates.append)

    states = [u["status"] for u in updates]
    assert (states[0], states[-1]) == ("IN_QUEUE", "COMPLETED")
    assert "IN_PROGRESS" in states
    assert any(u.get("output", {}).get("stage") for u in updates if u["status"] == "IN_PROGRESS")
    assert client.result(first)["filename"] == "first.mp4"
    assert output["success"] is True
    assert output["s3_key"] == "videos/e2e/with_audio.mp4"
    assert output["s3_key"] in stored_keys(deployment[1])
    downloaded = tmp_path / "out.mp4"
    downloaded.write_bytes(requests.get(output["video_url"], timeout=30).content)
    info = probe(downloaded)
    assert stream(info, "video") is not None
    assert stream(info, "audio") is not None


def test_a_missing_input_fails_with_the_workers_message(client: Client, media_server: str) -> None:
    job = client.addaudio(f"{media_server}/missing.mp4", f"{media_server}/tone.mp3", "videos/e2e")

    with pytest.raises(JobFailed) as waited:
        client.wait(job, timeout=120)
    with pytest.raises(JobFailed) as fetched:
        client.result(job)

    assert "url_video" in waited.value.error
    assert "404" in waited.value.error
    assert fetched.value.error == waited.value.error
    assert client.status(job)["status"] == "FAILED"


def test_cancel_during_ffmpeg_stops_it_and_uploads_nothing(
    client: Client, deployment: tuple[LocalEndpoint, dict], media_server: str, media_dir: Path
) -> None:
    endpoint, settings = deployment
    # MPEG-4 Part 2 cannot be copied into the MP4, so the worker re-encodes it: FFmpeg runs for seconds.
    make_video(media_dir / "long.avi", seconds=10, size="1280x720", codec=["-c:v", "mpeg4"], audio=False)
    (worker,) = endpoint.worker_pids()
    job = client.addaudio(f"{media_server}/long.avi", f"{media_server}/tone.mp3", "videos/cancelled",
                          output_filename="never.mp4")

    ffmpeg = wait_until(lambda: [p for p in descendants(worker) if command_name(p) == "ffmpeg"], 60,
                        "FFmpeg never started")
    assert client.cancel(job)["status"] == "CANCELLED"

    wait_until(lambda: not [p for p in ffmpeg if command_name(p) == "ffmpeg"], 2, "FFmpeg outlived the job")
    with pytest.raises(JobCancelled):
        client.wait(job, timeout=10)
    wait_until(lambda: not leftover_workdirs(Path(endpoint.env["VIDEO_OPS_WORKDIR"])), 5, "temp folder left")
    assert not [key for key in stored_keys(settings) if key.startswith("videos/cancelled/")]
    after = client.addaudio(f"{media_server}/video.mp4", f"{media_server}/tone.mp3", "videos/e2e",
                            output_filename="after_cancel.mp4")
    assert client.wait(after, timeout=120)["s3_key"] == "videos/e2e/after_cancel.mp4"
