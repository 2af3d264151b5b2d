"""Frame-exact durations: every clip gets round(end*fps) - round(start*fps) frames, so a sequence never drifts."""

from __future__ import annotations

import json
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import run_job
from tests.pictures import expected_frames
from video_ops.media.timing import frame_counts

AWKWARD = [0.37, 1.04, 2.5, 0.21, 1.333, 0.8, 0.125, 1.9, 0.52, 0.07]


def total_frames(durations: list[float], fps: float) -> int:
    total = sum(Decimal(str(d)) for d in durations) * Decimal(str(fps))
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("fps", [24, 25, 30, 29.97, 23.976])
def test_frame_counts_follow_the_formula_and_never_drift(fps):
    durations = AWKWARD * 30  # 300 clips
    counts = frame_counts(durations, Fraction(str(fps)))
    assert counts == expected_frames(durations, fps)
    assert sum(counts) == total_frames(durations, fps)
    for k in range(1, len(durations) + 1):  # at every cut, the sequence is within half a frame of the clock
        elapsed = sum(Fraction(str(d)) for d in durations[:k]) * Fraction(str(fps))
        assert abs(sum(counts[:k]) - elapsed) <= Fraction(1, 2)


def test_halves_round_up_not_to_even():
    assert frame_counts([0.5, 0.5, 0.5], Fraction(1)) == [1, 0, 1]  # 0.5 -> 1, 1.0 -> 1, 1.5 -> 2


def joined_packets(paths: list[Path], folder: Path) -> int:
    """The clips played back to back (concat demuxer), their frames counted."""
    listing = folder / "clips.txt"
    listing.write_text("".join(f"file '{path}'\n" for path in paths))
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-f", "concat", "-safe", "0", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "json", str(listing)],
        capture_output=True, text=True, check=True,
    ).stdout
    return int(json.loads(out)["streams"][0]["nb_read_packets"])


@pytest.mark.parametrize("fps", [24, 25, 30])
def test_sixty_clips_add_up_to_the_total_duration(media_dir, media_server, tmp_path, fps):
    Image.new("RGB", (16, 16), (90, 140, 200)).save(media_dir / "dot16.png")
    durations = [AWKWARD[k % len(AWKWARD)] + 0.01 * (k // len(AWKWARD)) for k in range(60)]
    result = run_job({
        "operation": "img2vid", "path": "timing", "width": 64, "height": 36, "frame_rate": fps,
        "images": [{"id": f"c{k}", "image_url": f"{media_server}/dot16.png", "duracao": d}
                   for k, d in enumerate(durations)],
    })
    assert result.get("success"), result
    assert [video["frames"] for video in result["videos"]] == expected_frames(durations, fps)
    paths = [Path(video["video_url"][len("file://"):]) for video in result["videos"]]
    assert joined_packets(paths, tmp_path) == total_frames(durations, fps)
    assert sum(video["duration"] for video in result["videos"]) == pytest.approx(total_frames(durations, fps) / fps)
