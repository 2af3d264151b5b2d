"""caption: burn an SRT file's cues (or the video's own speech, heard in the job) into a video, styled, with the
audio copied untouched."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol

from video_ops.base.errors import JobError
from video_ops.io.fetch import SizeCap
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, Operation, UrlField
from video_ops.jobkit.results import single_output
from video_ops.media.encoders import AAC_ARGS, Encoder
from video_ops.media.ffmpeg import filter_value, step_timeout
from video_ops.media.probe import MediaInfo, Stream, probe, probe_output, require_duration, require_video
from video_ops.ops.speech_captions import TRANSCRIBE, SpeechCues, SrtOrSpeech, heard_result, video_speech
from video_ops.subtitles.ass import write_script
from video_ops.subtitles.charset import decode
from video_ops.subtitles.fonts import add_font_file, choose, missing_glyphs
from video_ops.subtitles.srt import read_srt
from video_ops.subtitles.style import ForceStyle, Look, PresetName, StyleOptions, resolve
from video_ops.subtitles.timeline import Timeline, fit

SRT_CAP = SizeCap(10, "is it a subtitle file?")  # a feature film's SRT is about 100 KB
# Audio codecs an MP4 carries and players play; anything else is re-encoded to AAC.
_MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "opus", "alac"}
SCRIPT_NAME = "captions.ass"  # fixed names inside the job's temp folder: no user text reaches the filter
FONTS_DIR = "fonts"


class CaptionInput(JobInput, SrtOrSpeech):
    operation: Literal["caption"]
    url_video: UrlField
    output_filename: str | None = None
    preset: PresetName = "default"
    style: StyleOptions | None = None
    force_style: ForceStyle | None = None
    font_url: UrlField | None = None


@dataclass(frozen=True)
class Plan:
    """Everything the FFmpeg run needs, decided before it starts (and testable without it)."""

    video: Path
    script: Path
    fonts_dir: Path | None
    output: Path
    picture: Stream
    width: int
    height: int
    audio: Stream | None


def plan(video: Path, info: MediaInfo, workdir: Path, fonts_dir: Path | None) -> Plan:
    """The frame libass draws on is the upright picture FFmpeg decodes, cropped to even for 4:2:0."""
    picture = require_video(info, "url_video")
    width, height = picture.display_size
    if width < 2 or height < 2:
        raise JobError("url_video: the video has no usable frame size.")
    return Plan(video=video, script=workdir / SCRIPT_NAME, fonts_dir=fonts_dir, output=workdir / "output.mp4",
                picture=picture, width=width - width % 2, height=height - height % 2, audio=info.audio)


def argv(recipe: Plan, encoder: Encoder) -> list[str]:
    """FFmpeg's arguments for `encoder`: rebuilt for each encoder, as `ctx.encode` may switch mid-job."""
    args = [*encoder.decode_args(recipe.picture), "-i", str(recipe.video), "-map", f"0:{recipe.picture.index}"]
    if recipe.audio is not None:
        args += ["-map", f"0:{recipe.audio.index}"]
        args += ["-c:a", "copy"] if copies_audio(recipe.audio) else list(AAC_ARGS)
    args += ["-vf", filter_graph(recipe), *encoder.video_args(), "-movflags", "+faststart", str(recipe.output)]
    return args


def filter_graph(recipe: Plan) -> str:
    """Crop to even size when needed, then libass; file paths are escaped for both filter parsers."""
    width, height = recipe.picture.display_size
    steps = [] if (width, height) == (recipe.width, recipe.height) else [f"crop={recipe.width}:{recipe.height}:0:0"]
    ass = f"ass=filename={filter_value(str(recipe.script))}"
    if recipe.fonts_dir is not None:
        ass += f":fontsdir={filter_value(str(recipe.fonts_dir))}"
    return ",".join([*steps, ass])


def copies_audio(audio: Stream) -> bool:
    return audio.codec_name in _MP4_AUDIO


def read_subtitles(path: Path, duration: float, field: str = "url_srt") -> Timeline:
    """The SRT file's cues fitted to the video, with warnings for what was guessed or changed."""
    decoded = decode(path.read_bytes(), field)
    subtitles = read_srt(decoded.text, field)
    timeline = fit(subtitles.cues, duration, field)
    notes = [f"{field}: the file is not UTF-8; its characters were read as {decoded.encoding} (a guess)."
             ] if decoded.guessed else []
    return replace(timeline, warnings=[*notes, *subtitles.warnings, *timeline.warnings])


def font_field(job: CaptionInput) -> str | None:
    """Which input field named the font, if the caller named one."""
    if job.style is not None and job.style.font.name is not None:
        return "style.font.name"
    if job.force_style and "font" in job.force_style:
        return "force_style"
    return None


async def choose_font(job: CaptionInput, look: Look) -> tuple[Look, list[str]]:
    """Check the font before anything is downloaded; a font_url's font is checked once it is here."""
    named_by = font_field(job)
    if job.font_url is not None:
        if named_by is not None:
            raise JobError(f"Invalid input: give either font_url or a font name ({named_by}), not both.")
        return look, []
    family, warning = await asyncio.to_thread(choose, look.font, named_by or "preset")
    return replace(look, font=family), [warning] if warning else []


async def run(ctx: JobContext, job: CaptionInput) -> dict:
    look, warnings = await choose_font(job, resolve(job.preset, job.force_style, job.style))
    return await caption_srt(ctx, job, look, warnings, message="Video captioned successfully", font_url=job.font_url)


class OutputJob(Protocol):
    """The fields of a job that writes one video: where it goes."""

    operation: str
    path: str
    output_filename: str | None


class SrtJob(OutputJob, Protocol):
    """The fields of a job that burns cues in (`caption`, `caption_segments`): an SRT file's or the speech's."""

    url_video: str
    url_srt: str | None
    transcribe: SpeechCues | None


async def caption_srt(ctx: JobContext, job: SrtJob, look: Look, warnings: list[str], *, message: str,
                      font_url: str | None = None, text: Callable[[str], str] | None = None) -> dict:
    """Download, burn the cues in with `look` (each cue's text through `text` first), upload. The cues are the
    SRT's, or those transcribe writes in `segments.srt` for the video's speech, heard first."""
    urls = {"url_video": job.url_video, **({"url_srt": job.url_srt} if job.url_srt is not None else {})}
    if font_url is not None:
        urls["font_url"] = font_url
    files = await ctx.download(urls, caps={"url_srt": SRT_CAP})
    fonts_dir = None
    if font_url is not None:
        with ctx.timed("process"):
            fonts_dir = ctx.workdir / FONTS_DIR
            look = replace(look, font=await add_font_file(files["font_url"], fonts_dir, "font_url"))
    heard, field = None, "url_srt"
    if job.transcribe is not None:
        heard, written = await video_speech(ctx, files["url_video"], job.transcribe, job.transcribe.rules())
        field, files[TRANSCRIBE] = TRANSCRIBE, written["segments.srt"]
    cues = 0

    async def write(recipe: Plan, duration: float) -> list[str]:
        nonlocal cues
        cues, notes = await srt_script(files[field], field, look, duration, (recipe.width, recipe.height),
                                       recipe.script, fonts_dir=fonts_dir, text=text)
        return notes

    result = await burn(ctx, job, files["url_video"], write, message=message, fonts_dir=fonts_dir)
    return {**result, "cues": cues, **heard_result(heard), "warnings": [*warnings, *result["warnings"]]}


async def srt_script(srt: Path, field: str, look: Look, duration: float, size: tuple[int, int], script: Path, *,
                     fonts_dir: Path | None = None, text: Callable[[str], str] | None = None) -> tuple[int, list[str]]:
    """Write the ASS script of an SRT file's cues (each cue's text through `text` first) for a video
    `duration` long of `size`: the number of cues shown, and the warnings."""
    timeline = read_subtitles(srt, duration, field)
    shown = timeline.cues if text is None else [replace(cue, text=text(cue.text)) for cue in timeline.cues]
    unshown = await asyncio.to_thread(missing_glyphs, [(cue.line, cue.text) for cue in shown], fonts_dir, field)
    write_script(script, shown, look, *size)
    return len(shown), [*timeline.warnings, *unshown]


ScriptWriter = Callable[[Plan, float], Awaitable[list[str]]]


async def burn(ctx: JobContext, job: OutputJob, video: Path, write: ScriptWriter, *,
               message: str, fonts_dir: Path | None = None) -> dict:
    """Burn the ASS script that `write(plan, duration)` writes into `video`, upload the MP4 as the job's output.

    `write` returns its warnings (it may read files and fonts, so it is a coroutine). The result has the
    contract's keys, the encoder and the warnings.
    """
    filename = clean_filename(job.output_filename or f"{job.operation}_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    info = await probe(video, "url_video")
    with ctx.timed("process"):
        recipe = plan(video, info, ctx.workdir, fonts_dir)
        duration = recipe.picture.duration or require_duration(info, "url_video")
        warnings = await write(recipe, duration)
        if recipe.audio is not None and not copies_audio(recipe.audio):
            warnings.append(f"url_video: its {recipe.audio.codec_name} audio cannot be copied into MP4 and was "
                            "re-encoded to AAC.")
        encoder = await ctx.encode(lambda enc: argv(recipe, enc), step="Burning in the captions", duration=duration,
                                   timeout=step_timeout(duration, 30.0))
        result = await probe_output(recipe.output)
    stored, = await ctx.upload([(recipe.output, key)])
    return {**single_output(message, stored, filename, result), **encoder.describe(), "warnings": warnings}


OPERATION = Operation(name="caption", input_model=CaptionInput, run=run)
