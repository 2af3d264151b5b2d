"""split: one video in several clips (given ranges, or every N seconds), each frame-exact and listed like
img2vid's videos, with its frames and duration."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from video_ops.base.errors import JobError
from video_ops.base.settings import env_int
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import NumberField, Operation
from video_ops.media.probe import probe_output
from video_ops.ops.editing import (
    MAX_RANGES,
    RANGES_SETTING,
    MediaInput,
    Span,
    clamped,
    cut_media,
    many_spans,
    open_source,
)


class SplitRange(Span):
    output_filename: str | None = None


class SplitInput(MediaInput):
    operation: Literal["split"]
    splits: Annotated[list[SplitRange], BeforeValidator(many_spans), Field(min_length=1)] | None = None
    every_s: NumberField | None = Field(None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_way(self) -> SplitInput:
        if (self.splits is None) == (self.every_s is None):
            raise ValueError("give 'splits' or 'every_s' (one of them)")
        return self


def every(seconds: float, length: float) -> list[tuple[float, float]]:
    limit = env_int(RANGES_SETTING, MAX_RANGES)
    count = math.ceil(length / seconds - 1e-9)
    if count > limit:
        raise JobError(f"every_s: {seconds:g} s would make {count} clips of this {length:.3f} s video, over the "
                       f"limit of {limit} (raise it with {RANGES_SETTING}).")
    return [(n * seconds, min((n + 1) * seconds, length)) for n in range(count)]


async def run(ctx: JobContext, job: SplitInput) -> dict:
    source = await open_source(ctx, job.url_video, need_picture=True)
    length = source.duration
    if job.splits is not None:
        spans, warnings = clamped([(s.start, s.end) for s in job.splits], length, "splits")
        names = [s.output_filename for s in job.splits]
    else:
        spans, warnings = every(job.every_s or 0, length), []
        names = [None] * len(spans)
    prefix = clean_prefix(job.path)
    clips = []
    for number, (span, name) in enumerate(zip(spans, names, strict=True), start=1):
        filename = clean_filename(name or f"split_{number}.mp4", f"splits[{number - 1}].output_filename")
        output = ctx.workdir / f"split_{number}.mp4"
        outcome = await cut_media(ctx, source, [span], output)
        clips.append((number, filename, output, outcome))
    stored = await ctx.upload([(output, join_key(prefix, filename)) for _, filename, output, _ in clips])
    videos = []
    for (number, filename, output, outcome), one in zip(clips, stored, strict=True):
        info = await probe_output(output)
        videos.append({"id": number, "video_url": one.url, "filename": filename, "s3_key": one.key,
                       "start": round(outcome.start, 6), "end": round(outcome.end, 6), "duration": info.duration,
                       "size_bytes": one.size_bytes, **outcome.describe()})
    return {"message": f"{len(videos)} clips split and uploaded to S3 successfully", "total": len(videos),
            "processed": len(videos), "videos": videos, **({"warnings": warnings} if warnings else {})}


OPERATION = Operation(name="split", input_model=SplitInput, run=run)
