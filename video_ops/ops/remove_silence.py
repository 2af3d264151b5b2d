"""remove_silence: a jump cut. The silences are taken out, `padding_s` of each kept beside the speech so words
are not clipped, and the rest is joined frame-exact by `cut`'s machinery (a sound file stays a sound file)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from video_ops.base.errors import JobError
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import NumberField, Operation
from video_ops.ops.editing import MediaInput, cut_media, kept_between, open_source, stored_cut
from video_ops.ops.silence import SilenceOptions, find_silences, listed, seconds

MIN_CUT_S = 0.05  # shortening a pause by less is not heard, and each cut costs a join


class RemoveSilenceInput(MediaInput, SilenceOptions):
    operation: Literal["remove_silence"]
    padding_s: NumberField = Field(0.15, ge=0, le=10, allow_inf_nan=False)


def padded(speech: list[tuple[float, float]], padding: float, length: float) -> list[tuple[float, float]]:
    """The speech with `padding` each side, within the media; a pause that would lose less than `MIN_CUT_S`
    stays whole."""
    kept: list[tuple[float, float]] = []
    for start, end in speech:
        start = start - padding if start - padding >= MIN_CUT_S else 0.0
        end = end + padding if length - (end + padding) >= MIN_CUT_S else length
        if kept and start - kept[-1][1] < MIN_CUT_S:
            kept[-1] = (kept[-1][0], end)
        else:
            kept.append((start, end))
    return kept


async def run(ctx: JobContext, job: RemoveSilenceInput) -> dict[str, Any]:
    source = await open_source(ctx, job.url_video)
    found = await find_silences(ctx, source.path, source.info, job)
    if not found.speech:
        raise JobError(f"url_video: all of the sound lies below {job.noise_db:g} dB, so taking out the silence "
                       "would leave nothing (a lower noise_db counts quieter sound as speech).")
    output = ctx.workdir / f"remove_silence.{source.kind[0]}"
    outcome = await cut_media(ctx, source, padded(found.speech, job.padding_s, found.duration), output)
    kept = outcome.kept  # a video's ranges widened to its whole frames
    removed = kept_between(kept, found.duration)
    if removed:
        message = (f"{len(removed)} silence{'s' if len(removed) > 1 else ''} taken out ({seconds(removed):.3f} s) "
                   "and uploaded to S3 successfully")
    elif found.silences:
        message = (f"No silence is long enough to shorten with padding_s ({job.padding_s:g} s) kept each side: the "
                   "whole media was kept and uploaded to S3 successfully")
    else:
        message = f"No silence found (nothing {job.rule}): the whole media was kept and uploaded to S3 successfully"
    result = await stored_cut(ctx, job, source, output, "remove_silence", outcome, message)
    return {**result, "kept": listed(kept, 6), "removed": listed(removed, 6), "removed_s": round(seconds(removed), 6)}


OPERATION = Operation(name="remove_silence", input_model=RemoveSilenceInput, run=run)
