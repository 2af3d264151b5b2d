"""The built worker image (scripts/image.sh): its FFmpeg is the very build these tests run, and jobs run
in it as the user's `image.sh job` runs them.

These need an image built on this machine. CI builds one first and sets VIDEO_OPS_IMAGE_TESTS=1, which
makes a missing image a failure; elsewhere they are skipped until `bash scripts/image.sh build`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.media import probe, stream

IMAGE = os.environ.get("VIDEO_OPS_IMAGE", "localhost/video-ops:latest")
SCRIPT = REPO / "scripts" / "image.sh"
is_root = os.geteuid() == 0


def image_is_built() -> bool:
    podman = shutil.which("podman")
    return bool(podman and is_root and subprocess.run([podman, "image", "exists", IMAGE]).returncode == 0)


@pytest.fixture(scope="module")
def image() -> str:
    if not image_is_built():
        if os.environ.get("VIDEO_OPS_IMAGE_TESTS") == "1":
            pytest.fail(f"no image {IMAGE}: 'bash scripts/image.sh build' must run before these tests")
        pytest.skip(f"no image {IMAGE} built here (bash scripts/image.sh build)")
    return IMAGE


def image_sh(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=300,
                          **kwargs)


def version_lines(text: str) -> tuple[str, str]:
    """The version line and the configuration line (every --enable and --disable of the build)."""
    lines = text.splitlines()
    return lines[0], next(line for line in lines if line.startswith("configuration:"))


@pytest.mark.parametrize("program", ["ffmpeg", "ffprobe"])
def test_the_image_runs_the_ffmpeg_these_tests_run(image, program):
    inside = image_sh("run", program, "-version")
    assert inside.returncode == 0, inside.stderr
    outside = subprocess.run([program, "-version"], capture_output=True, text=True, check=True)
    assert version_lines(inside.stdout) == version_lines(outside.stdout)


def last_json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_a_sample_job_runs_in_the_image_and_its_video_plays(image):
    job = (REPO / "samples" / "jobs" / "caption_highlight.json").read_text()
    done = image_sh("job", job)
    assert done.returncode == 0, done.stderr[-3000:]
    result = last_json_line(done.stdout)
    assert result["success"] is True
    video = REPO / "output" / "image" / result["s3_key"]
    picture = stream(probe(video), "video")
    assert (picture["codec_name"], picture["pix_fmt"]) == ("h264", "yuv420p")
    assert float(probe(video)["format"]["duration"]) == pytest.approx(result["duration"], abs=0.05)


def test_a_failed_job_prints_its_error_as_the_last_line(image):
    job = {"input": {"operation": "addaudio", "url_video": "file:samples/missing.mp4",
                     "url_audio": "file:samples/sample_audio.mp3"}}
    done = image_sh("job", json.dumps(job))
    assert done.returncode == 1
    assert last_json_line(done.stdout) == {"error": "url_video: no such local file: samples/missing.mp4."}


@pytest.mark.skipif(not is_root, reason="shows the sentence a user without root sees, by dropping root")
def test_without_root_the_script_says_so_in_one_sentence():
    """The dropped user runs a copy in a folder it can enter: the clone may lie under one it cannot (0700)."""
    folder = Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o755)
        (folder / "scripts").mkdir(mode=0o755)
        script = folder / "scripts" / "image.sh"
        shutil.copy(SCRIPT, script)
        script.chmod(0o755)
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               "bash", str(script), "build"], cwd=folder, capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(folder)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "image.sh: this needs root: podman's chroot isolation and the image mounts it uses run as root here "
        "(try: sudo bash scripts/image.sh build)."]


@pytest.mark.skipif(not is_root, reason="the root check comes first")
def test_without_podman_or_apt_the_script_says_so_in_one_sentence(tmp_path):
    """A machine with neither podman nor apt-get to install it: only the shell's basic tools on PATH."""
    for tool in ("bash", "dirname", "id", "sed"):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    done = image_sh("test", env={"PATH": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "image.sh: podman is not installed and this machine has no apt-get to install it; install podman "
        "(podman 4 or newer) and run this again."]

