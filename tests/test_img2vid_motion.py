"""Camera moves: geometry (pure), and what the frames really show (tracked dots, colours, magnification)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tests.helpers import run_job
from tests.media import packet_hashes
from tests.pictures import GREEN, RED, YELLOW, dots, frames, mean_abs_diff, quadrants, track
from video_ops.media.canvas import OVERSAMPLE, Canvas
from video_ops.media.motion import ZOOM, Rect, endpoints, framing, progress, view_at

MOTIONS = ["none", "zoomin", "zoomout", "panleft", "panright", "panup", "pandown", "zoompanright"]
W, H = 320, 180
FRAMES = 72  # 3 s at 24 fps
# Dots in a 640x360 picture: one at the centre, one up and to the left of it.
CENTRE, SIDE = (320.0, 180.0), (190.0, 110.0)


@pytest.mark.parametrize("motion", MOTIONS)
@pytest.mark.parametrize("fit", ["cover", "contain"])
@pytest.mark.parametrize("image", [(1920, 1080), (3000, 1000), (1000, 3000), (500, 500), (16, 16)])
@pytest.mark.parametrize("aspect", [16 / 9, 9 / 16])
def test_every_view_keeps_the_aspect_and_stays_inside_the_area(motion, fit, image, aspect):
    area, still = framing(*image, aspect, fit)
    start, end = endpoints(motion, area, still)
    eps = 1e-6 * max(image)
    for index in range(FRAMES):
        view = view_at(start, end, progress(index, FRAMES))
        assert view.w / view.h == pytest.approx(aspect)
        assert view.x >= area.x - eps and view.right <= area.right + eps
        assert view.y >= area.y - eps and view.bottom <= area.bottom + eps
    first, last = view_at(start, end, 0.0), view_at(start, end, 1.0)
    for a, b in ((first, start), (last, end)):
        assert (a.x, a.y, a.w, a.h) == pytest.approx((b.x, b.y, b.w, b.h))


def test_pans_travel_from_edge_to_edge_and_zoompanright_really_pans():
    area, still = framing(3000, 1000, 16 / 9, "cover")
    start, end = endpoints("panright", area, still)
    assert start.x == pytest.approx(0) and end.right == pytest.approx(3000)
    start, end = endpoints("panup", *framing(1000, 3000, 16 / 9, "cover"))
    assert start.bottom == pytest.approx(3000) and end.y == pytest.approx(0)
    start, end = endpoints("zoompanright", *framing(1920, 1080, 16 / 9, "cover"))
    assert end.w == pytest.approx(start.w / ZOOM)
    assert end.right == pytest.approx(1920) and end.cx - start.cx > 0.08 * 1920


def test_a_still_clip_is_one_view():
    area, still = framing(640, 480, 16 / 9, "cover")
    assert endpoints("none", area, still) == (still, still)
    assert still == Rect(0, 60, 640, 360)


def _job(images: list[tuple[str, str, str]], media_server: str, seconds: float = 3.0) -> dict:
    """images: (id, file, motion); every motion given in order, so clip k gets motion k."""
    result = run_job({
        "operation": "img2vid", "path": "motion", "width": W, "height": H, "frame_rate": 24,
        "images": [{"id": i, "image_url": f"{media_server}/motion/{f}", "duracao": seconds} for i, f, _ in images],
        "zoom_types": [m for _, _, m in images],
    })
    assert result.get("success"), result
    return {v["id"]: Path(v["video_url"][len("file://"):]) for v in result["videos"]}


@pytest.fixture(scope="module")
def motion_media(media_dir: Path) -> Path:
    folder = media_dir / "motion"
    folder.mkdir(exist_ok=True)
    dots(640, 360, [CENTRE, SIDE], radius=6).save(folder / "dots.png")
    quadrants(960, 180).save(folder / "wide.png")
    quadrants(320, 1200).save(folder / "tall.png")
    rng = np.random.default_rng(7)
    noise = Image.fromarray(rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)).filter(ImageFilter.GaussianBlur(2))
    noise.save(folder / "texture.png")
    return folder


@pytest.fixture(scope="module")
def dot_clips(motion_media, media_server, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("motion")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIDEO_OPS_WORKDIR", str(root / "work"))
        patch.setenv("VIDEO_OPS_OUTPUT_DIR", str(root / "output"))
        patch.setenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "true")
        return _job([(m, "dots.png", m) for m in MOTIONS], media_server)


def _tracks(path: Path, motion: str) -> tuple[np.ndarray, np.ndarray]:
    """Both dots' screen positions in every frame, starting from where the first view puts them."""
    video = frames(path, "gray")
    assert len(video) == FRAMES
    start, _ = endpoints(motion, *framing(640, 360, W / H, "cover"))

    def on_screen(dot: tuple[float, float]) -> tuple[float, float]:
        return (dot[0] - start.x) * W / start.w, (dot[1] - start.y) * H / start.h

    return track(video, on_screen(CENTRE), 12), track(video, on_screen(SIDE), 12)


@pytest.mark.parametrize("motion", MOTIONS)
def test_motion_is_steady_with_no_frame_to_frame_jumps(dot_clips, motion):
    """Integer-pixel windows (zoompan, crop) move 0, 1, 1, 0, 1... px a frame here: steps that change by
    a whole pixel. A sub-pixel move changes its step by hundredths of a pixel (what remains is the
    encoder's noise on the tracked dot)."""
    for positions in _tracks(dot_clips[motion], motion):
        steps = np.diff(positions, axis=0)
        changes = np.abs(np.diff(steps, axis=0))
        assert changes.max() < 0.35, f"{motion}: a step changed by {changes.max():.3f} px"
        assert np.sqrt((changes**2).mean()) < 0.08, f"{motion}: steps vary by {np.sqrt((changes**2).mean()):.3f} px"
        travel = positions[-1] - positions[0]
        if np.abs(travel).max() > 5:  # a dot that travels never turns back along its main axis
            moving = np.abs(travel).argmax()
            assert (np.sign(steps[:, moving]) == np.sign(travel[moving])).all(), f"{motion} went back"


def test_each_move_goes_the_way_its_name_says(dot_clips):
    travel = {}
    for motion in MOTIONS:
        centre, side = _tracks(dot_clips[motion], motion)
        spread = [np.hypot(*(centre[k] - side[k])) for k in (0, -1)]
        travel[motion] = (centre[-1] - centre[0], spread[1] / spread[0])
    pan = W * (ZOOM - 1)  # a pan shows 1/ZOOM of the picture and crosses what is left of it
    assert travel["none"][0] == pytest.approx((0, 0), abs=0.05)
    assert travel["panright"][0] == pytest.approx((-pan, 0), abs=1.5)  # the view goes right: content left
    assert travel["panleft"][0] == pytest.approx((pan, 0), abs=1.5)
    assert travel["panup"][0] == pytest.approx((0, H * (ZOOM - 1)), abs=1.5)  # view up: content down
    assert travel["pandown"][0] == pytest.approx((0, -H * (ZOOM - 1)), abs=1.5)
    assert travel["zoomin"][1] == pytest.approx(ZOOM, abs=0.01)
    assert travel["zoomin"][0] == pytest.approx((0, 0), abs=0.3)
    assert travel["zoomout"][1] == pytest.approx(1 / ZOOM, abs=0.01)
    assert travel["zoompanright"][1] == pytest.approx(ZOOM, abs=0.01)
    assert travel["zoompanright"][0][0] < -20, "zoompanright must pan, not only zoom"


def test_pans_cross_the_whole_picture_without_borders(motion_media, media_server, worker_env):
    clips = _job([("right", "wide.png", "panright"), ("left", "wide.png", "panleft"),
                  ("up", "tall.png", "panup"), ("down", "tall.png", "pandown")], media_server, seconds=0.5)
    first_last = {name: frames(path)[[0, -1]] for name, path in clips.items()}

    def near(pixel: np.ndarray, colour: tuple[int, int, int]) -> bool:
        return bool(np.abs(pixel.astype(int) - colour).max() < 40)

    assert near(first_last["right"][0][5, 5], RED) and near(first_last["right"][1][5, -5], GREEN)
    assert near(first_last["left"][0][5, -5], GREEN) and near(first_last["left"][1][5, 5], RED)
    assert near(first_last["up"][0][-5, -5], YELLOW) and near(first_last["up"][1][5, 5], RED)
    assert near(first_last["down"][0][5, 5], RED) and near(first_last["down"][1][-5, -5], YELLOW)
    for pair in first_last.values():
        edges = np.concatenate([pair[:, 0], pair[:, -1], pair[:, :, 0], pair[:, :, -1]], axis=1)
        assert edges.max(axis=-1).min() > 100, "a black border shows"


def _magnified_centre(frame: np.ndarray) -> np.ndarray:
    """The central 1/ZOOM of a frame, blown up to the full frame."""
    w, h = W / ZOOM, H / ZOOM
    box = ((W - w) / 2, (H - h) / 2, (W + w) / 2, (H + h) / 2)
    return np.asarray(Image.fromarray(frame).resize((W, H), Image.Resampling.BICUBIC, box=box))


def _coarse_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean difference of 4x4 block averages: compares the picture, not the finest detail that
    blowing up a small frame cannot restore."""
    def blocks(frame: np.ndarray) -> np.ndarray:
        return frame.reshape(H // 4, 4, W // 4, 4, 3).mean(axis=(1, 3))

    return float(np.abs(blocks(a) - blocks(b)).mean())


def test_zoom_ends_on_the_magnified_centre_and_the_same_job_gives_the_same_video(
    motion_media, media_server, worker_env
):
    clips = _job([("in", "texture.png", "zoomin"), ("out", "texture.png", "zoomout")], media_server, seconds=1.0)
    zoom_in, zoom_out = frames(clips["in"]), frames(clips["out"])
    for close, wide in ((zoom_in[-1], zoom_in[0]), (zoom_out[0], zoom_out[-1])):
        assert _coarse_diff(close, _magnified_centre(wide)) < 0.5 * _coarse_diff(close, wide)
    steps = [mean_abs_diff(a, b) for a, b in itertools.pairwise(zoom_in)]
    assert max(steps) < 2 * np.median(steps), "one frame jumps further than the others"
    hashes = {name: packet_hashes(path) for name, path in clips.items()}
    again = _job([("in", "texture.png", "zoomin"), ("out", "texture.png", "zoomout")], media_server, seconds=1.0)
    assert {name: packet_hashes(path) for name, path in again.items()} == hashes



def _sharpness(luma: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: falls as a frame gets softer."""
    return float(np.abs(np.diff(luma, axis=0)).mean() + np.abs(np.diff(luma, axis=1)).mean())


@pytest.mark.parametrize("motion", ["panright", "zoomin"])
def test_frames_show_their_view_as_lanczos_would_with_steady_sharpness(motion):
    """The frames the encoder gets, against the same views cut straight from the picture by Pillow's
    Lanczos (slow, faithful). Half a pixel of offset nearly triples the error; a canvas at 1:1 makes a view
    off its pixel grid softer than one on it, and the sharpness swings by ~7 %."""
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
    picture = Image.fromarray(noise).filter(ImageFilter.GaussianBlur(2))
    start, end = endpoints(motion, *framing(*picture.size, W / H, "cover"))
    scale = W / min(start.w, end.w) * OVERSAMPLE
    canvas = Canvas.paint(picture, picture.size, start.union(end), scale, (W, H), (0, 0, 0))
    errors, sharpness = [], []
    for index in range(FRAMES):
        view = view_at(start, end, progress(index, FRAMES))
        frame = np.frombuffer(canvas.frame(view), np.uint8)[: W * H].reshape(H, W)
        luma = (frame.astype(float) - 16) * 255 / 219  # limited range, as the worker writes it
        ideal = picture.resize((W, H), Image.Resampling.LANCZOS, box=(view.x, view.y, view.right, view.bottom))
        ideal_luma = np.asarray(ideal).astype(float) @ [0.2126, 0.7152, 0.0722]  # BT.709, the worker's matrix
        errors.append(np.abs(luma - ideal_luma).mean())
        sharpness.append(_sharpness(luma) / _sharpness(ideal_luma))
    assert max(errors) < 0.8, f"frames differ from their views by up to {max(errors):.2f} levels"
    assert min(sharpness) > 0.9, f"a frame is {1 - min(sharpness):.0%} softer than its view"
    assert max(sharpness) - min(sharpness) < 0.02, "sharpness changes from frame to frame"
