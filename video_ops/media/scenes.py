"""Where a video's scenes change, by FFmpeg's `select` scene score, in one decoding pass.

The score is computed on frames made 320 pixels wide first: it compares whole pictures, so detail does
not change it much, and scaling down makes the pass several times cheaper at 1080p. FFmpeg writes the
selected frames' times as a `framecrc` listing (a file named on the command line, so no path goes into
filter text); `-copyts` keeps them in the stream's own clock, the one the packet index uses.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from video_ops.media.ffmpeg import run_ffmpeg, step_timeout

SCORED_WIDTH = 320


async def scene_changes(path: Path, stream_index: int, threshold: float, *, duration: float | None,
                        workdir: Path) -> list[Fraction]:
    """The display times (seconds, the stream's own clock) of the frames whose scene score passes
    `threshold` (0 to 1: the share of the picture that changed)."""
    listing = workdir / "scenes.framecrc"
    graph = f"scale={SCORED_WIDTH}:-2,select='gt(scene\\,{float(threshold):.6f})'"
    try:
        await run_ffmpeg(["-copyts", "-i", str(path), "-map", f"0:{stream_index}", "-vf", graph,
                          "-fps_mode", "passthrough", "-f", "framecrc", str(listing)],
                         step="Finding the scene changes", timeout=step_timeout(duration, 2.0), workdir=workdir)
        return parse_framecrc(listing.read_text())
    finally:
        listing.unlink(missing_ok=True)


def parse_framecrc(text: str) -> list[Fraction]:
    """The times of a `framecrc` listing's frames: `#tb 0: 1/12800` then `0, dts, pts, duration, size, crc`."""
    time_base = Fraction(1)
    times = []
    for line in text.splitlines():
        if line.startswith("#tb 0:"):
            time_base = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            fields = [field.strip() for field in line.split(",")]
            times.append(int(fields[2]) * time_base)
    return times
