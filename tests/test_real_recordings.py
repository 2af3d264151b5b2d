"""The recordings of tests/recordings (real recordings' defects) through concatenate: what used to
break now decodes cleanly, or is normalised first with the reason in the result."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from tests.helpers import REPO, local_output, run_job
from tests.media import probe, stream
from tests.sound import loudness

RECORDINGS = REPO / "tests" / "recordings"


@pytest.fixture(scope="module")
def served(media_dir: Path, media_server: str) -> str:
    for name in ("slowmo-bframes.mp4", "broadcast-midgop.ts", "phone-rotated.mp4", "short-header.mp4"):
        shutil.copyfile(RECORDINGS / name, media_dir / name)
    return media_server


def read_back(path: Path) -> str:
    """FFmpeg's complaints reading the whole file (frame times kept as they are: VFR is no fault)."""
    return subprocess.run(["ffmpeg", "-v", "warning", "-nostdin", "-i", str(path), "-enc_time_base", "-1",
                           "-f", "null", "-"], capture_output=True, text=True).stderr


def packet_times(path: Path) -> list[tuple[int, int]]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts",
                          "-of", "csv=p=0", str(path)], check=True, capture_output=True, text=True).stdout
    return [(int(pts), int(dts)) for pts, dts in (line.split(",")[:2] for line in out.split())]


def test_slow_motion_joined_with_itself_keeps_decode_times_rising(served: str):
    url = f"{served}/slowmo-bframes.mp4"
    result = run_job({"operation": "concatenate", "path": "out", "video_urls": [url, url]})
    output = local_output(result)
    times = packet_times(output)
    dts = [d for _, d in times]
    assert all(b > a for a, b in itertools.pairwise(dts)), "decode times repeat or run backwards"
    frames = sorted(p for p, _ in times)
    assert len(set(frames)) == len(frames), "two frames share a time"
    assert read_back(output) == ""
    assert result["video_stream"] == "re-encoded"
    assert result["reencode_reason"].startswith("video_urls[1]: its B-frame delay is longer")


def test_broadcast_ts_far_from_zero_is_normalised_first(served: str):
    url = f"{served}/broadcast-midgop.ts"
    result = run_job({"operation": "concatenate", "path": "out", "video_urls": [url, url]})
    output = local_output(result)
    info = probe(output)
    assert float(info["format"]["duration"]) < 6.0  # two clips of 2.4 s, not hours
    assert result["reencode_reason"] == "video_urls[0]: it starts mid-GOP (its first frame is not a key frame)."
    assert "error" not in read_back(output).lower()
    assert loudness(output) > -40  # the sound of both clips, not silence (it began 19305 s in)


def test_rotated_phone_clip_keeps_its_orientation(served: str):
    url = f"{served}/phone-rotated.mp4"
    result = run_job({"operation": "concatenate", "path": "out", "video_urls": [url, url]})
    picture = stream(probe(local_output(result)), "video")
    assert (picture["width"], picture["height"]) == (108, 192)


def test_broadcast_ts_under_new_sound_is_encoded_from_its_first_frame(served: str):
    """Copied, its mid-GOP start left one frame that showed 2 s after the sound began."""
    url = f"{served}/broadcast-midgop.ts"
    result = run_job({"operation": "addaudio", "path": "out", "url_video": url, "url_audio": url})
    output = local_output(result)
    picture, sound = stream(probe(output), "video"), stream(probe(output), "audio")
    assert result["reencode_reason"] == "url_video: it starts mid-GOP (its first frame is not a key frame)."
    assert float(picture["start_time"]) == float(sound["start_time"]) == 0.0
    assert int(picture["nb_frames"]) == round(float(picture["duration"]) * Fraction(picture["r_frame_rate"]))
    assert read_back(output) == ""


def test_broadcast_ts_under_a_narration_says_why_it_was_normalised(served: str):
    url = f"{served}/broadcast-midgop.ts"
    result = run_job({"operation": "concat_video_audio", "path": "out", "video_urls": [url], "audio_url": url,
                      "width": 192, "height": 108, "frame_rate": 25})
    assert result["reencode_reason"] == "video_urls[0]: it starts mid-GOP (its first frame is not a key frame)."
    output = local_output(result)
    assert float(probe(output)["format"]["duration"]) < 3.0  # not a timeline of hours
    assert read_back(output) == ""


def test_a_clip_whose_header_ends_before_its_last_frame_is_copied_whole(served: str):
    """Copied by the header's length, the next clip started on the last frame's time (a Samsung slow-motion clip)."""
    url = f"{served}/short-header.mp4"
    result = run_job({"operation": "concatenate", "path": "out", "video_urls": [url, url]})
    output = local_output(result)
    assert result["video_stream"] == "copied"
    frames = sorted(pts for pts, _ in packet_times(output))
    tick = Fraction(stream(probe(output), "video")["time_base"])
    assert min(b - a for a, b in itertools.pairwise(frames)) * tick > Fraction(1, 60), "two frames share a time"
    assert float(stream(probe(output), "video")["duration"]) == pytest.approx(2.0, abs=0.001)
    assert float(stream(probe(output), "audio")["duration"]) == pytest.approx(2.0, abs=0.001)
