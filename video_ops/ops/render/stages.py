"""A render's stages: the whole timeline in one job, or split across workers (docs/render.md): its
timeline alone (`plan_only`), its sound mixed once for the whole timeline (`sound_only`), the picture of
one frame range (`part`), and the parts' pictures and that sound copied together (`join`)."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path

from video_ops.base.errors import JobError
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import Operation
from video_ops.jobkit.results import single_output
from video_ops.media.encoders import AAC_ARGS
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.probe import probe, probe_output
from video_ops.ops.render.job import (
    encode_picture,
    music_result,
    prepare_extras,
    run_whole,
    sound_args,
    whole_result,
)
from video_ops.ops.render.model import JOIN_SOUND, MUSIC, NARRATION, RenderInput, join_field, scene_field
from video_ops.ops.render.plan import (
    caption_fields,
    describe_scenes,
    download_and_check,
    plan_timeline,
    planning_fields,
)

SOUND_SECONDS_PER_VIDEO_SECOND = 3.0  # timeout budget: decoding and mixing, far above what it costs here
JOIN_SECONDS_PER_VIDEO_SECOND = 1.0  # the join only copies: its time is I/O
SOUND_TOLERANCE_S = 0.05  # how far the sound's stated length may be from the timeline's: AAC's framing


def part_filename(filename: str, index: int) -> str:
    """The part's object beside the final video: `final.part002.mp4`."""
    return f"{filename.removesuffix('.mp4')}.part{index:03d}.mp4"


def sound_filename(filename: str) -> str:
    """The sound's object beside the final video: `final.sound.m4a`."""
    return f"{filename.removesuffix('.mp4')}.sound.m4a"


async def run(ctx: JobContext, job: RenderInput) -> dict:
    stages = {"whole": run_whole, "plan": run_plan, "sound": run_sound, "part": run_part, "join": run_join}
    return await stages[job.stage](ctx, job)


async def run_plan(ctx: JobContext, job: RenderInput) -> dict:
    """The timeline in frames, from what it depends on only, for a caller that cuts it into parts."""
    plan = plan_timeline(job, await download_and_check(ctx, job, planning_fields(job)))
    return {"message": "Timeline planned", "frames": plan.frames, "overlap": plan.overlap,
            "frame_rate": f"{plan.rate.numerator}/{plan.rate.denominator}", "duration": round(plan.seconds, 6),
            "scenes": describe_scenes(job, plan), "warnings": plan.warnings}


async def run_sound(ctx: JobContext, job: RenderInput) -> dict:
    """The narration, music, ducking and clip sound mixed once over the whole timeline (loudness measured
    over the whole), beside the parts, so the join only copies it."""
    assert job.output_filename is not None
    filename = sound_filename(clean_filename(job.output_filename))
    heard = {NARRATION, MUSIC} | {scene_field(k) for k, scene in enumerate(job.scenes) if scene.kind == "video"}
    inputs = await download_and_check(ctx, job, heard)
    plan = plan_timeline(job, inputs)
    output = ctx.workdir / "sound.m4a"
    with ctx.timed("process"):
        extras = await prepare_extras(ctx, job, inputs, plan, with_captions=False)
        sound_in, graph = sound_args(job, inputs, plan, extras, first=0)
        await ctx.ffmpeg([*sound_in, "-filter_complex", graph, "-map", "[aout]", *AAC_ARGS,
                          "-t", f"{plan.seconds:.6f}", str(output)],
                         step="mixing", duration=plan.seconds,
                         timeout=step_timeout(plan.seconds, SOUND_SECONDS_PER_VIDEO_SECOND))
        result = await probe_output(output)
    stored, = await ctx.upload([(output, join_key(clean_prefix(job.path), filename))], "audio/mp4")
    return {"message": "Sound mixed", "audio_url": stored.url, "filename": filename, "s3_key": stored.key,
            "duration": result.duration, "size_bytes": stored.size_bytes, **music_result(extras.soundtrack)}


async def run_part(ctx: JobContext, job: RenderInput) -> dict:
    """One frame range of the planned timeline, video only, starting on a key frame: the join copies it."""
    assert job.part is not None and job.output_filename is not None
    part = job.part
    filename = part_filename(clean_filename(job.output_filename), part.index)
    inputs = await download_and_check(ctx, job, planning_fields(job))
    plan = plan_timeline(job, inputs)
    if part.end_frame > plan.frames:
        raise JobError(f"part.end_frame: {part.end_frame} is past the timeline's {plan.frames} frames.")
    frames = range(part.start_frame, part.end_frame)
    shown = {scene_field(k) for k, p in enumerate(plan.placements)
             if p.start < frames.stop and p.end > frames.start and job.scenes[k].kind == "image"}
    inputs = inputs.adding(await download_and_check(ctx, job, (shown | caption_fields(job)) - inputs.files.keys()))
    output = ctx.workdir / "part.mp4"
    with ctx.timed("process"):
        extras = await prepare_extras(ctx, job, inputs, plan, sound=False)
        encoder = await encode_picture(ctx, job, inputs, plan, extras, output, frames)
        result = await probe_output(output)
    stored, = await ctx.upload([(output, join_key(clean_prefix(job.path), filename))])
    return {**single_output("Part rendered", stored, filename, result), "frames": len(frames),
            "part": part.model_dump(), **encoder.describe()}


async def run_join(ctx: JobContext, job: RenderInput) -> dict:
    """The parts' pictures and the sound job's sound copied together (nothing is encoded again); the part
    and sound objects are removed once the video is stored."""
    assert job.join is not None and job.output_filename is not None
    filename, prefix = clean_filename(job.output_filename), clean_prefix(job.path)
    joined = {join_field(k) for k in range(len(job.join.parts))} | {JOIN_SOUND}
    inputs = await download_and_check(ctx, job, planning_fields(job) | joined | caption_fields(job))
    plan = plan_timeline(job, inputs)
    parts, sound = [inputs.files[join_field(k)] for k in range(len(job.join.parts))], inputs.files[JOIN_SOUND]
    output = ctx.workdir / "output.mp4"
    with ctx.timed("process"):
        await _check_sound(sound, plan.seconds)
        await _check_parts(parts, job, plan.frames, plan.rate)
        extras = await prepare_extras(ctx, job, inputs, plan, sound=False)  # the captions' counts
        listing = ctx.workdir / "parts.ffconcat"
        listing.write_text("ffconcat version 1.0\n" + "".join(f"file '{_quoted(part.resolve())}'\n" for part in parts))
        await ctx.ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(sound), "-map", "0:v",
                          "-map", "1:a", "-c", "copy", "-movflags", "+faststart", str(output)],
                         step="joining", duration=plan.seconds,
                         timeout=step_timeout(plan.seconds, JOIN_SECONDS_PER_VIDEO_SECOND))
        result = await probe_output(output)
    stored, = await ctx.upload([(output, join_key(prefix, filename))])
    made = [part_filename(filename, k) for k in range(len(parts))] + [sound_filename(filename)]
    await asyncio.gather(*(ctx.storage.delete(join_key(prefix, name)) for name in made), return_exceptions=True)
    return {**whole_result(job, plan, extras, stored, filename, result), "parts": len(parts)}


async def _check_parts(parts: list[Path], job: RenderInput, frames: int, rate: Fraction) -> None:
    """Every part a video of the render's size, together exactly the timeline's frames."""
    total = 0
    for k, path in enumerate(parts):
        picture = (await probe(path, join_field(k))).video
        if picture is None or (picture.width, picture.height) != (job.width, job.height):
            raise JobError(f"{join_field(k)}: not a {job.width}x{job.height} part of this render.")
        total += round(Fraction(picture.duration or 0.0) * rate)
    if total != frames:
        raise JobError(f"join.parts: the parts hold {total} frames, the timeline {frames}; "
                       "they are not this render's parts.")


async def _check_sound(sound: Path, seconds: float) -> None:
    """The sound job's sound: audio, as long as the timeline."""
    heard = (await probe(sound, JOIN_SOUND)).audio
    if heard is None or abs((heard.duration or 0.0) - seconds) > SOUND_TOLERANCE_S:
        raise JobError(f"{JOIN_SOUND}: not this render's sound (the timeline is {seconds:.3f} s long).")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "'\\''")


OPERATION = Operation(name="render", input_model=RenderInput, run=run)
