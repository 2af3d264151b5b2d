"""The convert bench: the bench video to 9:16 with its picture over a blurred copy of itself (the look of
shorts made from landscape video), against the bare FFmpeg command of the same graph and settings, and
against the common recipe that blurs the background at full size."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

from video_ops.jobkit.contract import parse_input
from video_ops.media.clips import read_clip
from video_ops.media.conversion import Conversion, plan
from video_ops.media.encoders import Encoder
from video_ops.media.probe import parse_probe
from video_ops.ops import OPERATIONS

from .media import Media, Scale
from .workloads import FFMPEG, Target, Workload, command_variant, overhead_target, ratio, worker_variant

# What shorts made from landscape video usually run: the background scaled to fill the frame and blurred there.
COMMON_BLUR = ("split[a][b];[a]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},boxblur=20:5[bg];"
               "[b]scale={w}:-2[fg];[bg][fg]overlay=(W-w)/2:(H-h)/2,format=yuv420p")


def job(media: Media) -> dict[str, Any]:
    return {"operation": "convert", "url_video": media.video.resolve().as_uri(), "aspect": "9:16", "fit": "blur",
            "output_filename": "convert.mp4"}


def conversion(media: Media) -> Conversion:
    """The worker's own plan for the job, made here as the job makes it: its graph and settings."""
    _, parsed = parse_input({**job(media), "path": "bench"}, OPERATIONS)
    probed = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
                             str(media.video)], capture_output=True, text=True, check=True).stdout
    clip = read_clip(parse_probe(json.loads(probed)), media.video, "url_video")
    return plan(clip, parsed.target())  # type: ignore[attr-defined]


def convert(media: Media, scale: Scale, encoder: Encoder) -> Workload:
    made = conversion(media)
    width, height = made.size
    settings = " ".join(encoder.codec_args("h264"))
    shown = shlex.join(made.argv(Path("video.mp4"), Path("out.mp4"), encoder))
    common = ["-map", "0:0", "-vf", COMMON_BLUR.format(w=width, h=height), *encoder.codec_args("h264"),
              "-map", "0:1", "-c:a", "copy", "-movflags", "+faststart"]

    def same_graph(folder: Path) -> tuple[list[list[str]], list[Path]]:
        out = folder / "out.mp4"
        return [[*FFMPEG, *made.argv(media.video, out, encoder)]], [out]

    def full_size_blur(folder: Path) -> tuple[list[list[str]], list[Path]]:
        out = folder / "out.mp4"
        return [[*FFMPEG, "-i", str(media.video), *common, str(out)]], [out]

    return Workload(
        name="convert",
        title=f"convert: {scale.seconds:g} s {scale.size} {scale.video_fps} fps H.264+AAC video to 9:16 "
              f"({width}x{height}), fit blur",
        output_seconds=scale.seconds,
        variants=[
            worker_variant(f"worker: `convert` `aspect: \"9:16\"`, `fit: \"blur\"` ({settings}, sound copied)",
                           job(media), ["convert.mp4"]),
            command_variant("same-graph", f"same graph and settings, bare: `ffmpeg {shown}`", same_graph),
            command_variant("full-size-blur", "common recipe, the background blurred at full size: `-vf '"
                            f"{COMMON_BLUR.format(w=width, h=height)}'`, same settings", full_size_blur),
        ],
        targets=[
            Target("within 1.15x of the bare FFmpeg command of the same graph and settings",
                   lambda s: ratio(s, "same-graph"), 1.15, at_most=True),
            overhead_target(),
        ],
    )
