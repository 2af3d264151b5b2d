"""A render split into parts on their own workers, then joined: the same video as the unsplit render.

One narrated timeline (textured scenes with camera moves and fades, a clip, narration, ducked music,
word captions over a cut) is rendered whole, then as a plan, parts and a join; the two are compared
frame by frame and by ear.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import local_output, run_job
from tests.pictures import frames
from tests.splits import assert_same_picture, assert_same_sound, render_split, split_worker
from video_ops.client.render_split import cut, worth_splitting

SIZE, FPS = (180, 320), 10
HIGHLIGHT = (214, 0, 0)  # caption_highlight's default box colour
PART_SECONDS = 5.0  # 15 s of timeline: three parts


def split_job(server: str, **change: Any) -> dict[str, Any]:
    base = f"{server}/render_split"
    scenes: list[dict[str, Any]] = [
        {"image_url": f"{base}/scene{k}.png", "duration": 2.0, "motion": motion}
        for k, motion in enumerate(["zoomin", "panright", "zoomout", "panleft", "pandown"])]
    scenes.insert(2, {"video_url": f"{base}/clip.mp4", "trim_start": 0.5, "duration": 2.0, "fit": "cover"})
    return {
        "operation": "render", "path": "out", "output_filename": "whole.mp4",
        "width": SIZE[0], "height": SIZE[1], "frame_rate": FPS, "scenes": scenes,
        "transition": {"type": "fade", "duration": 0.5},
        "narration": {"url": f"{base}/narration.wav"}, "fit_to_narration": True,
        "music": {"url": f"{base}/music.mp3", "ducking": True},
        "captions": {"words_url": f"{base}/words.json", "highlight_mode": "box"},
        **change,
    }


def words_over(folder: Path, at: float) -> None:
    """Six words said from 1 s before `at` to 1 s after it: one caption on screen across it."""
    words = [{"word": w, "start": at - 1.0 + 0.35 * k, "end": at - 0.7 + 0.35 * k}
             for k, w in enumerate(["across", "the", "cut", "the", "words", "stay"])]
    (folder / "words.json").write_text(json.dumps({"words": words}))


@pytest.fixture(scope="module")
def rendered(split_media: Path, media_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    output = tmp_path_factory.mktemp("split")
    with split_worker(output):
        spec = split_job(media_server)
        plan = run_job({**spec, "plan_only": True}, job_id="plan")
        ranges = cut(plan, PART_SECONDS)
        words_over(split_media, ranges[0][1] / FPS)
        whole = run_job(spec, job_id="whole")
        # The planner's cuts fall between scenes; a second split also cuts inside the clip's scene.
        clip = plan["scenes"][2]
        inside = round(clip["start"] * FPS) + 12
        joined = render_split({**spec, "output_filename": "joined.mp4"}, ranges, PART_SECONDS)
        inside_ranges = [(0, ranges[0][1]), (ranges[0][1], inside), (inside, plan["frames"])]
        joined_inside = render_split({**spec, "output_filename": "inside.mp4"}, inside_ranges, PART_SECONDS)
        yield {"plan": plan, "ranges": ranges, "whole": whole, "joined": joined, "inside": inside_ranges,
               "joined_inside": joined_inside, "output": output}


def test_the_planner_cuts_between_scenes_outside_the_fades(rendered: dict) -> None:
    plan, ranges = rendered["plan"], rendered["ranges"]
    assert plan["frames"] == 150 and len(ranges) == 3
    assert ranges[0][0] == 0 and ranges[-1][1] == 150
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    fades = [(round(after["start"] * FPS), round(before["end"] * FPS))
             for before, after in itertools.pairwise(plan["scenes"])]
    for _, end in ranges[:-1]:
        assert not any(first < end < after for first, after in fades), (end, fades)
        assert any(end in fade for fade in fades)


@pytest.mark.parametrize("name", ["joined", "joined_inside"])
def test_the_joined_video_is_the_unsplit_one_frame_for_frame(rendered: dict, name: str) -> None:
    ranges = rendered["ranges"] if name == "joined" else rendered["inside"]
    assert ranges[-1][1] == 150
    assert_same_picture(rendered["whole"], rendered[name], ranges, FPS)


def test_the_sound_is_mixed_once_over_the_whole_timeline(rendered: dict) -> None:
    assert_same_sound(rendered["whole"], rendered["joined"])


def test_a_caption_over_the_cut_shows_on_both_sides(rendered: dict) -> None:
    video = frames(local_output(rendered["joined"])).astype(int)
    cut_at = rendered["ranges"][0][1]

    def boxed(index: int) -> int:
        lower = video[index, SIZE[1] // 2:]
        return int((np.abs(lower - np.array(HIGHLIGHT)).max(axis=-1) < 40).sum())

    assert boxed(cut_at - 1) > 30 and boxed(cut_at) > 30
    assert rendered["joined"]["words"] == rendered["whole"]["words"] == 6


def test_the_joined_result_has_the_unsplit_shape_and_the_parts_are_gone(rendered: dict) -> None:
    whole, joined = rendered["whole"], rendered["joined"]
    same = ("frames", "scenes", "captions", "words", "width", "height", "warnings")
    assert {key: joined.get(key) for key in same} == {key: whole.get(key) for key in same}
    assert sorted(path.name for path in (rendered["output"] / "out").iterdir()) == [
        "inside.mp4", "joined.mp4", "whole.mp4"]


def test_captions_heard_from_the_narration_keep_a_render_whole():
    """Every part would transcribe the whole narration again; the render runs as one job instead."""
    job = {"operation": "render", "scenes": [{"image_url": "https://example.com/a.png", "duration": 60}] * 4,
           "narration": {"url": "https://example.com/n.mp3"}}
    assert worth_splitting(job, 60)
    assert not worth_splitting({**job, "captions": {"from_narration": True}}, 60)
