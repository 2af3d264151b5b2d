"""Colours as callers write them (`#RRGGBB`, `#RRGGBBAA`, ASS `&HAABBGGRR`) -> one immutable type."""

from __future__ import annotations

import re
from typing import NamedTuple

from pysubs2 import Color

_CSS = re.compile(r"#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?")
_ASS = re.compile(r"&[hH]([0-9a-fA-F]{6}|[0-9a-fA-F]{8})&?")
# The names SRT files use in <font color="...">: HTML's sixteen basic colours and orange.
_NAMES = {
    "black": "000000", "silver": "c0c0c0", "gray": "808080", "grey": "808080", "white": "ffffff",
    "maroon": "800000", "red": "ff0000", "purple": "800080", "fuchsia": "ff00ff", "magenta": "ff00ff",
    "green": "008000", "lime": "00ff00", "olive": "808000", "yellow": "ffff00", "navy": "000080",
    "blue": "0000ff", "teal": "008080", "aqua": "00ffff", "cyan": "00ffff", "orange": "ffa500",
}
FORMATS = "#RRGGBB, #RRGGBBAA or &HAABBGGRR"


class Rgba(NamedTuple):
    """A colour; `a` is ASS's transparency (0 opaque, 255 invisible). Immutable, unlike pysubs2's Color."""

    r: int
    g: int
    b: int
    a: int = 0

    def inline(self) -> str:
        """The `&HBBGGRR&` form that ASS override codes (`{\\c...}`) take."""
        return f"&H{self.b:02X}{self.g:02X}{self.r:02X}&"

    def to_pysubs2(self) -> Color:
        return Color(self.r, self.g, self.b, self.a)


def parse_colour(text: str) -> Rgba:
    """`#RRGGBB[AA]` (AA: opacity, FF opaque) or ASS `&H[AA]BBGGRR[&]` (AA: transparency, 00 opaque)."""
    value = text.strip()
    if value.startswith("#") and (css := _CSS.fullmatch(value)):
        return _from_css(css)
    if ass := _ASS.fullmatch(value):
        digits = ass.group(1).rjust(8, "0")
        a, b, g, r = (int(digits[i:i + 2], 16) for i in range(0, 8, 2))
        return Rgba(r, g, b, a)
    raise ValueError(f"{value[:20]!r} is not a colour; use {FORMATS}")


def parse_html_colour(text: str) -> Rgba | None:
    """An SRT `<font color>` value (`#ff0000`, `ff0000`, `red`); None when unknown, so the tag is ignored."""
    value = _NAMES.get(text.strip().lower(), text.strip())
    css = _CSS.fullmatch(value)
    return _from_css(css) if css and css.group(2) is None else None


def _from_css(match: re.Match[str]) -> Rgba:
    rgb, opacity = match.group(1), match.group(2)
    r, g, b = (int(rgb[i:i + 2], 16) for i in range(0, 6, 2))
    return Rgba(r, g, b, 255 - int(opacity, 16) if opacity else 0)
