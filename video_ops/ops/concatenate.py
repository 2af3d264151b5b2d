"""concatenate: join any clips end to end, copying the pictures when they already match, else bringing
each to one frame (never stretched) and encoding it once; the sound stays in sync at every join."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from video_ops.base.errors import JobError
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import Operation
from video_ops.jobkit.results import single_output
from video_ops.media.clips import copy_mismatch, joined_audio, natural_size
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.probe import probe_output
from video_ops.ops.joining import (
    ClipsInput,
    ClipUrl,
    Piece,
    clip_field,
    fetch_clips,
    join_args,
    make_pieces,
    reencode_reason,
)


class ConcatenateInput(ClipsInput):
    operation: Literal["concatenate"]
    video_urls: list[ClipUrl] = Field(min_length=2)


async def run(ctx: JobContext, job: ConcatenateInput) -> dict:
    filename = clean_filename(job.output_filename or f"concatenate_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    clips, _ = await fetch_clips(ctx, job.video_urls)
    frame = job.frame(natural_size(clips[0]), clips[0].rate)
    mismatch = copy_mismatch(clips, frame)
    copies = mismatch is None
    pieces = [Piece(clip, frame.frames(clip.seconds), copied=copies) for clip in clips]
    for position, piece in enumerate(pieces):
        if piece.frames < 1:
            raise JobError(f"{clip_field(position)}: the clip lasts {piece.clip.seconds:.3f} s, shorter than one "
                           f"frame at {float(frame.rate):g} fps.")
    output = ctx.workdir / "output.mp4"
    with ctx.timed("process"):
        names, encoder = await make_pieces(ctx, pieces, frame)
        seconds = [piece.seconds(frame) for piece in pieces]
        inputs, audio = joined_audio(clips, seconds, first_input=1)
        hevc = copies and clips[0].picture.codec_name == "hevc"
        await ctx.ffmpeg(join_args(ctx, [names[piece] for piece in pieces], seconds, inputs, [*audio, str(output)],
                                   hevc), step="Joining the clips", duration=sum(seconds),
                         timeout=step_timeout(sum(seconds), 3.0))
        result = await probe_output(output)
    stored, = await ctx.upload([(output, key)])
    return {
        **single_output(f"{len(clips)} videos concatenated and uploaded to S3 successfully", stored, filename, result),
        "video_count": len(clips),
        "video_stream": "copied" if copies else "re-encoded",
        **reencode_reason(mismatch),
        **(encoder.describe() if encoder else {}),
    }


OPERATION = Operation(name="concatenate", input_model=ConcatenateInput, run=run)
