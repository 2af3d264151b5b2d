"""Cues + Look + the frame size -> the ASS script libass burns in, written by pysubs2.

PlayResX/PlayResY equal the frame's size, so one script unit is one pixel and the Look's lengths
(given for a 1080-pixel-high frame) are scaled by height/1080 here, once.
"""

from __future__ import annotations

from pathlib import Path

import pysubs2

from video_ops.subtitles.markup import to_ass_text
from video_ops.subtitles.srt import Cue
from video_ops.subtitles.style import REFERENCE_HEIGHT, Look

STYLE_NAME = "Caption"
AUTO_DIRECTION = -1  # libass's Encoding -1: each line's base direction from its text, so RTL reads right


def ass_style(look: Look, height: int) -> pysubs2.SSAStyle:
    k = height / REFERENCE_HEIGHT
    return pysubs2.SSAStyle(
        fontname=look.font,
        fontsize=round(look.size * k, 2),
        primarycolor=look.primary.to_pysubs2(),
        outlinecolor=look.outline_colour.to_pysubs2(),
        backcolor=look.back_colour.to_pysubs2(),
        bold=look.bold,
        italic=look.italic,
        underline=look.underline,
        strikeout=look.strikeout,
        scalex=look.scale_x,
        scaley=look.scale_y,
        spacing=round(look.spacing * k, 2),
        angle=look.angle,
        borderstyle=look.border_style,
        outline=round(look.outline * k, 2),
        shadow=round(look.shadow * k, 2),
        alignment=pysubs2.Alignment(look.alignment),
        marginl=round(look.margin_l * k),
        marginr=round(look.margin_r * k),
        marginv=round(look.margin_v * k),
        encoding=AUTO_DIRECTION,
    )


def write_script(path: Path, cues: list[Cue], look: Look, width: int, height: int) -> None:
    script = pysubs2.SSAFile()
    script.info.update({"PlayResX": str(width), "PlayResY": str(height), "ScaledBorderAndShadow": "yes",
                        "WrapStyle": "0"})  # 0: wrap long lines into lines of even length
    script.styles = {STYLE_NAME: ass_style(look, height)}
    script.events = [
        pysubs2.SSAEvent(start=cue.start_ms, end=cue.end_ms, style=STYLE_NAME,
                         text=to_ass_text(cue.text, look.uppercase))
        for cue in cues
    ]
    script.save(str(path), format_="ass")
