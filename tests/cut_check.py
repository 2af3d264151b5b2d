"""What the trim, cut and split tests read back: a source's and a cut's decoded frames and sound, worked out
independently of the engine (no frame index, no plan: the decoded source says which frames a range shows),
and the properties the issue asks of every cut, as assertions.

Decoding goes through PyAV (the libav* the worker links), frames as stored (no rotation applied), so a
copied frame's pixels hash equal to the source's, as FFmpeg's framemd5 would show.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

SSIM_FLOOR = 0.98  # encoded frames next to a cut, against the source's frames
TIME_SLACK = 0.0015  # seconds: a frame's time in the output against where the plan puts it (ticks round)
BRIGHT = 200  # mean luma of a flash frame (the pattern's own frames stay far below)


@dataclass(frozen=True)
class Frame:
    """One decoded picture: when it is shown (seconds of the file), its pixels' MD5, its luma, a keyframe?"""

    time: float
    md5: str
    luma: np.ndarray
    key: bool


@dataclass(frozen=True)
class Decoded:
    """A file's video frames in display order, and the file's start time (where a job's 0 s lies)."""

    frames: list[Frame]
    origin: float

    @property
    def times(self) -> list[float]:
        return [frame.time for frame in self.frames]

    def flashes(self) -> list[float]:
        return [frame.time for frame in self.frames if frame.luma.mean() > BRIGHT]


def per_file(read: Callable[..., Any]) -> Callable[..., Any]:
    """`read` remembered per file as it is (a source is judged by many tests; a file written again is read
    again): keyed by the path, its size and its modification time."""
    @functools.lru_cache(maxsize=16)
    def remembered(path: Path, stamp: tuple[int, int], **options: Any) -> Any:
        del stamp
        return read(path, **options)

    @functools.wraps(read)
    def reader(path: Path, **options: Any) -> Any:
        stat = path.stat()
        return remembered(path, (stat.st_size, stat.st_mtime_ns), **options)

    return reader


@per_file
def decode(path: Path) -> Decoded:
    """Every frame the file shows (edit lists honoured) with its time."""
    with av.open(str(path)) as container:
        frames = []
        for frame in container.decode(container.streams.video[0]):
            pixels = frame.to_ndarray()
            luma = frame.reformat(format="gray").to_ndarray()
            frames.append(Frame(float(frame.pts * frame.time_base), hashlib.md5(pixels.tobytes()).hexdigest(),
                                luma, frame.key_frame))
    frames.sort(key=lambda f: f.time)
    return Decoded(frames, origin(path))


def origin(path: Path) -> float:
    """Where a job's 0 s lies in the file: its start as ffprobe reads it (the earliest stream's), where players
    start; a negative start (an audio encoder's pre-roll, as WebM with Opus has) is not shown, so not counted."""
    return max(float(ffprobe(path, count=False)["format"].get("start_time", 0.0)), 0.0)


def shown(source: Decoded, start: float, end: float) -> tuple[int, int]:
    """The first and last display indices a range [start, end) of job time shows: the frame whose display
    interval holds `start` (the first frame when the picture starts later), and the one shown just before
    `end`."""
    times = source.times
    first = max(bisect.bisect_right(times, start + source.origin + 1e-9) - 1, 0)
    last = bisect.bisect_left(times, end + source.origin - 1e-9) - 1
    return first, last


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two luma planes (Wang et al.: 11x11 Gaussian window, sigma 1.5)."""
    x, y = a.astype(np.float32), b.astype(np.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(image, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(index.mean())


@dataclass
class Verdict:
    """How a cut's frames compare with the source's."""

    frames: int
    copied: int  # equal to the source frame bit for bit
    lowest_ssim: float  # of the others, against the frame they stand for
    whole_gops: int  # groups of frames wholly inside a kept range (all copied)
    flashes: list[float] = field(default_factory=list)  # when the kept flash frames are shown in the source


def assert_frames(source: Path, output: Path, asked: list[tuple[float, float]], kept: list[tuple[float, float]],
                  *, matched: bool = True) -> Verdict:
    """The cut shows exactly the source frames each range `asked` for shows, in order. The ranges it says it
    `kept` are those widened to whole frames (from the first frame's start to the last one's end, where the
    picture has them), and each frame is shown at the source's time moved with its range. Every frame is the
    source's bit for bit or, encoded, closer to its own source frame than to either neighbour (and SSIM >= 0.98
    when `matched`: the smart cut's frames). Every group of frames wholly inside a range is copied bit for bit.
    A range that shows no frame (before a picture that starts late) is left out, its sound too."""
    src, out = decode(source), decode(output)
    keys = [i for i, frame in enumerate(src.frames) if frame.key] + [len(src.frames)]
    verdict = Verdict(len(out.frames), 0, 1.0, 0)
    base, offset = 0, 0.0  # where the range starts in the output: frame position, seconds
    asked = [span for span in asked if shown(src, *span)[0] <= shown(src, *span)[1]]  # no frame, no range
    assert len(kept) == len(asked), (kept, asked)
    for (start, end), (kept_start, kept_end) in zip(asked, kept, strict=True):
        first, last = shown(src, start, end)
        times = [t - src.origin for t in src.times]
        assert kept_start == pytest.approx(min(start, times[first]), abs=1e-6), (kept_start, start, times[first])
        if last + 1 < len(times):
            assert kept_end == pytest.approx(max(end, times[last + 1]), abs=1e-6), (kept_end, end, times[last + 1])
        assert base + last - first < len(out.frames), f"the cut ends before source frame {last} ({start}-{end} s)"
        for index in range(first, last + 1):
            mine, theirs = out.frames[base + index - first], src.frames[index]
            want = times[index] - kept_start + offset
            assert abs(mine.time - want) <= TIME_SLACK, f"source frame {index} at {mine.time:.4f} s, not {want:.4f} s"
            if theirs.luma.mean() > BRIGHT:
                verdict.flashes.append(theirs.time)
            if mine.md5 == theirs.md5:
                verdict.copied += 1
            else:
                _assert_stands_for(src, index, mine, SSIM_FLOOR if matched else 0.0, verdict)
        for a, b in itertools.pairwise(keys):
            if matched and a >= first and b - 1 <= last:  # a whole group of frames kept
                copied = out.frames[base + a - first:base + b - first]
                assert [f.md5 for f in copied] == [f.md5 for f in src.frames[a:b]], f"GOP {a}-{b - 1} was not copied"
                verdict.whole_gops += 1
        base += last - first + 1
        offset += kept_end - kept_start
    assert base == len(out.frames), f"{len(out.frames)} frames, {base} expected"
    return verdict


def _assert_stands_for(src: Decoded, index: int, mine: Frame, floor: float, verdict: Verdict) -> None:
    """An encoded frame is its own source frame: nearer to it than to either neighbour (mean squared error), and
    at least `floor` alike (SSIM)."""
    score = ssim(src.frames[index].luma, mine.luma)
    errors = {j: float(np.mean((src.frames[j].luma.astype(np.float32) - mine.luma) ** 2))
              for j in (index - 1, index, index + 1) if 0 <= j < len(src.frames)}
    assert score >= floor, f"the frame for source frame {index}: SSIM {score:.4f} < {floor}"
    assert min(errors, key=errors.__getitem__) == index, f"the frame for source frame {index} is another: {errors}"
    verdict.lowest_ssim = min(verdict.lowest_ssim, score)


@per_file
def ffprobe(path: Path, *, count: bool = True) -> dict[str, Any]:
    """What ffprobe reads of a file (its frames counted by decoding them when `count`)."""
    out = subprocess.run(["ffprobe", "-v", "error", *(["-count_frames"] if count else []), "-show_streams",
                          "-show_format", "-of", "json", str(path)], check=True, capture_output=True).stdout
    return json.loads(out)


def assert_result_is_the_truth(result: dict[str, Any], output: Path, source: Path) -> None:
    """`frames` is what ffprobe counts, `duration` what it reads, and `ffmpeg -v error -i out -f null -` prints
    nothing. FFmpeg 5.1 puts the frames it passes to the null muxer on the stream's nominal frame grid, where
    frames of a variable rate (slow motion, a phone's jitter) can collide once a cut moves them off it ("non
    monotonically increasing dts", no decoding error): such a source's cut is read with its frame times kept
    as they are."""
    info = ffprobe(output)
    video = next((s for s in info["streams"] if s["codec_type"] == "video"), None)
    if video is not None:
        assert result["frames"] == int(video["nb_read_frames"]), (result["frames"], video["nb_read_frames"])
        assert result["frames_copied"] + result["frames_encoded"] == result["frames"]
    if video is not None:
        assert result["duration"] == float(info["format"]["duration"])
    else:  # a sound file: as long as it plays (an MP3's headers count its encoder's delay and padding)
        assert result["duration"] == pytest.approx(played(output), abs=1e-6), (result["duration"], played(output))
    errors = null_decode(output)
    if errors and variable_rate(source):
        errors = null_decode(output, "-enc_time_base", "-1")
    assert errors == "", errors


def played(path: Path) -> float:
    """How long a file's sound plays: its decoded samples, but where MP4 says it ends sooner (FFmpeg decodes
    an AAC's last frame whole; the edit list ends it where the sound does)."""
    samples = sound(path).samples.shape[1] / sound(path).rate
    track = next(s for s in ffprobe(path, count=False)["streams"] if s["codec_type"] == "audio")
    return min(samples, float(track["duration"])) if track["codec_name"] == "aac" else samples


def variable_rate(path: Path) -> bool:
    """Whether the picture's frames last different times (by more than a millisecond)."""
    steps = np.diff(decode(path).times)
    return steps.size > 0 and float(steps.max() - steps.min()) > 0.001


def null_decode(path: Path, *options: str) -> str:
    """What `ffmpeg -v error -i path -f null -` prints."""
    return subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), *options, "-f", "null", "-"],
                          capture_output=True, text=True).stderr


@dataclass(frozen=True)
class Sound:
    """A file's first audio stream as float samples (channels x samples) from `start` seconds of the file."""

    samples: np.ndarray
    rate: int
    start: float

    def at(self, seconds: float) -> int:
        return round((seconds - self.start) * self.rate)

    def onsets(self, channel: int, level: float = 0.1) -> list[float]:
        """When each burst on a channel begins (seconds of the file), bursts at least 0.1 s apart."""
        loud = np.flatnonzero(np.abs(self.samples[channel]) > level)
        starts = loud[np.diff(loud, prepend=-self.rate) > self.rate // 10]
        return [self.start + sample / self.rate for sample in starts]


@per_file
def sound(path: Path) -> Sound:
    """The first audio stream decoded as a player does (priming and edit lists honoured), planar float."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=stream.rate)
        chunks, start = [], None
        for frame in container.decode(stream):
            if start is None:
                start = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
            chunks += [part.to_ndarray() for part in resampler.resample(frame)]
        chunks += [part.to_ndarray() for part in resampler.resample(None)]
        return Sound(np.concatenate(chunks, axis=1), stream.rate, start or 0.0)


def audio_frame_s(path: Path) -> float:
    """One audio frame of the cut's sound (AAC's 1024 samples; an MP3's 1152): the sync tolerance."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return (stream.codec_context.frame_size or 1024) / stream.rate


def assert_sound(source: Path, output: Path, spans: list[tuple[float, float]], *, aligned: bool = True) -> int:
    """The sound is cut to the sample: it lasts the kept samples exactly and (`aligned`: for sources with
    beeps, whose lag is unambiguous) each kept range lines up with the source's samples (the best-matching lag
    is 0; within a millisecond for Matroska and WebM, whose times are whole milliseconds while Opus skips 312
    samples first). AAC in MP4 says its exact length in the container; FFmpeg decodes its last frame whole.
    Returns the samples it lasts."""
    src, out = sound(source), sound(output)
    slack = src.rate // 1000 if "matroska" in ffprobe(source, count=False)["format"]["format_name"] else 0
    assert out.rate == src.rate
    bounds = [(round(start * src.rate), round(end * src.rate)) for start, end in spans]
    length = sum(b - a for a, b in bounds)
    track = next(s for s in ffprobe(output, count=False)["streams"] if s["codec_type"] == "audio")
    decoded = out.samples.shape[1]
    if track["codec_name"] == "aac":
        assert int(track["duration_ts"]) == length and track["time_base"] == f"1/{src.rate}", (track, length)
        assert 0 <= decoded - length < 1024, (decoded, length)
    else:
        assert decoded == length, (decoded, length)
    assert out.start == pytest.approx(origin(output), abs=0.5 / src.rate)  # it starts with the output: in sync
    src_at, out_at = src.at(origin(source)), out.at(origin(output))
    for a, b in bounds if aligned else []:
        moved = lag(src.samples, out.samples, src_at + a, out_at, b - a)
        assert abs(moved) <= slack, f"the range from sample {a} moved {moved} samples"
        out_at += b - a
    return length


def lag(src: np.ndarray, out: np.ndarray, src_at: int, out_at: int, length: int, reach: int = 50) -> int:
    """The shift (samples) that best lines the output's range up with the source's, the crossfades at its
    ends left out. Looked for within half the sine's period (109 samples at 48 kHz): a range without a beep
    repeats itself every period."""
    skip = 480
    low, high = max(skip, reach - src_at), min(length - skip, src.shape[1] - src_at - reach)
    piece = out[:, out_at + low:out_at + high]
    scores = [float(np.sum(piece * src[:, src_at + low + shift:src_at + high + shift]))
              for shift in range(-reach, reach + 1)]
    return int(np.argmax(scores)) - reach


def assert_no_click(output: Path, kept: list[tuple[float, float]]) -> float:
    """No sample-to-sample jump on the continuous sine (left channel) within 10 ms of a join larger than the
    sine's own steps elsewhere in the same output (a quarter more for the crossfade's slope; the same coding
    noise on both sides). A cut without a crossfade jumps up to twice the amplitude. Returns the ratio."""
    out = sound(output)
    steps = np.abs(np.diff(out.samples[0]))
    reach = out.rate // 100
    near = np.zeros(steps.size, dtype=bool)
    near[:2 * reach] = near[-2 * reach:] = True  # the file's own edges are no join
    at = out.at(origin(output))
    joins = [at + round(sum(b - a for a, b in kept[:n]) * out.rate) for n in range(1, len(kept))]
    for join in joins:
        near[max(join - reach, 0):join + reach] = True
    own = float(steps[~near].max())
    jump = max(float(steps[max(join - reach, 0):join + reach].max()) for join in joins)
    assert jump <= 1.25 * own, f"a jump of {jump:.4f} at a join; the sine's own steps reach {own:.4f}"
    return jump / own


def sync_offsets(path: Path) -> list[float]:
    """Each flash's time less its beep's (the beep nearest it), seconds."""
    return offsets(path, decode(path).flashes())


def offsets(path: Path, flashes: list[float]) -> list[float]:
    """Each of these flashes' time less its beep's (the beep nearest it), seconds."""
    beeps = sound(path).onsets(1)
    return [flash - min(beeps, key=lambda beep: abs(beep - flash)) for flash in flashes]


def assert_in_sync(source: Path, output: Path, flashes: list[float]) -> float:
    """After the cut, every flash still has its beep, as far apart as in the source (the source flashes shown
    at `flashes`, in order) within one audio frame. Returns the largest drift (seconds)."""
    own, mine = offsets(source, flashes), sync_offsets(output)
    assert len(mine) == len(own), f"{len(mine)} flashes, {len(own)} expected"
    drift = max((abs(a - b) for a, b in zip(own, mine, strict=True)), default=0.0)
    assert drift <= audio_frame_s(output), f"a flash and its beep drifted {drift * 1000:.1f} ms apart"
    return drift


def assert_cut(source: Path, output: Path, result: dict[str, Any], asked: list[tuple[float, float]],
               *, pattern: bool = False) -> Verdict:
    """Everything a cut must be: frame-exact, its result the truth, its sound (if any) as long as the kept ranges
    to the sample. For the pattern's sources (tests/cut_media.py: a beep with each flash) the sound is also lined
    up with the source's sample by sample, and every flash the cut keeps still has its beep."""
    assert_result_is_the_truth(result, output, source)
    verdict = assert_frames(source, output, asked, kept_of(result), matched=result["video_stream"] != "re-encoded")
    if any(s["codec_type"] == "audio" for s in ffprobe(source, count=False)["streams"]):
        assert_sound(source, output, kept_of(result), aligned=pattern)
    if pattern:
        assert_in_sync(source, output, verdict.flashes)
    return verdict


def kept_of(result: dict[str, Any]) -> list[tuple[float, float]]:
    """The ranges of the input a cut's result says its output holds."""
    if "kept" in result:
        return [(span["start"], span["end"]) for span in result["kept"]]
    return [(result["start"], result["end"])]
