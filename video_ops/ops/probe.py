"""probe: what a media file is (container, streams, chapters, HDR) from one ffprobe run; nothing is uploaded.

The job costs one ffprobe start-up beyond fetching the file: no decode check (nothing is decoded for the
caller), no GPU probe. Loudness (one FFmpeg pass over the sound) and keyframe times (one demux of the
picture, in-process) run only when asked, side by side.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field

from video_ops.base.tasks import all_or_nothing
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, Operation, UrlField
from video_ops.media.audio import loudness
from video_ops.media.describe import describe
from video_ops.media.probe import MediaInfo, Stream
from video_ops.media.stills import read_picture_index

FIELD = "url"


class ProbeInput(JobInput):
    operation: Literal["probe"]
    url: UrlField = Field(validation_alias=AliasChoices("url", "url_video", "url_audio"))
    loudness: bool = False
    keyframes: bool = False


async def run(ctx: JobContext, job: ProbeInput) -> dict[str, Any]:
    path = (await ctx.download({FIELD: job.url}))[FIELD]
    ctx.progress.stage("processing")
    with ctx.timed("probe"):
        info, found = await describe(path, FIELD)
    warnings: list[str] = []
    passes: dict[str, Any] = {}
    if job.loudness:
        passes["loudness"] = _loudness(ctx, path, info, warnings)
    if job.keyframes:
        passes["keyframes"] = _keyframes(path, info, warnings)
    with ctx.timed("process"):
        measured = await all_or_nothing(*passes.values())
    described = ", ".join(sorted({s.codec_type for s in info.streams})) or "no streams"
    return {"message": f"Media described ({info.container}: {described})", **found,
            **dict(zip(passes, measured, strict=True)), **({"warnings": warnings} if warnings else {})}


async def _loudness(ctx: JobContext, path: Path, info: MediaInfo, warnings: list[str]) -> dict[str, Any] | None:
    sound = info.audio
    if sound is None:
        warnings.append("loudness: the file has no audio stream, so it has no loudness.")
        return None
    measured = await loudness(path, sound.index, seconds=info.duration,
                              step=f"{FIELD}: measuring the loudness", workdir=ctx.workdir)
    return {"stream": sound.index, **measured}


async def _keyframes(path: Path, info: MediaInfo, warnings: list[str]) -> list[float] | None:
    picture = info.video
    if picture is None:
        warnings.append("keyframes: the file has no video stream, so it has no keyframes.")
        return None
    return await asyncio.to_thread(keyframe_times, path, info, picture)


def keyframe_times(path: Path, info: MediaInfo, picture: Stream) -> list[float]:
    """Where each keyframe is shown, in the seconds trim and frames take (0 is where players start)."""
    index = read_picture_index(path, picture.index, picture.codec_name, FIELD)
    origin = max(info.start_time, 0.0)
    return sorted(round(float(index.pts[key] * index.time_base) - origin, 6) for key in index.keys)


OPERATION = Operation(name="probe", input_model=ProbeInput, run=run, uploads=False)
