"""convert: a video into another container, codec, size, shape (crop, pad or blur) or frame rate, or a GIF;
each stream copied when nothing about it changes (`media.conversion` holds the recipe)."""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import FrameSide, NumberField, Operation, WholeNumber
from video_ops.jobkit.results import reencode_reason, single_output
from video_ops.media.clips import read_clip
from video_ops.media.conversion import (
    CONTAINERS,
    GIF_MAX_FPS,
    GIF_MAX_SIDE,
    Container,
    Conversion,
    Target,
    codec_refusal,
    plan,
)
from video_ops.media.encoders import MAX_CRF, Encoder, VideoCodec
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.fitting import FrameFit
from video_ops.media.picture import copy_times
from video_ops.media.probe import probe, probe_output
from video_ops.ops.editing import MediaInput
from video_ops.ops.img2vid import Colour

MIN_BITRATE, MAX_BITRATE = 50_000, 200_000_000
_BITRATE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kKmM]?)$")
_FITS: dict[str, FrameFit] = {"crop": "cover", "pad": "contain", "blur": "blur"}
_ENCODE_BUDGET = 60.0  # seconds a media second may take to encode before the step is stopped (AV1 at 4K included)


def _bitrate(value: Any) -> int:
    """Bits per second: a number, or text such as "2500k" or "8M"."""
    wrong = 'must be bits per second: a number, or text such as "2500k" or "8M"'
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(wrong)
    if isinstance(value, str):
        match = _BITRATE.match(value.strip())
        if match is None:
            raise ValueError(wrong)
        bits = float(match.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[match.group(2).lower()]
    else:
        bits = float(value)
    if not MIN_BITRATE <= bits <= MAX_BITRATE:
        raise ValueError(f"must be between {MIN_BITRATE // 1000}k and {MAX_BITRATE // 1_000_000}M bits per second")
    return int(bits)


Bitrate = Annotated[int, BeforeValidator(_bitrate)]


class ConvertInput(MediaInput):
    operation: Literal["convert"]
    container: Container = "mp4"
    video_codec: VideoCodec | None = None
    crf: WholeNumber | None = Field(None, ge=0, le=63)
    bitrate: Bitrate | None = None
    width: FrameSide | None = None
    height: FrameSide | None = None
    fps: NumberField | None = Field(None, ge=1, le=120)
    aspect: Literal["9:16", "1:1", "4:5", "16:9"] | None = None
    fit: Literal["crop", "pad", "blur"] | None = None
    focus_x: NumberField | None = Field(None, ge=0, le=1)
    pad_color: Colour | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ConvertInput:
        refusal = codec_refusal(self.container, self.video_codec) if self.video_codec else None
        if refusal:
            raise ValueError(f"field 'video_codec': {refusal}")
        if self.crf is not None and self.bitrate is not None:
            raise ValueError("give 'crf' or 'bitrate', not both")
        if self.container == "gif":
            self._within_gif_limits()
        elif self.crf is not None and self.crf > MAX_CRF[self.codec]:
            raise ValueError(f"field 'crf': {self.codec} takes 0 to {MAX_CRF[self.codec]}")
        if self.aspect is not None and self.width is not None and self.height is not None:
            raise ValueError("field 'aspect': give 'width' or 'height' with it, not both (the other follows from it)")
        shaped = self.aspect is not None or (self.width is not None and self.height is not None)
        for name in ("fit", "focus_x", "pad_color"):
            if getattr(self, name) is not None and not shaped:
                raise ValueError(f"field '{name}': there is no frame to fit the picture to; give 'aspect', or both "
                                 "'width' and 'height'")
        if self.focus_x is not None and self.fit != "crop":
            raise ValueError("field 'focus_x': it places a crop; it needs fit \"crop\"")
        if self.pad_color is not None and self.fit not in (None, "pad"):
            raise ValueError("field 'pad_color': it colours the bars of fit \"pad\"")
        return self

    def _within_gif_limits(self) -> None:
        for name, why in (("crf", "a GIF has no crf: it is drawn in a palette of 256 colours"),
                          ("bitrate", "a GIF has no bitrate: it is drawn in a palette of 256 colours")):
            if getattr(self, name) is not None:
                raise ValueError(f"field '{name}': {why}")
        for name in ("width", "height"):
            side = getattr(self, name)
            if side is not None and side > GIF_MAX_SIDE:
                raise ValueError(f"field '{name}': a GIF is at most {GIF_MAX_SIDE} px a side")
        if self.fps is not None and self.fps > GIF_MAX_FPS:
            raise ValueError(f"field 'fps': a GIF plays at most {GIF_MAX_FPS} fps (its frame delays are in "
                             "hundredths of a second)")

    @property
    def codec(self) -> VideoCodec:
        """The codec asked for, else the container's own (H.264, or VP9 for WebM); only a GIF has none."""
        return self.video_codec or (CONTAINERS[self.container].codecs or ("h264",))[0]

    def target(self) -> Target:
        aspect = tuple(int(side) for side in self.aspect.split(":")) if self.aspect else None
        return Target(
            container=self.container, codec=None if self.container == "gif" else self.codec, crf=self.crf,
            bitrate=self.bitrate, width=self.width, height=self.height, aspect=aspect,  # type: ignore[arg-type]
            fit=_FITS[self.fit or "pad"], background=self.pad_color or (0, 0, 0),
            focus_x=0.5 if self.focus_x is None else self.focus_x,
            fps=Fraction(str(self.fps)) if self.fps is not None else None,
        )


async def run(ctx: JobContext, job: ConvertInput) -> dict:
    carrier = CONTAINERS[job.container]
    filename = clean_filename(job.output_filename or f"convert_{ctx.safe_job_id}.{carrier.suffix}",
                              extension=f".{carrier.suffix}")
    key = join_key(clean_prefix(job.path), filename)
    source = (await ctx.download({"url_video": job.url_video}))["url_video"]
    with ctx.timed("probe"):
        info = await probe(source, "url_video")
        conversion = plan(read_clip(info, source, "url_video"), job.target())
        if conversion.copies_video:  # the copy's last check: packet times it can keep
            packets = await copy_times(source, conversion.clip.picture, "url_video")
            conversion = plan(dataclasses.replace(conversion.clip, packets=packets), job.target())
    output = ctx.workdir / f"converted.{carrier.suffix}"
    with ctx.timed("process"):
        encoder = await _write(ctx, conversion, source, output)
        result = await probe_output(output)
    stored, = await ctx.upload([(output, key)], carrier.content_type)
    picture = result.video
    return {
        **single_output(f"Converted to {job.container} and uploaded to S3 successfully", stored, filename, result),
        "container": job.container,
        "video_codec": picture.codec_name if picture else None,
        "fps": round(float(conversion.rate), 3),
        "video_stream": "copied" if conversion.copies_video else "re-encoded",
        **reencode_reason("url_video", conversion.video_reason),
        **_sound(conversion),
        **(encoder.describe(job.codec) if encoder else {"encoder": "gif"} if job.container == "gif" else {}),
    }


async def _write(ctx: JobContext, conversion: Conversion, source: Path, output: Path) -> Encoder | None:
    """Write the output; returns the encoder used when the picture was encoded (not for a GIF or a copy)."""
    seconds = conversion.clip.seconds
    if conversion.target.gif:
        palette = ctx.workdir / "palette.png"
        await ctx.ffmpeg(conversion.palette_argv(source, palette), step="Choosing the GIF's colours",
                         timeout=step_timeout(seconds, _ENCODE_BUDGET), duration=seconds, show_percent=False)
        await ctx.ffmpeg(conversion.gif_argv(source, palette, output), step="Drawing the GIF",
                         timeout=step_timeout(seconds, _ENCODE_BUDGET), duration=seconds)
        return None
    if conversion.copies_video:
        await ctx.ffmpeg(conversion.argv(source, output, ctx.encoder), step="Converting the video",
                         timeout=step_timeout(seconds, 3.0), duration=seconds)
        return None
    return await ctx.encode(lambda encoder: conversion.argv(source, output, encoder), step="Converting the video",
                            timeout=step_timeout(seconds, _ENCODE_BUDGET), duration=seconds)


def _sound(conversion: Conversion) -> dict[str, str]:
    """The result's `audio_stream` (absent when the output has no sound) and why it was encoded."""
    if not conversion.sound:
        return {}
    if conversion.audio_reason is None:
        return {"audio_stream": "copied"}
    return {"audio_stream": "re-encoded", "audio_reencode_reason": f"url_video: {conversion.audio_reason}."}


OPERATION = Operation(name="convert", input_model=ConvertInput, run=run)
