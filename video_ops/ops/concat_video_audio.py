"""concat_video_audio: the clips shown in a loop under a narration, the last one cut so the picture ends
with the narration to the frame. Each distinct clip is normalised once, however often it repeats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field

import video_ops.ops.joining as joining
from video_ops.base.errors import JobError
from video_ops.base.settings import env_int
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import Operation, UrlField
from video_ops.jobkit.results import single_output
from video_ops.media.clips import Clip, Frame, JoinInput, copy_mismatch, natural_size
from video_ops.media.encoders import AAC_ARGS
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.probe import played_seconds, probe, probe_output, require_audio
from video_ops.ops.joining import ClipsInput, ClipUrl, Piece, clip_field, fetch_clips, join_args, make_pieces

REFERENCE_SIZE = (1920, 1080)  # the reference's defaults when normalising
REFERENCE_RATE = Fraction(30)
MAX_CLIPS = 50
DEFAULT_MAX_SEGMENTS = 20_000  # 4 hours of narration (the input limit) over 1 s clips takes 14,400
_COPIED_AUDIO = {"aac", "mp3"}  # narration MP4 carries as it is; anything else becomes AAC


class ConcatVideoAudioInput(ClipsInput):
    max_clips_default: ClassVar[int] = MAX_CLIPS

    operation: Literal["concat_video_audio"]
    video_urls: list[ClipUrl] = Field(min_length=1)
    audio_url: UrlField = Field(validation_alias=AliasChoices("audio_url", "url_audio"))
    normalize: bool = True


@dataclass(frozen=True)
class Cycle:
    """The segments in order, and how they read as passes over the clip list."""

    segments: list[Piece]
    full_cycles: int
    partial: bool


def plan_cycle(clips: Sequence[Clip], frame: Frame, total_frames: int, copied: bool) -> Cycle:
    """Clips in order, again and again, until `total_frames`; the last segment is cut to fit exactly.
    The segments are capped: a long narration over clips of a few frames would make a join list of
    hundreds of thousands of entries."""
    limit = env_int("VIDEO_OPS_MAX_SEGMENTS", DEFAULT_MAX_SEGMENTS)
    counts = [frame.frames(clip.seconds) for clip in clips]
    for position, frames in enumerate(counts):
        if frames < 1:
            raise JobError(f"{clip_field(position)}: the clip lasts {clips[position].seconds:.3f} s, shorter than "
                           f"one frame at {float(frame.rate):g} fps.")
    segments: list[Piece] = []
    left = total_frames
    while left > 0:
        if len(segments) == limit:
            raise JobError(f"audio_url: the narration's {float(total_frames / frame.rate):.3f} s take more than "
                           f"{limit} segments of these clips; use longer clips, a shorter narration, or raise "
                           "VIDEO_OPS_MAX_SEGMENTS.")
        position = len(segments) % len(clips)
        frames = min(counts[position], left)
        segments.append(Piece(clips[position], frames, copied=copied and frames == counts[position]))
        left -= frames
    whole = len(segments) - (segments[-1].frames < counts[(len(segments) - 1) % len(clips)])
    full_cycles = whole // len(clips)
    return Cycle(segments, full_cycles, partial=len(segments) > full_cycles * len(clips))


def choose_frame(job: ConcatVideoAudioInput, clips: Sequence[Clip]) -> tuple[Frame, tuple[int, str] | None]:
    """The frame, and why the clips cannot be copied into it (None: they are copied); with `normalize: false`
    they must already match."""
    if not job.normalize:
        frame = Frame(*natural_size(clips[0]), clips[0].rate)
        mismatch = copy_mismatch(clips, frame)
        if mismatch is not None:
            position, why = mismatch
            raise JobError(f"{clip_field(position)}: {why}; with normalize false the clips must already match "
                           "(set normalize to true to bring them to one size and frame rate).")
        return frame, None
    frame = job.frame(REFERENCE_SIZE, REFERENCE_RATE)
    return frame, copy_mismatch(clips, frame)


async def run(ctx: JobContext, job: ConcatVideoAudioInput) -> dict:
    filename = clean_filename(job.output_filename or f"concat_video_audio_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    clips, files = await fetch_clips(ctx, job.video_urls, extra={"audio_url": job.audio_url})
    narration_info = await probe(files["audio_url"], "audio_url")
    narration = require_audio(narration_info, "audio_url")
    audio_s = await played_seconds(files["audio_url"], narration, "audio_url")
    narration_input = JoinInput(files["audio_url"], narration_info.start_time)
    frame, mismatch = choose_frame(job, clips)
    copied = mismatch is None
    total_frames = frame.frames(audio_s)
    if total_frames < 1:
        raise JobError(f"audio_url: the audio lasts {audio_s:.3f} s, shorter than one frame.")
    cycle = plan_cycle(clips, frame, total_frames, copied)
    if copied and not cycle.segments[-1].copied:
        # The cut segment must be encoded, and an encoded piece joins copied ones cleanly only when its
        # codec and B-frame delay happen to match theirs: bring every clip to one encoding instead.
        copied = False
        mismatch = ((len(cycle.segments) - 1) % len(clips), "the narration ends inside it, and a cut clip is encoded")
        cycle = plan_cycle(clips, frame, total_frames, copied)
    output = ctx.workdir / "output.mp4"
    with ctx.timed("process"):
        names, encoder = await make_pieces(ctx, cycle.segments, frame)
        seconds = [piece.seconds(frame) for piece in cycle.segments]
        video_s = sum(seconds)
        sound = ["-c:a", "copy"] if narration.codec_name in _COPIED_AUDIO else list(AAC_ARGS)
        tail = ["-map", f"1:{narration.index}", *sound, "-t", f"{video_s:.6f}", str(output)]
        await ctx.ffmpeg(join_args(ctx, [names[piece] for piece in cycle.segments], seconds, [narration_input],
                                   tail, hevc=copied and clips[0].picture.codec_name == "hevc"),
                         step="Joining the clips", duration=video_s, timeout=step_timeout(video_s, 3.0))
        result = await probe_output(output)
    stored, = await ctx.upload([(output, key)])
    diff_ms = round(abs(video_s - audio_s) * 1000, 1)
    partial = " + 1 partial" if cycle.partial else ""
    message = (f"Cyclic concatenation complete: {cycle.full_cycles} full cycles{partial}, {len(cycle.segments)} "
               f"segments, sync precision: {diff_ms}ms")
    return {
        **single_output(message, stored, filename, result),
        "total_segments": len(cycle.segments),
        "full_cycles": cycle.full_cycles,
        "partial_cycle": cycle.partial,
        "video_duration": round(video_s, 6),
        "audio_duration": round(audio_s, 6),
        "duration_diff_ms": diff_ms,
        "video_stream": "copied" if copied else "re-encoded",
        **joining.reencode_reason(mismatch),
        **(encoder.describe() if encoder else {}),
    }


OPERATION = Operation(name="concat_video_audio", input_model=ConcatVideoAudioInput, run=run)
