"""The render job: download and plan, prepare captions and sound, then one FFmpeg fed the composed
frames encodes everything once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from video_ops.base.errors import JobError
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import Operation
from video_ops.jobkit.results import single_output
from video_ops.media import audio
from video_ops.media.canvas import COLOUR_TAGS
from video_ops.media.compose import SceneError, Timeline
from video_ops.media.encoders import AAC_ARGS, Encoder
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.framefeed import frame_feed
from video_ops.media.probe import probe
from video_ops.ops.caption import SCRIPT_NAME, filter_value
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


async def run(ctx: JobContext, job: RenderInput) -> dict:
    filename = clean_filename(job.output_filename or f"render_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    inputs = await download_and_check(ctx, job)
    plan = plan_timeline(job, inputs)
    output = ctx.workdir / "output.mp4"
    with ctx.timed("process"):
        extras = await _prepare_extras(ctx, job, inputs, plan)
        encoder = await _encode(ctx, job, inputs, plan, extras, output)
        result = await probe(output, "output")
    stored, = await ctx.upload([(output, key)])
    return {
        **single_output("Video rendered successfully", stored, filename, result),
        "frames": plan.frames,
        "scenes": describe_scenes(job, plan),
        **extras.counts,
        **({"transcription": extras.heard} if extras.heard else {}),
        **({"audio_analysis": extras.soundtrack.analysis(), "loops_applied": extras.soundtrack.bed.loops}
           if extras.soundtrack else {}),
        **encoder.describe(),
        "warnings": [*plan.warnings, *extras.warnings],
    }


async def _prepare_extras(ctx: JobContext, job: RenderInput, inputs: Inputs, plan: Plan) -> Extras:
    layout = mix_layout(inputs)
    captions, heard = None, None
    if job.captions is not None:
        source = inputs.files.get(job.captions.field)
        if job.captions.from_narration:
            source, heard = await narration_words(ctx, job.captions, inputs.files[NARRATION])
        assert source is not None
        captions = await write_captions(job.captions, source, plan.seconds, (job.width, job.height),
                                        ctx.workdir / SCRIPT_NAME)
    return Extras(layout, captions, await plan_music(ctx, job, inputs, plan, layout), heard)


def encode_args(url: str, job: RenderInput, inputs: Inputs, plan: Plan, extras: Extras, output: Path,
                encoder: Encoder) -> list[str]:
    """Input 0: the composed frames; then the narration, the music and the clips' sound. The sound always
    comes out (silence when there is nothing to hear), exactly as long as the picture."""
    rate = f"{plan.rate.numerator}/{plan.rate.denominator}"
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{job.width}x{job.height}",
            "-framerate", rate, "-i", url]
    extra_inputs, numbers = sound_inputs(job, inputs)
    args += [part for one in extra_inputs for part in one]
    graph = audio_graph(job, inputs, plan, extras.soundtrack, extras.layout, numbers)
    if graph is None:
        args += ["-f", "lavfi", "-i", f"anullsrc=channel_layout=stereo:sample_rate={audio.SAMPLE_RATE}"]
        graph = f"[{len(extra_inputs) + 1}:a]anull[aout]"
    picture = "[0:v]null[vout]"
    if extras.captions is not None:
        picture = f"[0:v]ass=filename={filter_value(str(extras.captions.path))}[vout]"
    # No `-frames:v`: the feed sends exactly the plan's frames, and in FFmpeg 5.1 a stream reaching its
    # frame limit ends the whole output, cutting the sound short; `-t` ends both streams exactly.
    args += ["-filter_complex", f"{picture};{graph}", "-map", "[vout]", "-map", "[aout]",
             *encoder.video_args(), "-r", rate, *COLOUR_TAGS,
             *AAC_ARGS, "-t", f"{plan.seconds:.6f}", "-movflags", "+faststart", str(output)]
    return args


async def _encode(ctx: JobContext, job: RenderInput, inputs: Inputs, plan: Plan, extras: Extras,
                  output: Path) -> Encoder:
    timeline = Timeline(plan.placements, scene_openers(job, inputs, plan, ctx.workdir), job.transition.type,
                        plan.overlap, (job.width, job.height))
    try:
        async with frame_feed(plan.frames, timeline.frame) as url:
            return await ctx.encode(
                lambda encoder: encode_args(url, job, inputs, plan, extras, output, encoder),
                step="rendering", timeout=step_timeout(plan.seconds, SECONDS_PER_VIDEO_SECOND),
                duration=plan.seconds,
            )
    except SceneError as err:
        raise JobError(f"{scene_field(err.position)}: {err.cause}") from None
    finally:
        await asyncio.to_thread(timeline.close)


OPERATION = Operation(name="render", input_model=RenderInput, run=run)
