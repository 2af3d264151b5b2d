"""cut: take ranges out of a video (or a sound file) and keep the rest in order, frame-exact, with a
crossfade of a few milliseconds in the sound at each join."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from video_ops.base.errors import JobError
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import Operation
from video_ops.ops.editing import (
    MediaInput,
    Span,
    clamped,
    cut_media,
    kept_between,
    many_spans,
    merged,
    open_source,
    stored_cut,
)


class CutInput(MediaInput):
    operation: Literal["cut"]
    cuts: Annotated[list[Span], BeforeValidator(many_spans), Field(min_length=1)]


async def run(ctx: JobContext, job: CutInput) -> dict:
    source = await open_source(ctx, job.url_video)
    length = source.duration
    removed, warnings = clamped([(span.start, span.end) for span in job.cuts], length, "cuts")
    removed = merged(removed)
    kept = kept_between(removed, length)
    if not kept:
        raise JobError("cuts: the cuts remove the whole media; nothing would be left.")
    output = ctx.workdir / f"cut.{source.kind[0]}"
    outcome = await cut_media(ctx, source, kept, output)
    ranges = f"{len(removed)} range{'s' if len(removed) > 1 else ''}"
    result = await stored_cut(ctx, job, source, output, "cut", outcome,
                              f"{ranges} cut out and uploaded to S3 successfully")
    return {**result, "removed": [{"start": round(a, 6), "end": round(b, 6)} for a, b in removed],
            "kept": [{"start": round(a, 6), "end": round(b, 6)} for a, b in outcome.kept],
            "removed_s": round(sum(b - a for a, b in removed), 6), **({"warnings": warnings} if warnings else {})}


OPERATION = Operation(name="cut", input_model=CutInput, run=run)
