"""Every recording (tests/recordings_corpus.py) through every operation that takes a video: the output
decodes without one error or timestamp warning, keeps the picture's display size and the sound in sync,
and holds as many frames as its length says; or the job is refused in one sentence naming the field."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image

from tests.cut_check import assert_cut
from tests.helpers import local_output, run_job
from tests.media import make_audio, probe, stream
from tests.recordings_corpus import REFUSED, is_made, recordings

Job = Callable[[str, str], dict[str, Any]]  # (recording's URL, the served folder's URL) -> job input
_JARGON = re.compile(r"ffmpeg|ffprobe|invalid data|@ 0x|\[(h264|hevc|mov|mpegts|mjpeg)|dts|pts|moov|nal|"
                     r"error while|traceback", re.IGNORECASE)
_FIELD = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+)?: ")


@dataclass(frozen=True)
class Op:
    """One operation's minimal job around a recording, and what its output must keep."""

    job: Job
    field: str  # where the recording goes: a refusal names it
    keeps_frame: bool = True  # the output shows the recording's own frame (size, orientation)
    own_sound: bool = False  # the output plays the recording's sound alone
    keeps_track: bool = False  # ... its very track, as it is (its offsets against the picture too)
    kept: Callable[[float], list[tuple[float, float]]] | None = None  # a cut: the ranges it keeps of this long a
    # recording; its output is then checked frame by frame against the recording (tests/cut_check.py)


def _frame_of(recording: Path) -> dict[str, Any]:
    """The size and rate a join keeps for this clip (its display size, even), for concat_video_audio."""
    width, height = display_size(probe(recording))
    rate = stream(probe(recording), "video")["r_frame_rate"]
    return {"width": max(16, width), "height": max(16, height), "frame_rate": round(float(Fraction(rate)), 3)}


_BURNS: dict[str, Any] = {"field": "url_video", "own_sound": True, "keeps_track": True}  # captions on a video
OPS: dict[str, Op] = {
    "caption": Op(lambda v, s: {"operation": "caption", "url_video": v, "url_srt": f"{s}/cue.srt"}, **_BURNS),
    "caption_segments": Op(lambda v, s: {"operation": "caption_segments", "url_video": v,
                                         "url_srt": f"{s}/cue.srt"}, **_BURNS),
    "caption_highlight": Op(lambda v, s: {"operation": "caption_highlight", "url_video": v,
                                          "url_words_json": f"{s}/words.json"}, **_BURNS),
    "addaudio": Op(lambda v, s: {"operation": "addaudio", "url_video": v, "url_audio": f"{s}/tone.mp3",
                                 "mode": "mix"}, "url_video"),
    "trilhasonora": Op(lambda v, s: {"operation": "trilhasonora", "url_video": v,
                                     "trilha_sonora": f"{s}/tone.mp3"}, "url_video"),
    "concatenate_self": Op(lambda v, s: {"operation": "concatenate", "video_urls": [v, v]}, "video_urls[0]",
                           own_sound=True),
    "concatenate_plain": Op(lambda v, s: {"operation": "concatenate", "video_urls": [v, f"{s}/plain.mp4"]},
                            "video_urls[0]"),
    "concat_video_audio": Op(lambda v, s: {"operation": "concat_video_audio", "video_urls": [v],
                                           "audio_url": f"{s}/narration.mp3"}, "video_urls[0]"),
    "render": Op(lambda v, s: {"operation": "render", "width": 192, "height": 108, "frame_rate": 25,
                               "scenes": [{"image_url": f"{s}/still.png", "duration": 0.4}, {"video_url": v},
                                          {"image_url": f"{s}/still.png", "duration": 0.4}]},
                 "scenes[1]", keeps_frame=False),
    "trim": Op(lambda v, s: {"operation": "trim", "url_video": v, "start": 0.1}, **_BURNS,
               kept=lambda length: [(0.1, length)]),
    "cut": Op(lambda v, s: {"operation": "cut", "url_video": v, "cuts": [{"start": 0.2, "end": 0.4}]}, **_BURNS,
              kept=lambda length: [(0.0, 0.2), (0.4, length)]),
    "transcribe": Op(lambda v, s: {"operation": "transcribe", "url_video": v, "model": "tiny",
                                   "output_formats": ["srt"]}, "url_video", keeps_frame=False),
}


@pytest.fixture(scope="module")
def served(media_dir: Path, media_server: str) -> str:
    """The recordings and the other inputs the jobs need, served from one folder."""
    folder = media_dir / "everywhere"
    folder.mkdir(exist_ok=True)
    for recording in recordings():
        shutil.copyfile(recording, folder / recording.name)
    (folder / "cue.srt").write_text("1\n00:00:00,050 --> 00:00:00,600\nHello\n")
    (folder / "words.json").write_text('{"words": [{"word": "Hello", "start": 0.05, "end": 0.5}]}')
    make_audio(folder / "tone.mp3", seconds=3.0)
    make_audio(folder / "narration.mp3", seconds=1.0)
    shutil.copyfile(media_dir / "video.mp4", folder / "plain.mp4")
    Image.new("RGB", (64, 36), (30, 90, 200)).save(folder / "still.png")
    return f"{media_server}/everywhere"


def display_size(info: dict[str, Any]) -> tuple[int, int]:
    """The picture's size as it plays: rotation metadata honoured, sides floored to even."""
    video = stream(info, "video")
    width, height = video["width"], video["height"]
    rotation = next((int(float(d["rotation"])) for d in video.get("side_data_list", []) if "rotation" in d), 0)
    if rotation % 180:
        width, height = height, width
    return width // 2 * 2, height // 2 * 2


def read_back(path: Path) -> str:
    """FFmpeg's complaints reading the whole file (frame times kept as they are: VFR is no fault)."""
    return subprocess.run(["ffmpeg", "-v", "warning", "-nostdin", "-i", str(path), "-enc_time_base", "-1",
                           "-f", "null", "-"], capture_output=True, text=True).stderr


def counted(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json",
                          str(path)], check=True, capture_output=True).stdout
    return json.loads(out)


def loudest_db(path: Path) -> float:
    report = subprocess.run(["ffmpeg", "-nostdin", "-i", str(path), "-map", "0:a:0", "-af", "volumedetect",
                             "-f", "null", "-"], capture_output=True, text=True).stderr
    return float(re.findall(r"max_volume: (-?[\d.]+|-inf) dB", report)[-1].replace("-inf", "-200"))


def assert_refusal(error: str, field: str) -> None:
    """One sentence in the user's words, starting with the field at fault."""
    assert _FIELD.match(error), error
    assert error.startswith(field) or not error.startswith(("url_video", "video_urls", "scenes")), error
    assert "\n" not in error and error.endswith("."), error
    assert not _JARGON.search(error), error
    assert not re.search(r"[.!?] [A-Z]", error), f"more than one sentence: {error}"


def assert_clean_output(output: Path, recording: Path, op: Op) -> None:
    assert read_back(output) == ""
    info = counted(output)
    video, audio = stream(info, "video"), stream(info, "audio")
    rate = Fraction(video["avg_frame_rate"])
    frame_s = float(1 / rate)
    video_s = float(video["duration"])
    if rate == Fraction(video["r_frame_rate"]):  # constant rate: as many frames as its length says
        assert abs(int(video["nb_read_frames"]) - video_s * rate) <= 1, (video["nb_read_frames"], video_s, rate)
    if op.keeps_frame:
        assert display_size(info) == display_size(probe(recording))
    # A cut's sync is judged against the decoded recording frame by frame (assert_cut): its picture rightly starts
    # where the recording's first decodable frame falls, later than ffprobe's start time where it starts mid-GOP.
    if audio is not None and op.kept is None:
        # A copied MP3 (a narration) ends on its last packet: 1152 samples, more than a frame at high rates.
        slack = frame_s if audio["codec_name"] == "aac" else max(frame_s, 1152 / int(audio["sample_rate"]))
        starts, ends = sync_gaps(info)
        if op.keeps_track:  # the recording's own track, kept as it is: no further apart than in the recording
            before = sync_gaps(probe(recording))
            starts, ends = starts - before[0], ends - before[1]
        assert starts <= frame_s, (video["start_time"], audio["start_time"])
        assert ends <= slack, (video["start_time"], video_s, audio["start_time"], audio["duration"])
    if op.own_sound and stream(probe(recording), "audio") is not None and loudest_db(recording) > -60:
        assert audio is not None and loudest_db(output) > -60, "the recording's sound was lost"


def sync_gaps(info: dict[str, Any]) -> tuple[float, float]:
    """How far apart the picture and the sound start, and how far apart they end."""
    video, audio = stream(info, "video"), stream(info, "audio")
    if audio is None:
        return 0.0, 0.0
    starts = [float(s.get("start_time", 0)) for s in (video, audio)]
    lengths = [float(s.get("duration", info["format"]["duration"])) for s in (video, audio)]
    ends = [start + length for start, length in zip(starts, lengths, strict=True)]
    return abs(starts[0] - starts[1]), abs(ends[0] - ends[1])


CASES = [pytest.param(recording, name, id=f"{recording.name}-{name}") for recording in recordings() for name in OPS]


@pytest.mark.parametrize(("recording", "name"), CASES)
def test_recording_through_operation(recording: Path, name: str, served: str, request: pytest.FixtureRequest):
    op = OPS[name]
    if name == "transcribe":
        request.getfixturevalue("whisper_models")
    job = op.job(f"{served}/{quote(recording.name)}", served)
    if name == "concat_video_audio":
        job.update(_frame_of(recording))
    result = run_job({"path": "out", **job})
    refused = "error" in result
    if refused:
        assert_refusal(result["error"], op.field)
    if is_made(recording):
        expect_refusal = recording.name in REFUSED or (name == "transcribe" and stream(probe(recording), "audio")
                                                       is None)
        assert refused == expect_refusal, result
    if refused or name == "transcribe":
        return
    assert_clean_output(local_output(result), recording, op)
    if op.kept is not None:
        assert_cut(recording, local_output(result), result, op.kept(float(probe(recording)["format"]["duration"])))
