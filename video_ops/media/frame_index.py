"""A video stream's frames as the container stores them: decode order, display times, and where a copy may
start or stop without taking a frame it should not show.

Read by demuxing only (no decoding), so a ten-minute file is indexed in well under a second. The index is
what makes a cut frame-exact: the frame shown at a time is the one whose display interval holds it, and
a copy can begin only at a keyframe that needs nothing before it and end only where every frame decoded
so far is shown before every frame still to come ("clean points": after each B-frame group). An HEVC CRA
may start a copy too: its leading pictures, which refer to the group before, are left out of the copy
and encoded with the frames before it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from video_ops.media.param_sets import ParamSets, read_param_sets, sequence_start


@dataclass(frozen=True)
class FrameIndex:
    """Packets of one video stream in decode order, times in ticks of `time_base`."""

    time_base: Fraction
    pts: tuple[int, ...]
    dts: tuple[int, ...]
    ends: tuple[int, ...]  # display order: when each frame stops being shown
    shown: tuple[int, ...]  # display order: each frame's time
    rank: tuple[int, ...]  # decode order: each frame's display index
    copy_starts: tuple[int, ...]  # decode indices where a copy may begin, by display index
    leading: dict[int, int]  # copy start -> how many leading pictures follow it (left out of a copy)
    clean: frozenset[int]  # decode indices after which a copy may end
    keyframes: int  # how many the container marks, copy starts or not
    keys: tuple[int, ...]  # decode indices of the packets the container marks as keyframes (where decoding may start)
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
        """The decode index of the first copy start shown at or after display index `display`."""
        shown = [self.rank[k] for k in self.copy_starts]
        position = bisect.bisect_left(shown, display)
        return self.copy_starts[position] if position < len(shown) else None

    def copy_start_at_or_before(self, display: int) -> int | None:
        shown = [self.rank[k] for k in self.copy_starts]
        position = bisect.bisect_right(shown, display) - 1
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
        pts, dts, durations, starts, keys = [], [], [], {}, []
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            kind = sequence_start(codec, bytes(packet), length_size) if packet.is_keyframe else None
            if kind is not None:
                starts[len(pts)] = kind
            if packet.is_keyframe:
                keys.append(len(pts))
            pts.append(packet.pts)
            dts.append(packet.dts if packet.dts is not None else packet.pts)
            durations.append(packet.duration or 0)
    # A recording that starts mid-GOP (a broadcast capture): nothing before its first keyframe decodes, so those
    # packets are no frames a cut can show or count.
    skip = keys[0] if keys else 0
    return _index(time_base, pts[skip:], dts[skip:], durations[skip:],
                  {i - skip: kind for i, kind in starts.items()}, [i - skip for i in keys], param_sets)


def _index(time_base: Fraction, pts: list[int], dts: list[int], durations: list[int], starts: dict[int, str],
           keys: list[int], param_sets: ParamSets | None) -> FrameIndex:
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
    rank = [0] * count
    for display, decode in enumerate(sorted(range(count), key=pts.__getitem__)):
        rank[decode] = display
    # A copy may start at a sequence start right after a clean point: an IDR that nothing later is shown
    # before, or a CRA whose leading pictures (right after it) are left out.
    leading = {}
    for i, kind in starts.items():
        follows = 0
        while i + follows + 1 < count and pts[i + follows + 1] < pts[i]:
            follows += 1
        if (i == 0 or i - 1 in clean) and (follows == 0 or kind == "cra"):
            leading[i] = follows
    lead = pts[min(leading)] - dts[min(leading)] if leading else 0
    return FrameIndex(time_base=time_base, pts=tuple(pts), dts=tuple(dts), ends=tuple(ends), shown=tuple(shown),
                      rank=tuple(rank), copy_starts=tuple(sorted(leading)), leading=leading,
                      clean=frozenset(clean), keyframes=len(keys), keys=tuple(keys), param_sets=param_sets,
                      lead=max(lead, 0))
