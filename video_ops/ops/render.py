"""render: a whole narrated video in one job: scenes, transitions, narration, music, captions, one encode.

The picture is composed in Python as one stream of raw frames (image scenes cut by img2vid's shot
code, video scenes decoded and fitted by FFmpeg, transitions blended between them) and streamed
into a single FFmpeg that burns the captions, mixes the audio and encodes once. Memory stays at a
few scenes whatever the length; every input is downloaded and checked before the encode starts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.base.settings import env_int
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, Operation, UrlField
from video_ops.jobkit.results import single_output
from video_ops.media import images
from video_ops.media.canvas import COLOUR_TAGS, Canvas
from video_ops.media.compose import Placement, SceneError, SourceOpener, Timeline, Transition, place
from video_ops.media.decoded import DecodedFrames
from video_ops.media.encoders import AAC_ARGS, Encoder
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.framefeed import frame_feed
from video_ops.media.motion import Fit, Motion
from video_ops.media.probe import MediaInfo, Stream, probe, require_audio, require_duration, require_video
from video_ops.media.shots import Shot, paint, plan_shot, shot_frame
from video_ops.media.timing import exact_rate, frame_counts
from video_ops.ops.img2vid import Colour

DEFAULT_MAX_SCENES = 500
SECONDS_PER_VIDEO_SECOND = 40.0  # timeout budget per second of output: far above what 1080p costs here


class Scene(StrictModel):
    """An image shown for `duration` seconds (with an img2vid camera move), or a piece of a video clip."""

    image_url: UrlField | None = None
    video_url: UrlField | None = None
    duration: float | None = Field(None, validation_alias=AliasChoices("duration", "duracao"), gt=0, le=3600)
    motion: Motion = Field("none", validation_alias=AliasChoices("motion", "zoom_type"))
    fit: Fit | None = None
    background: Colour = (0, 0, 0)
    trim_start: float = Field(0.0, ge=0, le=24 * 3600)
    volume: float | None = Field(None, ge=0, le=10)

    @model_validator(mode="after")
    def _one_source(self) -> Scene:
        if (self.image_url is None) == (self.video_url is None):
            raise ValueError("give either 'image_url' or 'video_url'")
        if self.image_url is not None:
            if self.duration is None:
                raise ValueError("an image scene needs 'duration'")
            if self.trim_start or self.volume is not None:
                raise ValueError("'trim_start' and 'volume' apply to video scenes only")
        elif self.motion != "none":
            raise ValueError("'motion' applies to image scenes only")
        return self

    @property
    def kind(self) -> Literal["image", "video"]:
        return "image" if self.image_url is not None else "video"

    @property
    def url(self) -> str:
        return self.image_url or self.video_url or ""


class TransitionOptions(StrictModel):
    type: Transition = "none"
    duration: float = Field(0.5, gt=0, le=5)


class NarrationOptions(StrictModel):
    url: UrlField
    volume: float = Field(1.0, ge=0, le=10)


class RenderInput(JobInput):
    operation: Literal["render"]
    output_filename: str | None = None
    width: int = Field(1920, ge=16, le=4096)
    height: int = Field(1080, ge=16, le=4096)
    frame_rate: float = Field(30, ge=1, le=120)
    scenes: list[Scene] = Field(min_length=1)
    transition: TransitionOptions = TransitionOptions()
    narration: NarrationOptions | None = None
    fit_to_narration: bool = False

    @field_validator("scenes", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        limit = env_int("VIDEO_OPS_MAX_SCENES", DEFAULT_MAX_SCENES)
        if isinstance(value, list) and len(value) > limit:
            raise ValueError(f"at most {limit} scenes per job (raise it with VIDEO_OPS_MAX_SCENES)")
        return value

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError("must be an even number (H.264 4:2:0 video has even sizes)")
        return value

    @model_validator(mode="after")
    def _narration_to_fit(self) -> RenderInput:
        if self.fit_to_narration and self.narration is None:
            raise ValueError("'fit_to_narration' needs a 'narration'")
        return self


@dataclass(frozen=True)
class Inputs:
    """Every downloaded file, checked: what each scene is, and the narration."""

    files: dict[str, Path]
    images: dict[int, images.ImageInfo]
    clips: dict[int, Stream]
    narration: MediaInfo | None

    def scene_file(self, position: int) -> Path:
        return self.files[scene_field(position)]


@dataclass(frozen=True)
class Plan:
    """The timeline in frames: each scene's length and place, the transition overlap, the total."""

    rate: Fraction
    counts: list[int]
    overlap: int
    warnings: list[str]

    @property
    def placements(self) -> list[Placement]:
        return place(self.counts, self.overlap)

    @property
    def frames(self) -> int:
        return sum(self.counts) - self.overlap * (len(self.counts) - 1)

    @property
    def seconds(self) -> float:
        return float(self.frames / self.rate)


def scene_field(position: int) -> str:
    return f"scenes[{position}]"


async def run(ctx: JobContext, job: RenderInput) -> dict:
    filename = clean_filename(job.output_filename or f"render_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    inputs = await _download_and_check(ctx, job)
    plan = plan_timeline(job, inputs)
    output = ctx.workdir / "output.mp4"
    with ctx.timed("process"):
        encoder = await _encode(ctx, job, inputs, plan, output)
        result = await probe(output, "output")
    stored, = await ctx.upload([(output, key)])
    return {
        **single_output("Video rendered successfully", stored, filename, result),
        "frames": plan.frames,
        "scenes": describe_scenes(job, plan),
        **encoder.describe(),
        "warnings": plan.warnings,
    }


async def _download_and_check(ctx: JobContext, job: RenderInput) -> Inputs:
    """All inputs at once; then every header, so a bad scene fails the job before any encoding."""
    urls = {scene_field(k): scene.url for k, scene in enumerate(job.scenes)}
    if job.narration is not None:
        urls["narration.url"] = job.narration.url
    files = await ctx.download(urls)
    image_infos: dict[int, images.ImageInfo] = {}
    clips: dict[int, Stream] = {}

    async def check(position: int, scene: Scene) -> None:
        field = scene_field(position)
        path = files[field]
        if scene.kind == "image":
            try:
                image_infos[position] = await asyncio.to_thread(images.inspect, path)
            except JobError as err:
                raise JobError(f"{field}: {err}") from None
        else:
            clips[position] = require_video(await probe(path, field), field)

    async def check_narration() -> MediaInfo | None:
        if job.narration is None:
            return None
        info = await probe(files["narration.url"], "narration.url")
        require_audio(info, "narration.url")
        return info

    *_, narration = await asyncio.gather(*(check(k, s) for k, s in enumerate(job.scenes)), check_narration())
    return Inputs(files, image_infos, clips, narration)


def plan_timeline(job: RenderInput, inputs: Inputs) -> Plan:
    """Scene lengths in whole frames, overlapped by the transition, optionally stretched to the narration."""
    rate = exact_rate(job.frame_rate)
    warnings: list[str] = []
    durations = [_scene_seconds(job, inputs, k, warnings) for k in range(len(job.scenes))]
    overlap = 0
    if job.transition.type != "none" and len(job.scenes) > 1:
        overlap = max(1, round(job.transition.duration * rate))
    if job.fit_to_narration:
        assert inputs.narration is not None
        narration_s = Fraction(str(require_duration(inputs.narration, "narration.url")))
        target = round(narration_s * rate) + overlap * (len(durations) - 1)
        factor = Fraction(target) / rate / sum(durations, Fraction(0))
        durations = [d * factor for d in durations]
    counts = frame_counts(durations, rate)
    for position, frames in enumerate(counts):
        needed = max(1, 2 * overlap if len(counts) > 1 else 1)
        if frames < needed:
            seconds = float(durations[position])
            raise JobError(
                f"{scene_field(position)}.duration: {seconds:.3g} s is {frames} frames at {job.frame_rate:g} fps; "
                f"a scene needs at least {needed} (" + ("twice the transition" if overlap else "one frame") + ")."
            )
    return Plan(rate, counts, overlap, warnings)


def _scene_seconds(job: RenderInput, inputs: Inputs, position: int, warnings: list[str]) -> Fraction:
    scene = job.scenes[position]
    if scene.kind == "image":
        return Fraction(str(scene.duration))
    field = scene_field(position)
    clip = inputs.clips[position]
    available = clip.duration or 0.0
    if scene.trim_start >= available > 0:
        raise JobError(f"{field}.trim_start: {scene.trim_start:g} s is past the clip's end ({available:.3f} s).")
    left = available - scene.trim_start
    if scene.duration is None:
        if left <= 0:
            raise JobError(f"{field}: the clip's duration is unknown; give the scene a 'duration'.")
        return Fraction(str(round(left, 6)))
    if left > 0 and scene.duration > left + 1e-3:
        warnings.append(f"{field}: the clip has {left:.3f} s after trim_start, less than the scene's "
                        f"{scene.duration:g} s; its last frame is held.")
    return Fraction(str(scene.duration))


def describe_scenes(job: RenderInput, plan: Plan) -> list[dict[str, Any]]:
    """Where each scene starts and ends in the output, in seconds (transitions overlap neighbours)."""
    return [
        {"index": k, "type": scene.kind, "start": round(float(p.start / plan.rate), 6),
         "end": round(float(p.end / plan.rate), 6), "frames": p.frames}
        for k, (scene, p) in enumerate(zip(job.scenes, plan.placements, strict=True))
    ]


class StillScene:
    """An image scene: the canvas is painted when the scene opens and freed when it closes."""

    def __init__(self, path: Path, info: images.ImageInfo, shot: Shot, background: tuple[int, int, int],
                 frames: int) -> None:
        self.shot, self.frames = shot, frames
        self.canvas: Canvas | None = paint(path, info, shot, background)
        self._still: memoryview | None = None

    def frame(self, index: int) -> memoryview:
        assert self.canvas is not None
        if self.shot.still:  # one cut serves every frame of a still scene
            if self._still is None:
                self._still = shot_frame(self.canvas, self.shot, 0, self.frames)
            return self._still
        return shot_frame(self.canvas, self.shot, index, self.frames)

    def close(self) -> None:
        self.canvas, self._still = None, None


def clip_decoder_args(path: Path, clip: Stream, scene: Scene, size: tuple[int, int], rate: Fraction,
                      frames: int) -> list[str]:
    """Decode `frames` frames of the clip from `trim_start`, fitted to the frame, as raw yuv420p."""
    w, h = size
    fit = scene.fit or "contain"
    colour = "0x{:02x}{:02x}{:02x}".format(*scene.background)
    # Frames join canvases made in BT.709 limited range (COLOUR_TAGS), so the clip's colours are converted
    # to it from whatever the clip is tagged with (untagged: what swscale assumes, BT.601).
    colours = "out_color_matrix=bt709:out_range=tv"
    if fit == "cover":
        shape = f"scale={w}:{h}:force_original_aspect_ratio=increase:{colours},crop={w}:{h}"
    else:
        shape = (f"scale={w}:{h}:force_original_aspect_ratio=decrease:{colours},"
                 f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={colour}")
    chain = f"fps={rate.numerator}/{rate.denominator},{shape},setsar=1,format=yuv420p"
    return ["-ss", f"{scene.trim_start:.6f}", "-i", str(path), "-map", f"0:{clip.index}", "-vf", chain,
            "-frames:v", str(frames), "-f", "rawvideo", "-pix_fmt", "yuv420p"]


def scene_openers(job: RenderInput, inputs: Inputs, plan: Plan, workdir: Path) -> list[SourceOpener]:
    size = (job.width, job.height)
    frame_bytes = job.width * job.height * 3 // 2
    openers: list[SourceOpener] = []
    for position, (scene, frames) in enumerate(zip(job.scenes, plan.counts, strict=True)):
        path = inputs.scene_file(position)
        if scene.kind == "image":
            info = inputs.images[position]
            shot = plan_shot(info, size, scene.fit or "cover", scene.motion)
            openers.append(lambda p=path, i=info, s=shot, b=scene.background, n=frames: StillScene(p, i, s, b, n))
        else:
            args = clip_decoder_args(path, inputs.clips[position], scene, size, plan.rate, frames)
            openers.append(lambda a=args: DecodedFrames(a, frame_bytes, workdir))
    return openers


def encode_args(url: str, job: RenderInput, inputs: Inputs, plan: Plan, output: Path, encoder: Encoder) -> list[str]:
    """Input 0: the composed frames; input 1: the narration, if any. Audio always comes out (silence
    when there is nothing to hear), exactly as long as the picture."""
    rate = f"{plan.rate.numerator}/{plan.rate.denominator}"
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{job.width}x{job.height}",
            "-framerate", rate, "-i", url]
    if job.narration is not None:
        args += ["-i", str(inputs.files["narration.url"])]
        audio = f"[1:a]volume={job.narration.volume:g},apad[aout]"
    else:
        args += ["-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=48000"]
        audio = "[1:a]anull[aout]"
    # No `-frames:v`: the feed sends exactly the plan's frames, and in FFmpeg 5.1 a stream reaching its
    # frame limit ends the whole output, cutting the audio short; `-t` ends both streams exactly.
    args += ["-filter_complex", audio, "-map", "0:v", "-map", "[aout]",
             *encoder.video_args(), "-r", rate, *COLOUR_TAGS,
             *AAC_ARGS, "-t", f"{plan.seconds:.6f}", "-movflags", "+faststart", str(output)]
    return args


async def _encode(ctx: JobContext, job: RenderInput, inputs: Inputs, plan: Plan, output: Path) -> Encoder:
    timeline = Timeline(plan.placements, scene_openers(job, inputs, plan, ctx.workdir), job.transition.type,
                        plan.overlap, (job.width, job.height))
    try:
        async with frame_feed(plan.frames, timeline.frame) as url:
            return await ctx.encode(
                lambda encoder: encode_args(url, job, inputs, plan, output, encoder),
                step="rendering", timeout=step_timeout(plan.seconds, SECONDS_PER_VIDEO_SECOND),
                duration=plan.seconds,
            )
    except SceneError as err:
        cause = err.cause
        raise JobError(f"{scene_field(err.position)}: {cause}") from None
    finally:
        await asyncio.to_thread(timeline.close)


OPERATION = Operation(name="render", input_model=RenderInput, run=run)
