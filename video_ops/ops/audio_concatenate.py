"""audio_concatenate: sound files (or the sound of any media) end to end, to the sample: each decoded once,
one encode; optionally crossfaded, spaced by silence, or brought to a loudness."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from video_ops.base.errors import JobError
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import NumberField, Operation, url_or_object, within_limit
from video_ops.media.sound_files import Join
from video_ops.ops.sound_jobs import SoundInput, read_sounds, stored_sound, write_sound

MAX_FILES = 500
FILES_SETTING = "VIDEO_OPS_MAX_AUDIO_FILES"
MAX_GAP_S = 60.0  # the longest crossfade or silence between two sounds
AudioUrl = url_or_object("audio_url")


def _not_too_many(value: Any) -> Any:
    return within_limit(value, FILES_SETTING, MAX_FILES, "audio files")


class AudioConcatenateInput(SoundInput):
    operation: Literal["audio_concatenate"]
    audio_urls: Annotated[list[AudioUrl], BeforeValidator(_not_too_many)] = Field(min_length=2)
    crossfade_s: NumberField = Field(0.0, ge=0, le=MAX_GAP_S, allow_inf_nan=False)
    silence_between_s: NumberField = Field(0.0, ge=0, le=MAX_GAP_S, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_kind_of_join(self) -> AudioConcatenateInput:
        if self.crossfade_s and self.silence_between_s:
            raise ValueError("give 'crossfade_s' or 'silence_between_s', not both")
        return self


def position_field(position: int) -> str:
    return f"audio_urls[{position}]"


async def run(ctx: JobContext, job: AudioConcatenateInput) -> dict:
    filename = job.filename("audio_concatenated")
    sounds = await read_sounds(ctx, job.audio_urls, position_field)
    for sound in sounds:
        if job.crossfade_s > sound.about_s:
            raise JobError(f"crossfade_s: {job.crossfade_s:g} s is longer than {sound.field}, which lasts about "
                           f"{sound.about_s:.1f} s.")
    spec = job.spec([sound.stream for sound in sounds])
    join = Join(crossfade=round(job.crossfade_s * spec.rate), silence=round(job.silence_between_s * spec.rate))
    output = ctx.workdir / f"output.{spec.format.suffix}"
    with ctx.timed("process"):
        written = await write_sound(ctx, sounds, spec, join, output, job.loudness_lufs)
    seconds = written.samples / spec.rate
    message = f"{len(sounds)} audio files concatenated and uploaded to S3 successfully"
    result = await stored_sound(ctx, job, output, filename, message, seconds)
    return {**result, "audio_count": len(sounds), "total_duration": round(seconds, 6), "audio_stream": "re-encoded",
            **spec.describe(), **written.describe(job.loudness_lufs)}


OPERATION = Operation(name="audio_concatenate", input_model=AudioConcatenateInput, run=run)
