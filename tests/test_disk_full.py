"""A full temp disk fails the job saying so, wherever it fills up, and leaves nothing behind."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import leftover_workdirs, run_job


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[callable]:
    """Mount a tmpfs of a given size as the worker's temp root (needs root, as in CI)."""
    mounts: list[Path] = []

    def mount(kilobytes: int) -> Path:
        point = tmp_path / f"disk{len(mounts)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(point)],
                              capture_output=True)
        if done.returncode != 0:
            pytest.skip("mounting a small tmpfs needs root")
        mounts.append(point)
        monkeypatch.setenv("VIDEO_OPS_WORKDIR", str(point))
        return point

    yield mount
    for point in mounts:
        subprocess.run(["umount", str(point)], check=True)


def job(media_server: str) -> dict:
    return {"operation": "addaudio", "url_video": f"{media_server}/video.mp4", "url_audio": f"{media_server}/tone.mp3",
            "path": "out"}


def test_disk_full_while_downloading(media_server, small_disk):
    point = small_disk(64)
    result = run_job(job(media_server))
    assert result["error"].endswith(": the worker's temp disk is full; the download could not be stored.")
    assert leftover_workdirs(point) == []


def test_disk_full_while_rendering(media_server, media_dir, small_disk):
    inputs = (media_dir / "video.mp4").stat().st_size + (media_dir / "tone.mp3").stat().st_size
    point = small_disk(inputs // 1024 + 32)  # the inputs fit; the output, about as big again, does not
    result = run_job(job(media_server))
    assert result == {"error": "Adding the audio failed: the worker's temp disk is full"}
    assert leftover_workdirs(point) == []
