"""Inputs of the word-by-word caption bench: timed words, the same captions as an SRT for `caption`, and the
reference worker's ASS recipe for the same words (two layers, the whole caption typeset again per word)."""

from __future__ import annotations

import json
from pathlib import Path

import pysubs2

from video_ops.subtitles.grouping import Caption, group
from video_ops.subtitles.markup import escape_text
from video_ops.subtitles.words import Word

from .media import Scale

WORDS_PER_LINE, MAX_LINES = 4, 2  # the reference's defaults
TEXT = ("Short videos need captions that follow the voice word by word, so viewers keep reading even "
        "without sound. Each spoken word lights up in place while the rest of the line waits. "
        "Ação, você e não também aparecem com acentos!")
REFERENCE_STYLE = ("Style: Default,Arial Black,72,&H00FFFFFF,&H00FFFFFF,&H80000000,&H80000000,0,0,0,0,100,100,0,0,3,"
                   "12,0,2,40,40,80,1")


def words(scale: Scale, count: int) -> list[Word]:
    """`count` words spread over the video, each spoken for 90 % of its slot."""
    slot = scale.seconds / count
    texts = TEXT.split()
    return [Word(texts[n % len(texts)], n * slot, n * slot + 0.9 * slot) for n in range(count)]


def write_words(path: Path, spoken: list[Word]) -> None:
    path.write_text(json.dumps({"words": [{"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3)}
                                          for w in spoken]}))


def captions(spoken: list[Word]) -> list[Caption]:
    return group(spoken, WORDS_PER_LINE, MAX_LINES)


def write_srt(path: Path, spoken: list[Word]) -> None:
    """The same captions as one SRT cue each: what `caption` burns for the comparison."""
    cues = pysubs2.SSAFile()
    cues.events = [pysubs2.SSAEvent(start=round(c.start * 1000), end=round(c.end * 1000),
                                    text="\\N".join(" ".join(w.text for w in line) for line in c.lines))
                   for c in captions(spoken)]
    cues.save(str(path), format_="srt")


def write_reference_ass(path: Path, spoken: list[Word]) -> None:
    """The reference's recipe: per word, the whole caption on a box (layer 0) and again with the word
    outlined in the highlight colour (layer 1), on a 1920x1080 canvas."""
    events = []
    for caption in captions(spoken):
        flat = caption.words
        for n, word in enumerate(flat):
            until = flat[n + 1].start if n + 1 < len(flat) else caption.end
            lines = []
            for line in caption.lines:
                lines.append(" ".join(
                    f"{{\\c&H00FFFF&\\3c&H0000D6&\\bord12}}{escape_text(w.text)}{{\\r}}" if w is word
                    else escape_text(w.text) for w in line))
            text = "\\N".join(lines)
            plain = "\\N".join(" ".join(escape_text(w.text) for w in line) for line in caption.lines)
            start, end = _ass_time(word.start), _ass_time(until)
            events.append(f"Dialogue: 0,{start},{end},Default,,0,0,0,,{plain}")
            events.append(f"Dialogue: 1,{start},{end},Default,,0,0,0,,{{\\bord0}}{text}")
    path.write_text("\n".join([
        "[Script Info]", "ScriptType: v4.00+", "PlayResX: 1920", "PlayResY: 1080", "WrapStyle: 0", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding",
        REFERENCE_STYLE, "", "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text", *events, ""]),
        encoding="utf-8")


def _ass_time(seconds: float) -> str:
    centis = round(seconds * 100)
    return f"{centis // 360000}:{centis // 6000 % 60:02d}:{centis // 100 % 60:02d}.{centis % 100:02d}"
