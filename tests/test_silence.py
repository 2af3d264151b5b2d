"""silence and remove_silence with real FFmpeg, on speech-like tone bursts between pauses at known times.

The bursts are a 1 kHz tone at -20 dBFS; in the video the picture flashes white on exactly the frames of each
burst, so a cut that loses sync shows as flashes away from the sound. Measured here, silencedetect finds a
burst's edges to within 0.1 ms in WAV, MP3, M4A and the video's AAC alike (the codecs' pre-echo stays under
-35 dB); the results are rounded to the millisecond, so the times must agree to `TOLERANCE`.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import run_job
from tests.media import ffmpeg, probe, stream

RATE = 30  # the video's frames per second
LENGTH = 8.0
BURSTS = [(1.0, 2.2), (3.0, 3.6), (3.9, 5.0), (6.5, 7.3)]
SILENCES = [(0.0, 1.0), (2.2, 3.0), (5.0, 6.5), (7.3, 8.0)]  # the 0.3 s between 3.6 and 3.9 is too short to count
SPEECH = [(1.0, 2.2), (3.0, 5.0), (6.5, 7.3)]
PADDING = 0.15
KEPT = [(0.85, 2.35), (2.85, 5.15), (6.35, 7.45)]  # the speech with the default padding each side
# ... in the video, widened to its whole frames (from the first frame's start to the last one's end)
FRAMED = [(math.floor(start * RATE) / RATE, math.ceil(end * RATE) / RATE) for start, end in KEPT]
TOLERANCE = 0.0015  # silencedetect's own error (under 0.1 ms here) plus the rounding to the millisecond
BURST_DB = -23.0  # the RMS of a sine peaking at -20 dBFS
AAC_FRAME_S = 1024 / 44100  # FFmpeg decodes AAC to the end of its last whole frame, past the stream's length
AUDIO_KINDS = {"mp3": "mp3", "wav": "pcm_s16le", "m4a": "aac"}
# A recording of over 1000 s, where silencedetect writes times with only six significant digits.
LONG_RATE = 8000
LONG_LENGTH = 1300.0
LONG_BURSTS = [(1001.2346, 1002.0), (1199.0, 1199.8), (1234.5649, 1236.0)]


def tone_bursts(bursts: list[tuple[float, float]], shift: float = 0.0) -> str:
    """An expression that is 1 within each burst (moved `shift` seconds earlier) and 0 elsewhere."""
    return "+".join(f"gte(t,{start - shift:.6f})*lt(t,{end - shift:.6f})" for start, end in bursts)


@pytest.fixture(scope="session")
def speech_media(media_dir: Path) -> Path:
    """speech.mp4 (a phone-like 30 fps H.264 + AAC stereo clip, white on the bursts' frames) and speech.mp3,
    .wav and .m4a, next to the served media; late.mov, a 6 s picture whose PCM sound plays from 1 s to 4 s;
    long.wav, 1300 s of 8 kHz PCM with a few bursts past 1000 s."""
    sound = f"0.1*sin(2*PI*1000*t)*({tone_bursts(BURSTS)})"
    flash = tone_bursts(BURSTS, shift=0.5 / RATE)  # frame n shows t = n / RATE: lit when its time is in a burst
    ffmpeg("-f", "lavfi", "-i", f"color=c=0x202020:s=320x240:r={RATE},drawbox=c=white:t=fill:enable='{flash}'",
           "-f", "lavfi", "-i", f"aevalsrc='{sound}|{sound}':s=48000", "-t", str(LENGTH),
           "-c:v", "libx264", "-preset", "veryfast", "-g", str(RATE), "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "128k", str(media_dir / "speech.mp4"))
    for kind in AUDIO_KINDS:
        ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{sound}':s=44100:d={LENGTH}", str(media_dir / f"speech.{kind}"))
    late = f"0.1*sin(2*PI*1000*t)*({tone_bursts([(0.5, 1.5), (2.2, 3.0)])})"  # the sound's own times
    ffmpeg("-f", "lavfi", "-i", f"color=c=0x202020:s=160x120:r={RATE}", "-itsoffset", "1", "-f", "lavfi", "-i",
           f"aevalsrc='{late}':s=48000:d=3", "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le",
           str(media_dir / "late.mov"))
    t = np.arange(int(LONG_LENGTH * LONG_RATE)) / LONG_RATE
    lit = np.zeros(t.size, dtype=bool)
    for start, end in LONG_BURSTS:
        lit |= (t >= start) & (t < end)
    with wave.open(str(media_dir / "long.wav"), "wb") as long:
        long.setnchannels(1), long.setsampwidth(2), long.setframerate(LONG_RATE)
        long.writeframes((3277 * np.sin(2 * np.pi * 1000 * t) * lit).astype("<i2").tobytes())
    return media_dir


def job(operation: str, media_server: str, name: str, **options: object) -> dict:
    return {"operation": operation, "url_video": f"{media_server}/{name}", "path": "edits", **options}


def pairs(values: object) -> np.ndarray:
    """(start, end) pairs as an array of shape (n, 2), which `close` compares and reports row by row."""
    return np.array(values, dtype=float).reshape(-1, 2)


def close(expected: object, tolerance: float = TOLERANCE) -> object:
    return pytest.approx(pairs(expected), abs=tolerance)


def spans(listed: list[dict]) -> np.ndarray:
    return pairs([(item["start"], item["end"]) for item in listed])


def output_of(result: dict, key: str) -> Path:
    assert result.get("success"), result
    return Path(result[key].removeprefix("file://"))


def heard_silences(path: Path, min_silence_s: float) -> np.ndarray:
    """What silencedetect itself logs for a file (at -35 dB): a measure independent of the worker's reading."""
    log = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0", "-af",
                          f"silencedetect=n=-35dB:d={min_silence_s}", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    starts = [float(value) for value in re.findall(r"silence_start: (\S+)", log)]
    ends = [float(value) for value in re.findall(r"silence_end: (\S+)", log)]
    return pairs(list(zip(starts, ends, strict=True)))


def between(pauses: np.ndarray) -> np.ndarray:
    """The sound between the pauses (which start at 0 and end at the end in these files)."""
    return pairs([(end, start) for (_, end), (start, _) in itertools.pairwise(pauses)])


def shown_at(time: float, kept: np.ndarray) -> float:
    """Where a time of the source lands in a cut that keeps `kept`."""
    offset = 0.0
    for start, end in kept:
        if start <= time <= end:
            return offset + time - start
        offset += end - start
    raise AssertionError(f"{time} s is not kept")


def rms_db(path: Path, start: float, end: float) -> float:
    """The level of the first channel between two times."""
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-af",
                          "pan=mono|c0=c0", "-ar", "48000", "-f", "f32le", "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, dtype="<f4")[round(start * 48000):round(end * 48000)].astype(np.float64)
    return 20 * float(np.log10(np.sqrt(np.mean(samples**2)) + 1e-12))


def flashes(path: Path) -> tuple[np.ndarray, int]:
    """The white runs of the picture as (first white frame's time, the next frame's time), and the frames."""
    log = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-vf",
                          "signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG:file=-", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stdout
    times = [float(value) for value in re.findall(r"pts_time:(\S+)", log)]
    white = [float(value) > 128 for value in re.findall(r"YAVG=(\S+)", log)]
    ends = [*times[1:], float(probe(path)["format"]["duration"])]
    runs: list[tuple[float, float]] = []
    for time, end, lit in zip(times, ends, white, strict=True):
        if lit and runs and runs[-1][1] == time:
            runs[-1] = (runs[-1][0], end)
        elif lit:
            runs.append((time, end))
    return pairs(runs), len(times)


def decodes_without_error(path: Path) -> bool:
    """FFmpeg decodes every frame without a complaint. Not to `-f null`, which also checks the times against
    the frame rate it guesses (60 here) and finds the cut's shortened frames (1/60 s) too close together."""
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "framemd5", "-"],
                          capture_output=True, text=True)
    return done.returncode == 0 and not done.stderr.strip()


@pytest.mark.parametrize("name", ["speech.mp4", "speech.mp3", "speech.wav", "speech.m4a"])
def test_silence_finds_the_pauses_and_the_speech_to_the_millisecond(speech_media, media_server, worker_env, name):
    result = run_job(job("silence", media_server, name))
    duration = float(probe(speech_media / name)["format"]["duration"])  # an MP3's header adds its padding
    assert result["duration"] == pytest.approx(duration, abs=0.0005)
    assert spans(result["silences"]) == close([*SILENCES[:-1], (7.3, duration)])
    assert spans(result["speech"]) == close(SPEECH)
    assert (result["silence_count"], result["speech_count"]) == (4, 3)
    assert result["speech_s"] == pytest.approx(4.0, abs=2 * TOLERANCE)
    assert result["silence_s"] + result["speech_s"] == pytest.approx(result["duration"], abs=0.002)
    assert result["message"] == f"Silences found: 4 ({result['silence_s']:.3f} s of {duration:.3f} s)."
    assert not (worker_env.parent / "output").exists()  # nothing is stored


def test_a_longer_minimum_and_a_higher_noise_level_change_what_counts(speech_media, media_server):
    longer = run_job(job("silence", media_server, "speech.wav", min_silence_s=1))
    assert spans(longer["silences"]) == close([(0.0, 1.0), (5.0, 6.5)])
    deaf = run_job(job("silence", media_server, "speech.wav", noise_db=-10))  # the bursts peak at -20 dB
    assert (deaf["silences"], deaf["speech"]) == ([{"start": 0.0, "end": LENGTH}], [])
    assert deaf["message"] == "The media is silent throughout (below -10 dB for 0.5 s or longer)."


def test_where_the_picture_has_no_sound_is_silence(speech_media, media_server):
    """late.mov's sound starts 1 s into the picture and ends 2 s before it, loud from 1.5 to 2.5 s and from
    3.2 s to its end."""
    result = run_job(job("silence", media_server, "late.mov"))
    assert spans(result["silences"]) == close([(0.0, 1.5), (2.5, 3.2), (4.0, 6.0)])


def test_times_past_1000_s_keep_their_milliseconds(speech_media, media_server):
    """silencedetect writes 1234.5649 as 1234.56; the worker reads it back to the sample."""
    result = run_job(job("silence", media_server, "long.wav"))
    assert spans(result["speech"]) == close(LONG_BURSTS)
    assert result["silences"][-1]["end"] == LONG_LENGTH


def test_remove_silence_is_a_jump_cut_with_the_picture_in_sync(speech_media, media_server):
    result = run_job(job("remove_silence", media_server, "speech.mp4"))
    out = output_of(result, "video_url")
    kept = spans(result["kept"])
    assert kept == close(FRAMED)
    assert spans(result["removed"]) == close(between([(0.0, 0.0), *FRAMED, (LENGTH, LENGTH)]))
    length = float(np.sum(kept[:, 1] - kept[:, 0]))
    assert result["removed_s"] == pytest.approx(LENGTH - length, abs=1e-5)
    assert float(probe(out)["format"]["duration"]) == pytest.approx(length, abs=1 / RATE)
    assert result["message"] == f"4 silences taken out ({result['removed_s']:.3f} s) and uploaded to S3 successfully"

    bursts = [(shown_at(start, kept), shown_at(end, kept)) for start, end in BURSTS]
    assert heard_silences(out, 0.5).size == 0  # no pause of min_silence_s is left
    pauses = heard_silences(out, 0.1)  # the padding each side of the speech, and the short pause kept whole
    assert pauses[-1][1] == pytest.approx(length, abs=AAC_FRAME_S)
    assert between(pauses) == close(bursts)
    lengths = [end - start for start, end in [*pauses[:-1], (pauses[-1][0], length)]]
    (a, b), (c, d), (e, f) = FRAMED  # PADDING each side of the speech, widened to the frames
    padding = [BURSTS[0][0] - a, b - BURSTS[0][1] + BURSTS[1][0] - c, BURSTS[2][0] - BURSTS[1][1],
               d - BURSTS[2][1] + BURSTS[3][0] - e, f - BURSTS[3][1]]
    assert lengths == pytest.approx(padding, abs=TOLERANCE)
    for start, end in bursts:  # every burst is all there, at its level
        assert rms_db(out, start + 0.01, end - 0.01) == pytest.approx(BURST_DB, abs=0.5)

    lit, frames = flashes(out)
    assert lit == close(bursts, 0.5 / RATE)  # the flashes still fall on the bursts' frames
    assert result["frames"] == frames
    assert (result["video_stream"], result["frames_encoded"] > 0) == ("smart-cut", True)
    assert stream(probe(out), "audio")["codec_name"] == "aac"
    assert decodes_without_error(out)


@pytest.mark.parametrize("kind", AUDIO_KINDS)
def test_remove_silence_keeps_a_sound_file_a_sound_file_of_its_kind(speech_media, media_server, kind):
    result = run_job(job("remove_silence", media_server, f"speech.{kind}", output_filename=f"cut.{kind}"))
    out = output_of(result, "audio_url")
    assert (out.name, stream(probe(out), "audio")["codec_name"]) == (f"cut.{kind}", AUDIO_KINDS[kind])
    assert probe(out)["streams"][0]["codec_type"] == "audio" and len(probe(out)["streams"]) == 1
    assert "video_url" not in result and "frames" not in result
    kept = spans(result["kept"])
    assert kept == close(KEPT)
    pauses = heard_silences(out, 0.1)
    length = float(np.sum(kept[:, 1] - kept[:, 0]))
    assert pauses[-1][1] == pytest.approx(length, abs=AAC_FRAME_S)
    assert between(pauses) == close([(shown_at(a, kept), shown_at(b, kept)) for a, b in BURSTS])
    assert heard_silences(out, 0.5).size == 0


def test_no_silence_keeps_the_whole_media_and_says_so(media_dir, media_server):
    """The served video.mp4 has a steady tone from its first frame to its last."""
    found = run_job(job("silence", media_server, "video.mp4"))
    assert (found["silences"], found["speech"]) == ([], [{"start": 0.0, "end": 2.0}])
    assert found["message"] == "No silence found (nothing below -35 dB for 0.5 s or longer)."
    result = run_job(job("remove_silence", media_server, "video.mp4"))
    assert result["message"] == ("No silence found (nothing below -35 dB for 0.5 s or longer): the whole media was "
                                 "kept and uploaded to S3 successfully")
    assert (result["kept"], result["removed"], result["removed_s"]) == ([{"start": 0.0, "end": 2.0}], [], 0)
    assert (result["video_stream"], result["frames"]) == ("copied", 50)


def test_padding_that_covers_every_pause_keeps_the_whole_media(speech_media, media_server):
    result = run_job(job("remove_silence", media_server, "speech.wav", padding_s=1))
    assert (result["kept"], result["removed"]) == ([{"start": 0.0, "end": LENGTH}], [])
    assert result["message"].startswith("No silence is long enough to shorten with padding_s (1 s) kept each side")
