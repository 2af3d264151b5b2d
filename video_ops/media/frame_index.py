"""A video stream's frames as the container stores them: decode order, display times, and where a copy may
start or stop without taking a frame it should not show.

Read by demuxing only (no decoding), so a ten-minute file is indexed in well under a second. The index is
what makes a cut frame-exact: the frame shown at a time is the one whose display interval holds it, and
a copy can begin only at a keyframe that needs nothing before it and end only where every frame decoded
so far is shown before every frame still to come ("clean points": after each B-frame group).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from video_ops.media.param_sets import ParamSets, read_param_sets, starts_sequence


@dataclass(frozen=True)
class FrameIndex:
    """Packets of one video stream in decode order, times in ticks of `time_base`."""

    time_base: Fraction
    pts: tuple[int, ...]
    dts: tuple[int, ...]
    ends: tuple[int, ...]  # display order: when each frame stops being shown
    shown: tuple[int, ...]  # display order: each frame's time
    copy_starts: tuple[int, ...]  # decode indices where a copy may begin
    clean: frozenset[int]  # decode indices after which a copy may end
    leading: bool  # some keyframe has leading pictures (open GOP)
    param_sets: ParamSets | None
    lead: int  # ticks a keyframe is decoded ahead of its display (the B-frame delay)

    @property
    def count(self) -> int:
        return len(self.pts)

    def tick(self, seconds: float) -> int:
        return round(Fraction(seconds) / self.time_base)

    def frames_shown(self, start: int, end: int) -> tuple[int, int] | None:
        """The display indices of the first and last frames shown in [start, end) ticks: the one whose
        interval holds `start`, and the one shown just before `end`; None when no frame is."""
        first = max(bisect.bisect_right(self.shown, start) - 1, 0)
        last = bisect.bisect_left(self.shown, end) - 1
        while first < self.count and self.ends[first] <= start:
            first += 1
        return (first, last) if first <= last else None

    def copy_start_at_or_after(self, display: int) -> int | None:
        """The first decode index at or after display index `display` where a copy may begin (at a copy start,
        decode and display indices agree)."""
        position = bisect.bisect_left(self.copy_starts, display)
        return self.copy_starts[position] if position < len(self.copy_starts) else None

    def copy_start_at_or_before(self, display: int) -> int | None:
        position = bisect.bisect_right(self.copy_starts, display) - 1
        return self.copy_starts[position] if position >= 0 else None

    def clean_end_at_or_before(self, display: int, start: int) -> int | None:
        """The last decode index in [start, display] after which a copy may stop."""
        for index in range(display, start - 1, -1):
            if index in self.clean:
                return index
        return None


def read_index(path: Path, stream_index: int, codec: str) -> FrameIndex:
    """Demux the stream once; raises av.FFmpegError on a file it cannot read."""
    with av.open(str(path)) as container:
        stream = container.streams[stream_index]
        time_base = Fraction(stream.time_base)
        param_sets = read_param_sets(codec, stream.codec_context.extradata)
        length_size = param_sets.length_size if param_sets else 4
        pts, dts, durations, starts = [], [], [], []
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            if packet.is_keyframe and starts_sequence(codec, bytes(packet), length_size):
                starts.append(len(pts))
            pts.append(packet.pts)
            dts.append(packet.dts if packet.dts is not None else packet.pts)
            durations.append(packet.duration or 0)
    return _index(time_base, pts, dts, durations, starts, param_sets)


def _index(time_base: Fraction, pts: list[int], dts: list[int], durations: list[int], starts: list[int],
           param_sets: ParamSets | None) -> FrameIndex:
    count = len(pts)
    shown = sorted(pts)
    step = {t: d for t, d in zip(pts, durations, strict=True)}
    ends = [shown[i + 1] if i + 1 < count else shown[i] + max(step[shown[i]], 1) for i in range(count)]
    later_min = [0] * (count + 1)
    later_min[count] = 1 << 62
    for i in range(count - 1, -1, -1):
        later_min[i] = min(pts[i], later_min[i + 1])
    clean, so_far = set(), -(1 << 62)
    for i in range(count):
        so_far = max(so_far, pts[i])
        if so_far < later_min[i + 1]:
            clean.add(i)
    # A copy may start at a sequence start that nothing later is shown before (no leading pictures),
    # right after a clean point.
    copy_starts = [i for i in starts if pts[i] == later_min[i] and (i == 0 or i - 1 in clean)]
    leading = any(pts[i] != later_min[i] for i in starts)
    lead = pts[copy_starts[0]] - dts[copy_starts[0]] if copy_starts else 0
    return FrameIndex(time_base=time_base, pts=tuple(pts), dts=tuple(dts), ends=tuple(ends), shown=tuple(shown),
                      copy_starts=tuple(copy_starts), clean=frozenset(clean), leading=leading,
                      param_sets=param_sets, lead=max(lead, 0))
