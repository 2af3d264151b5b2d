"""ASS vector drawings (`{\\p1}` paths): the shapes libass fills behind captions, such as rounded boxes."""

from __future__ import annotations

from dataclasses import dataclass

_KAPPA = 0.5523  # cubic Bezier control distance that draws a quarter circle


@dataclass(frozen=True)
class Box:
    """A rectangle in script pixels (left, top, right, bottom) with corners of `radius`."""

    left: float
    top: float
    right: float
    bottom: float
    radius: float = 0.0


def path(boxes: list[Box], left: float, top: float) -> str:
    """One drawing of all `boxes`, relative to (left, top): libass fills their union once, so boxes that
    overlap do not darken where they meet."""
    return " ".join(_box_path(box, left, top) for box in boxes)


def bounds(boxes: list[Box]) -> tuple[float, float]:
    """The top-left corner of the boxes' union: where the drawing is placed with `\\an7\\pos`."""
    return min(box.left for box in boxes), min(box.top for box in boxes)


def _box_path(box: Box, dx: float, dy: float) -> str:
    x0, y0, x1, y1 = box.left - dx, box.top - dy, box.right - dx, box.bottom - dy
    r = max(0.0, min(box.radius, (x1 - x0) / 2, (y1 - y0) / 2))
    if r == 0:
        return f"m {_n(x0)} {_n(y0)} l {_n(x1)} {_n(y0)} {_n(x1)} {_n(y1)} {_n(x0)} {_n(y1)}"
    c = r * (1 - _KAPPA)
    return " ".join([
        f"m {_n(x0 + r)} {_n(y0)} l {_n(x1 - r)} {_n(y0)}",
        f"b {_n(x1 - c)} {_n(y0)} {_n(x1)} {_n(y0 + c)} {_n(x1)} {_n(y0 + r)} l {_n(x1)} {_n(y1 - r)}",
        f"b {_n(x1)} {_n(y1 - c)} {_n(x1 - c)} {_n(y1)} {_n(x1 - r)} {_n(y1)} l {_n(x0 + r)} {_n(y1)}",
        f"b {_n(x0 + c)} {_n(y1)} {_n(x0)} {_n(y1 - c)} {_n(x0)} {_n(y1 - r)} l {_n(x0)} {_n(y0 + r)}",
        f"b {_n(x0)} {_n(y0 + c)} {_n(x0 + c)} {_n(y0)} {_n(x0 + r)} {_n(y0)}",
    ])


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
