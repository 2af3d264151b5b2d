"""A picture brought to a frame of another shape without stretching it, as FFmpeg filter text: scaled to
fill the frame and cropped (`cover`), scaled to fit inside and padded (`contain`), or shown whole over a
blurred copy of itself that fills the frame (`blur`, the look of shorts made from landscape video).

One recipe for every operation that frames a video (joins, render's clip scenes, convert), so a crop or a
pad looks the same wherever it is asked for. Filter text holds numbers and FFmpeg's own names only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

FrameFit = Literal["cover", "contain", "blur"]
Matrix = Literal["bt601", "bt709"]
_KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}
# The blurred background is made small, blurred there and scaled back up: the same look as blurring the
# whole frame with a radius this many times larger, at a fraction of the cost (a 1080x1920 frame's
# background is blurred at 136x240).
_BLUR_SHRINK = 8
_BLUR_MIN_SIDE = 16  # the small background's shorter side, at least (a tiny frame is blurred as it is)
_BLUR_RADIUS = 0.07  # of the small background's shorter side: a soft wash in which shapes still show


@dataclass(frozen=True)
class Framing:
    """The frame a picture is brought to, and how it fills it."""

    width: int
    height: int
    fit: FrameFit = "contain"
    background: tuple[int, int, int] = (0, 0, 0)  # contain's bars
    focus_x: float = 0.5  # cover: the point across the picture (0 left edge .. 1 right edge) kept in the middle
    matrix: Matrix = "bt601"  # the Y'CbCr matrix the frame is written in: how contain's colour is made


def fit_filter(size: tuple[float, float], framing: Framing, scale_options: str = "") -> str:
    """The filters that bring a picture of display size `size` (its pixels' aspect applied, upright) to the
    frame, square pixels out. `scale_options` is appended to each scale (`:out_range=tv`...)."""
    if framing.fit == "blur":
        return _blur(size, framing, scale_options)
    inner_w, inner_h = _inside(size, framing.width, framing.height, framing.fit)
    chain = [f"scale={inner_w}:{inner_h}{scale_options}", "setsar=1"]
    top = abs(framing.height - inner_h) // 2
    if framing.fit == "contain":
        colour = "0x{:02x}{:02x}{:02x}".format(*pad_colour(framing.background, framing.matrix))
        chain.append(f"pad={framing.width}:{framing.height}:{abs(framing.width - inner_w) // 2}:{top}:color={colour}")
    else:
        spare = inner_w - framing.width
        left = min(max(round(framing.focus_x * inner_w - framing.width / 2), 0), spare)
        chain.append(f"crop={framing.width}:{framing.height}:{left}:{top}")
    return ",".join(chain)


def _blur(size: tuple[float, float], framing: Framing, scale_options: str) -> str:
    """The picture, contained, over a copy of itself covering the frame, blurred at a small size and scaled
    back up (an overlay at even offsets, so 4:2:0 chroma stays aligned with its luma)."""
    width, height = framing.width, framing.height
    inner_w, inner_h = _inside(size, width, height, "contain")
    if (inner_w, inner_h) == (width, height):  # the picture fills the frame: nothing of the copy would show
        return fit_filter(size, dataclasses.replace(framing, fit="contain"), scale_options)
    shrink = max(1.0, min(_BLUR_SHRINK, min(width, height) / _BLUR_MIN_SIDE))
    small = Framing(_even(width / shrink), _even(height / shrink), "cover")
    radius = max(1, round(min(small.width, small.height) * _BLUR_RADIUS))
    left, top = (width - inner_w) // 4 * 2, (height - inner_h) // 4 * 2
    return (f"split[picture][copy];"
            f"[copy]{fit_filter(size, small, scale_options)},boxblur={radius}:2,"
            f"scale={width}:{height}{scale_options}[blurred];"
            f"[picture]scale={inner_w}:{inner_h}{scale_options},setsar=1[inner];"
            f"[blurred][inner]overlay={left}:{top}:format=auto")


def pad_colour(rgb: tuple[int, int, int], matrix: Matrix) -> tuple[int, int, int]:
    """The colour to give `pad`, which in FFmpeg 5.1 turns RGB into Y'CbCr by BT.601 whatever the picture's
    matrix: for a BT.709 picture, the RGB that BT.601 takes to the Y'CbCr BT.709 gives `rgb` (so players show
    `rgb`; exact inside BT.601's gamut, the nearest colour in it beyond: pure green shows a little darker)."""
    if matrix == "bt601":
        return rgb
    kr, kb = _KR_KB["bt709"]
    red, green, blue = (channel / 255 for channel in rgb)
    luma = kr * red + (1 - kr - kb) * green + kb * blue
    cb, cr = (blue - luma) / (2 * (1 - kb)), (red - luma) / (2 * (1 - kr))
    kr, kb = _KR_KB["bt601"]
    red, blue = luma + 2 * (1 - kr) * cr, luma + 2 * (1 - kb) * cb
    green = (luma - kr * red - kb * blue) / (1 - kr - kb)
    return tuple(min(max(round(channel * 255), 0), 255) for channel in (red, green, blue))  # type: ignore[return-value]


def _inside(size: tuple[float, float], width: int, height: int, fit: FrameFit) -> tuple[int, int]:
    """The picture's scaled size: within the frame (contain) or covering it (cover), even sides."""
    source_w, source_h = size
    scale = (min if fit == "contain" else max)(width / source_w, height / source_h)
    inner_w, inner_h = _even(source_w * scale), _even(source_h * scale)
    if fit == "contain":
        return min(inner_w, width), min(inner_h, height)
    return max(inner_w, width), max(inner_h, height)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)
