"""EXIF/TIFF orientation applied exactly once, whatever the decoder did: every orientation 1-8 of
fax-compressed (G4) and uncompressed TIFF, JPEG, PNG and WebP must give the orientation-1 picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, TiffImagePlugin

from tests.helpers import run_job
from tests.pictures import frames, quadrants
from video_ops.media import images

SIZE = (64, 36)  # the output frame; the pictures are 128x72, the same shape, so `cover` crops nothing
# What a camera stores for each orientation: the upright picture turned the other way.
STORED = {
    1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
KINDS = {"tiff-g4": ".tif", "tiff-raw": ".tif", "jpeg": ".jpg", "png": ".png", "webp": ".webp"}


def upright(kind: str) -> Image.Image:
    """Blocks that no flip, turn or stretch maps onto themselves: on colour quarters, or black and white
    for 1-bit G4."""
    picture = Image.new("1", (128, 72), 0) if kind == "tiff-g4" else quadrants(128, 72)
    white = 1 if kind == "tiff-g4" else (255, 255, 255)
    draw = ImageDraw.Draw(picture)
    draw.rectangle([0, 0, 63, 35] if kind == "tiff-g4" else [8, 8, 31, 23], white)
    draw.rectangle([104, 56, 127, 71], white)
    return picture


def save(kind: str, orientation: int, path: Path) -> None:
    transpose = STORED[orientation]
    picture = upright(kind) if transpose is None else upright(kind).transpose(transpose)
    if kind.startswith("tiff"):
        tags = TiffImagePlugin.ImageFileDirectory_v2()
        tags[0x0112] = orientation
        compression = "group4" if kind == "tiff-g4" else "raw"
        picture.save(path, "TIFF", compression=compression, tiffinfo=tags)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options = {"quality": 95} if kind == "jpeg" else {"lossless": True} if kind == "webp" else {}
        picture.save(path, exif=exif, **options)


@pytest.fixture(scope="module")
def oriented(media_dir: Path) -> dict[tuple[str, int], str]:
    folder = media_dir / "oriented"
    folder.mkdir(exist_ok=True)
    names = {}
    for kind, suffix in KINDS.items():
        for orientation in STORED:
            name = f"{kind}-{orientation}{suffix}"
            save(kind, orientation, folder / name)
            names[kind, orientation] = f"oriented/{name}"
    return names


@pytest.fixture(scope="module")
def clips(oriented, media_server, tmp_path_factory) -> dict[tuple[str, int], np.ndarray]:
    """One job for all 40 pictures, one frame each: the first frame of every clip."""
    root = tmp_path_factory.mktemp("oriented")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIDEO_OPS_WORKDIR", str(root / "work"))
        patch.setenv("VIDEO_OPS_OUTPUT_DIR", str(root / "output"))
        patch.setenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "true")
        keys = list(oriented)
        pictures = [{"id": f"{kind}-{o}", "image_url": f"{media_server}/{oriented[kind, o]}", "duracao": 0.1}
                    for kind, o in keys]
        result = run_job({"operation": "img2vid", "images": pictures, "width": SIZE[0], "height": SIZE[1],
                          "frame_rate": 10})
    assert result.get("success"), result
    return {key: frames(Path(video["video_url"][len("file://"):]))[0].astype(int)
            for key, video in zip(keys, result["videos"], strict=True)}


@pytest.mark.parametrize("orientation", range(2, 9))
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_orientation_gives_the_upright_picture(clips, kind, orientation):
    difference = np.abs(clips[kind, orientation] - clips[kind, 1]).mean()
    assert difference < 4, f"{kind} orientation {orientation} differs from orientation 1 by {difference:.1f}"


def test_the_upright_picture_is_the_one_drawn(clips):
    """Orientation 1 itself is right: red top-left, yellow bottom-right, the white blocks in place."""
    first = clips["png", 1]
    assert np.abs(first[14, 24] - (220, 30, 30)).max() < 30
    assert np.abs(first[24, 40] - (230, 220, 40)).max() < 30
    assert first[8, 10].min() > 200 and first[32, 60].min() > 200


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_the_header_reports_the_upright_size(oriented, media_dir, kind, orientation):
    info = images.inspect(media_dir / oriented[kind, orientation])
    assert (info.width, info.height) == (128, 72)


@pytest.mark.parametrize(("stored", "size"), [((72, 128), (128, 72)), ((128, 72), (72, 128))])
def test_a_decoder_that_turned_the_picture_but_kept_the_tag_is_not_turned_again(stored, size):
    """Decoded 128x72 with orientation 6 still tagged: already upright if the file stores 72x128."""
    decoded = quadrants(128, 72)
    decoded.getexif()[0x0112] = 6
    assert images.upright(decoded, stored).size == size
