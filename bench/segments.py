"""The reference worker's caption_segments script for the bench's SRT: its style at its defaults (Arial 36
bold, white, black outline 3, bottom centre, margin 20) on its fixed 1920x1080 canvas."""

from __future__ import annotations

from pathlib import Path

import pysubs2


def write_reference_ass(path: Path, srt: Path) -> None:
    script = pysubs2.load(str(srt), encoding="utf-8")
    script.info.update({"PlayResX": "1920", "PlayResY": "1080", "ScaledBorderAndShadow": "yes"})
    script.styles = {"Default": pysubs2.SSAStyle(
        fontname="Arial", fontsize=36, bold=True, primarycolor=pysubs2.Color(255, 255, 255),
        outlinecolor=pysubs2.Color(0, 0, 0), backcolor=pysubs2.Color(0, 0, 0), borderstyle=1, outline=3,
        shadow=0, alignment=pysubs2.Alignment.BOTTOM_CENTER, marginl=20, marginr=20, marginv=20)}
    script.save(str(path), format_="ass")
