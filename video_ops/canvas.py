"""A clip's frames as raw yuv420p: the image is resampled once onto a canvas, and each frame is the
frame's view cut from that canvas with sub-pixel precision.

Why not FFmpeg's `zoompan` or `crop`: both place their window on whole pixels, so a slow move
advances 2, 3, 3, 2, 3... pixels a frame and visibly judders (hence the usual 6x upscale, which
only makes the steps smaller at great cost). Pillow's `resize(box=...)` takes a float box and
weights the source pixels by their exact distance, so a view 0.3 px further right comes out
0.3 px further right. The canvas holds the moving area at OVERSAMPLE times the resolution of the
closest view, so every frame is a downscale (by 1.25 to 1.5): at 1:1, a view half a pixel off the
grid comes out visibly softer than one on it, and sharpness pulses by ~14 % from frame to frame;
from 1.25x on, the filter's blur no longer depends on the phase (~1 % change).
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from .motion import Rect, even_ceil

# RGB -> Y'CbCr as H.264 players expect it: BT.709 matrix, limited ("TV") range. The output is
# tagged accordingly (see `COLOUR_TAGS`).
_BT709_TV = (
    0.2126 * 219 / 255, 0.7152 * 219 / 255, 0.0722 * 219 / 255, 16,
    -0.1146 * 224 / 255, -0.3854 * 224 / 255, 0.5 * 224 / 255, 128,
    0.5 * 224 / 255, -0.4542 * 224 / 255, -0.0458 * 224 / 255, 128,
)
COLOUR_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
OVERSAMPLE = 1.25
_FRAME_FILTER = Image.Resampling.HAMMING  # per frame: bilinear's cost, a crisper result

_CANVAS_FILTER = Image.Resampling.LANCZOS  # once per clip: any ratio, so the best filter


@dataclass(frozen=True)
class Canvas:
    """Y at the canvas size, Cb and Cr at half of it, covering `region` (image coordinates)."""

    luma: Image.Image
    cb: Image.Image
    cr: Image.Image
    region: Rect
    size: tuple[int, int]  # the output frame

    @classmethod
    def paint(
        cls,
        source: Image.Image,
        image_size: tuple[int, int],
        region: Rect,
        scale: float,
        size: tuple[int, int],
        background: tuple[int, int, int],
    ) -> Canvas:
        """Resample `region` of the image (which may reach past its edges) at `scale` output pixels per
        image pixel. `source` is the decoded image, possibly smaller than `image_size` (JPEG draft)."""
        width, height = even_ceil(region.w * scale), even_ceil(region.h * scale)
        sx, sy = width / region.w, height / region.h
        rgb = Image.new("RGB", (width, height), background)
        inside = region.intersection(Rect(0, 0, *image_size))
        if inside is not None:
            left, top = round((inside.x - region.x) * sx), round((inside.y - region.y) * sy)
            right, bottom = round((inside.right - region.x) * sx), round((inside.bottom - region.y) * sy)
            if right > left and bottom > top:
                kx, ky = source.width / image_size[0], source.height / image_size[1]
                box = (inside.x * kx, inside.y * ky, inside.right * kx, inside.bottom * ky)
                piece = source.resize((right - left, bottom - top), _CANVAS_FILTER, box=box, reducing_gap=3.0)
                rgb.paste(piece, (left, top))
        luma, cb, cr = rgb.convert("RGB", _BT709_TV).split()
        return cls(luma, cb.reduce(2), cr.reduce(2), region, size)

    def frame(self, view: Rect) -> bytes:
        """One yuv420p frame showing `view` (image coordinates, inside `region`)."""
        width, height = self.luma.size
        sx, sy = width / self.region.w, height / self.region.h
        box = (
            _clamp((view.x - self.region.x) * sx, width),
            _clamp((view.y - self.region.y) * sy, height),
            _clamp((view.right - self.region.x) * sx, width),
            _clamp((view.bottom - self.region.y) * sy, height),
        )
        half_box = tuple(edge / 2 for edge in box)
        w, h = self.size
        planes = (
            self.luma.resize((w, h), _FRAME_FILTER, box=box),
            self.cb.resize((w // 2, h // 2), _FRAME_FILTER, box=half_box),
            self.cr.resize((w // 2, h // 2), _FRAME_FILTER, box=half_box),
        )
        return b"".join(plane.tobytes() for plane in planes)


def _clamp(value: float, limit: int) -> float:
    """Float noise must not push a box edge past the canvas (Pillow refuses that)."""
    return min(max(value, 0.0), float(limit))
