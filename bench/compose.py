"""The compose bench: a logo watermark on the bench video, as a compose job and as the plain FFmpeg command
it equals (the same graph, encoder settings and maps). The target is on the worker's FFmpeg time: beyond its
usual per-job overhead (download, probes, upload, bookkeeping: reported apart), the sandbox (a parsed and
rebuilt graph, `file:` inputs under a protocol whitelist, `-fs`, bounded threads) must cost at most 5 %."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from video_ops.media.encoders import Encoder

from .media import Media, Scale
from .workloads import FFMPEG, Target, Workload, command_variant, overhead_target, worker_variant

GRAPH = "[1:v]scale=iw/3:-2[logo];[0:v][logo]overlay=W-w-40:40[v]"


def job(media: Media) -> dict[str, Any]:
    return {"operation": "compose",
            "inputs": [{"url": media.video.resolve().as_uri()}, {"url": media.images[0].resolve().as_uri()}],
            "filter_complex": GRAPH,
            "outputs": [{"filename": "compose.mp4", "maps": ["[v]", "0:a"], "options": {"c:v": "h264", "c:a": "copy"}}]}


def media_work_ratio(summary: dict[str, Any]) -> float | None:
    """The worker's FFmpeg time (its job less its overhead) over the plain command's wall time."""
    variants = summary["variants"]
    if "plain" not in variants or "media_work_s" not in variants["worker"]:
        return None
    return variants["worker"]["media_work_s"]["median"] / variants["plain"]["wall_s"]["median"]


def compose(media: Media, scale: Scale, encoder: Encoder) -> Workload:
    settings = encoder.codec_args("h264")

    def plain(folder: Path) -> tuple[list[list[str]], list[Path]]:
        out = folder / "out.mp4"
        return [[*FFMPEG, "-i", str(media.video), "-i", str(media.images[0]), "-filter_complex", GRAPH,
                 "-map", "[v]", "-map", "0:a", *settings, "-c:a", "copy", str(out)]], [out]

    shown = shlex.join(["ffmpeg", "-i", "video.mp4", "-i", "logo.jpg", "-filter_complex", GRAPH, "-map", "[v]",
                        "-map", "0:a", *settings, "-c:a", "copy", "out.mp4"])
    return Workload(
        name="compose",
        title=f"compose: a logo watermark on {scale.seconds:g} s {scale.size} {scale.video_fps} fps H.264+AAC video",
        output_seconds=scale.seconds,
        variants=[
            worker_variant(f"worker: `compose` with `filter_complex` `{GRAPH}`, `c:v` `h264`, `c:a` `copy`",
                           job(media), ["compose.mp4"]),
            command_variant("plain", f"the plain FFmpeg command it equals: `{shown}`", plain),
        ],
        targets=[
            Target("the job's FFmpeg time (its wall time less the worker's usual per-job overhead) within 1.05x of "
                   "the plain FFmpeg command's wall time", media_work_ratio, 1.05, at_most=True),
            overhead_target(),
        ],
    )
