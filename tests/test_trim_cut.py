"""trim, cut and split on real FFmpeg output (issue 33): frame-exact, the frames of whole GOPs copied bit for
bit, the frames next to a cut encoded close to the source (SSIM >= 0.98), sound cut to the sample, joined
without a click and in sync, and the result's `frames` and `duration` the truth.

Sources are made once per session (tests/cut_media.py) and every job runs once (`Editing.run` keeps its
result), so several tests judge one output; tests/cut_check.py holds what they read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium
from tests.cut_check import (
    assert_cut,
    assert_no_click,
    assert_result_is_the_truth,
    assert_sound,
    decode,
    ffprobe,
    kept_of,
)
from tests.cut_media import Sources
from tests.helpers import REPO, leftover_workdirs, run_job
from video_ops.media.encoders import forget_probes

CUTS = [{"start": 6.3, "end": 7.1}, {"start": 0.7, "end": 1.9}, {"start": 1.2, "end": "00:00:02.200"}]
KEPT = [(0.0, 0.7), (2.2, 6.3), (7.1, 8.0)]  # of the 8-s pattern once CUTS are merged


class Editing:
    """Runs jobs on the sources with the settings a test's `worker_env` gives, each job once."""

    def __init__(self, sources: Sources, root: Path) -> None:
        self.sources, self.root = sources, root
        self.done: dict[str, tuple[dict[str, Any], Path | None]] = {}

    def run(self, job: dict[str, Any]) -> tuple[dict[str, Any], Path | None]:
        """The job's result and its output file (None when it failed, or for split)."""
        key = json.dumps(job, sort_keys=True)
        if key not in self.done:
            folder = self.root / f"job{len(self.done)}"
            with pytest.MonkeyPatch.context() as patch:
                for name, value in {"VIDEO_OPS_ENCODER": "x264", "VIDEO_OPS_DECODER": "cpu",
                                    "VIDEO_OPS_WORKDIR": str(folder / "work"),
                                    "VIDEO_OPS_OUTPUT_DIR": str(folder / "output"),
                                    "RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS": "true"}.items():
                    patch.setenv(name, value)
                forget_probes()
                result = run_job({"path": "out", **job})
            assert leftover_workdirs(folder / "work") == []
            url = result.get("video_url") or result.get("audio_url")
            self.done[key] = result, Path(url[len("file://"):]) if url else None
        return self.done[key]

    def job(self, operation: str, name: str, **fields: Any) -> tuple[dict[str, Any], Path]:
        result, output = self.run({"operation": operation, "url_video": self.sources.link(name), **fields})
        assert output is not None, result
        return result, output


@pytest.fixture(scope="session")
def editing(media_dir: Path, media_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Editing]:
    yield Editing(Sources(media_dir / "editing", f"{media_server}/editing"), tmp_path_factory.mktemp("editing"))


# The pattern in H.264 (x264's B-pyramid, 2-s GOPs): trim, cut, split, keyframe trim


def test_trim_is_frame_exact_and_copies_the_gops_inside(editing: Editing):
    result, output = editing.job("trim", "h264.mp4", start=1.5, end="00:00:04.700")
    verdict = assert_cut(editing.sources.path("h264.mp4"), output, result, [(1.5, 4.7)], pattern=True)
    assert result["video_stream"] == "smart-cut" and "reencode_reason" not in result
    assert result["frames"] == 81  # frames 37 (shown 1.48-1.52 s) to 117 (4.68-4.72 s)
    assert result["frames_copied"] == 65 <= verdict.copied  # 50-114 (a flash encodes to the same pixels)
    assert verdict.whole_gops == 1
    assert (result["start"], result["end"]) == (1.48, 4.72)  # whole frames


def test_cut_merges_ranges_and_joins_frame_exact_without_a_click(editing: Editing):
    result, output = editing.job("cut", "h264.mp4", cuts=CUTS)
    assert result["removed"] == [{"start": 0.7, "end": 2.2}, {"start": 6.3, "end": 7.1}]
    assert kept_of(result) == [(0.0, 0.72), (2.2, 6.32), (7.08, 8.0)] and result["removed_s"] == pytest.approx(2.3)
    verdict = assert_cut(editing.sources.path("h264.mp4"), output, result, KEPT, pattern=True)
    assert len(verdict.flashes) == 6  # 0.48, 2.48, 3.48, 4.48, 5.48, 7.48
    assert result["video_stream"] == "smart-cut" and result["frames_copied"] <= verdict.copied
    assert verdict.whole_gops == 1  # 4-6 s; the others are cut into
    assert_no_click(output, kept_of(result))


def test_split_lists_each_clip_with_its_frames(editing: Editing):
    source = editing.sources.path("h264.mp4")
    every, _ = editing.run({"operation": "split", "url_video": editing.sources.link("h264.mp4"), "every_s": 3})
    listed, _ = editing.run({"operation": "split", "url_video": editing.sources.link("h264.mp4"),
                             "splits": [{"start": 5.5, "end": 7.9, "output_filename": "end.mp4"},
                                        {"start": 0.3, "end": "00:00:02.5"}]})
    for result, asked in ((every, [(0.0, 3.0), (3.0, 6.0), (6.0, 8.0)]), (listed, [(5.5, 7.9), (0.3, 2.5)])):
        assert result["total"] == result["processed"] == len(asked)
        for number, (video, span) in enumerate(zip(result["videos"], asked, strict=True), start=1):
            assert video["id"] == number
            verdict = assert_cut(source, Path(video["video_url"][len("file://"):]), video, [span])
            assert video["frames"] == verdict.frames and video["frames_copied"] <= verdict.copied
    assert sum(video["frames"] for video in every["videos"]) == 200
    assert [video["filename"] for video in listed["videos"]] == ["end.mp4", "split_2.mp4"]


def test_trim_to_the_keyframe_copies_and_says_where_it_starts(editing: Editing):
    result, output = editing.job("trim", "h264.mp4", start=2.7, end=6.5, accuracy="keyframe")
    assert (result["start"], result["end"]) == (2.0, 6.52)  # the keyframe before 2.7 s; the last clean point
    assert result["video_stream"] == "copied" and result["frames_encoded"] == 0  # before 6.5 s (after 6.48's B)
    verdict = assert_cut(editing.sources.path("h264.mp4"), output, result, [(2.0, 6.52)], pattern=True)
    assert verdict.copied == verdict.frames == result["frames"] == 113


def test_a_range_past_the_end_is_clamped_with_a_warning(editing: Editing):
    result, output = editing.job("trim", "h264.mp4", start=6.5, end=30)
    assert result["warnings"] == ["start: the range ends at 30 s, after the media ends; it was cut at 8.000 s."]
    assert_cut(editing.sources.path("h264.mp4"), output, result, [(6.5, 8.0)], pattern=True)
    cut, output = editing.job("cut", "tone.wav", cuts=[{"start": 0.5, "end": 1}, {"start": 3.5, "end": 9}])
    assert cut["warnings"] == ["cuts[1]: the range ends at 9 s, after the media ends; it was cut at 4.000 s."]
    assert kept_of(cut) == [(0.0, 0.5), (1.0, 3.5)]
    assert_sound(editing.sources.path("tone.wav"), output, kept_of(cut))


def test_the_bundled_sample_at_default_settings(editing: Editing):
    """As users first try it: samples/sample_video.mp4 (one GOP, so the trim is encoded in the source's format)."""
    sample = REPO / "samples" / "sample_video.mp4"
    url = editing.sources.add(sample)
    for job, asked in (({"operation": "trim", "url_video": url, "start": 1, "end": 3}, [(1.0, 3.0)]),
                       ({"operation": "cut", "url_video": url, "cuts": [{"start": 1, "end": 2}]}, [(0.0, 1.0),
                                                                                                 (2.0, 4.0)])):
        result, output = editing.run(job)
        assert output is not None, result
        assert_cut(sample, output, result, asked)
    assert result["video_stream"] == "smart-cut"


# Other kinds of video


def test_hevc_closed_gops_are_smart_cut(editing: Editing):
    result, output = editing.job("trim", "hevc.mp4", start=0.9, end=4.3)
    verdict = assert_cut(editing.sources.path("hevc.mp4"), output, result, [(0.9, 4.3)], pattern=True)
    assert result["video_stream"] == "smart-cut" and verdict.copied >= 50 and verdict.whole_gops == 1


def test_a_phone_clip_keeps_its_rotation_and_its_frame_times(editing: Editing):
    result, output = editing.job("trim", "phone.mp4", start=1.23, end=5.55)
    assert_cut(editing.sources.path("phone.mp4"), output, result, [(1.23, 5.55)], pattern=True)
    picture = next(s for s in ffprobe(output)["streams"] if s["codec_type"] == "video")
    assert [d.get("rotation") for d in picture.get("side_data_list", [])] == [90]
    assert result["video_stream"] == "smart-cut"


def test_a_picture_that_starts_late_stays_in_sync(editing: Editing):
    """A QuickTime file whose picture starts 0.5 s after its sound (an empty edit): a kept range with sound but
    no picture is left out whole, so the picture keeps its place against the sound."""
    source = editing.sources.path("later.mov")
    result, output = editing.job("cut", "later.mov", cuts=[{"start": 0.3, "end": 1.0}, {"start": 3.3, "end": 3.9}])
    assert kept_of(result) == [(0.98, 3.3), (3.9, 6.3)]  # frames every 0.04 s from 0.3 s
    verdict = assert_cut(source, output, result, [(0.0, 0.3), (1.0, 3.3), (3.9, 6.3)], pattern=True)
    assert len(verdict.flashes) == 4  # 0.78 s into each second of the file: 1.78, 2.78, 4.78, 5.78
    trimmed, output = editing.job("trim", "later.mov", start=0.2, end=2.6)
    assert kept_of(trimmed) == [(0.2, 2.62)] and decode(output).frames[0].time == pytest.approx(0.1)
    assert_cut(source, output, trimmed, [(0.2, 2.6)], pattern=True)


def test_an_edit_list_that_hides_frames_is_honoured(editing: Editing):
    """An MP4 whose edit list hides its first 0.3 s (their packets kept): times and frames as a player shows them."""
    result, output = editing.job("cut", "edit-list.mp4", cuts=[{"start": 0.0, "end": 0.13}, {"start": 2.5, "end": 3.1}])
    assert_cut(editing.sources.path("edit-list.mp4"), output, result, [(0.13, 2.5), (3.1, 5.7)], pattern=True)


def test_pcm_sound_in_quicktime_is_cut_in_sync(editing: Editing):
    result, output = editing.job("cut", "pcm.mov", cuts=[{"start": 1.01, "end": 2.33}])
    assert result["video_stream"] == "smart-cut"
    assert_cut(editing.sources.path("pcm.mov"), output, result, [(0.0, 1.01), (2.33, 6.0)], pattern=True)
    assert_no_click(output, kept_of(result))


@pytest.mark.parametrize(("name", "reason"), [
    ("hevc10.mp4", "url_video: its pixel format yuv420p10le is not 8-bit 4:2:0."),
    ("vp9.webm", "url_video: vp9 is not smart-cut (only H.264 and HEVC are)."),
])
def test_what_cannot_be_smart_cut_is_encoded_with_the_reason(editing: Editing, name: str, reason: str):
    result, output = editing.job("trim", name, start=0.5, end=2.3)
    assert result["video_stream"] == "re-encoded" and result["reencode_reason"] == reason
    assert_cut(editing.sources.path(name), output, result, [(0.5, 2.3)], pattern=True)


# Sound files


@pytest.mark.parametrize("name", ["tone.mp3", "tone.wav", "tone.m4a"])
def test_sound_files_are_cut_to_the_sample_into_their_own_kind(editing: Editing, name: str):
    source = editing.sources.path(name)
    trimmed, output = editing.job("trim", name, start=0.25, end=2.7503)  # lengths of no whole millisecond
    assert output.suffix == source.suffix and trimmed["audio_url"].endswith(source.suffix)
    assert_sound(source, output, [(0.25, 2.7503)])
    assert_result_is_the_truth(trimmed, output, source)
    cut, output = editing.job("cut", name, cuts=[{"start": 1.1, "end": 2.6003}])
    assert output.suffix == source.suffix
    assert_sound(source, output, [(0.0, 1.1), (2.6003, 4.0)])  # to the sound's end (an MP3's headers say later)
    assert_no_click(output, kept_of(cut))
    assert_result_is_the_truth(cut, output, source)


# Playing it


PLAYER = """<!doctype html><video id="v" muted playsinline preload="auto" src="{name}"></video><script>
const v = document.getElementById('v'); window.times = []; window.failed = null;
v.addEventListener('error', () => { window.failed = v.error.code + ': ' + v.error.message; });
v.addEventListener('timeupdate', () => window.times.push(v.currentTime));
v.playbackRate = 2; v.play().catch(e => { window.failed = String(e); });
</script>"""


def test_chromium_plays_the_smart_cut_through_every_join(editing: Editing):
    """Headless Chromium's <video> plays the H.264 cut to its end over HTTP: no media error, every frame decoded,
    its clock past each join (Debian's Chromium may not decode HEVC: FFmpeg decodes that, above)."""
    result, output = editing.job("cut", "h264.mp4", cuts=CUTS)
    editing.sources.add(output)
    (editing.sources.folder / "player.html").write_text(PLAYER.replace("{name}", output.name))
    lengths = [end - start for start, end in kept_of(result)]
    joins = [sum(lengths[:n]) for n in range(1, len(lengths))]
    with chromium() as page:
        page.open(f"{editing.sources.url}/player.html")
        page.wait_for("window.failed !== null || document.getElementById('v').ended", timeout=60)
        assert page.evaluate("window.failed") is None
        times = page.evaluate("window.times")
        played = page.evaluate("[document.getElementById('v').duration, "
                               "document.getElementById('v').getVideoPlaybackQuality().totalVideoFrames]")
    assert played == [pytest.approx(result["duration"], abs=0.05), result["frames"]]  # every frame decoded
    for join in joins:
        assert any(t < join for t in times) and any(t > join for t in times), (join, times)


# The larger matrix (CI runs it too): every place in a GOP, every source kind cut, many joins

PLACES = [(2.0, 4.0), (2.04, 4.04), (2.08, 4.1), (2.12, 5.99), (1.999, 6.01), (3.97, 6.2), (0.0, 8.0), (0.01, 0.05)]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["h264.mp4", "hevc.mp4"])
@pytest.mark.parametrize(("start", "end"), PLACES)
def test_trim_lands_on_every_place_in_a_gop(editing: Editing, name: str, start: float, end: float):
    """Cut-ins and cut-outs on a keyframe, on each level of the B-pyramid, a hair before a keyframe, the whole
    file (copied) and two frames."""
    result, output = editing.job("trim", name, start=start, end=end)
    source = editing.sources.path(name)
    length = float(ffprobe(source, count=False)["format"]["duration"])
    verdict = assert_cut(source, output, result, [(start, min(end, length))], pattern=True)
    if (start, end) == (0.0, 8.0):
        assert result["video_stream"] == "copied" and verdict.copied == verdict.frames


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hevc.mp4", "phone.mp4", "hevc10.mp4", "vp9.webm", "edit-list.mp4"])
def test_cut_of_every_kind(editing: Editing, name: str):
    source = editing.sources.path(name)
    length = float(ffprobe(source, count=False)["format"]["duration"])
    cuts = [{"start": 0.61, "end": 1.05}, {"start": length - 1.3, "end": length - 0.9}]
    result, output = editing.job("cut", name, cuts=cuts)
    asked = [(0.0, 0.61), (1.05, length - 1.3), (length - 0.9, length)]
    assert_cut(source, output, result, asked, pattern=True)
    assert_no_click(output, kept_of(result))
    rotation = [d.get("rotation") for s in ffprobe(source)["streams"] for d in s.get("side_data_list", [])]
    assert [d.get("rotation") for s in ffprobe(output)["streams"] for d in s.get("side_data_list", [])] == rotation


@pytest.mark.slow
def test_twenty_cuts_join_cleanly(editing: Editing):
    cuts = [{"start": 0.35 * n + 0.1, "end": 0.35 * n + 0.23} for n in range(20)]
    result, output = editing.job("cut", "h264.mp4", cuts=cuts)
    edges = [0.0, *(x for n in range(20) for x in (0.35 * n + 0.1, 0.35 * n + 0.23)), 8.0]
    asked = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
    assert_cut(editing.sources.path("h264.mp4"), output, result, asked, pattern=True)
    assert_no_click(output, kept_of(result))


@pytest.mark.slow
def test_split_of_a_phone_clip_every_second(editing: Editing):
    result, _ = editing.run({"operation": "split", "url_video": editing.sources.link("phone.mp4"), "every_s": 1.5})
    source = editing.sources.path("phone.mp4")
    for number, video in enumerate(result["videos"]):
        assert_cut(source, Path(video["video_url"][len("file://"):]), video, [(1.5 * number, 1.5 * number + 1.5)])
    frames = len(decode(source).frames)  # a frame that holds a clip's edge is in both clips
    assert frames <= sum(video["frames"] for video in result["videos"]) < frames + len(result["videos"])
