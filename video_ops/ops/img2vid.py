"""img2vid: every image becomes its own MP4 clip, exactly as long as asked, still or with a camera move.

Per image: download (as many at once as the job's download slots allow), read the header, then
decode and resample with Pillow, cut each frame with OpenCV and stream raw frames to FFmpeg, which
only encodes. An image renders as soon as it is here, while later ones still download; clips render
in parallel, as many as there are cores (and encoder sessions); the first failure (a missing or
broken image among 500 included) stops the others and nothing is uploaded.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from PIL import ImageColor
from pydantic import AliasChoices, BeforeValidator, Field, field_validator

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.base.settings import env_float, env_int
from video_ops.base.tasks import all_or_nothing
from video_ops.io.keys import check_segment, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import FrameSide, JobInput, Operation, UrlField, within_limit
from video_ops.media import images
from video_ops.media.canvas import COLOUR_TAGS
from video_ops.media.encoders import Encoder
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.framefeed import frame_feed
from video_ops.media.motion import Fit, Motion
from video_ops.media.shots import paint, plan_shot, shot_frame
from video_ops.media.timing import exact_rate, frame_counts

DEFAULT_MAX_IMAGES = 500
DEFAULT_MAX_CLIP_SECONDS = 3600.0
# NVIDIA's consumer cards allow 8 NVENC sessions at once (older drivers 3-5); CPU encoding is bounded
# by the cores anyway. Lower it on cards with fewer sessions.
DEFAULT_PARALLEL_RENDERS = 8
SECONDS_PER_CLIP_SECOND = 30.0  # timeout budget: far above the ~1.5 s a 1080p second costs on one core


def _colour(value: Any) -> tuple[int, int, int]:
    """`black`, `#202020`, `rgb(10,20,30)`...: any CSS colour Pillow knows, without transparency."""
    if not isinstance(value, str):
        raise ValueError("must be a colour name or #RRGGBB")
    try:
        parsed = ImageColor.getrgb(value.strip())
    except ValueError:
        raise ValueError("must be a colour name or #RRGGBB") from None
    if len(parsed) == 4 and parsed[3] != 255:
        raise ValueError("must be an opaque colour")
    return parsed[0], parsed[1], parsed[2]


Colour = Annotated[tuple[int, int, int], BeforeValidator(_colour)]


class ImageItem(StrictModel):
    id: str = Field(min_length=1, max_length=255)
    image_url: UrlField
    duration: float = Field(validation_alias=AliasChoices("duracao", "duration"), gt=0)

    @field_validator("duration")
    @classmethod
    def _within_limit(cls, value: float) -> float:
        limit = env_float("VIDEO_OPS_MAX_CLIP_SECONDS", DEFAULT_MAX_CLIP_SECONDS)
        if value > limit:
            raise ValueError(f"at most {limit:g} s per clip (raise it with VIDEO_OPS_MAX_CLIP_SECONDS)")
        return value


class Img2VidInput(JobInput):
    operation: Literal["img2vid"]
    images: list[ImageItem] = Field(min_length=1)
    frame_rate: float = Field(24, ge=1, le=120)
    start_index: int = Field(0, ge=0, le=10_000_000)
    width: FrameSide | None = None
    height: FrameSide | None = None
    fit: Fit = "cover"
    background: Colour = (0, 0, 0)
    zoom_types: list[Motion] = Field(default_factory=list, max_length=DEFAULT_MAX_IMAGES)

    @field_validator("images", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        return within_limit(value, "VIDEO_OPS_MAX_IMAGES", DEFAULT_MAX_IMAGES, "images")


@dataclass(frozen=True)
class Clip:
    """One image's clip: where it sits in the job, how many frames, which move."""

    position: int
    number: int
    image_id: str
    frames: int
    motion: Motion

    @property
    def field(self) -> str:
        return f"images[{self.position}]"

    @property
    def label(self) -> str:
        """How errors name the image: by position and by the caller's id."""
        return f"{self.field} (id {self.image_id!r})"

    @property
    def filename(self) -> str:
        return f"video_{self.number}.mp4"


def frame_size(job: Img2VidInput) -> tuple[int, int]:
    if (job.width is None) != (job.height is None):
        raise JobError("Invalid input: give both 'width' and 'height' (e.g. 1080 and 1920 for vertical), or neither.")
    return (job.width or 1920, job.height or 1080)


def frame_rate(job: Img2VidInput) -> Fraction:
    return exact_rate(job.frame_rate)


def plan(job: Img2VidInput) -> list[Clip]:
    """The clips of a job, checked: ids are safe to echo, every clip has at least one frame."""
    rate = frame_rate(job)
    counts = frame_counts([image.duration for image in job.images], rate)
    clips = []
    for position, (image, frames) in enumerate(zip(job.images, counts, strict=True)):
        check_segment(image.id, f"images[{position}].id")
        if frames < 1:
            raise JobError(
                f"Invalid input: field 'images[{position}].duracao': {image.duration:g} s is shorter than one frame "
                f"at {job.frame_rate:g} fps (at least {1 / job.frame_rate:.4f} s)."
            )
        motion = job.zoom_types[position % len(job.zoom_types)] if job.zoom_types else "none"
        clips.append(Clip(position, job.start_index + position + 1, image.id, frames, motion))
    return clips


def encode_args(
    url: str, size: tuple[int, int], rate: Fraction, clip: Clip, still: bool, threads: int, output: Path,
    encoder: Encoder,
) -> list[str]:
    """FFmpeg reads raw yuv420p frames from `url`; a still clip is one frame, cloned by `tpad` after
    input (the cheapest possible duplicate); `-frames:v` makes the length exact either way."""
    rate_text = f"{rate.numerator}/{rate.denominator}"
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{size[0]}x{size[1]}",
            "-framerate", rate_text, "-i", url]
    if still:
        args += ["-vf", "tpad=stop_mode=clone:stop=-1"]
    args += ["-frames:v", str(clip.frames), *encoder.video_args(camera_move=not still), "-r", rate_text, *COLOUR_TAGS,
             "-threads", str(threads), "-movflags", "+faststart", str(output)]
    return args


def parallel_renders(clip_count: int, encoder_sessions: int | None = None) -> tuple[int, int]:
    """(clips at once, threads per FFmpeg): one single-threaded FFmpeg per core beats one FFmpeg using
    them all; fewer clips than cores share the cores out; NVENC's session limit caps it too."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    limit = env_int("VIDEO_OPS_MAX_PARALLEL_RENDERS", DEFAULT_PARALLEL_RENDERS)
    at_once = max(1, min(cores, limit, clip_count, encoder_sessions or limit))
    return at_once, max(1, cores // at_once)


async def run(ctx: JobContext, job: Img2VidInput) -> dict:
    prefix = clean_prefix(job.path)
    size = frame_size(job)
    clips = plan(job)
    keys = [join_key(prefix, clip.filename) for clip in clips]
    with ctx.timed("process"):
        encoders = await _make_clips(ctx, job, size, clips)
    stored = await ctx.upload([(ctx.workdir / clip.filename, key) for clip, key in zip(clips, keys, strict=True)])
    rate = frame_rate(job)
    videos = [
        {
            "id": clip.image_id,
            "video_url": obj.url,
            "filename": clip.filename,
            "s3_key": obj.key,
            "duration": round(float(clip.frames / rate), 6),
            "frames": clip.frames,
            "width": size[0],
            "height": size[1],
            "zoom_type": clip.motion,
            "size_bytes": obj.size_bytes,
        }
        for clip, obj in zip(clips, stored, strict=True)
    ]
    used = next((encoder for encoder in encoders if encoder.fallback_reason), encoders[-1])
    return {
        "message": "Images converted successfully",
        "total": len(clips),
        "processed": len(videos),
        "videos": videos,
        **used.describe(),
    }


async def _make_clips(ctx: JobContext, job: Img2VidInput, size: tuple[int, int], clips: list[Clip]) -> list[Encoder]:
    """Download, check and render each image, downloads overlapping renders; the first failure cancels the
    rest (their downloads and FFmpeg runs are stopped)."""
    at_once, threads = parallel_renders(len(clips), (await ctx.video_encoder()).max_sessions)
    render_slots = asyncio.Semaphore(at_once)
    done = 0
    ctx.progress.stage("downloading", files=len(clips))

    async def make(clip: Clip) -> Encoder:
        nonlocal done
        try:
            path = (await ctx.fetch({clip.field: job.images[clip.position].image_url}))[clip.field]
            info = await asyncio.to_thread(images.inspect, path)
            async with render_slots:
                if done == 0:
                    ctx.progress.stage("processing", processed=0, total=len(clips))
                encoder = await _render(ctx, job, size, clip, path, info, threads)
        except JobError as err:
            raise JobError(f"{clip.label}: {_without_field(str(err), clip.field)}") from None
        done += 1
        ctx.progress.stage("processing", processed=done, total=len(clips))
        return encoder

    return await all_or_nothing(*(make(clip) for clip in clips))


def _without_field(message: str, field: str) -> str:
    """A download error names the field (`images[3]: ...`); the clip's label says it better."""
    return message[len(field) + 1:].lstrip() if message.startswith(field + ":") else message


async def _render(
    ctx: JobContext, job: Img2VidInput, size: tuple[int, int], clip: Clip, path: Path, info: images.ImageInfo,
    threads: int,
) -> Encoder:
    shot = plan_shot(info, size, job.fit, clip.motion)
    canvas = await asyncio.to_thread(paint, path, info, shot, job.background)
    rate = frame_rate(job)
    output = ctx.workdir / clip.filename
    seconds = float(clip.frames / rate)

    def make_frame(index: int) -> memoryview:
        return shot_frame(canvas, shot, index, clip.frames)

    async with frame_feed(1 if shot.still else clip.frames, make_frame) as url:
        return await ctx.encode(
            lambda encoder: encode_args(url, size, rate, clip, shot.still, threads, output, encoder),
            step="rendering",
            timeout=step_timeout(seconds, SECONDS_PER_CLIP_SECOND),
            duration=seconds,
            show_percent=False,
        )


OPERATION = Operation(name="img2vid", input_model=Img2VidInput, run=run)
