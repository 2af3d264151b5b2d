"""Decoded frames as Pillow images, and where two frames differ: for tests that judge pixels."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image, ImageChops

from tests.media import probe, stream

# Encoding noise stays under ~30 grey levels on these clips; burned-in text differs by far more.
CHANGED = 50


def frames(path: Path, mode: str = "L") -> list[Image.Image]:
    """Every frame of the first video stream, upright, as 'L' (grey) or 'RGB' images."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt",
         "gray" if mode == "L" else "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout
    video = stream(probe(path), "video")
    size = (video["width"], video["height"])
    if any(side.get("rotation", 0) % 180 for side in video.get("side_data_list", [])):
        size = size[::-1]
    step = size[0] * size[1] * len(mode)
    return [Image.frombytes(mode, size, raw[i:i + step]) for i in range(0, len(raw), step)]


def changed(a: Image.Image, b: Image.Image, threshold: int = CHANGED) -> Image.Image:
    """A mask, 255 where two frames differ by more than `threshold` grey levels."""
    return ImageChops.difference(a.convert("L"), b.convert("L")).point(lambda v: 255 if v > threshold else 0)


def count(mask: Image.Image) -> int:
    return mask.histogram()[255]


def overlap(a: Image.Image, b: Image.Image) -> int:
    """Pixels set in both masks."""
    return count(ImageChops.multiply(a, b))
