"""frames: pictures of a video at given times, evenly spaced, or where its scenes change; or one contact sheet.

Each picture is the frame a player shows at its time: the one whose display interval holds it (FFmpeg's
`-ss t` gives the first frame that starts at or after t instead; at a frame's own `time` the two agree).
The packet index says which frames those are before anything is decoded; they are then decoded in-process
in one pass (`media.stills`), seeking by keyframe where they lie far apart. Only scene detection runs
FFmpeg, once. Pictures are upright (a phone's rotation applied) and keep the picture's shape.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from PIL import Image
from pydantic import Field, model_validator

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, NumberField, Operation, UrlField, WholeNumber
from video_ops.media.frame_index import FrameIndex
from video_ops.media.probe import MediaInfo, Stream, probe, require_video, undecodable
from video_ops.media.scenes import scene_changes
from video_ops.media.stills import Undecodable, read_picture_index, scaled_size, shown_at, take_frames
from video_ops.ops.editing import TimeField

FIELD = "url_video"
MAX_FRAMES = 1000
MAX_TILES = 100
TILE_WIDTH = 320  # a sheet's tiles when no `width` is given: 10 columns make a 3200-pixel sheet
MAX_SHEET_SIDE = 16383  # WebP's largest side (JPEG's is 65535)
MAX_SHEET_PIXELS = 64 * 10**6  # 192 MB of RGB held while the tiles are pasted
DEFAULT_THRESHOLD = 0.3  # FFmpeg's scene score: 0.3 to 0.4 finds cuts, not camera moves
# Pillow's encoder and settings per format. JPEG at quality 90 with full-resolution colour (4:4:4): SSIM 0.9965
# against the lossless frame on a 240x320 test pattern, where the usual halved colour (4:2:0) gave 0.982 (text and
# graphics bleed colour) for a file 30 % smaller. WebP is 4:2:0 by its nature; PNG is lossless.
FORMATS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "jpg": ("JPEG", "image/jpeg", {"quality": 90, "subsampling": 0}),
    "png": ("PNG", "image/png", {"compress_level": 6}),
    "webp": ("WEBP", "image/webp", {"quality": 90, "method": 4}),
}


class Sheet(StrictModel):
    columns: WholeNumber = Field(ge=1, le=MAX_TILES)
    rows: WholeNumber = Field(ge=1, le=MAX_TILES)

    @model_validator(mode="after")
    def _tiles(self) -> Sheet:
        if self.tiles > MAX_TILES:
            raise ValueError(f"at most {MAX_TILES} tiles ({self.columns} columns x {self.rows} rows is {self.tiles})")
        return self

    @property
    def tiles(self) -> int:
        return self.columns * self.rows


class FramesInput(JobInput):
    operation: Literal["frames"]
    url_video: UrlField
    at: Annotated[list[TimeField], Field(min_length=1, max_length=MAX_FRAMES)] | None = None
    count: WholeNumber | None = Field(None, ge=1, le=MAX_FRAMES)
    scenes: bool = False
    threshold: NumberField | None = Field(None, gt=0, lt=1)
    format: Literal["jpg", "png", "webp"] = "jpg"
    width: WholeNumber | None = Field(None, ge=16, le=7680)
    sheet: Sheet | None = None
    output_filename: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> FramesInput:
        ways = [name for name, given in (("at", self.at is not None), ("count", self.count is not None),
                                         ("scenes", self.scenes)) if given]
        if len(ways) > 1:
            raise ValueError(f"give one of 'at', 'count' or 'scenes', not {' and '.join(ways)}")
        if not ways and self.sheet is None:
            raise ValueError("give 'at' (times), 'count' (evenly spaced frames), 'scenes': true or a 'sheet'")
        if self.threshold is not None and not self.scenes:
            raise ValueError("'threshold' applies to 'scenes' only")
        if self.sheet is not None:
            asked = len(self.at) if self.at is not None else self.count
            if asked is not None and asked > self.sheet.tiles:
                raise ValueError(f"{asked} frames were asked for, more than the sheet's {self.sheet.tiles} tiles")
            if self.sheet.columns * self.tile_width > MAX_SHEET_SIDE:
                raise ValueError(f"a sheet of {self.sheet.columns} columns of {self.tile_width}-pixel tiles would be "
                                 f"{self.sheet.columns * self.tile_width} pixels wide, over {MAX_SHEET_SIDE}")
        return self

    @property
    def tile_width(self) -> int:
        return self.width or TILE_WIDTH


@dataclass(frozen=True)
class Pick:
    """One picture asked for: the frame (display index) shown at its time, and the time asked, if one was."""

    frame: int
    at: float | None = None


@dataclass
class Video:
    """The downloaded input, probed and indexed."""

    path: Path
    info: MediaInfo
    picture: Stream
    index: FrameIndex

    @property
    def origin(self) -> float:
        """The file's time callers call 0: where players start (a negative pre-roll is not counted)."""
        return max(self.info.start_time, 0.0)

    def time_of(self, frame: int) -> float:
        """When a frame is shown, in the caller's seconds, rounded down to the microsecond (so that FFmpeg's
        `-ss` of it lands on this frame, not the next)."""
        return math.floor((float(self.index.shown[frame] * self.index.time_base) - self.origin) * 1e6) / 1e6

    @property
    def end(self) -> float:
        """When the last frame stops being shown, in the caller's seconds."""
        return float(self.index.ends[-1] * self.index.time_base) - self.origin


@dataclass
class Picks:
    """The pictures asked for, in the order asked, and what the caller should know about them."""

    items: list[Pick]
    warnings: list[str] = field(default_factory=list)


async def run(ctx: JobContext, job: FramesInput) -> dict[str, Any]:
    video = await _open(ctx, job.url_video)
    with ctx.timed("process"):
        picks = await _pick(ctx, job, video)
        ctx.progress.stage("processing", frames=len({pick.frame for pick in picks.items}))
        if job.sheet is not None:
            result = await _sheet(ctx, job, job.sheet, video, picks)
        else:
            result = await _pictures(ctx, job, video, picks)
    return {**result, **({"warnings": picks.warnings} if picks.warnings else {})}


async def _open(ctx: JobContext, url: str) -> Video:
    """Download, probe (no decode check: decoding here says itself when it fails) and index the picture."""
    path = (await ctx.download({FIELD: url}))[FIELD]
    info = await probe(path, FIELD, check_decode=False)
    picture = require_video(info, FIELD)
    index = await asyncio.to_thread(read_picture_index, path, picture.index, picture.codec_name, FIELD)
    return Video(path, info, picture, index)


async def _pick(ctx: JobContext, job: FramesInput, video: Video) -> Picks:
    """The frames `at`, `scenes` or `count` ask for (a sheet alone: as many as its tiles, evenly spaced)."""
    index = video.index
    if job.at is not None:
        return _at_times(job.at, video)
    if job.scenes:
        return await _at_scenes(ctx, job, video)
    count = job.count if job.count is not None else job.sheet.tiles if job.sheet is not None else 1
    first, last = index.shown[0], index.shown[-1]
    ticks = [first] if count == 1 else [round(first + (last - first) * k / (count - 1)) for k in range(count)]
    frames = list(dict.fromkeys(shown_at(index, tick) for tick in ticks))
    warnings = []
    if len(frames) < count:
        warnings.append(f"count: {count} evenly spaced times fall on {len(frames)} distinct frames (the video has "
                        f"{index.count}); each was taken once.")
    return Picks([Pick(frame) for frame in frames], warnings)


def _at_times(times: list[float], video: Video) -> Picks:
    """The frame shown at each time; a time at or after the video's end takes its last frame, with a warning."""
    picks, warnings = [], []
    last = video.index.count - 1
    for position, at in enumerate(times):
        if at >= video.end:
            warnings.append(f"at[{position}]: {at:g} s is after the video ends ({video.end:.3f} s); its last frame "
                            f"({video.time_of(last):.3f} s) was taken.")
            picks.append(Pick(last, at))
        else:
            picks.append(Pick(shown_at(video.index, video.index.tick(at + video.origin)), at))
    return Picks(picks, warnings)


async def _at_scenes(ctx: JobContext, job: FramesInput, video: Video) -> Picks:
    """The first frame and each frame that starts a new scene; more than fit are thinned evenly."""
    threshold = job.threshold if job.threshold is not None else DEFAULT_THRESHOLD
    times = await scene_changes(video.path, video.picture.index, threshold, duration=video.info.duration,
                                workdir=ctx.workdir)
    index = video.index
    frames = list(dict.fromkeys([0, *(shown_at(index, round(time / index.time_base)) for time in times)]))
    room = job.sheet.tiles if job.sheet is not None else MAX_FRAMES
    warnings = []
    if len(frames) > room:
        where = f"the sheet's {room} tiles" if job.sheet is not None else f"the limit of {room} frames"
        warnings.append(f"scenes: {len(frames)} scenes were found, more than {where}; {room} evenly chosen "
                        "among them were taken.")
        frames = [frames[round(k * (len(frames) - 1) / max(room - 1, 1))] for k in range(room)]
    return Picks([Pick(frame) for frame in frames], warnings)


async def _decode(video: Video, frames: list[int], size: tuple[int, int],
                  keep: Callable[[int, int, Image.Image], None]) -> None:
    """Run the decode in a thread; a cancelled job stops it at the next frame (`Stopped`, raised there and
    left behind) and waits for it to end, so nothing writes into the job's folder once it is removed."""
    stop = threading.Event()
    task = asyncio.ensure_future(asyncio.to_thread(
        take_frames, video.path, video.picture.index, video.index, frames, size, video.picture.rotation, keep, stop))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        await asyncio.wait([task])
        raise
    except Undecodable:
        raise undecodable(video.info, video.picture, FIELD) from None


def _stem(job: FramesInput, ctx: JobContext, kind: str) -> str:
    """The file name's stem: `output_filename` without its extension, or `<kind>_<job id>`."""
    extension = f".{job.format}"
    name = clean_filename(job.output_filename or f"{kind}_{ctx.safe_job_id}", extension=extension)
    return name[: -len(extension)]


def _save(image: Image.Image, path: Path, form: str) -> None:
    encoder, _, options = FORMATS[form]
    image.save(path, encoder, **options)


async def _pictures(ctx: JobContext, job: FramesInput, video: Video, picks: Picks) -> dict[str, Any]:
    """One file per distinct frame; the result lists every pick, in the order asked."""
    frames = sorted({pick.frame for pick in picks.items})
    stem = _stem(job, ctx, "frames")
    files = {frame: ctx.workdir / f"{stem}_{number:04d}.{job.format}" for number, frame in enumerate(frames, 1)}
    size = scaled_size(video.picture.upright_size, job.width)
    taken: dict[int, int] = {}  # frame asked -> frame decoded (another only where it could not be decoded)

    def keep(wanted: int, shown: int, image: Image.Image) -> None:
        taken[wanted] = shown
        _save(image, files[wanted], job.format)

    await _decode(video, frames, size, keep)
    prefix = clean_prefix(job.path)
    _, content_type, _ = FORMATS[job.format]
    stored = await ctx.upload([(files[frame], join_key(prefix, files[frame].name)) for frame in frames],
                              content_type)
    by_frame = dict(zip(frames, stored, strict=True))
    listed = []
    for pick in picks.items:
        one, shown = by_frame[pick.frame], taken[pick.frame]
        listed.append({**({"at": pick.at} if pick.at is not None else {}), "time": video.time_of(shown),
                       "frame": shown, "url": one.url, "filename": files[pick.frame].name, "s3_key": one.key,
                       "width": size[0], "height": size[1], "size_bytes": one.size_bytes})
    return {"message": f"{len(frames)} frames taken and uploaded to S3 successfully", "total": len(listed),
            "format": job.format, "images": listed}


async def _sheet(ctx: JobContext, job: FramesInput, sheet: Sheet, video: Video, picks: Picks) -> dict[str, Any]:
    """One picture of `columns` x `rows` tiles, filled in the order of the picks (left to right, top down)."""
    tile = scaled_size(video.picture.upright_size, job.tile_width)
    canvas_size = (sheet.columns * tile[0], sheet.rows * tile[1])
    if canvas_size[1] > MAX_SHEET_SIDE:
        raise JobError(f"sheet: {sheet.rows} rows of {tile[1]}-pixel tiles would be {canvas_size[1]} pixels high, "
                       f"over {MAX_SHEET_SIDE}; ask for fewer rows or a smaller width.")
    if canvas_size[0] * canvas_size[1] > MAX_SHEET_PIXELS:
        raise JobError(f"sheet: {canvas_size[0]}x{canvas_size[1]} pixels would be over {MAX_SHEET_PIXELS // 10**6} "
                       "megapixels; ask for fewer tiles or a smaller width.")
    canvas = Image.new("RGB", canvas_size)
    places: dict[int, list[int]] = {}
    for position, pick in enumerate(picks.items):
        places.setdefault(pick.frame, []).append(position)
    taken: dict[int, int] = {}

    def keep(wanted: int, shown: int, image: Image.Image) -> None:
        taken[wanted] = shown
        for position in places[wanted]:
            canvas.paste(image, ((position % sheet.columns) * tile[0], (position // sheet.columns) * tile[1]))

    await _decode(video, sorted(places), tile, keep)
    filename = f"{_stem(job, ctx, 'sheet')}.{job.format}"
    output = ctx.workdir / filename
    await asyncio.to_thread(_save, canvas, output, job.format)
    _, content_type, _ = FORMATS[job.format]
    stored, = await ctx.upload([(output, join_key(clean_prefix(job.path), filename))], content_type)
    tiles = [{**({"at": pick.at} if pick.at is not None else {}), "time": video.time_of(taken[pick.frame]),
              "frame": taken[pick.frame], "column": position % sheet.columns, "row": position // sheet.columns}
             for position, pick in enumerate(picks.items)]
    return {"message": f"Contact sheet of {len(tiles)} frames uploaded to S3 successfully", "image_url": stored.url,
            "filename": filename, "s3_key": stored.key, "width": canvas_size[0], "height": canvas_size[1],
            "size_bytes": stored.size_bytes, "format": job.format, "columns": sheet.columns, "rows": sheet.rows,
            "tile_width": tile[0], "tile_height": tile[1], "tiles": tiles}


OPERATION = Operation(name="frames", input_model=FramesInput, run=run)
