"""A still image filmed as a shot: the camera's path over the image, the canvas it is cut from, its frames.

img2vid encodes one shot per clip; render strings shots together with video scenes. Both get the
same framing, the same canvas and the same sub-pixel frame cutting from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from video_ops.media import images
from video_ops.media.canvas import OVERSAMPLE, Canvas
from video_ops.media.motion import Fit, Motion, Rect, endpoints, framing, progress, view_at

MAX_CANVAS_PIXELS = 40_000_000  # ~12 bytes a pixel while painted: a canvas stays near 0.5 GB


@dataclass(frozen=True)
class Shot:
    """Where the camera starts and ends on the image, and how finely the image is resampled."""

    start: Rect
    end: Rect
    size: tuple[int, int]  # the output frame
    scale: float  # canvas pixels per image pixel

    @property
    def still(self) -> bool:
        return self.start == self.end

    @property
    def region(self) -> Rect:
        return self.start.union(self.end)


def plan_shot(info: images.ImageInfo, size: tuple[int, int], fit: Fit, motion: Motion) -> Shot:
    """A still frame is the canvas itself; a moving one is cut from a canvas a little finer than it.
    Only a pan across an extreme panorama meets the pixel cap (its frames are then a little soft)."""
    area, still_view = framing(info.width, info.height, size[0] / size[1], fit)
    start, end = endpoints(motion, area, still_view)
    region = start.union(end)
    scale = size[0] / min(start.w, end.w) * (1.0 if start == end else OVERSAMPLE)
    scale = min(scale, math.sqrt(MAX_CANVAS_PIXELS / (region.w * region.h)))
    return Shot(start, end, size, scale)


def paint(path: Path, info: images.ImageInfo, shot: Shot, background: tuple[int, int, int]) -> Canvas:
    """Decode and resample in one step, so the decoded image is freed as soon as the canvas exists."""
    source = images.load(path, shot.scale, background)
    return Canvas.paint(source, (info.width, info.height), shot.region, shot.scale, shot.size, background)


def shot_frame(canvas: Canvas, shot: Shot, index: int, frames: int) -> memoryview:
    """Frame `index` of a shot `frames` long, as raw yuv420p."""
    return canvas.frame(view_at(shot.start, shot.end, progress(index, frames)))
