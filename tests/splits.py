"""A split render driven job by job in this process, and its comparison with the unsplit render: shared by
tests/test_render_split.py (one rich timeline, cut three ways) and tests/test_render_split_matrix.py (the
scene mixes users send, at the gateway's default split length)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import local_output, run_job
from tests.pictures import counted_frames, frames
from tests.sound import loudness
from tests.test_render import played_seconds
from video_ops.client.render_split import RenderSplit, part_input, sound_input


@contextmanager
def split_worker(output: Path) -> Iterator[None]:
    """Jobs run in this process as a worker without a bucket would: results in `output`, CPU encoding,
    media from 127.0.0.1 and `file:` URLs."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"VIDEO_OPS_OUTPUT_DIR": str(output), "VIDEO_OPS_ENCODER": "x264",
                            "VIDEO_OPS_DECODER": "cpu", "RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS": "true",
                            "VIDEO_OPS_ALLOW_FILE_URLS": "1", "VIDEO_OPS_WORKDIR": str(output / "work")}.items():
            patch.setenv(name, value)
        for name in ("BUCKET_NAME", "BUCKET_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        yield


def render_split(spec: dict[str, Any], ranges: list[tuple[int, int]], seconds: float) -> dict[str, Any]:
    """The sound job and the parts, each as its own job, then the join, as the gateway and the client drive
    them: the joined result as `RenderSplit` makes it."""
    split = RenderSplit(spec, seconds)
    first = [sound_input(spec), *(part_input(spec, frames, k) for k, frames in enumerate(ranges))]
    split.submitted(first, [f"job-{k}" for k in range(len(first))])
    made = [run_job(one, job_id=job_id) for one, job_id in zip(first, split.current(), strict=True)]
    for result in made:
        assert result.get("success"), result
    _, (join,) = split.step("split", [{"status": "COMPLETED", "output": result} for result in made])
    split.submitted([join], ["join"])
    final, _ = split.step("split", [{"status": "COMPLETED", "output": run_job(join, job_id="join")}])
    assert final["status"] == "COMPLETED", final
    return final["output"]


def ssim_per_frame(a: Path, b: Path) -> list[float]:
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(a), "-i", str(b), "-lavfi",
                          "[0:v][1:v]ssim=stats_file=-", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [float(value) for value in re.findall(r"All:([\d.]+)", out)]


def frame_times(path: Path) -> list[float]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    return [float(line.strip(",")) for line in out.split()]


def assert_same_picture(whole: dict[str, Any], joined: dict[str, Any], ranges: list[tuple[int, int]],
                        fps: float) -> None:
    """The video joined from the parts of `ranges` has the unsplit one's frames at the same times, each alike
    (SSIM >= 0.99), and no frame repeated or dropped at a cut: each frame there is nearest the unsplit frame
    of its time."""
    whole_path, joined_path = local_output(whole), local_output(joined)
    count = ranges[-1][1]
    assert counted_frames(joined_path) == counted_frames(whole_path) == joined["frames"] == count
    assert joined["duration"] == pytest.approx(whole["duration"], abs=1e-3)
    assert frame_times(joined_path) == pytest.approx([k / fps for k in range(count)], abs=1e-3)
    scores = ssim_per_frame(whole_path, joined_path)
    assert len(scores) == count and min(scores) >= 0.99, min(scores)
    ours, theirs = frames(joined_path).astype(int), frames(whole_path).astype(int)
    for frame in [f for _, end in ranges[:-1] for f in (end - 1, end)]:
        distance = [np.abs(ours[frame] - theirs[frame + shift]).mean() for shift in (-1, 0, 1)]
        assert distance[1] <= min(distance[0], distance[2]), (frame, distance)


def assert_same_sound(whole: dict[str, Any], joined: dict[str, Any]) -> None:
    """The sound mixed once over the whole timeline: the unsplit render's loudness, samples and music plan."""
    whole_path, joined_path = local_output(whole), local_output(joined)
    assert played_seconds(joined_path) == played_seconds(whole_path)
    assert loudness(joined_path) == pytest.approx(loudness(whole_path), abs=0.5)
    assert joined.get("audio_analysis") == whole.get("audio_analysis")
