"""Split renders as users send them, at the gateway's default split length: each scene mix (images only,
clips only, mixed) with and without narration, music, `fit_to_narration` and captions (from words, from an
SRT), rendered whole and split, compared frame by frame and by ear.

The timeline is just over the default (121.5 s) in small frames at a low rate (320x180 at 4 fps: at 160x90 a
part's first frame, a key frame, fell below 0.99 SSIM against the unsplit P frame), so the gateway would cut it in two
and each case costs seconds. Images only with no `fit_to_narration` is the case that failed: its plan
depends on no file. A render captioned from its narration is not split; it is checked rendered whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_job
from tests.render_media import render_media
from tests.splits import assert_same_picture, assert_same_sound, render_split, split_worker
from video_ops.client.render_split import cut, worth_splitting
from video_ops.gateway.cli import SPLIT_RENDER_SECONDS

WIDTH, HEIGHT, FPS = 320, 180, 4
SCENES, SCENE_SECONDS, FADE = 10, 12.6, 0.5  # 126 s of scenes, 9 fades of 0.5 s: 121.5 s on screen
NARRATION_SECONDS = 122.0  # what `fit_to_narration` stretches the timeline to
MIXES = {"images": "I" * SCENES, "clips": "C" * SCENES, "mixed": "ICIICIIICI"}
MOTIONS = ["zoomin", "panright", "none", "zoomout", "panleft"]


@pytest.fixture(scope="module")
def matrix_media(media_dir: Path) -> Path:
    """Five images, a clip with its own sound, a narration and music longer than the timeline, words and
    SRT cues all along it."""
    # A clip of little detail: x264 codes its frames alike in a part and in the whole (SSIM >= 0.99).
    folder = render_media(media_dir / "split_matrix", [(160 - 16 * k, 90 + 12 * k) for k in range(5)],
                          "64x36:rate=8", 14, NARRATION_SECONDS, 30)
    words = [{"word": f"w{k}", "start": 1.5 * k, "end": 1.5 * k + 1.0} for k in range(80)]
    (folder / "words.json").write_text(json.dumps({"words": words}))
    cues = [f"{k + 1}\n{_srt_time(4.0 * k)} --> {_srt_time(4.0 * k + 3.5)}\nline {k}\n" for k in range(30)]
    (folder / "captions.srt").write_text("\n".join(cues))
    return folder


def _srt_time(seconds: float) -> str:
    return f"00:{int(seconds) // 60:02d}:{int(seconds) % 60:02d},{round(seconds % 1 * 1000):03d}"


def matrix_job(server: str, mix: str, **extras: Any) -> dict[str, Any]:
    """A render of `mix` (I: an image with a camera move, C: a piece of the clip; the last clip scene runs to
    the clip's end) with fades, plus `extras` (narration, music, captions...)."""
    base = f"{server}/split_matrix"
    scenes: list[dict[str, Any]] = []
    for k, kind in enumerate(MIXES[mix]):
        if kind == "I":
            scenes.append({"image_url": f"{base}/scene{k % 5}.png", "duration": SCENE_SECONDS,
                           "motion": MOTIONS[k % 5]})
        else:
            scenes.append({"video_url": f"{base}/clip.mp4", "trim_start": 1.4, "duration": SCENE_SECONDS})
    if "C" in MIXES[mix]:
        del scenes[MIXES[mix].rindex("C")]["duration"]  # 14 s - 1.4 s: the scene's 12.6 s, from the media
    return {"operation": "render", "path": "out", "output_filename": "whole.mp4", "width": WIDTH,
            "height": HEIGHT, "frame_rate": FPS, "scenes": scenes, "transition": {"type": "fade", "duration": FADE},
            **extras}


def extras_of(server: str, *names: str) -> dict[str, Any]:
    base = f"{server}/split_matrix"
    known: dict[str, dict[str, Any]] = {
        "narration": {"narration": {"url": f"{base}/narration.wav"}},
        "fit": {"narration": {"url": f"{base}/narration.wav"}, "fit_to_narration": True},
        "music": {"music": {"url": f"{base}/music.mp3", "ducking": True}},
        "words": {"captions": {"words_url": f"{base}/words.json", "highlight_mode": "box"}},
        "srt": {"captions": {"srt_url": f"{base}/captions.srt"}},
    }
    return {key: value for name in names for key, value in known[name].items()}


# (scene mix, extras, run by default): every mix bare and with the narration, each extra (music, fit, words,
# SRT) in every mix. By default (about a minute): the failed case, images bare (nothing to download, nothing to
# hear), clips bare (a part with nothing to download) and mixed with everything; `pytest -m slow` runs the rest.
CASES = [
    ("images", (), True), ("images", ("narration", "words"), True), ("images", ("narration", "music", "srt"), False),
    ("images", ("fit", "music", "words"), False), ("images", ("music",), False),
    ("clips", (), True), ("clips", ("narration", "music", "srt"), False), ("clips", ("fit", "words"), False),
    ("mixed", (), False), ("mixed", ("narration", "srt"), False), ("mixed", ("fit", "music", "words"), True),
]


@pytest.mark.parametrize(("mix", "extras"), [
    pytest.param(mix, extras, id="-".join((mix, *extras)), marks=() if default else pytest.mark.slow)
    for mix, extras, default in CASES])
def test_a_split_render_at_the_default_length_is_the_unsplit_render(
        mix: str, extras: tuple[str, ...], matrix_media: Path, media_server: str, tmp_path: Path) -> None:
    spec = matrix_job(media_server, mix, **extras_of(media_server, *extras))
    assert worth_splitting(spec, SPLIT_RENDER_SECONDS)
    with split_worker(tmp_path):
        plan = run_job({**spec, "plan_only": True}, job_id="plan")
        assert "frames" in plan, plan
        ranges = cut(plan, SPLIT_RENDER_SECONDS)
        whole = run_job(spec, job_id="whole")
        joined = render_split({**spec, "output_filename": "joined.mp4"}, ranges, SPLIT_RENDER_SECONDS)

    seconds = NARRATION_SECONDS if "fit" in extras else SCENES * SCENE_SECONDS - FADE * (SCENES - 1)
    assert plan["frames"] == whole["frames"] == round(seconds * FPS) and len(ranges) == 2
    assert_same_picture(whole, joined, ranges, FPS)
    assert_same_sound(whole, joined)
    same = ("frames", "scenes", "captions", "words", "width", "height", "warnings")
    assert {key: joined.get(key) for key in same} == {key: whole.get(key) for key in same}
    assert joined["scenes"] == plan["scenes"] and joined["parts"] == 2
    assert [scene["type"] for scene in joined["scenes"]] == ["image" if kind == "I" else "video"
                                                             for kind in MIXES[mix]]


@pytest.mark.slow  # the tiny Whisper hears two minutes of noise: about a minute on 2 cores
def test_captions_from_the_narration_keep_the_long_render_whole_and_right(
        matrix_media: Path, media_server: str, whisper_models: Path, tmp_path: Path) -> None:
    spec = matrix_job(media_server, "images", **extras_of(media_server, "narration"),
                      captions={"from_narration": True, "model": "tiny", "enable_vad": False})
    assert not worth_splitting(spec, SPLIT_RENDER_SECONDS)
    with split_worker(tmp_path):
        whole = run_job(spec, job_id="whole")
    assert whole.get("success"), whole
    assert whole["frames"] == round((SCENES * SCENE_SECONDS - FADE * (SCENES - 1)) * FPS)
    assert whole["duration"] == pytest.approx(SCENES * SCENE_SECONDS - FADE * (SCENES - 1), abs=0.05)
    assert whole["transcription"]["words"] >= 1 and whole["words"] >= 1 and whole["captions"] >= 1
