"""Word-by-word captions: captions of timed words -> an ASS script where the spoken word is highlighted.

Each caption is laid out once, here (word widths measured with the font file libass will use), and
every word is placed by its centre with `\\an5\\pos`. So the script stays cheap for libass and the
active word can never move its neighbours:

- layer 0: one drawing per caption, the rounded background boxes of all its lines (their union);
- layer 1: the caption's words at rest, one small static event per word for the whole caption;
- layers 2-3: per word, only while it is active, the highlight (a box drawing) and the word drawn again
  in place, in the highlight look.

Nothing re-typesets the whole caption per word (the reference worker wrote the whole caption again for
every word, on two layers); libass renders each word once per caption and one more word at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pysubs2

from video_ops.subtitles.colours import Rgba
from video_ops.subtitles.drawing import Box, bounds, path
from video_ops.subtitles.grouping import Caption, group
from video_ops.subtitles.markup import escape_text
from video_ops.subtitles.metrics import TextMeter
from video_ops.subtitles.style import BLACK, HALF_BLACK, REFERENCE_HEIGHT, WHITE
from video_ops.subtitles.words import Word

Mode = Literal["box", "outline", "color", "karaoke", "pop"]
MODES: tuple[Mode, ...] = ("box", "outline", "color", "karaoke", "pop")
STYLE_NAME = "Word"
POP_SCALE = 1.2  # the active word in `pop` grows to 120 %...
POP_GROW_MS, POP_SETTLE_MS = 80, 160  # ...in 80 ms, and is back to its size 80 ms later
CORNER = 0.3  # corner radius of rounded boxes, as a share of the font size
YELLOW, HIGHLIGHT_RED, INVISIBLE = Rgba(255, 255, 0), Rgba(214, 0, 0), Rgba(0, 0, 0, 255)
BACKGROUND, RESTING, HIGHLIGHT_BOX, ACTIVE = 0, 1, 2, 3  # layers


@dataclass(frozen=True)
class HighlightLook:
    """Word-by-word caption style; lengths in pixels of a 1080-high frame, colours with ASS alpha."""

    font: str
    size: float = 72.0
    bold: bool = False
    text: Rgba = WHITE
    highlight_text: Rgba = YELLOW
    highlight: Rgba = HIGHLIGHT_RED
    background: Rgba = HALF_BLACK
    rounded: bool = True
    border: float = 12.0  # the highlight: outline width in `outline`, the box's padding in `box`
    padding_h: float = 40.0  # the background box around each line
    padding_v: float = 80.0
    outline: float = 0.0  # the resting text's own outline
    outline_colour: Rgba = BLACK
    alignment: int = 2
    margin_h: float = 60.0  # between the background box and the frame's edges
    margin_v: float = 60.0
    mode: Mode = "box"
    uppercase: bool = False
    words_per_line: int = 4
    max_lines: int = 2


@dataclass(frozen=True)
class PlacedWord:
    word: Word
    text: str  # as shown (upper-cased when asked)
    x: float  # centre
    y: float
    width: float


@dataclass(frozen=True)
class Layout:
    """One caption on the frame: its words' places, its line boxes, its font scale (percent)."""

    words: list[PlacedWord]
    boxes: list[Box]
    scale: float
    line_height: float
    start_ms: int
    end_ms: int


def write_highlight_script(path_: Path, words: list[Word], look: HighlightLook, width: int, height: int,
                           font_file: Path) -> int:
    """The ASS script of `words` on a `width` x `height` frame (sizes scaled from a 1080-high frame), drawn
    with the font in `font_file` (the file libass will pick for `look.font`); returns the captions' count."""
    k = height / REFERENCE_HEIGHT
    meter = TextMeter.open(font_file, look.size * k)
    script = pysubs2.SSAFile()
    script.info.update({"PlayResX": str(width), "PlayResY": str(height), "ScaledBorderAndShadow": "yes",
                        "WrapStyle": "2"})  # 2: no wrapping; the lines are laid out here
    script.styles = {STYLE_NAME: _style(look, k)}
    captions = group(words, look.words_per_line, look.max_lines)
    for caption in captions:
        script.events += _events(layout(caption, look, meter, width, height), look, k)
    script.save(str(path_), format_="ass")
    return len(captions)


def layout(caption: Caption, look: HighlightLook, meter: TextMeter, width: int, height: int) -> Layout:
    """Where each word goes: lines stacked one font size apart, aligned as asked, shrunk to fit the width."""
    k = height / REFERENCE_HEIGHT
    pad_h, pad_v = look.padding_h * k, look.padding_v * k
    shown = [[_shown(word, look) for word in line] for line in caption.lines]
    space = meter.width(" ")
    widths = [[meter.width(text) for text in line] for line in shown]
    line_widths = [sum(line) + space * (len(line) - 1) for line in widths]
    room = width - 2 * (look.margin_h * k + pad_h)
    shrink = min(1.0, room / max(line_widths)) if room > 0 else 1.0
    line_height = look.size * k * shrink
    block = line_height * len(caption.lines)
    row, column = (look.alignment - 1) // 3, (look.alignment - 1) % 3  # numpad: row 0 bottom, 2 top
    margin_v = look.margin_v * k + pad_v
    top = {0: height - margin_v - block, 1: (height - block) / 2, 2: margin_v}[row]
    placed, boxes = [], []
    radius = CORNER * look.size * k * shrink if look.rounded else 0.0
    for n, (line, line_words) in enumerate(zip(caption.lines, widths, strict=True)):
        line_width = line_widths[n] * shrink
        left = {0: look.margin_h * k + pad_h, 1: (width - line_width) / 2,
                2: width - look.margin_h * k - pad_h - line_width}[column]
        y = top + line_height * (n + 0.5)
        x = left
        for word, text, word_width in zip(line, shown[n], line_words, strict=True):
            placed.append(PlacedWord(word, text, x + word_width * shrink / 2, y, word_width * shrink))
            x += (word_width + space) * shrink
        # padded at the caption's top and bottom only; inner edges overlap by the radius, so the union is
        # one stepped shape with rounded outer corners
        above = pad_v if n == 0 else radius
        below = pad_v if n == len(caption.lines) - 1 else radius
        boxes.append(Box(left - pad_h, y - line_height / 2 - above, left + line_width + pad_h,
                         y + line_height / 2 + below, radius))
    return Layout(words=placed, boxes=boxes, scale=round(100 * shrink, 2), line_height=line_height,
                  start_ms=_ms(caption.start), end_ms=_ms(caption.end))


def _shown(word: Word, look: HighlightLook) -> str:
    return word.text.upper() if look.uppercase else word.text


def _style(look: HighlightLook, k: float) -> pysubs2.SSAStyle:
    return pysubs2.SSAStyle(
        fontname=look.font, fontsize=round(look.size * k, 2), bold=look.bold,
        primarycolor=look.text.to_pysubs2(), secondarycolor=look.text.to_pysubs2(),
        outlinecolor=look.outline_colour.to_pysubs2(), backcolor=INVISIBLE.to_pysubs2(),
        borderstyle=1, outline=round(look.outline * k, 2), shadow=0, alignment=pysubs2.Alignment(5),
        marginl=0, marginr=0, marginv=0, encoding=-1,
    )


def _events(placed: Layout, look: HighlightLook, k: float) -> list[pysubs2.SSAEvent]:
    size = f"\\fscx{placed.scale:g}\\fscy{placed.scale:g}" if placed.scale != 100 else ""
    events = []
    if look.background.a < 255:
        events.append(_drawing(placed.boxes, look.background, BACKGROUND, placed.start_ms, placed.end_ms))
    for word in placed.words:
        events.append(pysubs2.SSAEvent(start=placed.start_ms, end=placed.end_ms, layer=RESTING, style=STYLE_NAME,
                                       text=f"{{{_at(word)}{size}}}{escape_text(word.text)}"))
    ends = [_ms(w.word.start) for w in placed.words[1:]] + [placed.end_ms]
    for word, until in zip(placed.words, ends, strict=True):
        start = _ms(word.word.start)
        if until <= start:
            continue
        if look.mode == "box":
            pad = look.border * k * placed.scale / 100
            box = Box(word.x - word.width / 2 - pad, word.y - placed.line_height / 2,
                      word.x + word.width / 2 + pad, word.y + placed.line_height / 2,
                      CORNER * placed.line_height if look.rounded else 0.0)
            events.append(_drawing([box], look.highlight, HIGHLIGHT_BOX, start, until))
        tags = _active_tags(look, k, _ms(word.word.end) - start, placed.scale)
        events.append(pysubs2.SSAEvent(start=start, end=until, layer=ACTIVE, style=STYLE_NAME,
                                       text=f"{{{_at(word)}{size}{tags}}}{escape_text(word.text)}"))
    return events


def _active_tags(look: HighlightLook, k: float, spoken_ms: int, scale: float) -> str:
    """The override codes that make the active word look highlighted, per mode."""
    lit = f"\\1c{look.highlight_text.inline()}\\1a&H{look.highlight_text.a:02X}&"
    if look.mode == "outline":
        return f"{lit}\\3c{look.highlight.inline()}\\3a&H{look.highlight.a:02X}&\\bord{look.border * k:.2f}"
    if look.mode == "karaoke":  # secondary (the resting colour) gives way to primary, left to right
        return f"\\2c{look.text.inline()}{lit}\\kf{max(1, round(spoken_ms / 10))}"
    if look.mode == "pop":
        big = round(scale * POP_SCALE, 2)
        return (f"{lit}\\t(0,{POP_GROW_MS},\\fscx{big:g}\\fscy{big:g})"
                f"\\t({POP_GROW_MS},{POP_SETTLE_MS},\\fscx{scale:g}\\fscy{scale:g})")
    return lit  # box (the box is its own drawing) and color


def _drawing(boxes: list[Box], colour: Rgba, layer: int, start: int, end: int) -> pysubs2.SSAEvent:
    left, top = bounds(boxes)
    return pysubs2.SSAEvent(
        start=start, end=end, layer=layer, style=STYLE_NAME,
        text=f"{{\\an7\\pos({left:.1f},{top:.1f})\\bord0\\shad0\\1c{colour.inline()}\\1a&H{colour.a:02X}&\\p1}}"
             f"{path(boxes, left, top)}",
    )


def _at(word: PlacedWord) -> str:
    return f"\\an5\\pos({word.x:.1f},{word.y:.1f})"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
