"""Which frames of each kept range are copied and which encoded again, and when each is shown in the output.

A range's frames are copied from its first clean keyframe to its last clean point; only the frames before
that keyframe (from the cut-in) and after that point (to the cut-out, the B-frames a copy cannot end on)
are encoded. Output times are the source's, moved so that the ranges follow one another. A range is
widened to whole frames: it starts where its first frame starts and ends where its last frame ends (keeping
its own bound where the picture starts later or ends sooner), so no frame is shown for a sliver of its
interval (FFmpeg and players put frames on the stream's frame grid, where two frames a few milliseconds
apart collide), and sound cut at the plan's times stays in sync to the tick.
"""

from __future__ import annotations

from dataclasses import dataclass

from video_ops.media.frame_index import FrameIndex


@dataclass(frozen=True)
class Piece:
    """Frames of one range: display indices `first`..`last` to encode, or for a copy the packets with decode
    indices `first`..`last` but the `skipped` leading pictures right after the first."""

    first: int
    last: int
    copied: bool
    skipped: int = 0

    @property
    def frames(self) -> int:
        return self.last - self.first + 1 - self.skipped


@dataclass(frozen=True)
class RangePlan:
    """One kept range: [start, end) in source ticks, shown from `offset` ticks in the output."""

    start: int
    end: int
    offset: int
    pieces: tuple[Piece, ...]

    @property
    def length(self) -> int:
        return self.end - self.start

    def out_time(self, source_time: int) -> int:
        """When a source time is shown in the output: moved with the range, never before its start."""
        return max(source_time - self.start, 0) + self.offset

    @property
    def frames(self) -> int:
        return sum(piece.frames for piece in self.pieces)


def plan_ranges(index: FrameIndex, ranges: list[tuple[int, int]], smart: bool) -> list[RangePlan]:
    """Pieces for each range (ticks, sorted, apart), widened to whole frames; `smart` False encodes every
    frame. A range that shows no frame is left out (its sound too: the sound is cut at the plans' times)."""
    plans, offset = [], 0
    for start, end in ranges:
        shown = index.frames_shown(start, end)
        if shown is None:
            continue
        first, last = shown
        start, end = min(start, index.shown[first]), max(end, index.ends[last])
        pieces = _pieces(index, first, last) if smart else (Piece(first, last, copied=False),)
        plans.append(RangePlan(start, end, offset, pieces))
        offset += end - start
    return plans


def keyframe_range(index: FrameIndex, start: int, end: int) -> tuple[int, int] | None:
    """`accuracy: keyframe`: the copy from the copy start at or before `start` to the last clean point
    before `end`, as (first, last) decode indices; None when no whole group of frames fits."""
    shown = index.frames_shown(start, end)
    if shown is None:
        return None
    first = index.copy_start_at_or_before(shown[0])
    first = first if first is not None else index.copy_start_at_or_after(shown[0])
    if first is None or index.rank[first] > shown[1]:
        return None
    last = index.clean_end_at_or_before(shown[1], first)
    return None if last is None else (first, last)


def _pieces(index: FrameIndex, first: int, last: int) -> tuple[Piece, ...]:
    copy_from = index.copy_start_at_or_after(first)
    fits = copy_from is not None and index.rank[copy_from] <= last
    copy_to = index.clean_end_at_or_before(last, copy_from) if fits else None
    if copy_from is None or copy_to is None:
        return (Piece(first, last, copied=False),)
    pieces, shown_from = [], index.rank[copy_from]
    if shown_from > first:
        pieces.append(Piece(first, shown_from - 1, copied=False))
    pieces.append(Piece(copy_from, copy_to, copied=True, skipped=index.leading[copy_from]))
    if copy_to < last:
        pieces.append(Piece(copy_to + 1, last, copied=False))
    return tuple(pieces)
