"""Camera moves over a still image, as pure geometry: which rectangle of the image each frame shows.

Everything is in the image's own pixel coordinates (floats), so a move is exact to any fraction of
a pixel; rounding happens only where the frame is resampled (see `video_ops.media.canvas`). A view always
has the output's aspect ratio, so nothing is ever stretched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Motion = Literal["none", "zoomin", "zoomout", "panleft", "panright", "panup", "pandown", "zoompanright"]
Fit = Literal["cover", "contain"]

# How much closer the camera gets: a zoom ends (or starts) on the central 1/ZOOM of the still frame,
# and a pan shows 1/ZOOM of it while it travels.
ZOOM = 1.2


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def around(self, cx: float, cy: float) -> Rect:
        """The same size, centred on (cx, cy)."""
        return Rect(cx - self.w / 2, cy - self.h / 2, self.w, self.h)

    def shrunk(self, factor: float) -> Rect:
        """1/factor of the size, same centre."""
        return Rect(0, 0, self.w / factor, self.h / factor).around(self.cx, self.cy)

    def union(self, other: Rect) -> Rect:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Rect(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)

    def intersection(self, other: Rect) -> Rect | None:
        x, y = max(self.x, other.x), max(self.y, other.y)
        w, h = min(self.right, other.right) - x, min(self.bottom, other.bottom) - y
        return Rect(x, y, w, h) if w > 0 and h > 0 else None


def framing(image_w: int, image_h: int, aspect: float, fit: Fit) -> tuple[Rect, Rect]:
    """(area, still): where the camera may look, and the view of a still frame.

    cover: the still is the largest centred view inside the image; the camera may roam the whole
    image. contain: the still is the whole image padded to the output's aspect, and the camera
    stays inside that padded view (it shows nothing a still frame would not).
    """
    image = Rect(0, 0, image_w, image_h)
    if fit == "cover":
        w = min(image_w, image_h * aspect)
        return image, Rect(0, 0, w, w / aspect).around(image.cx, image.cy)
    w = max(image_w, image_h * aspect)
    padded = Rect(0, 0, w, w / aspect).around(image.cx, image.cy)
    return padded, padded


def endpoints(motion: Motion, area: Rect, still: Rect) -> tuple[Rect, Rect]:
    """The first and the last view of a move; every view in between lies inside `area`."""
    close = still.shrunk(ZOOM)
    if motion == "none":
        return still, still
    if motion == "zoomin":
        return still, close
    if motion == "zoomout":
        return close, still
    left = close.around(area.x + close.w / 2, area.cy)
    right = close.around(area.right - close.w / 2, area.cy)
    top = close.around(area.cx, area.y + close.h / 2)
    bottom = close.around(area.cx, area.bottom - close.h / 2)
    if motion == "panright":
        return left, right
    if motion == "panleft":
        return right, left
    if motion == "panup":
        return bottom, top
    if motion == "pandown":
        return top, bottom
    return still, right  # zoompanright: closer while travelling to the right edge


def view_at(start: Rect, end: Rect, progress: float) -> Rect:
    """The view at `progress` (0..1): the centre moves at constant speed, the size changes by a
    constant factor per frame (a zoom that looks steady). With sizes monotone and the centre linear,
    every view stays inside the bounding box of the two ends."""
    w = start.w * (end.w / start.w) ** progress
    h = w * start.h / start.w
    cx = start.cx + (end.cx - start.cx) * progress
    cy = start.cy + (end.cy - start.cy) * progress
    return Rect(cx - w / 2, cy - h / 2, w, h)


def progress(index: int, frames: int) -> float:
    """Frame `index` of `frames`: the first frame shows the start view, the last the end view."""
    return index / (frames - 1) if frames > 1 else 0.0


def even_ceil(value: float) -> int:
    """The smallest even integer >= value (ignoring float noise): 4:2:0 needs even sizes."""
    return 2 * math.ceil(value / 2 - 1e-6)
