"""The scene compositor: where each scene lands, what a transition blends, and that scenes hold memory
only while they are on screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from video_ops.base.errors import JobError
from video_ops.media.compose import BLACK_LUMA, SceneError, Timeline, place, total_frames
from video_ops.media.decoded import DecodedFrames

SIZE = (8, 4)
FRAME_BYTES = SIZE[0] * SIZE[1] * 3 // 2


class Flat:
    """A scene whose every frame is one luma value (chroma neutral); it records its life."""

    log: list[str]

    def __init__(self, luma: int, log: list[str], name: str) -> None:
        self.luma, self.log, self.name = luma, log, name
        log.append(f"open {name}")

    def frame(self, index: int) -> bytes:
        frame = np.full(FRAME_BYTES, 128, np.uint8)
        frame[: SIZE[0] * SIZE[1]] = self.luma
        return frame.tobytes()

    def close(self) -> None:
        self.log.append(f"close {self.name}")


def lumas(timeline: Timeline) -> list[int]:
    return [timeline.frame(i)[0] for i in range(timeline.frames)]


def flat_timeline(counts: list[int], values: list[int], transition: str, overlap: int, log: list[str]) -> Timeline:
    openers = [lambda v=v, k=k: Flat(v, log, f"s{k}") for k, v in enumerate(values)]
    return Timeline(place(counts, overlap), openers, transition, overlap, SIZE)  # type: ignore[arg-type]


def test_scenes_overlap_by_the_transition_and_the_timeline_shortens_by_it() -> None:
    placements = place([30, 40, 50], 6)
    assert [(p.start, p.end) for p in placements] == [(0, 30), (24, 64), (58, 108)]
    assert total_frames(placements) == 30 + 40 + 50 - 2 * 6


def test_without_transition_each_frame_is_one_scenes_frame() -> None:
    log: list[str] = []
    assert lumas(flat_timeline([3, 2, 4], [50, 100, 200], "none", 0, log)) == [50] * 3 + [100] * 2 + [200] * 4


def test_a_fade_blends_from_one_scene_to_the_next_steadily() -> None:
    log: list[str] = []
    out = lumas(flat_timeline([10, 10], [40, 240], "fade", 4, log))
    assert len(out) == 16
    assert out[:6] == [40] * 6 and out[10:] == [240] * 6
    blend = out[6:10]
    assert all(40 < v < 240 for v in blend) and blend == sorted(blend)
    steps = np.diff([40, *blend, 240])
    assert steps.max() - steps.min() <= 2  # an even ramp


def test_fadeblack_dips_to_black_between_the_scenes() -> None:
    log: list[str] = []
    out = lumas(flat_timeline([10, 10], [200, 220], "fadeblack", 5, log))
    dip = out[5:10]
    assert min(dip) <= BLACK_LUMA + 40
    assert dip.index(min(dip)) == 2  # the darkest frame is the middle one
    assert dip[0] < 200 and dip[-1] < 220


def test_scenes_open_just_ahead_and_close_when_they_end() -> None:
    log: list[str] = []
    timeline = flat_timeline([4, 4, 4, 4], [10, 20, 30, 40], "none", 0, log)
    for index in range(6):
        timeline.frame(index)
    timeline._pool.shutdown(wait=True)  # let the scene opened ahead finish opening
    # On scene 1: scene 0 is closed, scene 2 is opened ahead, scene 3 is not touched yet.
    assert sorted(log) == ["close s0", "open s0", "open s1", "open s2"]
    timeline.close()
    assert sorted(log) == ["close s0", "close s1", "close s2", "open s0", "open s1", "open s2"]


def test_asking_for_frame_zero_again_starts_over() -> None:
    log: list[str] = []
    timeline = flat_timeline([2, 2], [10, 20], "none", 0, log)
    first = lumas(timeline)
    assert lumas(timeline) == first == [10, 10, 20, 20]
    assert log.count("open s0") == 2
    timeline.close()


def test_a_failing_scene_is_named_by_its_position() -> None:
    def broken() -> Flat:
        raise JobError("not an image")

    log: list[str] = []
    timeline = Timeline(place([2, 2], 0), [lambda: Flat(1, log, "a"), broken], "none", 0, SIZE)
    timeline.frame(0)
    with pytest.raises(SceneError) as caught:
        timeline.frame(2)
    assert caught.value.position == 1 and "not an image" in str(caught.value)
    timeline.close()


def test_decoded_frames_come_in_order_and_a_short_stream_repeats_its_last(tmp_path: Path) -> None:
    args = ["-f", "lavfi", "-i", "testsrc=size=8x4:rate=10", "-frames:v", "3", "-f", "rawvideo", "-pix_fmt", "yuv420p"]
    reference = [DecodedFrames(args, FRAME_BYTES, tmp_path).frame(i) for i in range(1)]
    decoded = DecodedFrames(args, FRAME_BYTES, tmp_path)
    frames = [decoded.frame(i) for i in range(5)]
    decoded.close()
    assert frames[0] == reference[0]
    assert len({frames[0], frames[1], frames[2]}) == 3  # testsrc moves
    assert frames[3] == frames[4] == frames[2]


def test_a_decoder_with_nothing_to_show_says_why(tmp_path: Path) -> None:
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all")
    decoded = DecodedFrames(["-i", str(tmp_path / "junk.mp4"), "-f", "rawvideo"], FRAME_BYTES, tmp_path)
    with pytest.raises(JobError, match="could not decode the video") as caught:
        decoded.frame(0)
    decoded.close()
    assert str(tmp_path) not in str(caught.value)
