"""Scenes strung together into one stream of raw yuv420p frames, with the transitions between them.

Each scene is a frame source opened when its first frame is needed (the next one is opened ahead, in
a thread, so painting a canvas or starting a decoder overlaps the frames before it) and closed as
soon as its last frame is out: however long the video, only two or three scenes hold memory. Frames
are asked for in order, from any frame on (a part of a split render starts where it starts); asking
for an earlier frame again starts over (an encoder retry reads the stream anew). Transitions blend in
Y'CbCr with integer weights, so the same job gives the same bytes.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

Transition = Literal["none", "fade", "fadeblack"]
BLACK_LUMA, NEUTRAL_CHROMA = 16, 128  # limited-range black, as the canvas and COLOUR_TAGS have it


class FrameSource(Protocol):
    def frame(self, index: int) -> bytes | memoryview:
        """Frame `index` of the scene; indexes come in order, from 0 or from where a part starts."""

    def close(self) -> None:
        """Free what the scene holds (a canvas, a decoder process)."""


SourceOpener = Callable[[], FrameSource]


class SceneError(Exception):
    """A scene's source failed; `position` says which, so the job can name `scenes[k]`."""

    def __init__(self, position: int, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.position = position
        self.cause = cause


@dataclass(frozen=True)
class Placement:
    """A scene's frames on the output timeline: `start` .. `start + frames - 1`."""

    start: int
    frames: int

    @property
    def end(self) -> int:
        return self.start + self.frames


def place(counts: Sequence[int], overlap: int) -> list[Placement]:
    """Each scene starts `overlap` frames before the previous one ends, so the timeline is
    `sum(counts) - overlap * (scenes - 1)` frames long."""
    placements, start = [], 0
    for frames in counts:
        placements.append(Placement(start, frames))
        start += frames - overlap
    return placements


def total_frames(placements: Sequence[Placement]) -> int:
    return max((p.end for p in placements), default=0)


def blend_weights(overlap: int) -> list[int]:
    """The incoming scene's weight out of 256 for each frame of an overlap: never 0 or 256, so both
    ends of a fade are really part of it."""
    return [round(256 * (j + 1) / (overlap + 1)) for j in range(overlap)]


class Timeline:
    """Output frame -> the scene (or the two scenes, during a transition) that make it."""

    def __init__(
        self, placements: Sequence[Placement], openers: Sequence[SourceOpener], transition: Transition,
        overlap: int, size: tuple[int, int],
    ) -> None:
        self.placements = list(placements)
        self.openers = list(openers)
        self.transition: Transition = transition if overlap > 0 else "none"
        self.weights = blend_weights(overlap)
        self.size = size
        self.frames = total_frames(self.placements)
        self._starts = [p.start for p in self.placements]
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="scene-open")
        self._open: dict[int, concurrent.futures.Future[FrameSource]] = {}
        self._black = _black_frame(size)
        self._asked = -1

    def frame(self, index: int) -> bytes | memoryview:
        if index <= self._asked:
            self._close_before(len(self.placements))
        self._asked = index
        active = self._active(index)
        self._close_before(active[0])
        self._open_ahead(active[-1])
        if len(active) == 1:
            return self._scene_frame(active[0], index)
        outgoing, incoming = active[0], active[1]
        a = self._scene_frame(outgoing, index)
        b = self._scene_frame(incoming, index)
        weight = self.weights[index - self.placements[incoming].start]
        return self._blend(a, b, weight)

    def close(self) -> None:
        self._close_before(len(self.placements))
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _active(self, index: int) -> list[int]:
        """The scene whose frames include `index`, after the one it overlaps, if any (scenes start in order)."""
        last = bisect.bisect_right(self._starts, index) - 1
        if last > 0 and index < self.placements[last - 1].end:
            return [last - 1, last]
        return [last]

    def _blend(self, a: bytes | memoryview, b: bytes | memoryview, weight: int) -> bytes:
        frame_a, frame_b = np.frombuffer(a, np.uint8), np.frombuffer(b, np.uint8)
        if self.transition == "fade":
            return _mix(frame_a, frame_b, weight)
        # fadeblack: the outgoing scene goes down to black in the first half, the incoming comes up from it.
        if weight < 128:
            return _mix(frame_a, self._black, weight * 2)
        return _mix(self._black, frame_b, (weight - 128) * 2)

    def _scene_frame(self, position: int, index: int) -> bytes | memoryview:
        source = self._source(position)
        try:
            return source.frame(index - self.placements[position].start)
        except SceneError:
            raise
        except Exception as err:
            raise SceneError(position, err) from err

    def _source(self, position: int) -> FrameSource:
        self._open_ahead(position)
        try:
            return self._open[position].result()
        except Exception as err:
            raise SceneError(position, err) from err

    def _open_ahead(self, position: int) -> None:
        """Open this scene, and the one after it in the background."""
        for k in (position, position + 1):
            if k < len(self.openers) and k not in self._open:
                self._open[k] = self._pool.submit(self.openers[k])

    def _close_before(self, position: int) -> None:
        for k in [k for k in self._open if k < position]:
            future = self._open.pop(k)
            future.cancel()
            if not future.cancelled():
                with contextlib.suppress(Exception):  # a source that failed to open has nothing to close
                    future.result().close()


def _mix(a: np.ndarray, b: np.ndarray, weight: int) -> bytes:
    """(a * (256 - w) + b * w) / 256, rounded, in integers: deterministic to the byte."""
    weight = min(max(weight, 0), 256)
    mixed = (a.astype(np.uint16) * (256 - weight) + b.astype(np.uint16) * weight + 128) >> 8
    return mixed.astype(np.uint8).tobytes()


def _black_frame(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    frame = np.full(w * h * 3 // 2, NEUTRAL_CHROMA, np.uint8)
    frame[: w * h] = BLACK_LUMA
    return frame

