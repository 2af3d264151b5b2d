"""img2vid on images as users have them: every format and quirk, fit, orientation, results, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.helpers import REPO, leftover_workdirs, run_job, s3_client
from tests.media import decodes_cleanly, probe, stream
from tests.pictures import (
    BLUE,
    GREEN,
    QUADRANTS,
    RED,
    YELLOW,
    counted_frames,
    expected_frames,
    frames,
    quadrants,
)

SIZE = (320, 180)
WHITE = (255, 255, 255)
# Where each quarter of a centred picture lands in a 320x180 frame.
SAMPLES = [(80, 45), (240, 45), (80, 135), (240, 135)]


def _save_pictures(folder: Path) -> dict[str, tuple[str, list[tuple[int, int, int]]]]:
    """Every format and quirk the issue lists: name -> (file, colours expected at SAMPLES)."""
    folder.mkdir(exist_ok=True)
    base = quadrants(400, 300)
    made: dict[str, tuple[str, list[tuple[int, int, int]]]] = {}

    def add(name: str, filename: str, expected=QUADRANTS, **save) -> None:
        image = save.pop("image", base)
        image.save(folder / filename, **save)
        made[name] = (filename, list(expected))

    add("jpeg", "photo.jpg", quality=92)
    add("progressive", "progressive.jpg", quality=92, progressive=True)
    add("cmyk", "cmyk.jpg", image=base.convert("CMYK"), quality=95)
    add("webp", "photo.webp", quality=90)
    add("bmp", "photo.bmp")
    add("tiff", "photo.tiff", compression="tiff_lzw")
    add("tiny", "tiny.png", image=quadrants(16, 16))
    # 16-bit grey PNG: four levels that must come out as the same levels in 8 bits, not clipped to white.
    levels = np.array([[0.2, 0.4], [0.6, 0.8]]).repeat(150, axis=0).repeat(200, axis=1)
    add("grey16", "grey16.png", image=Image.fromarray((levels * 65535).astype(np.uint16)),
        expected=[(round(v * 255),) * 3 for v in (0.2, 0.4, 0.6, 0.8)])
    add("odd", "odd.jpg", image=quadrants(333, 177), quality=92)
    # PNG with alpha: the lower half is transparent over magenta, which must not show.
    rgba = base.convert("RGBA")
    ImageDraw.Draw(rgba).rectangle([0, 150, 400, 300], (255, 0, 255, 0))
    add("alpha", "alpha.png", image=rgba, expected=[RED, GREEN, WHITE, WHITE])
    # GIF: the first frame is the picture; the second (all black) must not be used.
    base.save(folder / "anim.gif", save_all=True, append_images=[Image.new("RGB", (400, 300))], duration=100)
    made["gif"] = ("anim.gif", list(QUADRANTS))
    # A phone photo held upright: stored landscape, EXIF orientation 6 (rotate 90 degrees clockwise).
    exif = Image.Exif()
    exif[0x0112] = 6
    add("exif6", "upright.jpg", exif=exif, quality=92, expected=[BLUE, RED, YELLOW, GREEN])
    return made


PICTURES = ["jpeg", "progressive", "cmyk", "webp", "bmp", "tiff", "tiny", "grey16", "odd", "alpha", "gif", "exif6"]
DURATIONS = [0.5, 0.37, 1.04, 0.25, 0.6, 0.5, 0.3, 0.41, 0.45, 0.5, 0.5, 0.62]


@pytest.fixture(scope="module")
def pictures(media_dir: Path) -> dict[str, tuple[str, list[tuple[int, int, int]]]]:
    return _save_pictures(media_dir / "img2vid")


@pytest.fixture(scope="module")
def formats_job(pictures, media_server, tmp_path_factory) -> dict:
    """One job with every format (run once: the per-format tests read its outputs)."""
    root = tmp_path_factory.mktemp("formats")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIDEO_OPS_WORKDIR", str(root / "work"))
        patch.setenv("VIDEO_OPS_OUTPUT_DIR", str(root / "output"))
        patch.setenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "true")
        images = [
            {"id": name, "image_url": f"{media_server}/img2vid/{pictures[name][0]}", "duracao": seconds}
            for name, seconds in zip(PICTURES, DURATIONS, strict=True)
        ]
        result = run_job(job(images, background="white", frame_rate=24))
    assert result.get("success"), result
    return result


def job(images: list[dict], **options) -> dict:
    return {"operation": "img2vid", "images": images, "path": "videos/output", "width": SIZE[0],
            "height": SIZE[1], **options}


def local_file(video: dict) -> Path:
    assert video["video_url"].startswith("file://")
    return Path(video["video_url"][len("file://"):])


def patch_colour(frame: np.ndarray, x: int, y: int) -> np.ndarray:
    return frame[y - 5 : y + 5, x - 5 : x + 5].reshape(-1, 3).mean(axis=0)


@pytest.mark.parametrize("name", PICTURES)
def test_every_format_gives_a_playable_clip_of_exact_length(formats_job, name):
    position = PICTURES.index(name)
    video = formats_job["videos"][position]
    out = local_file(video)
    picture = stream(probe(out), "video")
    frames_expected = expected_frames(DURATIONS, 24)[position]
    assert (picture["codec_name"], picture["pix_fmt"]) == ("h264", "yuv420p")
    assert (picture["width"], picture["height"]) == SIZE
    assert counted_frames(out) == frames_expected == video["frames"]
    assert float(picture["duration"]) == pytest.approx(frames_expected / 24, abs=1e-3)
    assert video["duration"] == pytest.approx(frames_expected / 24, abs=1e-6)
    assert decodes_cleanly(out)


@pytest.mark.parametrize("name", PICTURES)
def test_every_format_shows_the_picture_upright_and_in_its_colours(formats_job, pictures, name):
    """CMYK not inverted, alpha flattened onto the background, the GIF's first frame, EXIF honoured."""
    video = formats_job["videos"][PICTURES.index(name)]
    first = frames(local_file(video))[0]
    for (x, y), colour in zip(SAMPLES, pictures[name][1], strict=True):
        assert np.abs(patch_colour(first, x, y) - colour).max() < 30, f"{name} at {(x, y)}"


def test_result_lists_every_clip_in_input_order(formats_job):
    videos = formats_job["videos"]
    assert formats_job["total"] == formats_job["processed"] == len(PICTURES)
    assert [v["id"] for v in videos] == PICTURES
    assert [v["filename"] for v in videos] == [f"video_{n}.mp4" for n in range(1, len(PICTURES) + 1)]
    assert all(v["s3_key"] == f"videos/output/{v['filename']}" for v in videos)
    assert all(v["size_bytes"] == local_file(v).stat().st_size for v in videos)
    assert formats_job["encoder"] == "libx264"
    assert {"download_s", "process_s", "upload_s", "total_s"} <= set(formats_job["timings"])


def test_start_index_numbers_the_files_and_progress_counts_clips(pictures, media_server, caplog, worker_env):
    images = [{"id": f"part{k}", "image_url": f"{media_server}/img2vid/photo.jpg", "duration": 0.2} for k in range(3)]
    with caplog.at_level("INFO", logger="video_ops.jobkit.progress"):
        result = run_job(job(images, start_index=40))
    assert [v["filename"] for v in result["videos"]] == ["video_41.mp4", "video_42.mp4", "video_43.mp4"]
    reports = [r.args for r in caplog.records if isinstance(r.args, dict)]
    processed = [r["processed"] for r in reports if r.get("stage") == "processing"]
    assert processed == [0, 1, 2, 3]
    assert all(r["total"] == 3 for r in reports if r.get("stage") == "processing")
    assert leftover_workdirs(worker_env) == []


def shapes_picture(folder: Path) -> Path:
    """A square picture: a black circle on white, with red bands along the top and bottom edges."""
    image = Image.new("RGB", (300, 300), WHITE)
    draw = ImageDraw.Draw(image)
    draw.ellipse([90, 90, 210, 210], (0, 0, 0))
    draw.rectangle([0, 0, 300, 30], RED)
    draw.rectangle([0, 270, 300, 300], RED)
    path = folder / "circle.png"
    image.save(path)
    return path


def circle_box(frame: np.ndarray) -> tuple[int, int]:
    """Width and height of the dark disc."""
    dark = frame.mean(axis=2) < 60
    ys, xs = np.nonzero(dark)
    return xs.max() - xs.min() + 1, ys.max() - ys.min() + 1


@pytest.mark.parametrize("fit", ["cover", "contain"])
@pytest.mark.parametrize("size", [(320, 180), (180, 320)])
def test_nothing_is_stretched_and_fit_crops_or_pads(media_dir, media_server, fit, size):
    shapes_picture(media_dir)
    result = run_job(job([{"id": "c", "image_url": f"{media_server}/circle.png", "duracao": 0.2}],
                         fit=fit, background="#00ff00", width=size[0], height=size[1]))
    assert result.get("success"), result
    first = frames(local_file(result["videos"][0]))[0]
    width, height = circle_box(first)
    assert width == pytest.approx(height, rel=0.06), "the circle is not round"
    short_side = min(size)
    if fit == "contain":  # the whole square shows, centred, with green bars on the long side
        assert width == pytest.approx(short_side * 0.4, rel=0.1)
        bar = first[:, :8] if size[0] > size[1] else first[:8]
        assert np.abs(bar.reshape(-1, 3).mean(axis=0) - (0, 255, 0)).max() < 25
        edge = first[2, size[0] // 2] if size[0] > size[1] else first[size[1] // 2, 2]
        assert np.abs(edge.astype(int) - (RED if size[0] > size[1] else WHITE)).max() < 40
    else:  # the frame is filled: the square is cropped on the short side of the frame
        assert width == pytest.approx(max(size) * 0.4, rel=0.1)
        assert not (np.abs(first.astype(int) - (0, 255, 0)).max(axis=2) < 40).any(), "no background shows"
        if size[0] > size[1]:  # landscape frame: the red top and bottom bands are cropped away
            assert np.abs(first[2, size[0] // 2].astype(int) - WHITE).max() < 40


def test_huge_jpeg_is_decoded_small(media_dir, media_server, worker_env):
    """12000x8000 must not need its ~300 MB of pixels: measured in a process of its own."""
    path = media_dir / "huge.jpg"
    if not path.exists():
        quadrants(12000, 8000).save(path, quality=80)
    request = job([{"id": "huge", "image_url": f"{media_server}/huge.jpg", "duracao": 0.3}], zoom_types=["zoomin"])
    script = (
        "import json, re, resource, sys\n"
        "from pathlib import Path\n"
        "from tests.helpers import run_job\n"
        "result = run_job(json.loads(sys.argv[1]))\n"
        # VmHWM: this process's own peak (ru_maxrss would include the test process it was forked from)
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1))\n"
        "children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'result': result, 'self_kb': peak, 'children_kb': children}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, json.dumps(request)], capture_output=True, text=True,
                          cwd=REPO, env=os.environ.copy(), check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["result"].get("success"), report["result"]
    first = frames(local_file(report["result"]["videos"][0]))[0]
    for (x, y), colour in zip(SAMPLES, QUADRANTS, strict=True):
        assert np.abs(patch_colour(first, x, y) - colour).max() < 30
    assert report["self_kb"] < 250_000, f"worker peak {report['self_kb'] // 1024} MB"
    assert report["children_kb"] < 250_000, f"FFmpeg peak {report['children_kb'] // 1024} MB"


@pytest.mark.parametrize(
    ("bad_url", "reason"),
    [
        ("missing.jpg", "HTTP 404"),
        ("page.html", "not an image"),
        ("truncated.jpg", "could not be decoded"),
    ],
)
def test_one_bad_image_among_ten_fails_the_job_and_uploads_nothing(
    media_dir, media_server, bucket, worker_env, pictures, bad_url, reason
):
    whole = (media_dir / "img2vid" / "photo.jpg").read_bytes()
    (media_dir / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    images = [
        {"id": f"img{k + 1}", "image_url": f"{media_server}/img2vid/photo.jpg", "duracao": 1.0} for k in range(10)
    ]
    images[3]["image_url"] = f"{media_server}/{bad_url}"
    result = run_job(job(images, zoom_types=["zoomin", "panright"]))
    assert "success" not in result
    assert result["error"].startswith("images[3] (id 'img4'): "), result["error"]
    assert reason in result["error"]
    listed = s3_client(bucket).list_objects_v2(Bucket=bucket["BUCKET_NAME"], Prefix="videos/")
    assert listed.get("KeyCount", 0) == 0
    assert leftover_workdirs(worker_env) == []


URL = "http://example.com/a.jpg"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"images": [{"id": "a", "image_url": URL, "duracao": 0}]}, "images[0].duracao", "greater than"),
        ({"images": [{"id": "a", "image_url": URL, "duration": 3601}]}, "images[0].duration", "3600"),
        ({"images": [{"id": "a", "image_url": URL, "duracao": 0.01}]}, "images[0].duracao", "one frame"),
        ({"images": [{"id": "../a", "image_url": URL, "duracao": 1}]}, "images[0].id", "'/'"),
        ({"images": [{"id": "a", "image_url": URL, "duracao": 1, "zoom": 2}]}, "images[0].zoom", "unknown"),
        ({"zoom_types": ["zoomin", "spin"]}, "zoom_types[1]", "zoompanright"),
        ({"width": 321, "height": 180}, "width", "even"),
        ({"width": 1080}, "width", "both"),
        ({"fit": "stretch"}, "fit", "cover"),
        ({"background": "not-a-colour"}, "background", "colour"),
        ({"frame_rate": 0}, "frame_rate", "greater than"),
        ({"images": []}, "images", "at least 1"),
    ],
)
def test_bad_input_names_the_field(change, field, words):
    base = {"operation": "img2vid", "path": "out", "images": [{"id": "a", "image_url": URL, "duracao": 1}]}
    result = run_job({**base, **change})
    assert field in result["error"] and words in result["error"], result["error"]
