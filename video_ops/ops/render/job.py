"""The render of a whole timeline: download and plan, prepare captions and sound, then one FFmpeg fed the
composed frames encodes everything once; its pieces also make a split render's parts and join."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from video_ops.base.errors import JobError
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.io.storage import StoredObject
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.results import single_output
from video_ops.media import audio
from video_ops.media.canvas import COLOUR_TAGS
from video_ops.media.compose import Placement, SceneError, Timeline
from video_ops.media.encoders import AAC_ARGS, Encoder
from video_ops.media.ffmpeg import filter_value, step_timeout
from video_ops.media.framefeed import frame_feed
from video_ops.media.probe import MediaInfo, probe_output
from video_ops.ops.caption import SCRIPT_NAME
from video_ops.ops.render.captions import CaptionScript, narration_words, write_captions
from video_ops.ops.render.model import NARRATION, RenderInput, scene_field
from video_ops.ops.render.picture import scene_openers
from video_ops.ops.render.plan import Inputs, Plan, describe_scenes, download_and_check, plan_timeline
from video_ops.ops.render.sound import audio_graph, mix_layout, plan_music, sound_inputs
from video_ops.ops.trilhasonora import MusicUnderVoice

SECONDS_PER_VIDEO_SECOND = 40.0  # timeout budget per second of output: far above what 1080p costs here


@dataclass(frozen=True)
class Extras:
    """What burns in and sounds beside the picture, prepared before the encode."""

    layout: str
    captions: CaptionScript | None
    soundtrack: MusicUnderVoice | None
    heard: dict[str, Any] | None  # the narration's transcription, for captions `from_narration`

    @property
    def counts(self) -> dict[str, int]:
        return self.captions.counts if self.captions else {}

    @property
    def warnings(self) -> list[str]:
        return self.captions.warnings if self.captions else []


async def run_whole(ctx: JobContext, job: RenderInput) -> dict:
    filename = clean_filename(job.output_filename or f"render_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    inputs = await download_and_check(ctx, job)
    plan = plan_timeline(job, inputs)
    output = ctx.workdir / "output.mp4"
    with ctx.timed("process"):
        extras = await prepare_extras(ctx, job, inputs, plan)
        encoder = await encode_picture(ctx, job, inputs, plan, extras, output, range(plan.frames))
        result = await probe_output(output)
    stored, = await ctx.upload([(output, key)])
    return {**whole_result(job, plan, extras, stored, filename, result), **encoder.describe()}


def whole_result(job: RenderInput, plan: Plan, extras: Extras, stored: StoredObject, filename: str,
                 output: MediaInfo) -> dict:
    """The render's result, the same whether it was made in one job or joined from parts."""
    return {
        **single_output("Video rendered successfully", stored, filename, output),
        "frames": plan.frames,
        "scenes": describe_scenes(job, plan),
        **extras.counts,
        **({"transcription": extras.heard} if extras.heard else {}),
        **music_result(extras.soundtrack),
        "warnings": [*plan.warnings, *extras.warnings],
    }


def music_result(soundtrack: MusicUnderVoice | None) -> dict:
    """What the result says of the music under the narration; a split render's sound job says it too."""
    if soundtrack is None:
        return {}
    return {"audio_analysis": soundtrack.analysis(), "loops_applied": soundtrack.bed.loops}


async def prepare_extras(ctx: JobContext, job: RenderInput, inputs: Inputs, plan: Plan, *,
                         sound: bool = True, with_captions: bool = True) -> Extras:
    """The captions' script for the whole timeline (unless `with_captions` is False) and, with `sound`, the music's
    plan."""
    layout = mix_layout(inputs)
    captions, heard = None, None
    if job.captions is not None and with_captions:
        source = inputs.files.get(job.captions.field)
        if job.captions.from_narration:
            source, heard = await narration_words(ctx, job.captions, inputs.files[NARRATION])
        assert source is not None
        captions = await write_captions(job.captions, source, plan.seconds, (job.width, job.height),
                                        ctx.workdir / SCRIPT_NAME)
    return Extras(layout, captions, await plan_music(ctx, job, inputs, plan, layout) if sound else None, heard)


def sound_args(job: RenderInput, inputs: Inputs, plan: Plan, extras: Extras,
               first: int = 1) -> tuple[list[str], str]:
    """The audio inputs, numbered from `first` (after the picture, input 0, in the encode), and the graph ending
    in `[aout]`: silence when there is nothing to hear."""
    extra_inputs, numbers = sound_inputs(job, inputs, first)
    args = [part for one in extra_inputs for part in one]
    graph = audio_graph(job, inputs, plan, extras.soundtrack, extras.layout, numbers)
    if graph is None:
        args += ["-f", "lavfi", "-i", f"anullsrc=channel_layout=stereo:sample_rate={audio.SAMPLE_RATE}"]
        graph = f"[{first + len(extra_inputs)}:a]anull[aout]"
    return args, graph


def encode_args(url: str, job: RenderInput, inputs: Inputs, plan: Plan, extras: Extras, output: Path,
                encoder: Encoder, frames: range) -> list[str]:
    """Input 0: the composed frames of `frames`; for the whole timeline, then the narration, the music and
    the clips' sound, exactly as long as the picture. A part is picture only (its sound is made once, by
    the split's sound job), its frames stamped with their timeline times while the captions burn in, so a cue over
    the cut shows on both sides of it."""
    rate = f"{plan.rate.numerator}/{plan.rate.denominator}"
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{job.width}x{job.height}",
            "-framerate", rate, "-i", url]
    whole = frames == range(plan.frames)
    picture = "[0:v]null[vout]"
    if extras.captions is not None:
        burn = f"ass=filename={filter_value(str(extras.captions.path))}"
        picture = (f"[0:v]{burn}[vout]" if whole else
                   f"[0:v]setpts=PTS+round({frames.start * plan.rate.denominator}/({plan.rate.numerator}*TB)),"
                   f"{burn},setpts=PTS-STARTPTS[vout]")  # rounded: setpts truncates, 47.99.. would be 47
    if whole:
        sound_in, graph = sound_args(job, inputs, plan, extras)
        args += [*sound_in, "-filter_complex", f"{picture};{graph}", "-map", "[vout]", "-map", "[aout]", *AAC_ARGS]
    else:
        args += ["-filter_complex", picture, "-map", "[vout]", "-an"]
    # No `-frames:v`: the feed sends exactly the plan's frames, and in FFmpeg 5.1 a stream reaching its
    # frame limit ends the whole output, cutting the sound short; `-t` ends both streams exactly.
    args += [*encoder.video_args(), "-r", rate, *COLOUR_TAGS, "-t", f"{float(len(frames) / plan.rate):.6f}",
             "-movflags", "+faststart", str(output)]
    return args


async def encode_picture(ctx: JobContext, job: RenderInput, inputs: Inputs, plan: Plan, extras: Extras,
                         output: Path, frames: range) -> Encoder:
    """The frames of `frames` composed and encoded; only the scenes on screen in them are opened."""
    placements = plan.placements
    shown = [k for k, p in enumerate(placements) if p.start < frames.stop and p.end > frames.start]
    first, origin = shown[0], placements[shown[0]].start
    timeline = Timeline([Placement(p.start - origin, p.frames) for p in placements[first: shown[-1] + 1]],
                        scene_openers(job, inputs, plan, ctx.workdir, range(first, shown[-1] + 1)),
                        job.transition.type, plan.overlap, (job.width, job.height))
    seconds = len(frames) / plan.rate
    try:
        async with frame_feed(len(frames), lambda index: timeline.frame(frames.start - origin + index)) as url:
            return await ctx.encode(
                lambda encoder: encode_args(url, job, inputs, plan, extras, output, encoder, frames),
                step="rendering", timeout=step_timeout(float(seconds), SECONDS_PER_VIDEO_SECOND),
                duration=float(seconds),
            )
    except SceneError as err:
        raise JobError(f"{scene_field(first + err.position)}: {err.cause}") from None
    finally:
        await asyncio.to_thread(timeline.close)


