"""trilhasonora: background music under a narrated video, set by loudness, the picture untouched; under a sound
file (no picture), a sound file out, in the format its `output_filename` names (MP3 by default)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.base.tasks import all_or_nothing
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, NumberField, Operation, UrlField
from video_ops.jobkit.results import reencode_reason, single_output, sound_output
from video_ops.media import audio as sound
from video_ops.media import picture
from video_ops.media.encoders import AAC_ARGS
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.probe import MediaInfo, probe, probe_output, require_audio, require_duration
from video_ops.media.sound_files import FORMATS, spec_for

MUSIC = "trilha_sonora"


class MusicOptions(StrictModel):
    """How music lies under a narration: its level, loops, fades and ducking (trilhasonora's and render's)."""

    volume_reduction_db: NumberField | None = Field(None, ge=0, le=sound.MAX_REDUCTION_DB, allow_inf_nan=False)
    music_offset_lu: NumberField = Field(20.0, ge=0, le=60, allow_inf_nan=False)
    loop_crossfade_s: NumberField = Field(1.0, ge=0, le=10, allow_inf_nan=False)
    fade_in_s: NumberField = Field(1.0, ge=0, le=60, allow_inf_nan=False)
    fade_out_s: NumberField = Field(2.0, ge=0, le=60, allow_inf_nan=False)
    ducking: bool = False
    duck_db: NumberField = Field(10.0, gt=0, le=sound.MAX_DUCK_DB, allow_inf_nan=False)


class TrilhaSonoraInput(MusicOptions, JobInput):
    operation: Literal["trilhasonora"]
    url_video: UrlField = Field(validation_alias=AliasChoices("url_video", "audio_url"))
    trilha_sonora: UrlField = Field(validation_alias=AliasChoices(MUSIC, "url_music"))
    output_filename: str | None = None


def music_length(info: MediaInfo, field: str = MUSIC) -> float:
    """The music's playable length; a 0 s file has nothing to lay under the video."""
    seconds = require_audio(info, field).duration or info.duration
    if not seconds or seconds <= 0:
        raise JobError(f"{field}: the music lasts 0 s; there is nothing to play under the video.")
    return seconds


@dataclass(frozen=True)
class MusicUnderVoice:
    """The music bed as the options ask, and what was measured and applied to get it."""

    bed: sound.MusicBed
    levels: sound.Levels
    reduction_db: float
    automatic: bool
    offset_lu: float
    duck_db: float | None  # None: no ducking

    def graph(self, music: str, voice: str | None, out: str) -> str:
        """The whole sound from the stream labels `music` and `voice` (None: the music alone) to `out`."""
        return sound.music_under_voice(self.bed, music, voice, out, narration_lufs=self.levels.voice_lufs,
                                       duck_db=self.duck_db)

    def analysis(self) -> dict[str, float | None]:
        """The narration's and the music's loudness before, the music's after, the offset reached."""
        voice, music = self.levels.voice_lufs, self.levels.music_lufs
        after = None if music is None else round(music - self.reduction_db, 2)
        return {
            "narration_lufs": voice,
            "music_lufs": music,
            "music_lufs_after": after,
            "target_offset_lu": self.offset_lu,
            "offset_lu": None if voice is None or after is None else round(voice - after, 2),
        }


def music_under_voice(options: MusicOptions, levels: sound.Levels, *, length_s: float, music_s: float,
                      layout: str) -> MusicUnderVoice:
    """The level by loudness (or exactly `volume_reduction_db`), the loops, the fades."""
    automatic = options.volume_reduction_db is None
    reduction = (sound.reduction_for_offset(levels.voice_lufs, levels.music_lufs, options.music_offset_lu)
                 if automatic else float(options.volume_reduction_db or 0.0))
    bed = sound.MusicBed(length_s=length_s, source_s=music_s, layout=layout,
                         volume=sound.decibels_to_volume(-reduction), crossfade_s=options.loop_crossfade_s,
                         fade_in_s=options.fade_in_s, fade_out_s=options.fade_out_s)
    return MusicUnderVoice(bed, levels, reduction, automatic, options.music_offset_lu,
                           options.duck_db if options.ducking else None)


def _soundtrack_fields(job: TrilhaSonoraInput, soundtrack: MusicUnderVoice, music_s: float) -> dict:
    """The result's account of the music, with a picture or without."""
    return {
        "trilha_duration": round(music_s, 3),
        "loops_applied": soundtrack.bed.loops,
        "volume_reduction_db": soundtrack.reduction_db,
        "volume_mode": "automatic" if soundtrack.automatic else "manual",
        "audio_analysis": soundtrack.analysis(),
        "ducking": job.ducking,
    }


def _message(soundtrack: MusicUnderVoice) -> str:
    return (f"Trilha sonora added successfully ({soundtrack.bed.loops} loops, music lowered by "
            f"{soundtrack.reduction_db:g} dB)")


async def run(ctx: JobContext, job: TrilhaSonoraInput) -> dict:
    files = await ctx.download({"url_video": job.url_video, MUSIC: job.trilha_sonora})
    video, music = await all_or_nothing(probe(files["url_video"], "url_video"), probe(files[MUSIC], MUSIC))
    if video.video is None and video.audio is not None:
        return await _under_sound(ctx, job, files, video, music)
    filename = clean_filename(job.output_filename or f"trilhasonora_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    frames = await picture.read_source(files["url_video"], video, "url_video")
    video_s = frames.stream.duration or require_duration(video, "url_video")
    music_s = music_length(music)

    layout = sound.mix_layout(video.audio.channels if video.audio else None, music.audio.channels)
    voice = files["url_video"] if video.audio else None
    with ctx.timed("analysis"):
        levels = await sound.measure_levels(voice, files[MUSIC], seconds=video_s, layout=layout, workdir=ctx.workdir)
    soundtrack = music_under_voice(job, levels, length_s=video_s, music_s=music_s, layout=layout)
    graph = soundtrack.graph("1:a", "0:a" if voice else None, "aout")
    output = ctx.workdir / "output.mp4"
    plan = picture.Plan(
        args=[*picture.input_args(frames), "-i", "url_video", "-i", MUSIC, "-filter_complex", graph,
              "-map", f"0:{frames.stream.index}", "-map", "[aout]", *picture.output_args(frames), *AAC_ARGS,
              "-t", f"{video_s:.6f}", "-movflags", "+faststart", str(output)],
        duration=video_s, picture=frames)
    with ctx.timed("process"):
        encoder = await ctx.write_video(plan, files, step="Adding the soundtrack")
        result = await probe_output(output)
    stored, = await ctx.upload([(output, key)])
    return {
        **single_output(_message(soundtrack), stored, filename, result),
        "video_duration": round(video_s, 3),
        **_soundtrack_fields(job, soundtrack, music_s),
        "video_stream": "copied" if encoder is None else "re-encoded",
        **reencode_reason("url_video", frames.untrusted),
        "gpu_accelerated": bool(encoder and encoder.uses_gpu()),
        **(encoder.describe() if encoder else {"encoder": "copy"}),
    }


async def _under_sound(ctx: JobContext, job: TrilhaSonoraInput, files: dict[str, Path], voice: MediaInfo,
                       music: MediaInfo) -> dict:
    """A sound file in (no picture): the same bed under it, written as a sound file."""
    suffix = (job.output_filename or "").rpartition(".")[2].lower()
    fmt = FORMATS.get(suffix, FORMATS["mp3"])
    filename = clean_filename(job.output_filename or f"trilhasonora_{ctx.safe_job_id}", extension=f".{fmt.suffix}")
    key = join_key(clean_prefix(job.path), filename)
    voice_stream = require_audio(voice, "url_video")
    voice_s = voice_stream.duration or require_duration(voice, "url_video")
    music_s, music_stream = music_length(music), require_audio(music, MUSIC)
    layout = sound.mix_layout(voice_stream.channels, music_stream.channels)
    with ctx.timed("analysis"):
        levels = await sound.measure_levels(files["url_video"], files[MUSIC], seconds=voice_s, layout=layout,
                                            workdir=ctx.workdir)
    soundtrack = music_under_voice(job, levels, length_s=voice_s, music_s=music_s, layout=layout)
    spec = spec_for(fmt, [voice_stream, music_stream], None, None, None)
    output = ctx.workdir / f"output.{fmt.suffix}"
    args = ["-i", str(files["url_video"]), "-i", str(files[MUSIC]), "-filter_complex",
            soundtrack.graph("1:a", "0:a", "aout"), "-map", "[aout]", "-ar", str(spec.rate), "-ac",
            str(spec.channels), *spec.encode_args(), "-t", f"{voice_s:.6f}", str(output)]
    with ctx.timed("process"):
        await ctx.ffmpeg(args, step="Adding the soundtrack", duration=voice_s, timeout=step_timeout(voice_s, 3.0))
    stored, = await ctx.upload([(output, key)], fmt.content_type)
    return {**sound_output(_message(soundtrack), stored, filename, voice_s), "audio_duration": round(voice_s, 3),
            **_soundtrack_fields(job, soundtrack, music_s), **spec.describe()}


OPERATION = Operation(name="trilhasonora", input_model=TrilhaSonoraInput, run=run)
