"""A clip's frames as raw yuv420p: the image is resampled once onto a canvas, and each frame is the
frame's view cut from that canvas with sub-pixel precision.

Why not FFmpeg's `zoompan` or `crop`: both place their window on whole pixels, so a slow move
advances 2, 3, 3, 2, 3... pixels a frame and visibly judders (hence the usual 6x upscale, which
only makes the steps smaller at great cost). Here each plane is cut by OpenCV's `warpAffine`, whose
bilinear taps sit at the view's exact position (to 1/32 of a canvas pixel), so a view 0.3 px
further right comes out 0.3 px further right; it is SIMD code, about twice as fast per frame as
Pillow's `resize(box=...)` and closer to a Lanczos rendering (docs/img2vid.md). The canvas holds
the moving area at OVERSAMPLE times the resolution of the closest view, so every frame is a
downscale (by 1.25 to 1.5): at 1:1, a view half a pixel off the grid comes out visibly softer than
one on it, and the sharpness of a pan swings by ~7 % from frame to frame; from 1.25x on, by 0.2 %
(tests/test_img2vid_motion.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from video_ops.media.motion import Rect, even_ceil

# RGB -> Y'CbCr as H.264 players expect it: BT.709 matrix, limited ("TV") range. The output is
# tagged accordingly (see `COLOUR_TAGS`).
_BT709_TV = (
    0.2126 * 219 / 255, 0.7152 * 219 / 255, 0.0722 * 219 / 255, 16,
    -0.1146 * 224 / 255, -0.3854 * 224 / 255, 0.5 * 224 / 255, 128,
    0.5 * 224 / 255, -0.4542 * 224 / 255, -0.0458 * 224 / 255, 128,
)
COLOUR_TAGS = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
OVERSAMPLE = 1.25
_CANVAS_FILTER = Image.Resampling.LANCZOS  # once per clip: any ratio, so the best filter


@dataclass(frozen=True)
class Canvas:
    """Y at the canvas size, Cb and Cr at half of it, covering `region` (image coordinates)."""

    luma: np.ndarray
    cb: np.ndarray
    cr: np.ndarray
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
        return cls(np.asarray(luma), np.asarray(cb.reduce(2)), np.asarray(cr.reduce(2)), region, size)

    def frame(self, view: Rect) -> memoryview:
        """One yuv420p frame showing `view` (image coordinates, inside `region`), in a fresh buffer (the
        feed may still be sending the previous one)."""
        import cv2  # here, not at the top: 0.1 s and ~50 MB at start-up that only img2vid needs

        height, width = self.luma.shape
        sx, sy = width / self.region.w, height / self.region.h
        w, h = self.size
        frame = np.empty(w * h * 3 // 2, np.uint8)
        luma, cb, cr = np.split(frame, [w * h, w * h * 5 // 4])
        # Output pixel u shows canvas point x0 + (u + 0.5) * step, in coordinates whose pixel centres
        # sit on integers (OpenCV's); chroma planes are the same picture at half the size.
        x0, y0 = (view.x - self.region.x) * sx, (view.y - self.region.y) * sy
        step_x, step_y = view.w * sx / w, view.h * sy / h
        for plane, out, half in ((self.luma, luma, 1), (self.cb, cb, 2), (self.cr, cr, 2)):
            matrix = np.array([
                [step_x, 0.0, x0 / half + step_x / 2 - 0.5],
                [0.0, step_y, y0 / half + step_y / 2 - 0.5],
            ])
            size = (w // half, h // half)
            cv2.warpAffine(plane, matrix, size, dst=out.reshape(size[1], size[0]),
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        return memoryview(frame)
