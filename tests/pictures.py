"""Test images made with Pillow, and readings of the frames that came out of FFmpeg (numpy)."""

from __future__ import annotations

import itertools
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.frames import frames as decoded_frames

RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 40)
QUADRANTS = (RED, GREEN, BLUE, YELLOW)  # top-left, top-right, bottom-left, bottom-right


def quadrants(width: int, height: int) -> Image.Image:
    """Four coloured quarters: any flip, rotation, colour mix-up or wrong crop shows."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    columns = [(0, width // 2), (width // 2, width)]
    rows = [(0, height // 2), (height // 2, height)]
    for index, colour in enumerate(QUADRANTS):
        (x0, x1), (y0, y1) = columns[index % 2], rows[index // 2]
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], colour)
    return image


def dots(width: int, height: int, centres: list[tuple[float, float]], radius: float) -> Image.Image:
    """Soft white dots on grey: their centroids can be tracked to a small fraction of a pixel."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    field = np.full((height, width), 60.0, np.float32)
    for cx, cy in centres:
        field += 180.0 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2))
    return Image.fromarray(np.clip(field, 0, 255).astype(np.uint8)).convert("RGB")


def frames(path: Path, pix_fmt: str = "rgb24") -> np.ndarray:
    """Every decoded frame: (frames, height, width, channels) uint8."""
    images = decoded_frames(path, "L" if pix_fmt == "gray" else "RGB")
    video = np.stack([np.asarray(image) for image in images])
    return video[..., np.newaxis] if pix_fmt == "gray" else video


def counted_frames(path: Path) -> int:
    """Video packets in the file (one per frame for H.264 in MP4), counted, not read from a header."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
         "stream=nb_read_packets", "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True,
    ).stdout
    return int(out.strip())


def centroid(gray: np.ndarray, near: tuple[float, float], reach: int) -> tuple[float, float]:
    """Brightness-weighted centre of the dot near `near` (background level removed)."""
    x0, y0 = max(int(near[0]) - reach, 0), max(int(near[1]) - reach, 0)
    patch = gray[y0 : int(near[1]) + reach + 1, x0 : int(near[0]) + reach + 1].astype(np.float64)
    weight = np.clip(patch - np.median(patch) - 10, 0, None)
    ys, xs = np.mgrid[0 : patch.shape[0], 0 : patch.shape[1]]
    total = weight.sum()
    assert total > 0, f"no dot near {near}"
    return x0 + (weight * xs).sum() / total, y0 + (weight * ys).sum() / total


def track(video: np.ndarray, start: tuple[float, float], reach: int) -> np.ndarray:
    """The dot's (x, y) in every frame, following it from `start`."""
    positions, near = [], start
    for frame in video[..., 0]:
        near = centroid(frame, near, reach)
        positions.append(near)
    return np.array(positions)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def expected_frames(durations: list[float], fps: float) -> list[int]:
    """The issue's formula, written independently of the worker's code: exact decimal sums."""
    edges, total = [0], Decimal(0)
    for seconds in durations:
        total += Decimal(str(seconds))
        edges.append(int((total * Decimal(str(fps))).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return [b - a for a, b in itertools.pairwise(edges)]
