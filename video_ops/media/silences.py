"""Where a sound is silent: FFmpeg's `silencedetect` on one audio stream, its findings read back exactly.

silencedetect finds a silence to the sample but writes its times with six significant digits, which past
1000 s would be 10 ms coarse (100 ms past 10000 s). So the times it sees are folded into windows of
`WINDOW_S` (every time it writes keeps its milliseconds), and each is unfolded by the time of the frame
that carries it, which `ametadata` writes beside it. A time lies within a silence's length (at most
`MAX_MIN_SILENCE_S`) or a frame of its frame's start, far less than half a window: the unfolding is exact.
"""

from __future__ import annotations

import re
from pathlib import Path

from video_ops.media.ffmpeg import filter_value

WINDOW_S = 200
MAX_MIN_SILENCE_S = 60.0
_FRAME = re.compile(r"^frame:\d+\s+pts:\S+\s+pts_time:(\S+)")
_EVENT = re.compile(r"^lavfi\.silence_(start|end)=(\S+)")


def silence_args(source: Path, stream_index: int, duration: float, noise_db: float, min_silence_s: float,
                 report: Path) -> list[str]:
    """FFmpeg's arguments to write the silences of stream `stream_index` to `report` (`read_silences` reads
    it). Where the stream has no sound (gaps, an end before the media's `duration`) counts as silence."""
    graph = ",".join([
        "aresample=async=1:first_pts=0",
        f"apad=whole_dur={duration:.6f}",
        f"asetpts=(N/SR-floor(N/SR/{WINDOW_S})*{WINDOW_S})/TB",
        f"silencedetect=noise={noise_db:.3f}dB:duration={min_silence_s:.6f}",
        "asetpts=N/SR/TB",
        f"ametadata=mode=print:file={filter_value(str(report))}",
    ])
    return ["-i", str(source), "-map", f"0:{stream_index}", "-af", graph, "-f", "null", "-"]


def read_silences(report: Path, duration: float) -> list[tuple[float, float]]:
    """The silences (sorted, apart) within [0, `duration`]; one still running at the end closes there."""
    found: list[tuple[float, float]] = []
    start: float | None = None
    frame_at = 0.0
    for line in report.read_text().splitlines():
        if frame := _FRAME.match(line):
            frame_at = float(frame[1])
        elif event := _EVENT.match(line):
            folded = float(event[2])
            at = folded + round((frame_at - folded) / WINDOW_S) * WINDOW_S
            if event[1] == "start":
                start = at
            elif start is not None:
                found.append((start, at))
                start = None
    if start is not None:
        found.append((start, duration))
    clamped = [(max(start, 0.0), min(end, duration)) for start, end in found]
    return [(start, end) for start, end in clamped if start < end]
