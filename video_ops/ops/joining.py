"""What `concatenate` and `concat_video_audio` share: the clip list as callers send it, fetching and
checking the clips before any heavy work, normalising each distinct picture once (in parallel), and
the copy-join that puts the pieces end to end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from video_ops.base.tasks import all_or_nothing
from video_ops.jobkit import results
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import FrameSide, JobInput, url_or_object, within_limit
from video_ops.media.clips import Clip, Frame, JoinInput, concat_script, normalise_args, read_clip
from video_ops.media.encoders import Encoder
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.motion import Fit
from video_ops.media.picture import copy_times
from video_ops.media.probe import probe
from video_ops.ops.img2vid import Colour, parallel_renders

DEFAULT_MAX_CLIPS = 200
JOIN_LIST = "join.ffconcat"  # a fixed name in the job folder; the files it lists are fixed names too
SECONDS_PER_CLIP_SECOND = 30.0  # timeout budget of a normalisation: far above what a 1080p second costs
_PROBES_AT_ONCE = 8


ClipUrl = url_or_object("video_url")


class ClipsInput(JobInput):
    """The clip list and the frame they are brought to (when they are not simply copied)."""

    max_clips_default: ClassVar[int] = DEFAULT_MAX_CLIPS

    video_urls: list[ClipUrl]
    output_filename: str | None = None
    width: FrameSide | None = None
    height: FrameSide | None = None
    frame_rate: float | None = Field(None, ge=1, le=120)
    fit: Fit = "contain"
    background: Colour = (0, 0, 0)

    @field_validator("video_urls", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        return within_limit(value, "VIDEO_OPS_MAX_CLIPS", cls.max_clips_default, "clips")

    @model_validator(mode="after")
    def _both_sides_or_neither(self) -> ClipsInput:
        if (self.width is None) != (self.height is None):
            raise ValueError("give both 'width' and 'height' (e.g. 1080 and 1920 for vertical), or neither")
        return self

    def frame(self, natural: tuple[int, int], rate: Fraction) -> Frame:
        """The target frame: the size and rate asked for, else `natural` and `rate`."""
        size = (self.width, self.height) if self.width and self.height else natural
        chosen = Fraction(str(self.frame_rate)) if self.frame_rate else rate
        return Frame(size[0], size[1], chosen, self.fit, self.background)


def clip_field(position: int) -> str:
    return f"video_urls[{position}]"


def reencode_reason(mismatch: tuple[int, str] | None) -> dict[str, str]:
    """The result's `reencode_reason`: why the clips were brought to one encoding rather than copied
    (a clip whose timestamps cannot be trusted is normalised first, and the caller should know)."""
    return {} if mismatch is None else results.reencode_reason(clip_field(mismatch[0]), mismatch[1])


async def fetch_clips(ctx: JobContext, urls: Sequence[str], extra: dict[str, str] | None = None
                      ) -> tuple[list[Clip], dict[str, Path]]:
    """Download every distinct URL once (with `extra` inputs, all at once), then probe every clip: a bad
    one fails the job, named by its position, before any heavy work. Returns the clips and `extra`'s files."""
    first_of: dict[str, int] = {}
    for position, url in enumerate(urls):
        first_of.setdefault(url, position)
    files = await ctx.download({**{clip_field(p): url for url, p in first_of.items()}, **(extra or {})})
    slots = asyncio.Semaphore(_PROBES_AT_ONCE)

    async def inspect(position: int) -> Clip:
        path, field = files[clip_field(first_of[urls[position]])], clip_field(position)
        async with slots:
            info = await probe(path, field)
            packets = await copy_times(path, info.video, field) if info.video is not None else None
            return read_clip(info, path, field, packets)

    with ctx.timed("probe"):
        distinct = await all_or_nothing(*(inspect(position) for position in first_of.values()))
    by_url = dict(zip(first_of, distinct, strict=True))
    return [by_url[url] for url in urls], {name: files[name] for name in extra or {}}


@dataclass(frozen=True)
class Piece:
    """A picture to put in the join: `frames` of `clip` brought to the frame, or the clip itself when copied."""

    clip: Clip
    frames: int
    copied: bool = False

    def seconds(self, frame: Frame) -> float:
        return self.clip.seconds if self.copied else frame.seconds(self.frames)


async def make_pieces(ctx: JobContext, pieces: Sequence[Piece], frame: Frame
                      ) -> tuple[dict[Piece, str], Encoder | None]:
    """Each distinct piece once, the encodes in parallel within the cores and the encoder's sessions;
    returns each piece's file name in the job folder and the encoder used (None when all were copied)."""
    names: dict[Piece, str] = {}
    to_encode: list[Piece] = []
    for piece in dict.fromkeys(pieces):
        if piece.copied:
            names[piece] = piece.clip.path.name
        else:
            names[piece] = f"piece_{len(to_encode)}.mp4"
            to_encode.append(piece)
    if not to_encode:
        return names, None
    at_once, threads = parallel_renders(len(to_encode), (await ctx.video_encoder()).max_sessions)
    slots = asyncio.Semaphore(at_once)
    done = 0
    ctx.progress.stage("processing", processed=0, total=len(to_encode))

    async def encode(piece: Piece) -> Encoder:
        nonlocal done
        seconds = frame.seconds(piece.frames)
        output = ctx.workdir / names[piece]
        async with slots:
            encoder = await ctx.encode(
                lambda enc: normalise_args(piece.clip, frame, piece.frames, output, enc, threads),
                step="normalising a clip", timeout=step_timeout(seconds, SECONDS_PER_CLIP_SECOND),
                duration=seconds, show_percent=False,
            )
        done += 1
        ctx.progress.stage("processing", processed=done, total=len(to_encode))
        return encoder

    encoders = await all_or_nothing(*(encode(piece) for piece in to_encode))
    return names, next((enc for enc in encoders if enc.fallback_reason), encoders[-1])


def join_args(ctx: JobContext, names: Sequence[str], seconds: Sequence[float], inputs: Sequence[JoinInput],
              tail: Sequence[str], hevc: bool) -> list[str]:
    """The pictures end to end by copy (input 0, the concat demuxer), then `inputs` (more `-i` files) and
    `tail` (maps, filters and codecs for the audio, the output)."""
    (ctx.workdir / JOIN_LIST).write_text(concat_script(names, seconds))
    # -copyts: the pictures keep the concat demuxer's timestamps. Otherwise FFmpeg shifts the whole
    # input by its earliest timestamp, which a B-frame stream's first clip sets ~23 ms early.
    args = ["-copyts", "-f", "concat", "-i", str(ctx.workdir / JOIN_LIST)]
    for extra in inputs:
        args += extra.args()
    args += ["-map", "0:v:0", "-c:v", "copy", *(["-tag:v", "hvc1"] if hevc else [])]
    return [*args, *tail, "-movflags", "+faststart"]
