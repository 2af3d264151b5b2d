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
from video_ops.ops.img2vid import frame_counts

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


def packets_and_duration(path: Path) -> tuple[int, float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
         "stream=nb_read_packets,duration,r_frame_rate", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    info = json.loads(out)["streams"][0]
    return int(info["nb_read_packets"]), float(info["duration"])


@pytest.mark.parametrize("fps", [24, 25, 30])
def test_sixty_clips_add_up_to_the_total_duration(media_dir, media_server, fps):
    Image.new("RGB", (16, 16), (90, 140, 200)).save(media_dir / "dot16.png")
    durations = [AWKWARD[k % len(AWKWARD)] + 0.01 * (k // len(AWKWARD)) for k in range(60)]
    result = run_job({
        "operation": "img2vid", "path": "timing", "width": 64, "height": 36, "frame_rate": fps,
        "images": [{"id": f"c{k}", "image_url": f"{media_server}/dot16.png", "duracao": d}
                   for k, d in enumerate(durations)],
    })
    assert result.get("success"), result
    expected = expected_frames(durations, fps)
    counted = []
    for video, frames in zip(result["videos"], expected, strict=True):
        packets, seconds = packets_and_duration(Path(video["video_url"][len("file://"):]))
        assert packets == frames == video["frames"], video["id"]
        assert seconds == pytest.approx(frames / fps, abs=1e-3), video["id"]
        counted.append(packets)
    assert sum(counted) == total_frames(durations, fps)
