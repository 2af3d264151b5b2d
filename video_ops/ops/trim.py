"""trim: one range of a video (or of a sound file), frame-exact, its untouched frames copied."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from video_ops.base.errors import JobError
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import Operation
from video_ops.ops.editing import AccuracyField, MediaInput, TimeField, clamped, cut_media, open_source, stored_cut


class TrimInput(MediaInput):
    operation: Literal["trim"]
    start: TimeField = 0.0
    end: TimeField | None = None
    duration: Annotated[TimeField, Field(gt=0)] | None = None  # 0 s is named here, not as start >= end
    accuracy: AccuracyField = "frame"

    @model_validator(mode="after")
    def _one_end(self) -> TrimInput:
        if self.end is not None and self.duration is not None:
            raise ValueError("give 'end' or 'duration', not both")
        stop = self.stop
        if stop is not None and stop <= self.start:
            raise ValueError(f"start ({self.start:g} s) must be before end ({stop:g} s)")
        return self

    @property
    def stop(self) -> float | None:
        return self.start + self.duration if self.duration is not None else self.end


async def run(ctx: JobContext, job: TrimInput) -> dict:
    source = await open_source(ctx, job.url_video)
    length = source.duration
    (span,), warnings = clamped([(job.start, job.stop if job.stop is not None else length)], length, "start")
    if job.accuracy == "keyframe" and source.audio_only:
        raise JobError("accuracy: \"keyframe\" is for video; a sound file is cut to the sample.")
    output = ctx.workdir / f"trimmed.{source.kind[0]}"
    outcome = await cut_media(ctx, source, [span], output, keyframe=job.accuracy == "keyframe")
    result = await stored_cut(ctx, job, source, output, "trim", outcome,
                              f"Trimmed {outcome.start:.3f}-{outcome.end:.3f} s and uploaded to S3 successfully")
    return {**result, "start": round(outcome.start, 6), "end": round(outcome.end, 6), "accuracy": job.accuracy,
            **({"warnings": warnings} if warnings else {})}


OPERATION = Operation(name="trim", input_model=TrimInput, run=run)
