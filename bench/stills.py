"""The frames and probe bench, on the scale's video played ten times over (ten minutes of 1080p at full scale).

frames: `count: 10` against the same ten pictures taken by ten FFmpeg accurate seeks, one after another (what a
user runs for ten thumbnails), and against decoding the whole file once (what a single FFmpeg run with a
`select` filter costs). probe: the job against one bare ffprobe run of the same file; the difference is what
the worker adds to a light job.
"""

from __future__ import annotations

import bisect
import math
import subprocess
from pathlib import Path
from typing import Any

from . import quality
from .media import LONG_PLAYS, Media, Scale, long_video
from .workloads import FFMPEG, Run, Target, Workload, command_variant, ratio, worker_variant

PICTURES = 10
SSIM_VS_SEEK = "SSIM vs FFmpeg's accurate seek of the same time (lossless PNG), mean of the ten"
SSIM_VS_SEEK_MIN = "SSIM vs FFmpeg's accurate seek of the same time (lossless PNG), worst of the ten"
PROBE_LIMIT_S = 0.060
# Media work of a frames job done in Python: the packet index (a demux) and the decoding of the pictures.
FRAMES_WORK = ("video_ops.ops.frames:read_picture_index", "video_ops.ops.frames:take_frames")


def frame_times(video: Path) -> list[float]:
    """The display times of the frames `count: 10` takes: the first, the last and eight evenly between, each
    the frame shown at its time (the last one that started by then), as ffprobe lists the packets."""
    listing = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                              "-of", "csv=p=0", str(video)], check=True, capture_output=True, text=True).stdout
    shown = sorted(float(line) for line in listing.split() if line.strip() not in ("", "N/A"))
    wanted = [shown[0] + (shown[-1] - shown[0]) * k / (PICTURES - 1) for k in range(PICTURES)]
    frames = [max(bisect.bisect_right(shown, time + 1e-6) - 1, 0) for time in wanted]
    return [math.floor(shown[frame] * 1_000_000) / 1_000_000 for frame in frames]


def frames(media: Media, scale: Scale) -> Workload:
    video = long_video(media)
    times = frame_times(video)
    names = [f"frame_{number:04d}.jpg" for number in range(1, PICTURES + 1)]

    def seeks(folder: Path) -> tuple[list[list[str]], list[Path]]:
        outputs = [folder / f"seek_{number}.jpg" for number in range(PICTURES)]
        return [[*FFMPEG, "-ss", f"{time:.6f}", "-i", str(video), "-frames:v", "1", "-q:v", "2", str(out)]
                for time, out in zip(times, outputs, strict=True)], outputs

    def assess(runs: dict[str, Run], scratch: Path) -> dict[str, Any]:
        """The worker's pictures against FFmpeg's accurate seeks written losslessly (untimed), and the timed
        seeks' JPEGs against the same: what each side's JPEG loses."""
        truth = [scratch / f"truth_{number}.png" for number in range(PICTURES)]
        for time, out in zip(times, truth, strict=True):
            subprocess.run([*FFMPEG, "-ss", f"{time:.6f}", "-i", str(video), "-frames:v", "1", str(out)], check=True)
        found = {key: [quality.ssim(picture, reference) for picture, reference in zip(runs[key].outputs, truth,
                                                                                       strict=True)]
                 for key in ("worker", "seeks")}
        return {SSIM_VS_SEEK: {key: sum(values) / len(values) for key, values in found.items()},
                SSIM_VS_SEEK_MIN: {key: min(values) for key, values in found.items()}}

    return Workload(
        name="frames",
        title=f"frames: `count: {PICTURES}` from {_length(scale)} of {scale.size} {scale.video_fps} fps H.264",
        output_seconds=None,
        variants=[
            worker_variant(f"worker: `frames` with `count: {PICTURES}` (JPEG, full size)",
                           {"operation": "frames", "url_video": video.resolve().as_uri(), "count": PICTURES,
                            "output_filename": "frame"}, names, extra_work=FRAMES_WORK),
            command_variant("seeks", f"{PICTURES} accurate seeks, one after another: `ffmpeg -ss t -i v -frames:v 1 "
                                     "-q:v 2 out.jpg`", seeks),
            command_variant("decode", "decoding the whole file once: `ffmpeg -i v -map 0:v:0 -f null -`",
                            lambda f: ([[*FFMPEG, "-i", str(video), "-map", "0:v:0", "-f", "null", "-"]], [])),
        ],
        targets=[
            Target(f"at most 1.5x the {PICTURES} accurate seeks' wall time", lambda s: ratio(s, "seeks"), 1.5,
                   at_most=True),
            Target("at most 0.3x the wall time of decoding the whole file", lambda s: ratio(s, "decode"), 0.3,
                   at_most=True),
            Target("SSIM against FFmpeg's accurate seek of the same frame at least 0.99, worst of the ten",
                   lambda s: s["quality"][SSIM_VS_SEEK_MIN]["worker"], 0.99, at_most=False),
        ],
        assess=assess,
    )


def _length(scale: Scale) -> str:
    seconds = scale.seconds * LONG_PLAYS
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} s"


def probe_margin(summary: dict[str, Any]) -> float:
    """The job's median wall time less bare ffprobe's: what the worker adds."""
    variants = summary["variants"]
    return variants["worker"]["wall_s"]["median"] - variants["ffprobe"]["wall_s"]["median"]


def probe(media: Media, scale: Scale) -> Workload:
    video = long_video(media)
    show = ["-show_format", "-show_streams", "-show_chapters", "-of", "json"]
    return Workload(
        name="probe",
        title=f"probe: an MP4 of {_length(scale)} of {scale.size} {scale.video_fps} fps H.264+AAC (`file:` inputs "
              "are linked into the job's folder, not copied)",
        output_seconds=None,
        variants=[
            worker_variant("worker: `probe` (container, streams, chapters; nothing uploaded)",
                           {"operation": "probe", "url": video.resolve().as_uri()}, [],
                           extra_work=("video_ops.media.probe:run_ffprobe",)),
            command_variant("ffprobe", f"bare ffprobe: `ffprobe -v error {' '.join(show)} v`",
                            lambda f: ([["ffprobe", "-v", "error", *show, str(video)]], [])),
        ],
        targets=[Target(f"the job's wall time at most bare ffprobe's + {PROBE_LIMIT_S * 1000:.0f} ms (the "
                        "difference, s)", probe_margin, PROBE_LIMIT_S, at_most=True)],
    )
