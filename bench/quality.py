"""What an output looks like, measured: SSIM with FFmpeg's `ssim` filter, and the smoothness of a camera
move by following a soft dot from frame to frame (standard library only)."""

from __future__ import annotations

import itertools
import json
import math
import re
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

_SSIM_ALL = re.compile(r"SSIM .* All:([0-9.]+)")
# Both sides are brought to one space, BT.709 limited-range 4:2:0 (what the worker writes; a side
# already there passes unchanged), each read with its own colour tags: a clip against a BT.601 JPEG
# then compares pictures, not matrices. FFmpeg's "All" weighs the planes by their pixel counts.
# A still image as the reference is repeated for every frame of the video.
_SAME_SPACE = "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p"


def ssim(video: Path, reference: Path, top: float = 1.0) -> float:
    """Mean SSIM (all planes) of every frame of `video` against `reference` (a video or a still image),
    over the upper `top` fraction of the picture (1: all of it)."""
    prepare = _SAME_SPACE if top == 1.0 else f"{_SAME_SPACE},crop=iw:trunc(ih*{top:g}/2)*2:0:0"
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(video), "-i", str(reference),
         "-lavfi", f"[0:v]{prepare}[main];[1:v]{prepare}[ref];[main][ref]ssim", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    found = _SSIM_ALL.findall(done.stderr)
    if not found:
        raise RuntimeError(f"FFmpeg printed no SSIM for {video.name}: {done.stderr[-500:]}")
    return float(found[-1])


@dataclass(frozen=True)
class Jitter:
    """How steadily a dot moves: the change of its per-frame step, from one frame to the next."""

    frames: int
    travel_px: float  # from the first frame to the last
    mean_step_px: float
    mean_px: float  # mean change of the step (0 for a perfectly steady move)
    max_px: float


def jitter(video: Path, start: tuple[float, float], reach: int) -> Jitter:
    positions = track(video, start, reach)
    steps = [(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(positions)]
    changes = [math.dist(a, b) for a, b in itertools.pairwise(steps)]
    return Jitter(
        frames=len(positions),
        travel_px=math.dist(positions[0], positions[-1]),
        mean_step_px=statistics.fmean(math.hypot(*step) for step in steps),
        mean_px=statistics.fmean(changes),
        max_px=max(changes),
    )


def track(video: Path, start: tuple[float, float], reach: int) -> list[tuple[float, float]]:
    """The dot's centroid in every decoded frame, each searched for near where it was in the frame before."""
    width, height = _frame_size(video)
    decoder = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(video),
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        stdout=subprocess.PIPE,
    )
    assert decoder.stdout is not None
    positions, near = [], start
    with decoder:
        while frame := decoder.stdout.read(width * height):
            if len(frame) < width * height:
                break
            near = centroid(frame, width, height, near, reach)
            positions.append(near)
    if decoder.returncode or len(positions) < 3:
        raise RuntimeError(f"could not follow the dot through {video.name}")
    return positions


def centroid(frame: bytes, width: int, height: int, near: tuple[float, float], reach: int) -> tuple[float, float]:
    """Brightness-weighted centre of the dot near `near`, the patch's background level removed."""
    x0, x1 = max(int(near[0]) - reach, 0), min(int(near[0]) + reach + 1, width)
    y0, y1 = max(int(near[1]) - reach, 0), min(int(near[1]) + reach + 1, height)
    rows = [frame[y * width + x0 : y * width + x1] for y in range(y0, y1)]
    floor = statistics.median(value for row in rows for value in row) + 10
    total = sum_x = sum_y = 0.0
    for dy, row in enumerate(rows):
        for dx, value in enumerate(row):
            weight = value - floor
            if weight > 0:
                total += weight
                sum_x += weight * dx
                sum_y += weight * dy
    if total == 0:
        raise RuntimeError(f"no dot near ({near[0]:.0f}, {near[1]:.0f})")
    return x0 + sum_x / total, y0 + sum_y / total


def _frame_size(video: Path) -> tuple[int, int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "json",
         str(video)], capture_output=True, text=True, check=True,
    ).stdout
    stream = json.loads(out)["streams"][0]
    return int(stream["width"]), int(stream["height"])
