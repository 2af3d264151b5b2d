"""extract_audio: the sound of any media as an MP3, M4A, WAV, Opus or FLAC file, copied as it is when it
already is what was asked, else decoded and encoded once (to a loudness, when one is asked)."""

from __future__ import annotations

from typing import Literal

from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import Operation, UrlField
from video_ops.jobkit.results import reencode_reason
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.sound_files import Join, copy_args, copy_refusal
from video_ops.ops.sound_jobs import SoundInput, output_seconds, read_sounds, stored_sound, write_sound

MESSAGE = "Audio extracted and uploaded to S3 successfully"


class ExtractAudioInput(SoundInput):
    operation: Literal["extract_audio"]
    url_video: UrlField


async def run(ctx: JobContext, job: ExtractAudioInput) -> dict:
    filename = job.filename(f"extract_audio_{ctx.safe_job_id}")
    sound, = await read_sounds(ctx, [job.url_video], lambda _: "url_video")
    fmt, stream = job.sound_format, sound.stream
    if job.loudness_lufs is not None:
        field, why = "loudness_lufs", f"the level is brought to {job.loudness_lufs:g} LUFS"
    else:
        field, why = "url_video", copy_refusal(stream, fmt, job.bitrate, job.sample_rate, job.channels)
    output = ctx.workdir / f"output.{fmt.suffix}"
    with ctx.timed("process"):
        if why is None:
            await ctx.ffmpeg(copy_args(sound.path, stream, fmt, output), step="Copying the sound",
                             duration=sound.about_s, timeout=step_timeout(sound.about_s, 1.0))
            seconds = await output_seconds(output)
            details = {"audio_stream": "copied", "format": fmt.name, "sample_rate": stream.sample_rate,
                       "channels": stream.channels}
        else:
            spec = job.spec([stream])
            written = await write_sound(ctx, [sound], spec, Join(), output, job.loudness_lufs)
            seconds = written.samples / spec.rate
            details = {"audio_stream": "re-encoded", **reencode_reason(field, why), **spec.describe(),
                       **written.describe(job.loudness_lufs)}
    result = await stored_sound(ctx, job, output, filename, MESSAGE, seconds)
    return {**result, **details}


OPERATION = Operation(name="extract_audio", input_model=ExtractAudioInput, run=run)
