"""What trim, cut, split and remove_silence share: times as callers write them, ranges merged and clamped,
and the cut itself (frame-exact, copying every frame it does not have to encode; sound cut to the sample).

docs/editing.md explains the smart cut; the building blocks are `media.frame_index` (where a copy may start
and stop), `media.cut_plan` (which frames are copied), `media.cut_encode` (the frames next to a cut),
`media.audio_ranges` (the sound) and `media.cut_mux` (all of it into one MP4).
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import av
from pydantic import BeforeValidator, model_validator

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, UrlField, within_limit
from video_ops.jobkit.results import single_output, sound_output
from video_ops.media.audio_ranges import audio_cut
from video_ops.media.cut_encode import piece_args, smart_cut_refusal
from video_ops.media.cut_mux import CutVideo, write_cut
from video_ops.media.cut_plan import Piece, RangePlan, keyframe_range, plan_ranges
from video_ops.media.encoders import AAC_FAST_ARGS, Encoder
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.frame_index import FrameIndex, read_index
from video_ops.media.probe import (
    MediaInfo,
    Stream,
    played_seconds,
    probe,
    probe_output,
    require_audio,
    require_duration,
)

MAX_RANGES = 200
RANGES_SETTING = "VIDEO_OPS_MAX_RANGES"
_CLOCK = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)$")
_PIECES_PER_RUN = 16  # encoded pieces per FFmpeg run: one start-up for many cuts


def parse_time(value: Any) -> float:
    """Seconds (a number) or a clock ("HH:MM:SS.mmm", "MM:SS", "SS.mmm"); never negative or endless."""
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds or \"HH:MM:SS.mmm\", not true or false")
    if isinstance(value, str):
        match = _CLOCK.match(value.strip())
        if match is None:
            raise ValueError("must be a number of seconds or \"HH:MM:SS.mmm\"")
        parts = [p for p in match.groups() if p is not None]
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
        if len(parts) > 1 and float(parts[-1]) >= 60:
            raise ValueError("has 60 or more seconds in a minute")
        return seconds
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("must be a finite number of seconds or \"HH:MM:SS.mmm\"")
    if value < 0:
        raise ValueError("must not be negative")
    return float(value)


TimeField = Annotated[float, BeforeValidator(parse_time)]


class Span(StrictModel):
    """A range of the input, in its own seconds."""

    start: TimeField
    end: TimeField

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.start >= self.end:
            raise ValueError(f"start ({self.start:g} s) must be before end ({self.end:g} s)")
        return self


def many_spans(value: Any) -> Any:
    return within_limit(value, RANGES_SETTING, MAX_RANGES, "ranges")


class MediaInput(JobInput):
    """Any media with a picture or sound, and where the result goes."""

    url_video: UrlField
    output_filename: str | None = None


def merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, overlapping or touching ranges made one."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def clamped(spans: list[tuple[float, float]], duration: float,
            field: str) -> tuple[list[tuple[float, float]], list[str]]:
    """Ranges cut to the media's length; one wholly past its end is refused, one partly past it is clamped
    with a warning (`field` names them, `field[i]` when there are several)."""
    kept, warnings = [], []
    for position, (start, end) in enumerate(spans):
        name = f"{field}[{position}]" if len(spans) > 1 else field
        if start >= duration:
            raise JobError(f"{name}: the range starts at {start:g} s, after the media ends ({duration:.3f} s).")
        if end > duration:
            warnings.append(f"{name}: the range ends at {end:g} s, after the media ends; it was cut at "
                            f"{duration:.3f} s.")
            end = duration
        kept.append((start, end))
    return kept, warnings


@dataclass
class Source:
    """A downloaded input, probed, with its picture's frame index when it has a picture."""

    path: Path
    info: MediaInfo
    picture: Stream | None
    sound: Stream | None
    duration: float
    index: FrameIndex | None = None
    refusal: str | None = None  # why the picture cannot be smart-cut

    @property
    def origin(self) -> float:
        """The file's time that callers call 0: where players start. A negative start (an audio encoder's
        pre-roll, as WebM with Opus has) is not shown, so it is not counted."""
        return max(self.info.start_time, 0.0)

    @property
    def ffmpeg_spans_shift(self) -> float:
        """What to add to a caller's time to seek FFmpeg there (its `-ss` counts from the file's first time)."""
        return self.origin - self.info.start_time

    @property
    def audio_only(self) -> bool:
        return self.picture is None

    @property
    def kind(self) -> tuple[str, list[str], str]:
        return output_kind(self)


async def open_source(ctx: JobContext, url: str, *, need_picture: bool = False) -> Source:
    """Download and probe `url_video`; index its picture (a demux, no decoding)."""
    path = (await ctx.download({"url_video": url}))["url_video"]
    info = await probe(path, "url_video")
    picture, sound = info.video, info.audio
    if picture is None and (need_picture or sound is None):
        found = ", ".join(sorted({s.codec_type for s in info.streams})) or "no streams"
        wanted = "video" if need_picture else "video or audio"
        raise JobError(f"url_video: the file has no {wanted} stream (found: {found}).")
    length = await sound_length(path, info, "url_video") if picture is None else require_duration(info, "url_video")
    source = Source(path, info, picture, sound, length)
    if picture is not None:
        try:
            source.index = await asyncio.to_thread(read_index, path, picture.index, picture.codec_name)
        except av.FFmpegError:
            raise JobError("url_video: the video's packets could not be read (is the file truncated?).") from None
        if source.index.count == 0:
            raise JobError("url_video: the video stream has no frames.")
        source.refusal = smart_cut_refusal(picture, source.index)
    return source


@dataclass
class CutOutcome:
    """What a cut made, for the result."""

    frames: int = 0
    frames_copied: int = 0
    video_stream: str | None = None
    reason: str | None = None
    kept: list[tuple[float, float]] = field(default_factory=list)  # the ranges of the input the output holds
    encoder: Encoder | None = None  # the encoder of the frames next to the cuts, when any were encoded

    @property
    def start(self) -> float:
        return self.kept[0][0]

    @property
    def end(self) -> float:
        return self.kept[-1][1]

    def describe(self) -> dict[str, Any]:
        if self.video_stream is None:
            return {"audio_stream": "re-encoded"}
        info: dict[str, Any] = {"frames": self.frames, "frames_copied": self.frames_copied,
                                "frames_encoded": self.frames - self.frames_copied, "video_stream": self.video_stream,
                                **(self.encoder.describe() if self.encoder else {})}
        if self.reason:
            info["reencode_reason"] = f"url_video: {self.reason}."
        return info


# Audio-only outputs keep their kind: the encoder and file type for each input codec.
_AUDIO_KINDS = {
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-q:a", "2"], "audio/mpeg"),
    "aac": ("m4a", list(AAC_FAST_ARGS), "audio/mp4"),
    "flac": ("flac", ["-c:a", "flac"], "audio/flac"),
    "opus": ("opus", ["-c:a", "libopus", "-b:a", "128k"], "audio/ogg"),
    "vorbis": ("ogg", ["-c:a", "libvorbis", "-q:a", "5"], "audio/ogg"),
}


def output_kind(source: Source) -> tuple[str, list[str], str]:
    """(file suffix, audio codec options, content type) of what a cut of this source writes: MP4 for a
    video, else a sound file of the input's kind."""
    if not source.audio_only:
        return "mp4", list(AAC_FAST_ARGS), "video/mp4"
    codec = source.sound.codec_name if source.sound else ""
    if codec.startswith("pcm_"):
        return "wav", ["-c:a", codec], "audio/wav"
    return _AUDIO_KINDS.get(codec, ("m4a", list(AAC_FAST_ARGS), "audio/mp4"))


def kept_between(removed: list[tuple[float, float]], length: float) -> list[tuple[float, float]]:
    """What is left of [0, length) once the (merged) ranges are taken out."""
    kept, at = [], 0.0
    for start, end in removed:
        if start > at:
            kept.append((at, start))
        at = max(at, end)
    if at < length:
        kept.append((at, length))
    return kept


async def stored_cut(ctx: JobContext, job: MediaInput, source: Source, output: Path, operation: str,
                     outcome: CutOutcome, message: str) -> dict[str, Any]:
    """Upload a single-output cut; the result names the file by its kind (`video_url` or `audio_url`)."""
    suffix, _, content_type = output_kind(source)
    filename = clean_filename(job.output_filename or f"{operation}_{ctx.safe_job_id}.{suffix}",
                              extension=f".{suffix}")
    stored, = await ctx.upload([(output, join_key(clean_prefix(job.path), filename))], content_type)
    info = await probe_output(output)
    if source.audio_only:
        played = await sound_length(output, info, "output")
        return {**sound_output(message, stored, filename, played), **outcome.describe()}
    return {**single_output(message, stored, filename, info), **outcome.describe()}


async def sound_length(path: Path, info: MediaInfo, field: str) -> float:
    """A sound file's length: the shorter of what decoding it gives and what its container says, as each can
    only overstate it (an MP3's headers count its encoder's delay and padding; FFmpeg decodes an AAC's last
    frame whole where MP4's edit list ends it sooner)."""
    played = await played_seconds(path, require_audio(info, field), field)
    return min(played, info.duration) if info.duration else played


async def cut_media(ctx: JobContext, source: Source, spans: list[tuple[float, float]], output: Path,
                    *, keyframe: bool = False) -> CutOutcome:
    """Write the kept `spans` (sorted, apart, within the media) of `source` to `output`."""
    if source.audio_only:
        with ctx.timed("process"):
            await _cut_sound(ctx, source, spans, output)
        return CutOutcome(kept=spans)
    assert source.index is not None and source.picture is not None
    index, origin = source.index, source.origin
    ticks = [(index.tick(start + origin), index.tick(end + origin)) for start, end in spans]
    plans = _keyframe_plan(source, ticks[0]) if keyframe else plan_ranges(index, ticks, smart=source.refusal is None)
    if not plans:
        raise JobError("url_video: the kept ranges show no frame of the video.")
    # The sound is cut where the picture is: ranges widened to whole frames, those without a frame left out.
    spans = [(float(plan.start * index.time_base) - origin, float(plan.end * index.time_base) - origin)
             for plan in plans]
    matched = source.refusal is None
    sound = ctx.workdir / "cut_sound.m4a" if source.sound is not None else None
    with ctx.timed("process"):
        encode = _encode_pieces(ctx, source, plans, matched)
        if sound is not None:
            samples, (encoded, encoder) = await asyncio.gather(_cut_sound(ctx, source, spans, sound, progress=False),
                                                               encode)
        else:
            samples, (encoded, encoder) = 0, await encode
        await asyncio.to_thread(write_cut, CutVideo(source.path, source.picture.index, source.picture.codec_name,
                                                    index, plans, encoded, matched), sound, output, samples)
    frames = sum(plan.frames for plan in plans)
    copied = sum(piece.frames for plan in plans for piece in plan.pieces if piece.copied)
    stream, reason = _describe(source, copied, frames)
    return CutOutcome(frames=frames, frames_copied=copied, video_stream=stream, reason=reason, kept=spans,
                      encoder=encoder)


def _keyframe_plan(source: Source, span: tuple[int, int]) -> list[RangePlan]:
    index = source.index
    assert index is not None
    if source.refusal is not None:
        raise JobError(f"accuracy: \"keyframe\" copies the video, which cannot be done here: {source.refusal}.")
    found = keyframe_range(index, *span)
    if found is None:
        raise JobError("accuracy: no whole group of frames lies in the range, so a keyframe copy would be empty; "
                       "use \"frame\".")
    first, last = found
    start, end = index.shown[index.rank[first]], index.ends[last]
    return [RangePlan(start, end, 0, (Piece(first, last, copied=True, skipped=index.leading[first]),))]


def _describe(source: Source, copied: int, frames: int) -> tuple[str, str | None]:
    if source.refusal is not None:
        return "re-encoded", source.refusal
    if copied == frames:
        return "copied", None
    if copied:
        return "smart-cut", None
    return "re-encoded", "no keyframe a copy can start at lies inside the kept range"


async def _encode_pieces(ctx: JobContext, source: Source, plans: list[RangePlan],
                         matched: bool) -> tuple[dict[tuple[int, int], Path], Encoder | None]:
    """Encode every piece that is not copied, many per FFmpeg run (one output each); returns the files and
    the encoder (None when nothing was encoded)."""
    wanted = [(position, piece) for position, plan in enumerate(plans) for piece in plan.pieces if not piece.copied]
    files = {(position, piece.first): ctx.workdir / f"piece_{position}_{piece.first}.mp4" for position, piece in wanted}
    encoder = None
    for batch in range(0, len(wanted), _PIECES_PER_RUN):
        group = wanted[batch:batch + _PIECES_PER_RUN]
        frames = sum(piece.frames for _, piece in group)
        seconds = frames / max(source.picture.frame_rate, 1.0) if source.picture else 1.0

        def build(encoder: Encoder, group: list[tuple[int, Piece]] = group) -> list[str]:
            inputs: list[str] = []
            outputs: list[str] = []
            for number, (position, piece) in enumerate(group):
                more_in, more_out = piece_args(
                    source.path, source.picture, source.index, piece.first, piece.last, encoder,
                    files[(position, piece.first)], origin=source.info.start_time, matched=matched, number=number)
                inputs += more_in
                outputs += more_out
            return [*inputs, *outputs]

        encoder = await ctx.encode(build, step="Encoding the frames next to the cuts", duration=seconds,
                                   timeout=step_timeout(seconds, 30.0), show_percent=False)
    return files, encoder


async def _cut_sound(ctx: JobContext, source: Source, spans: list[tuple[float, float]], output: Path,
                     *, progress: bool = True) -> int:
    """Write the kept sound; returns its length in samples."""
    sound = source.sound
    assert sound is not None
    rate = sound.sample_rate or 48000
    shift = source.ffmpeg_spans_shift
    cut = audio_cut(source.path, sound.index, rate, [(start + shift, end + shift) for start, end in spans])
    codec = list(AAC_FAST_ARGS) if output.suffix == ".m4a" or not source.audio_only else source.kind[1]
    if output.suffix == ".m4a":  # its length said to the sample, not to the millisecond (see cut_mux)
        codec += ["-movie_timescale", str(rate)]
    seconds = sum(end - start for start, end in spans)
    await ctx.ffmpeg([*cut.inputs, "-filter_complex", cut.graph, "-map", "[cut]", *codec, "-ar", str(rate),
                      str(output)], step="Cutting the sound", duration=seconds,
                     timeout=step_timeout(seconds, 3.0), show_percent=progress)
    return cut.samples


AccuracyField = Literal["frame", "keyframe"]
