"""frames: each picture is the frame a player shows at its time (read back from the number every test frame
carries, and against FFmpeg's accurate seek by SSIM), upright, sized and encoded as asked; a contact sheet's
tiles sit where the result says; many frames cost one decoding pass."""

from __future__ import annotations

import bisect
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.helpers import REPO, leftover_workdirs, local_output, run_job, s3_client, stored_keys
from tests.media import display_times, ffmpeg, frame_number, numbered_video
from video_ops.media.frame_index import read_index
from video_ops.media.stills import take_frames

MAGIC = {"jpg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",), "webp": (b"RIFF", b"WEBP")}
# Where the numbered block's middle lands once the phone clip (320x240, turned a quarter counter-clockwise,
# as its display matrix says) stands upright: a share of the picture's width and height.
BLOCK_MIDDLE = (24 / 240, (319 - 24) / 320)


def block_middle(size: tuple[int, int], origin: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    return origin[0] + round(BLOCK_MIDDLE[0] * size[0]), origin[1] + round(BLOCK_MIDDLE[1] * size[1])


def shown_at(times: list[float], at: float) -> int:
    """The frame a player shows at `at`: the last one that started at or before it."""
    return max(bisect.bisect_right(times, at + 1e-9) - 1, 0)


def has_magic(data: bytes, form: str) -> bool:
    marks = MAGIC[form]
    return data.startswith(marks[0]) and (len(marks) == 1 or data[8:12] == marks[1])


def accurate_seeks(path: Path, times: list[float], folder: Path, scale: str | None = None) -> list[Image.Image]:
    """FFmpeg's own frame at each time (`-ss` before `-i`: an accurate seek), lossless 8-bit RGB as the
    pictures are (a 10-bit source would otherwise give a 16-bit PNG), in one run."""
    inputs: list[str] = []
    outputs: list[str] = []
    for number, time in enumerate(times):
        inputs += ["-ss", f"{time:.6f}", "-i", str(path)]
        outputs += ["-map", f"{number}:v:0", "-frames:v", "1", "-fps_mode", "passthrough",
                    *(["-vf", f"scale={scale}"] if scale else []), "-pix_fmt", "rgb24",
                    str(folder / f"ffmpeg_{number}.png")]
    ffmpeg(*inputs, *outputs)
    return [Image.open(folder / f"ffmpeg_{number}.png").convert("RGB") for number in range(len(times))]


def decoded_from_the_start(path: Path, numbers: list[int], folder: Path, scale: str) -> list[Image.Image]:
    """FFmpeg's frames by their number in display order, decoded from the first frame: where its seek cannot
    land (it seeks an open GOP's CRA by decode time, after the leading pictures shown before it)."""
    for number in numbers:
        ffmpeg("-i", str(path), "-map", "0:v:0", "-vf", f"select=eq(n\\,{number}),scale={scale}", "-frames:v", "1",
               "-fps_mode", "passthrough", "-pix_fmt", "rgb24", str(folder / f"numbered_{number}.png"))
    return [Image.open(folder / f"numbered_{number}.png").convert("RGB") for number in numbers]


def ssim(a: Image.Image, b: Image.Image) -> float:
    """SSIM as FFmpeg's `ssim` filter gives it for 4:2:0 video (8x8 windows; Y, Cb and Cr weighted 4:1:1 by
    their sizes there): colour counts, not only brightness."""
    x, y = (np.asarray(image.convert("RGB").convert("YCbCr"), dtype=np.float64) for image in (a, b))
    assert x.shape == y.shape
    return float(np.average([_plane_ssim(x[..., plane], y[..., plane]) for plane in range(3)], weights=[4, 1, 1]))


def _plane_ssim(x: np.ndarray, y: np.ndarray) -> float:

    def window_means(values: np.ndarray) -> np.ndarray:
        total = np.pad(values, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        return (total[8:, 8:] - total[:-8, 8:] - total[8:, :-8] + total[:-8, :-8]) / 64

    mx, my = window_means(x), window_means(y)
    vx, vy, cov = window_means(x * x) - mx**2, window_means(y * y) - my**2, window_means(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float((((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))).mean())


def frames_job(clip: str, server: str, **fields: Any) -> dict[str, Any]:
    return {"operation": "frames", "url_video": f"{server}/{clip}", "path": "stills", **fields}


@pytest.fixture(scope="module")
def scene_clip(media_dir: Path) -> Path:
    """Three scenes of one second each at 25 fps: a test pattern, a Mandelbrot view, plain blue."""
    path = media_dir / "three-scenes.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25",
           "-f", "lavfi", "-i", "color=c=blue:size=320x240:rate=25", "-filter_complex",
           "[0]trim=duration=1[a];[1]trim=duration=1,setpts=PTS-STARTPTS[b];"
           "[2]trim=duration=1,setpts=PTS-STARTPTS,format=yuv420p[c];[a][b][c]concat=n=3:v=1:a=0",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path))
    return path


def test_each_picture_is_the_frame_a_player_shows_at_its_time(phone_clip, media_server, bucket, worker_env, tmp_path):
    at = [0, 0.05, 0.45, 0.48, 0.81, 1.0, 1.19, 3]  # mid-frame, keyframes, the fast part, the last frame, past the end
    result = run_job(frames_job(phone_clip.name, media_server, at=at))

    assert result["success"] is True, result
    times = display_times(phone_clip)
    listed = result["images"]
    assert [item["frame"] for item in listed] == [shown_at(times, t) for t in at]
    assert [item["at"] for item in listed] == at
    assert result["warnings"] == ["at[7]: 3 s is after the video ends (1.200 s); its last frame (1.180 s) was taken."]
    assert sorted(stored_keys(bucket)) == sorted({item["s3_key"] for item in listed})  # one object a frame
    client = s3_client(bucket)
    references = accurate_seeks(phone_clip, [item["time"] for item in listed], tmp_path)
    for item, reference in zip(listed, references, strict=True):
        data = client.get_object(Bucket=bucket["BUCKET_NAME"], Key=item["s3_key"])["Body"].read()
        assert has_magic(data, "jpg")
        picture = Image.open(io.BytesIO(data))
        assert picture.size == (item["width"], item["height"]) == (240, 320)  # upright: the phone's portrait
        assert frame_number(picture, block_middle(picture.size)) == item["frame"]
        assert item["time"] == pytest.approx(times[item["frame"]], abs=1e-6)
        assert ssim(picture, reference) >= 0.99


def test_count_spaces_frames_evenly_first_and_last_included(phone_clip, media_server, tmp_path):
    result = run_job(frames_job(phone_clip.name, media_server, count=5, format="png", width=120))

    assert result["success"] is True, result
    times = display_times(phone_clip)
    spaced = [times[0] + (times[-1] - times[0]) * k / 4 for k in range(5)]
    listed = result["images"]
    assert [item["frame"] for item in listed] == [shown_at(times, t) for t in spaced]
    assert listed[0]["frame"] == 0 and listed[-1]["frame"] == len(times) - 1
    references = accurate_seeks(phone_clip, [item["time"] for item in listed], tmp_path, scale="120:160")
    for item, reference in zip(listed, references, strict=True):
        path = local_output({"success": True, "video_url": item["url"]})
        assert has_magic(path.read_bytes(), "png")
        picture = Image.open(path)
        assert picture.size == (item["width"], item["height"]) == (120, 160)
        assert frame_number(picture, block_middle(picture.size)) == item["frame"]
        assert ssim(picture, reference) >= 0.99


def test_a_sheet_holds_its_tiles_where_the_result_says(phone_clip, media_server):
    result = run_job(frames_job(phone_clip.name, media_server, sheet={"columns": 3, "rows": 2}, width=96,
                                format="webp", output_filename="contact"))

    assert result["success"] is True, result
    assert (result["tile_width"], result["tile_height"]) == (96, 128)
    assert (result["width"], result["height"]) == (3 * 96, 2 * 128)
    path = local_output({"success": True, "video_url": result["image_url"]})
    assert path.name == result["filename"] == "contact.webp"
    assert has_magic(path.read_bytes(), "webp")
    sheet = Image.open(path)
    assert sheet.size == (288, 256)
    tiles = result["tiles"]
    assert [(tile["column"], tile["row"]) for tile in tiles] == [(c, r) for r in range(2) for c in range(3)]
    assert tiles[0]["frame"] == 0 and tiles[-1]["frame"] == 39  # six evenly spaced, first and last included
    for tile in tiles:
        corner = (tile["column"] * 96, tile["row"] * 128)
        assert frame_number(sheet, block_middle((96, 128), corner)) == tile["frame"]


def test_scenes_are_found_where_the_picture_changes(scene_clip, media_server):
    result = run_job(frames_job(scene_clip.name, media_server, scenes=True, threshold=0.3))

    assert result["success"] is True, result
    assert [(item["frame"], item["time"]) for item in result["images"]] == [(0, 0.0), (25, 1.0), (50, 2.0)]


def test_many_frames_cost_one_pass_and_sparse_ones_a_seek_each(phone_clip):
    index = read_index(phone_clip, 0, "h264")
    found: dict[int, int] = {}

    def keep(wanted: int, shown: int, picture: Image.Image) -> None:
        found[wanted] = frame_number(picture, block_middle(picture.size))

    every = take_frames(phone_clip, 0, index, range(index.count), (240, 320), 90, keep)
    assert (every.decoded, every.seeks) == (index.count, 1)
    assert found == {n: n for n in range(index.count)}

    found.clear()
    sparse = take_frames(phone_clip, 0, index, [1, 38], (240, 320), 90, keep)
    assert sparse.seeks == 2 and sparse.decoded < 12  # from the first keyframe, then from the last one (frame 36)
    assert found == {1: 1, 38: 38}


def test_a_failed_job_stores_nothing_and_leaves_no_files(media_server, bucket, worker_env, media_dir):
    shutil.copyfile(REPO / "tests" / "recordings" / "mjpeg-undecodable.mov", media_dir / "mjpeg-undecodable.mov")
    result = run_job(frames_job("mjpeg-undecodable.mov", media_server, count=3))

    assert result == {"error": "url_video: the video stream (mjpeg, QuickTime) cannot be decoded."}
    assert stored_keys(bucket) == []
    assert leftover_workdirs(worker_env) == []


CONTAINERS = {
    "mkv": ["-c", "copy"],
    "ts": ["-c", "copy", "-bsf:v", "h264_mp4toannexb"],
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mkv", "ts", "hevc-10bit"])
def test_other_containers_and_codecs_give_the_same_frames(kind, phone_clip, media_dir, media_server, tmp_path):
    """MPEG-TS and Matroska seek by other clocks than MP4; HEVC 10-bit decodes to another pixel format."""
    if kind == "hevc-10bit":
        clip = numbered_video(media_dir / "numbered-hevc.mp4", rotate=90, codec=[
            "-c:v", "libx265", "-x265-params", "log-level=error:bframes=2", "-crf", "12", "-pix_fmt", "yuv420p10le"])
    else:
        clip = media_dir / f"phone-numbered.{kind}"
        ffmpeg("-i", str(phone_clip), *CONTAINERS[kind], str(clip))
    at = [0.45, 0.81, 1.0, 1.19]
    result = run_job(frames_job(clip.name, media_server, at=at, format="png", width=120))

    assert result["success"] is True, result
    times = display_times(phone_clip)
    listed = result["images"]
    assert [item["frame"] for item in listed] == [shown_at(times, t) for t in at]
    turned = kind == "hevc-10bit"  # FFmpeg 5.1 writes no display matrix into Matroska or MPEG-TS
    upright = (120, 160) if turned else (120, 90)
    middle = block_middle(upright) if turned else (round(24 / 320 * 120), round(24 / 240 * 90))
    for item in listed:
        picture = Image.open(local_output({"success": True, "video_url": item["url"]}))
        assert picture.size == upright
        assert frame_number(picture, middle) == item["frame"]
    scale = f"{upright[0]}:{upright[1]}"
    if kind == "hevc-10bit":  # x265's open GOPs: FFmpeg's -ss misses the leading pictures before each CRA
        references = decoded_from_the_start(clip, [item["frame"] for item in listed], tmp_path, scale)
    elif kind == "mkv":
        references = accurate_seeks(clip, [item["time"] for item in listed], tmp_path, scale=scale)
    else:  # FFmpeg 5.1's own seek in MPEG-TS lands late on this variable-rate clip: the frame numbers judge
        references = []
    for item, reference in zip(listed, references, strict=False):
        picture = Image.open(local_output({"success": True, "video_url": item["url"]}))
        assert ssim(picture, reference) >= 0.99


def test_the_sample_job_makes_a_contact_sheet(monkeypatch, tmp_path):
    monkeypatch.setenv("VIDEO_OPS_ALLOW_FILE_URLS", "1")
    monkeypatch.chdir(REPO)
    job = json.loads((REPO / "samples" / "jobs" / "frames.json").read_text())["input"]
    result = run_job(job)

    assert result["success"] is True, result
    assert (result["columns"], result["rows"], len(result["tiles"])) == (3, 2, 6)
    assert has_magic(local_output({"success": True, "video_url": result["image_url"]}).read_bytes(), "jpg")
    assert subprocess.run(["ffprobe", "-v", "error", result["image_url"].removeprefix("file://")]).returncode == 0
