"""addaudio: put an audio track on a video, copying the picture whenever MP4 allows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from video_ops.base.tasks import all_or_nothing
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, Operation, UrlField
from video_ops.jobkit.results import single_output
from video_ops.media.clips import PLAYS_EVERYWHERE
from video_ops.media.encoders import AAC_ARGS, Encoder
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.probe import MediaInfo, Stream, probe, require_audio, require_duration, require_video


class AddAudioInput(JobInput):
    operation: Literal["addaudio"]
    url_video: UrlField
    url_audio: UrlField
    output_filename: str | None = None
    mode: Literal["replace", "mix"] = "replace"
    fit: Literal["video", "audio", "shortest"] = "video"
    audio_volume: float = Field(1.0, ge=0, le=10)
    original_volume: float = Field(1.0, ge=0, le=10)


@dataclass(frozen=True)
class Plan:
    args: list[str]
    duration: float
    copies_video: bool
    picture: Stream


def plan(job: AddAudioInput, video: MediaInfo, audio: MediaInfo, out: str) -> Plan:
    """What to do with this pair of inputs: inputs `0` = video file, `1` = audio file."""
    picture = require_video(video, "url_video")
    video_s = picture.duration or require_duration(video, "url_video")
    audio_s = require_audio(audio, "url_audio").duration or require_duration(audio, "url_audio")
    duration = {"video": video_s, "audio": audio_s, "shortest": min(video_s, audio_s)}[job.fit]
    stretch = audio_s / video_s if job.fit == "audio" else 1.0
    copies = (picture.codec_name, picture.pix_fmt) in PLAYS_EVERYWHERE

    args: list[str] = []
    if stretch != 1.0:
        args += ["-itsscale", f"{stretch:.9f}"]  # retime the picture without touching its pixels
    if not copies:
        args += ["VIDEO_DECODE"]  # NVDEC options, when the encoder has a GPU decoder for this stream
    args += ["-i", "VIDEO", "-i", "AUDIO"]
    args += ["-filter_complex", _audio_graph(job, has_original=video.audio is not None, stretch=stretch)]
    args += ["-map", f"0:{picture.index}", "-map", "[aout]"]
    if copies:
        args += ["-c:v", "copy", *(["-tag:v", "hvc1"] if picture.codec_name == "hevc" else [])]
    else:
        args += ["VIDEO_CODEC"]
    args += [*AAC_ARGS, "-t", f"{duration:.6f}", "-movflags", "+faststart", out]
    return Plan(args=args, duration=duration, copies_video=copies, picture=picture)


def _audio_graph(job: AddAudioInput, has_original: bool, stretch: float) -> str:
    """New track (optionally under the original), padded with silence; `-t` then cuts it exactly."""
    new = f"[1:a]volume={job.audio_volume:g}"
    if job.mode == "replace" or not has_original:
        return f"{new},apad[aout]"
    original = "[0:a]" + "".join(f"atempo={step:.9f}," for step in atempo_steps(1 / stretch))
    original += f"volume={job.original_volume:g}"
    # normalize=0: amix otherwise divides every input by the input count, a hidden -6 dB.
    return f"{original}[orig];{new}[new];[orig][new]amix=inputs=2:duration=longest:normalize=0,apad[aout]"


def atempo_steps(rate: float) -> list[float]:
    """atempo takes 0.5..100 per instance; slower rates are a chain of halvings."""
    if abs(rate - 1.0) < 1e-9:
        return []
    steps = []
    while rate < 0.5:
        steps.append(0.5)
        rate /= 0.5
    steps.append(rate)
    return steps


def argv(recipe: Plan, files: dict[str, Path], encoder: Encoder) -> list[str]:
    """The plan's placeholders filled in; odd sizes are rounded down to even, since 4:2:0 needs it."""
    fill = {
        "VIDEO_DECODE": encoder.decode_args(recipe.picture),
        "VIDEO": [str(files["url_video"])],
        "AUDIO": [str(files["url_audio"])],
        "VIDEO_CODEC": ["-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", *encoder.video_args()],
    }
    return [part for arg in recipe.args for part in fill.get(arg, [arg])]


async def run(ctx: JobContext, job: AddAudioInput) -> dict:
    filename = clean_filename(job.output_filename or f"addaudio_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    files = await ctx.download({"url_video": job.url_video, "url_audio": job.url_audio})
    video, audio = await all_or_nothing(probe(files["url_video"], "url_video"), probe(files["url_audio"], "url_audio"))
    output = ctx.workdir / "output.mp4"
    recipe = plan(job, video, audio, str(output))
    with ctx.timed("process"):
        if recipe.copies_video:
            await ctx.ffmpeg(argv(recipe, files, ctx.encoder), step="Adding the audio", duration=recipe.duration,
                             timeout=step_timeout(recipe.duration, 3.0))
            encoder = None
        else:
            encoder = await ctx.encode(lambda enc: argv(recipe, files, enc), step="Adding the audio",
                                       duration=recipe.duration, timeout=step_timeout(recipe.duration, 30.0))
        result = await probe(output, "output")
    stored, = await ctx.upload([(output, key)])
    return {
        **single_output("Audio added successfully", stored, filename, result),
        "video_stream": "copied" if recipe.copies_video else "re-encoded",
        **(encoder.describe() if encoder else {}),
    }


OPERATION = Operation(name="addaudio", input_model=AddAudioInput, run=run)
