"""Durations as whole frames, so a sequence of clips or scenes never drifts from its seconds."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from fractions import Fraction


def exact_rate(frame_rate: float) -> Fraction:
    """The rate as typed (29.97 is 2997/100), so frame arithmetic is exact."""
    return Fraction(str(frame_rate))


def frame_counts(durations: Sequence[float | Fraction], rate: Fraction) -> list[int]:
    """Frames of each piece: `round(end * fps) - round(start * fps)` over the running sums.

    Sums are exact (durations as typed), so however many pieces follow each other, the sequence
    never drifts from the sum of the durations by more than one frame (half a frame, in fact).
    """
    edges, total = [0], Fraction(0)
    for duration in durations:
        total += duration if isinstance(duration, Fraction) else Fraction(str(duration))
        edges.append(math.floor(total * rate + Fraction(1, 2)))
    return [end - start for start, end in itertools.pairwise(edges)]
