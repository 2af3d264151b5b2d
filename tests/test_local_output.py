"""The local endpoint without a bucket: results stay in the output folder and come back as http links."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.endpoint import LocalEndpoint
from tests.helpers import REPO
from video_ops.client import Client, JobFailed
from video_ops.io.local_results import output_file


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    """The real worker, no bucket, `file:` samples allowed: as a new user starts it."""
    tmp = tmp_path_factory.mktemp("no-bucket")
    (tmp / "secret.txt").write_text("outside the output folder")
    env = {"BUCKET_NAME": "", "BUCKET_ENDPOINT_URL": "", "VIDEO_OPS_ALLOW_FILE_URLS": "1",
           "VIDEO_OPS_OUTPUT_DIR": str(tmp / "output"), "VIDEO_OPS_WORKDIR": str(tmp / "work"),
           "VIDEO_OPS_ENCODER": "x264", "VIDEO_OPS_DECODER": "cpu"}
    with LocalEndpoint(REPO / "handler.py", 1, tmp / "endpoint.log", env) as running:
        yield running


def raw_get(url: str, path: str) -> int:
    """A GET sent with its path exactly as given (no client-side `..` clean-up); the status code."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_sample_job_through_the_client_cli_returns_a_link_that_opens(endpoint: LocalEndpoint) -> None:
    base, endpoint_id = endpoint.url.rsplit("/", 1)
    env = {**os.environ, **endpoint.env, "RUNPOD_ENDPOINT_BASE_URL": base, "RUNPOD_ENDPOINT_ID": endpoint_id}
    done = subprocess.run([sys.executable, "-m", "video_ops.client", "run", "samples/jobs/addaudio.json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    link = urlsplit(result["video_url"])
    assert (link.scheme, link.hostname) == ("http", "127.0.0.1")
    assert link.path == "/output/videos/output/sample_with_audio.mp4"
    served = requests.get(result["video_url"], timeout=30)
    stored = Path(endpoint.env["VIDEO_OPS_OUTPUT_DIR"]) / result["s3_key"]
    assert served.status_code == 200 and served.headers["Content-Type"] == "video/mp4"
    assert served.content == stored.read_bytes() and len(served.content) == result["size_bytes"]


@pytest.mark.parametrize("path", ["/output/../secret.txt", "/output/%2e%2e/secret.txt", "/output/%2E%2E%2Fsecret.txt",
                                  "/output//etc/passwd", "/output/videos", "/output/", "/output", "/output/missing.mp4",
                                  "/output/%00"])
def test_nothing_outside_the_output_folder_is_served(endpoint: LocalEndpoint, path: str) -> None:
    assert raw_get(endpoint.url, path) == 404


def test_a_link_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "output"
    (root / "videos").mkdir(parents=True)
    (root / "videos" / "clip.mp4").write_bytes(b"video")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "videos" / "escape.mp4").symlink_to(tmp_path / "secret.txt")

    assert output_file(root, "videos/clip.mp4") == (root / "videos" / "clip.mp4").resolve()
    assert output_file(root, "videos/clip%2Emp4") == (root / "videos" / "clip.mp4").resolve()
    assert output_file(root, "videos/escape.mp4") is None
    assert output_file(root, "videos/../../secret.txt") is None
    assert output_file(root, "/" + str(tmp_path / "secret.txt")) is None


def test_a_later_job_reads_a_result_link_from_the_folder(endpoint: LocalEndpoint) -> None:
    """A split render's join is given its parts' links: the worker reads them from the output folder (the
    download guard refuses 127.0.0.1), and nothing outside the folder."""
    base, endpoint_id = endpoint.url.rsplit("/", 1)
    client = Client(endpoint_id, base_url=base)
    audio = (REPO / "samples" / "sample_audio.mp3").resolve().as_uri()
    first = client.run({"operation": "addaudio", "url_video": (REPO / "samples" / "sample_video.mp4").as_uri(),
                        "url_audio": audio, "path": "chain", "output_filename": "first.mp4"}, timeout=120)
    second = client.run({"operation": "addaudio", "url_video": first["video_url"], "url_audio": audio,
                         "path": "chain", "output_filename": "second.mp4"}, timeout=120)
    outside = first["video_url"].replace("/output/chain/first.mp4", "/output/../secret.txt")
    with pytest.raises(JobFailed, match=r"^url_video: refused to download from '127\.0\.0\.1'"):
        client.run({"operation": "addaudio", "url_video": outside, "url_audio": audio, "path": "chain"}, timeout=120)

    assert first["video_url"].startswith("http://127.0.0.1:")
    assert second["duration"] == pytest.approx(first["duration"], abs=0.1)
