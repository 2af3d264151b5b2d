"""Images as users have them -> upright 8-bit RGB, with memory bounded by what the output needs.

Pillow decodes every image, FFmpeg none: one decoder handles EXIF orientation, CMYK JPEG, alpha,
palettes and the first frame of a GIF the same way for every format, JPEG can be decoded straight
at 1/2, 1/4 or 1/8 of its size (a 12000x8000 photo needs ~18 MB, not ~300 MB), and user bytes never
reach FFmpeg's demuxers. Only the formats below are opened: Pillow's other plugins (EPS runs
Ghostscript, for one) are not for untrusted input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from video_ops.base.errors import JobError

FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
FORMAT_NAMES = "JPEG, PNG, WebP, GIF, BMP or TIFF"  # JPEG includes the MPO kind some phones write
MAX_PIXELS = 150_000_000  # a 15000x10000 photo; a decoded non-JPEG image costs 3-4 bytes a pixel
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_ORIENTATION_TAG = 0x0112
_TIFF_WIDTH, _TIFF_LENGTH = 256, 257  # the size as stored, whatever size the TIFF decoder reports

# Pillow's own bomb check would warn from 89 MP on; ours (in `inspect`) is the one that decides.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class ImageInfo:
    """What the header says, before any pixel is decoded. Sizes are as displayed (EXIF applied)."""

    format: str
    width: int
    height: int


def inspect(path: Path) -> ImageInfo:
    """Read the header only: is this an image we take, and is it small enough to decode?"""
    try:
        with Image.open(path, formats=FORMATS) as image:
            width, height = _stored_size(image)
            rotated = image.getexif().get(_ORIENTATION_TAG) in _ROTATED
            fmt = image.format or "?"
    except Image.DecompressionBombError:  # Pillow refuses twice our limit before we see the size
        raise JobError(f"the image is far larger than the limit of {MAX_PIXELS // 1_000_000} megapixels.") from None
    except Image.UnidentifiedImageError:
        raise JobError(f"the file is not an image in a supported format ({FORMAT_NAMES}).") from None
    except Exception as err:  # malformed bytes make Pillow raise almost anything (struct.error, ...)
        raise JobError(f"the image header could not be read ({_reason(err)}).") from None
    if width < 1 or height < 1:
        raise JobError("the image has no pixels.")
    if width * height > MAX_PIXELS:
        raise JobError(
            f"the image is {width}x{height} pixels, more than the limit of {MAX_PIXELS // 1_000_000} megapixels."
        )
    return ImageInfo(fmt, height if rotated else width, width if rotated else height)


def load(path: Path, scale: float, background: tuple[int, int, int]) -> Image.Image:
    """The upright image as RGB, alpha flattened onto `background`, possibly decoded smaller.

    `scale` is how many output pixels one image pixel becomes; a JPEG is decoded at the smallest
    power-of-two reduction that still has that many pixels. The result may therefore be smaller
    than its header says: callers map coordinates by the ratio of sizes.
    """
    try:
        with Image.open(path, formats=FORMATS) as image:
            stored = _stored_size(image)
            if scale < 1:  # only JPEG can; the scale is the same along both axes, so EXIF rotation does not matter
                image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
            image.load()
            return _to_rgb(upright(image, stored), background)
    except Exception as err:  # as above: for untrusted bytes, any failure means "unusable file"
        raise JobError(f"the image could not be decoded ({_reason(err)}).") from None


def _stored_size(image: Image.Image) -> tuple[int, int]:
    """The pixel size as the file stores it, before any orientation: TIFF decoders may report either."""
    if image.format == "TIFF":
        width, length = image.tag_v2.get(_TIFF_WIDTH), image.tag_v2.get(_TIFF_LENGTH)  # type: ignore[attr-defined]
        if isinstance(width, int) and isinstance(length, int):
            return width, length
    return image.size


def upright(image: Image.Image, stored: tuple[int, int]) -> Image.Image:
    """Apply the EXIF orientation exactly once, judged from the decoded image rather than the tag alone.

    Some decoders apply the orientation themselves (Pillow's TIFF decoder, with or without libtiff);
    those that drop the tag when they do are left alone by `exif_transpose`, and one that keeps the tag
    but already delivers the swapped shape is recognised by that shape.
    """
    orientation = image.getexif().get(_ORIENTATION_TAG, 1)
    if orientation in _ROTATED and stored[0] != stored[1] and _is_swapped(image.size, stored):
        return image
    return ImageOps.exif_transpose(image)


def _is_swapped(decoded: tuple[int, int], stored: tuple[int, int]) -> bool:
    """Does the decoded image (possibly reduced by `draft`) have the stored shape turned on its side?"""
    return (decoded[0] > decoded[1]) != (stored[0] > stored[1])


def _to_rgb(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    if image.mode in {"I;16", "I;16L", "I;16B", "I;16N", "I"}:
        image = image.convert("I") if image.mode.startswith("I;16") else image
        image = image.point(lambda value: value * (1 / 257)).convert("L")  # 16-bit -> 8-bit, not clipped
    if image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")  # CMYK (Adobe's inverted kind too), palette, grey, YCbCr


def _reason(err: BaseException) -> str:
    text = str(err).strip() or err.__class__.__name__
    return text if len(text) <= 120 else text[:117] + "..."
