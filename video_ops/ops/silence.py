"""silence: where a recording pauses and where it speaks, to the millisecond; nothing is stored.

`remove_silence` finds its silences with the same options and `find_silences`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from video_ops.base.models import StrictModel
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, NumberField, Operation, UrlField
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.probe import MediaInfo, probe, require_audio, require_duration
from video_ops.media.silences import MAX_MIN_SILENCE_S, read_silences, silence_args
from video_ops.ops.editing import kept_between

DECODE_S_PER_SECOND = 0.25  # decoding sound runs hundreds of times faster than real time: a generous bound


class SilenceOptions(StrictModel):
    """What counts as silence: every channel below `noise_db` (dBFS) for `min_silence_s` or longer."""

    noise_db: NumberField = Field(-35.0, ge=-100, lt=0, allow_inf_nan=False)
    min_silence_s: NumberField = Field(0.5, ge=0.05, le=MAX_MIN_SILENCE_S, allow_inf_nan=False)

    @property
    def rule(self) -> str:
        return f"below {self.noise_db:g} dB for {self.min_silence_s:g} s or longer"


class SilenceInput(JobInput, SilenceOptions):
    operation: Literal["silence"]
    url_video: UrlField


@dataclass(frozen=True)
class Found:
    """The silences of a media and the speech between them (the rest of [0, duration]), in seconds."""

    duration: float
    silences: list[tuple[float, float]]
    speech: list[tuple[float, float]]


async def find_silences(ctx: JobContext, path: Path, info: MediaInfo, options: SilenceOptions) -> Found:
    """Run silencedetect on the media's first audio stream; a file without one fails naming `url_video`."""
    sound = require_audio(info, "url_video")
    duration = require_duration(info, "url_video")
    report = ctx.workdir / "silences.txt"
    with ctx.timed("analysis"):
        await ctx.ffmpeg(silence_args(path, sound.index, duration, options.noise_db, options.min_silence_s, report),
                         step="Finding the silences", duration=duration,
                         timeout=step_timeout(duration, DECODE_S_PER_SECOND))
    silences = read_silences(report, duration)
    return Found(duration, silences, kept_between(silences, duration))


def listed(spans: list[tuple[float, float]], digits: int) -> list[dict[str, float]]:
    return [{"start": round(start, digits), "end": round(end, digits)} for start, end in spans]


def seconds(spans: list[tuple[float, float]]) -> float:
    return sum(end - start for start, end in spans)


async def run(ctx: JobContext, job: SilenceInput) -> dict[str, Any]:
    path = (await ctx.download({"url_video": job.url_video}))["url_video"]
    found = await find_silences(ctx, path, await probe(path, "url_video"), job)
    silent = seconds(found.silences)
    if not found.silences:
        message = f"No silence found (nothing {job.rule})."
    elif not found.speech:
        message = f"The media is silent throughout ({job.rule})."
    else:
        message = f"Silences found: {len(found.silences)} ({silent:.3f} s of {found.duration:.3f} s)."
    return {"message": message, "duration": round(found.duration, 3), "silences": listed(found.silences, 3),
            "speech": listed(found.speech, 3), "silence_count": len(found.silences),
            "speech_count": len(found.speech), "silence_s": round(silent, 3),
            "speech_s": round(found.duration - silent, 3), "noise_db": job.noise_db,
            "min_silence_s": job.min_silence_s}


OPERATION = Operation(name="silence", input_model=SilenceInput, run=run)
