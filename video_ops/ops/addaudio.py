"""addaudio: put an audio track on a video, copying the picture whenever MP4 allows."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from video_ops.base.tasks import all_or_nothing
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, NumberField, Operation, UrlField
from video_ops.jobkit.results import reencode_reason, single_output
from video_ops.media import audio as sound
from video_ops.media import picture
from video_ops.media.encoders import AAC_ARGS
from video_ops.media.probe import MediaInfo, probe, probe_output, require_audio, require_duration, require_video

# Options of the shared audio graph that only mean something when the new track goes under the original.
_MIX_ONLY = ("ducking", "fade_in_s", "fade_out_s", "music_offset_lu")
_UNMEASURED = sound.Levels()


class AddAudioInput(JobInput):
    operation: Literal["addaudio"]
    url_video: UrlField
    url_audio: UrlField
    output_filename: str | None = None
    mode: Literal["replace", "mix"] = "replace"
    fit: Literal["video", "audio", "shortest"] = "video"
    audio_volume: float = Field(1.0, ge=0, le=10)
    original_volume: float = Field(1.0, ge=0, le=10)
    # `mix` only: the shared audio graph's options (docs/audio.md), off by default.
    music_offset_lu: NumberField | None = Field(None, ge=0, le=60, allow_inf_nan=False)
    fade_in_s: NumberField = Field(0.0, ge=0, le=60, allow_inf_nan=False)
    fade_out_s: NumberField = Field(0.0, ge=0, le=60, allow_inf_nan=False)
    ducking: bool = False
    duck_db: NumberField = Field(10.0, gt=0, le=sound.MAX_DUCK_DB, allow_inf_nan=False)

    @model_validator(mode="after")
    def _mix_options_need_mix(self) -> AddAudioInput:
        given = [name for name in _MIX_ONLY if name in self.model_fields_set and getattr(self, name)]
        if given and self.mode != "mix":
            raise ValueError(f"'{given[0]}' needs mode 'mix' (the new track goes under the original)")
        if self.music_offset_lu is not None and "audio_volume" in self.model_fields_set:
            raise ValueError("give either 'audio_volume' or 'music_offset_lu' (the level by loudness), not both")
        return self


def plan(job: AddAudioInput, video: MediaInfo, audio: MediaInfo, out: str,
         levels: sound.Levels = _UNMEASURED, source: picture.Source | None = None) -> picture.Plan:
    """What to do with this pair of inputs: inputs `0` = video file, `1` = audio file (`source`: the picture
    as `picture.read_source` judged it; unjudged, it is copied when its codec allows)."""
    frames = source or picture.Source(require_video(video, "url_video"))
    video_s = frames.stream.duration or require_duration(video, "url_video")
    audio_s = require_audio(audio, "url_audio").duration or require_duration(audio, "url_audio")
    duration = {"video": video_s, "audio": audio_s, "shortest": min(video_s, audio_s)}[job.fit]
    stretch = audio_s / video_s if job.fit == "audio" else 1.0

    args: list[str] = []
    if stretch != 1.0:
        args += ["-itsscale", f"{stretch:.9f}"]  # retime the picture without touching its pixels
    args += [*picture.input_args(frames), "-i", "url_video", "-i", "url_audio"]
    args += ["-filter_complex", _audio_graph(job, video, audio, duration, audio_s, stretch, levels)]
    args += ["-map", f"0:{frames.stream.index}", "-map", "[aout]", *picture.output_args(frames)]
    args += [*AAC_ARGS, "-t", f"{duration:.6f}", "-movflags", "+faststart", out]
    return picture.Plan(args=args, duration=duration, picture=frames)


def _audio_graph(job: AddAudioInput, video: MediaInfo, audio: MediaInfo, duration: float, audio_s: float,
                 stretch: float, levels: sound.Levels) -> str:
    """New track (in `mix`, under the original, by the shared audio graph), padded with silence; `-t` cuts it."""
    if job.mode == "replace" or video.audio is None:
        return f"[1:a]volume={job.audio_volume:g},apad[aout]"
    original = "[0:a]" + "".join(f"atempo={step:.9f}," for step in atempo_steps(1 / stretch))
    original += f"volume={job.original_volume:g}[orig]"
    layout = sound.mix_layout(video.audio.channels, audio.audio.channels if audio.audio else 0)
    volume = job.audio_volume
    if job.music_offset_lu is not None:
        cut = sound.reduction_for_offset(levels.voice_lufs, levels.music_lufs, job.music_offset_lu)
        volume = sound.decibels_to_volume(-cut)
    track = sound.MusicBed(length_s=duration, source_s=audio_s, layout=layout, volume=volume, loop=False,
                           fade_in_s=job.fade_in_s, fade_out_s=job.fade_out_s)
    return ";".join([original, sound.music_under_voice(track, "1:a", "orig", "aout", narration_lufs=levels.voice_lufs,
                                                       duck_db=job.duck_db if job.ducking else None)])


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


async def run(ctx: JobContext, job: AddAudioInput) -> dict:
    filename = clean_filename(job.output_filename or f"addaudio_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    files = await ctx.download({"url_video": job.url_video, "url_audio": job.url_audio})
    video, audio = await all_or_nothing(probe(files["url_video"], "url_video"), probe(files["url_audio"], "url_audio"))
    source = await picture.read_source(files["url_video"], video, "url_video")
    output = ctx.workdir / "output.mp4"
    recipe = plan(job, video, audio, str(output), await _levels(ctx, job, video, audio, files), source)
    with ctx.timed("process"):
        encoder = await ctx.write_video(recipe, files, step="Adding the audio")
        result = await probe_output(output)
    stored, = await ctx.upload([(output, key)])
    return {
        **single_output("Audio added successfully", stored, filename, result),
        "video_stream": "copied" if recipe.copies_video else "re-encoded",
        **reencode_reason("url_video", source.untrusted),
        **(encoder.describe() if encoder else {}),
    }


async def _levels(ctx: JobContext, job: AddAudioInput, video: MediaInfo, audio: MediaInfo,
                  files: dict[str, Path]) -> sound.Levels:
    """Both tracks' loudness when the level is set by loudness (or ducking needs the original's)."""
    if job.mode != "mix" or video.audio is None or (job.music_offset_lu is None and not job.ducking):
        return _UNMEASURED
    layout = sound.mix_layout(video.audio.channels, require_audio(audio, "url_audio").channels)
    with ctx.timed("analysis"):
        return await sound.measure_levels(files["url_video"], files["url_audio"], layout=layout,
                                          workdir=ctx.workdir, seconds=require_duration(video, "url_video"))


OPERATION = Operation(name="addaudio", input_model=AddAudioInput, run=run)
