"""How wide libass sets a text, measured beforehand with the same font file (FreeType, through Pillow).

Word-by-word captions place every word themselves, so the highlighted word is drawn exactly over its
resting place and boxes fit the words. libass sizes a font so that its ascender plus descender (the
OS/2 table's Windows metrics) equal the ASS font size; the em size Pillow wants follows from that.
"""

from __future__ import annotations

import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from video_ops.base.errors import JobError

_FC_SPECIALS = "\\-:,"
FC_WEIGHT_REGULAR, FC_WEIGHT_BOLD = 80, 200


def font_file(family: str, bold: bool) -> Path:
    """The file fontconfig (and so libass) picks for an installed family."""
    pattern = "".join("\\" + ch if ch in _FC_SPECIALS else ch for ch in family)
    pattern += f":weight={FC_WEIGHT_BOLD if bold else FC_WEIGHT_REGULAR}"
    try:
        found = subprocess.run(["fc-match", "--format", "%{file}", pattern], capture_output=True, text=True,
                               timeout=60, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if not found:
        raise JobError("The worker cannot find its font files (fontconfig's fc-match failed); captions need fonts.")
    return Path(found)


@dataclass(frozen=True)
class TextMeter:
    """Advance widths, in script pixels, of text set at an ASS font size."""

    font: ImageFont.FreeTypeFont

    @classmethod
    def open(cls, path: Path, size: float) -> TextMeter:
        try:
            data = path.read_bytes()
            em = size * units_per_em(data) / line_units(data)
            return cls(ImageFont.truetype(str(path), size=em))
        except (OSError, ValueError, struct.error, ZeroDivisionError):
            raise JobError("The caption's font file cannot be read; is it a valid TrueType or OpenType font?") from None

    def width(self, text: str) -> float:
        return self.font.getlength(text)


def _tables(data: bytes) -> dict[bytes, bytes]:
    """The sfnt tables of a font file (the first font of a collection)."""
    base = struct.unpack(">I", data[12:16])[0] if data[:4] == b"ttcf" else 0
    count = struct.unpack(">H", data[base + 4:base + 6])[0]
    tables = {}
    for n in range(count):
        tag, _, offset, length = struct.unpack(">4sIII", data[base + 12 + 16 * n:base + 28 + 16 * n])
        tables[tag] = data[offset:offset + length]
    return tables


def units_per_em(data: bytes) -> int:
    return struct.unpack(">H", _tables(data)[b"head"][18:20])[0]


def line_units(data: bytes) -> int:
    """usWinAscent + usWinDescent, as libass reads them; hhea's ascender - descender without an OS/2 table."""
    tables = _tables(data)
    os2 = tables.get(b"OS/2", b"")
    if len(os2) >= 78:
        ascent, descent = struct.unpack(">HH", os2[74:78])
        if ascent + descent:
            return ascent + descent
    ascender, descender = struct.unpack(">hh", tables[b"hhea"][4:8])
    return ascender - descender
