"""Video clips joined end to end: what a clip really shows, whether clips can be joined by copying, and
the FFmpeg recipes that bring one clip to a common frame (size, rate, SAR 1, yuv420p) and one clip's
audio to a common rate and layout.

No knowledge of jobs: operations (and anything that shows video clips in sequence) call these with
probed files and checked numbers. Filter text holds numbers and FFmpeg's own names only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from video_ops.base.errors import JobError
from video_ops.media.encoders import AAC_ARGS, Encoder
from video_ops.media.fitting import Framing, fit_filter
from video_ops.media.motion import Fit
from video_ops.media.packets import PacketTimes
from video_ops.media.picture import copies
from video_ops.media.probe import MediaInfo, Stream, require_video

_SANE_RATES = (Fraction(1), Fraction(120))
_MIN_TIMESCALE = 10_000  # MP4 track timescale: at least this fine, and a whole number of ticks a frame


@dataclass(frozen=True)
class Clip:
    """One input clip: its file, its picture and audio streams, and how long its picture lasts."""

    path: Path
    picture: Stream
    audio: Stream | None
    seconds: float  # of the picture, not the container: a longer audio track does not count
    packets: PacketTimes | None = None  # read for a picture that could be copied
    start_s: float = 0.0  # the file's first timestamp (a broadcast recording's is hours from zero)

    @property
    def display_size(self) -> tuple[float, float]:
        """The size the clip plays at: its sample aspect ratio applied, rotation metadata honoured."""
        width, height = self.picture.display_size
        sar = _ratio(self.picture.sample_aspect_ratio)
        if self.picture.rotation % 180 == 90:  # the stored width, stretched by the SAR, now runs upright
            return float(width), height * sar
        return width * sar, float(height)

    @property
    def rate(self) -> Fraction:
        return frame_rate(self.picture)


@dataclass(frozen=True)
class Frame:
    """The common frame every clip is brought to."""

    width: int
    height: int
    rate: Fraction
    fit: Fit = "contain"
    background: tuple[int, int, int] = (0, 0, 0)

    def frames(self, seconds: float) -> int:
        return math.floor(Fraction(seconds) * self.rate + Fraction(1, 2))

    def seconds(self, frames: int) -> float:
        return float(frames / self.rate)

    @property
    def timescale(self) -> int:
        """An MP4 track timescale in which each frame lasts a whole number of ticks (30000/1001 -> 30000)."""
        return self.rate.numerator * math.ceil(_MIN_TIMESCALE / self.rate.numerator)


@dataclass(frozen=True)
class JoinInput:
    """A file a join reads beside its pictures (a clip's sound, a narration). The join keeps the concat
    demuxer's timestamps (-copyts), which would keep this file's too: a broadcast recording's sound then
    began hours in, and was padded with as much silence. It is moved to start at 0, as FFmpeg does by default."""

    path: Path
    start_s: float = 0.0

    def args(self) -> list[str]:
        shift = ["-itsoffset", f"{-self.start_s:.6f}"] if self.start_s else []
        return [*shift, "-i", str(self.path)]


@dataclass(frozen=True)
class Sound:
    """The common audio format of a join."""

    sample_rate: int
    layout: str  # "mono" or "stereo"


def read_clip(info: MediaInfo, path: Path, field: str, packets: PacketTimes | None = None) -> Clip:
    """A probed clip, checked: it has a picture that lasts (`packets`: its picture's packet times)."""
    picture = require_video(info, field)
    shown = picture.duration if picture.duration is not None else info.duration
    if shown is None:
        raise JobError(f"{field}: the clip's length could not be read (is it a raw stream, or truncated?).")
    if shown <= 0:
        raise JobError(f"{field}: the clip lasts 0 s.")
    if packets is not None and packets.untrusted() is None:
        # A copy shows every stored frame: a phone's irregular decode times can make the header's length end
        # before its last frame does (a slow-motion clip's by one frame), and the next clip would share its time.
        shown = max(shown, packets.end_s - picture.start_time)
    # A picture that starts after the file's first sound (a phone's, an encoder's B-frame delay) holds
    # its first frame until then, as a player does: the clip plays from the file's start.
    lead = picture.start_time - min(stream.start_time for stream in info.streams)
    return Clip(path=path, picture=picture, audio=info.audio, seconds=lead + shown, packets=packets,
                start_s=info.start_time)


def frame_rate(stream: Stream) -> Fraction:
    """The rate a clip is meant to play at: the nominal rate as written (exact), else the average rate."""
    try:
        rate = Fraction(stream.rate_text)
    except (ValueError, ZeroDivisionError):
        rate = Fraction(0)
    if _SANE_RATES[0] <= rate <= _SANE_RATES[1]:
        return rate
    rate = Fraction(stream.frame_rate).limit_denominator(1001)
    return rate if rate > 0 else Fraction(30)


def natural_size(clip: Clip) -> tuple[int, int]:
    """The first clip's display size, rounded down to even sides (4:2:0 needs them)."""
    width, height = clip.display_size
    return max(2, int(width) // 2 * 2), max(2, int(height) // 2 * 2)


def copy_mismatch(clips: Sequence[Clip], frame: Frame) -> tuple[int, str] | None:
    """Why the pictures cannot be joined without re-encoding (the first clip at fault and what differs),
    or None when they can: one codec players accept, one size, pixel format, frame rate, time base and
    B-frame delay, all upright with square pixels, timestamps that can be trusted (from a key frame, near
    zero) and rising across every join, and all already `frame`.

    The audio does not matter: every join rebuilds it (`audio_chain`), which is cheap.
    """
    first = clips[0].picture
    for position, clip in enumerate(clips):
        picture = clip.picture
        if not copies(picture):
            return position, f"its picture ({picture.codec_name} {picture.pix_fmt}) is not 8-bit 4:2:0 H.264 or HEVC"
        if picture.rotation or _ratio(picture.sample_aspect_ratio) != 1:
            return position, "it is rotated by metadata or has non-square pixels"
        untrusted = clip.packets.untrusted() if clip.packets is not None else "its packet times were not read"
        if untrusted:
            return position, untrusted
        for what, mine, theirs in (("codec", picture.codec_name, first.codec_name),
                                   ("pixel format", picture.pix_fmt, first.pix_fmt),
                                   ("size", f"{picture.width}x{picture.height}", f"{first.width}x{first.height}"),
                                   ("frame rate", picture.rate_text, first.rate_text),
                                   ("time base", picture.time_base, first.time_base),
                                   # MP4 timestamps join cleanly only between equal B-frame reorder delays
                                   ("B-frame delay", picture.reorder_delay, first.reorder_delay)):
            if mine != theirs:
                return position, f"its {what} is {mine}, not {theirs} as in the first clip"
    for position, (before, clip) in enumerate(itertools.pairwise(clips), start=1):
        if before.packets and clip.packets and not clip.packets.follows(before.packets):
            return position, ("its B-frame delay is longer than the clip before it leaves after its last decode "
                              "time (frame times that change pace): copied, decode times would run backwards")
    if (first.width, first.height) != (frame.width, frame.height) or clips[0].rate != frame.rate:
        return 0, f"it is not {frame.width}x{frame.height} at {float(frame.rate):g} fps"
    return None


def video_filter(clip: Clip, frame: Frame, bt709: bool = False) -> str:
    """The chain that brings one clip (already turned upright by FFmpeg) to `frame`, never stretching it
    (`media.fitting`: `contain` scales it to fit inside and pads with the background, `cover` fills and crops).

    `bt709`: convert the colours to BT.709 limited range, for frames that join pictures made in it
    (render's image scenes); an untagged clip is read as swscale assumes (BT.601).
    """
    rate = f"{frame.rate.numerator}/{frame.rate.denominator}"
    # start_time=0: frames keep their time from the file's start (FFmpeg shifts inputs so the earliest
    # stream starts at 0), and a late first frame is repeated back to 0, as the clip plays on its own.
    colours = ":out_color_matrix=bt709:out_range=tv" if bt709 else ""
    framing = Framing(frame.width, frame.height, frame.fit, frame.background, matrix="bt709" if bt709 else "bt601")
    chain = [f"fps={rate}:start_time=0", fit_filter(clip.display_size, framing, colours)]
    # A picture that ends a little early (VFR, a short last frame) is held to its exact frame count.
    chain += ["format=yuv420p", "tpad=stop_mode=clone:stop=-1"]
    return ",".join(chain)


def normalise_args(clip: Clip, frame: Frame, frames: int, output: Path, encoder: Encoder, threads: int) -> list[str]:
    """One clip's picture, alone, brought to `frame` and exactly `frames` long, as an MP4 ready for a copy-join
    with others made the same way (one encoder, one timescale, one B-frame delay)."""
    return [*encoder.decode_args(clip.picture), "-i", str(clip.path), "-map", f"0:{clip.picture.index}",
            "-vf", video_filter(clip, frame), "-frames:v", str(frames), *encoder.video_args(),
            "-threads", str(threads), "-video_track_timescale", str(frame.timescale), str(output)]


def choose_sound(clips: Sequence[Clip]) -> Sound | None:
    """The first clip with audio sets the rate; mono only when every track is; None when no clip has audio."""
    tracks = [clip.audio for clip in clips if clip.audio is not None]
    if not tracks:
        return None
    layout = "mono" if all(track.channels == 1 for track in tracks) else "stereo"
    return Sound(sample_rate=tracks[0].sample_rate or 48_000, layout=layout)


def sample_counts(seconds: Sequence[float], sample_rate: int) -> list[int]:
    """Samples under each clip, from the running sum of the pictures' lengths: the audio never drifts
    from the picture, however many clips follow each other (each join is within half a sample)."""
    edges = [math.floor(total * sample_rate + Fraction(1, 2))
             for total in itertools.accumulate((Fraction(length) for length in seconds), initial=Fraction(0))]
    return [end - start for start, end in itertools.pairwise(edges)]


def audio_chain(source: str | None, samples: int, sound: Sound, label: str) -> str:
    """One clip's audio as exactly `samples` samples of `sound`: resampled, cut or padded with silence;
    `source` is its input's stream label (`3:a:0`), or None for a clip without audio (silence)."""
    if source is None:
        return f"anullsrc=r={sound.sample_rate}:cl={sound.layout},atrim=end_sample={samples}[{label}]"
    return (f"[{source}]aresample={sound.sample_rate}:first_pts=0,"
            f"aformat=sample_fmts=fltp:channel_layouts={sound.layout},"
            f"atrim=end_sample={samples},apad=whole_len={samples},asetpts=N/SR/TB[{label}]")


def joined_audio(clips: Sequence[Clip], seconds: Sequence[float], first_input: int
                 ) -> tuple[list[JoinInput], list[str]]:
    """The clips' sound end to end, each part exactly as long as its picture (`seconds`): the files to add
    as inputs (numbered from `first_input`, each distinct file once) and the output arguments that map and
    encode it. Clips without audio give silence; no audio at all when no clip has any."""
    sound = choose_sound(clips)
    if sound is None:
        return [], ["-an"]
    inputs: dict[Path, int] = {}
    starts: list[JoinInput] = []
    for clip in clips:
        if clip.audio is not None and clip.path not in inputs:
            inputs[clip.path] = first_input + len(inputs)
            starts.append(JoinInput(clip.path, clip.start_s))
    chains = []
    for position, (clip, samples) in enumerate(zip(clips, sample_counts(seconds, sound.sample_rate), strict=True)):
        source = f"{inputs[clip.path]}:{clip.audio.index}" if clip.audio is not None else None
        chains.append(audio_chain(source, samples, sound, f"a{position}"))
    labels = "".join(f"[a{position}]" for position in range(len(clips)))
    graph = ";".join([*chains, f"{labels}concat=n={len(clips)}:v=0:a=1[aout]"])
    return starts, ["-filter_complex", graph, "-map", "[aout]", *AAC_ARGS]


def concat_script(names: Sequence[str], seconds: Sequence[float]) -> str:
    """The concat demuxer's list: each file by its plain name in the job folder, with its picture's length,
    so each clip starts exactly where the one before ends (no gap, no overlap, timestamps monotonic)."""
    lines = ["ffconcat version 1.0"]
    for name, length in zip(names, seconds, strict=True):
        # inpoint 0: placed by its picture's start, not by the file's earliest timestamp (an AAC track's
        # priming starts ~21 ms before the picture, which would push the picture late by as much).
        lines += [f"file {name}", "inpoint 0", f"duration {length:.6f}"]
    return "\n".join(lines) + "\n"


def _ratio(text: str) -> float:
    """'4:3' -> 1.333; unknown or '0:1' (FFmpeg's "not set") -> 1."""
    num, _, den = text.partition(":")
    try:
        value = int(num) / int(den)
    except (ValueError, ZeroDivisionError):
        return 1.0
    return value if value > 0 else 1.0
