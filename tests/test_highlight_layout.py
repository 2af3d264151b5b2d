"""The word-by-word layout, before libass: words side by side without overlap, lines that fit the frame."""

from __future__ import annotations

import itertools

from video_ops.subtitles.grouping import Caption
from video_ops.subtitles.highlight import HighlightLook, layout
from video_ops.subtitles.metrics import TextMeter, font_file
from video_ops.subtitles.words import Word

LOOK = HighlightLook(font="Roboto Black")


def caption(*lines: str) -> Caption:
    words, t = [], 0.0
    for line in lines:
        row = []
        for text in line.split():
            row.append(Word(text, t, t + 0.3))
            t += 0.3
        words.append(tuple(row))
    return Caption(tuple(words))


def placed(*lines: str, width: int = 1920, height: int = 1080):
    meter = TextMeter.open(font_file(LOOK.font, False), LOOK.size * height / 1080)
    return layout(caption(*lines), LOOK, meter, width, height)


def test_words_sit_side_by_side_centred_on_the_frame():
    result = placed("one two three four", "five six")
    first = result.words[:4]
    for left, right in itertools.pairwise(first):
        assert left.x + left.width / 2 < right.x - right.width / 2  # a space between them, no overlap
        assert left.y == right.y
    assert (first[0].x - first[0].width / 2 + first[-1].x + first[-1].width / 2) / 2 == 960  # centred
    assert result.words[4].y - first[0].y == LOOK.size  # the next line, one font size lower
    assert result.scale == 100
    bottom = max(box.bottom for box in result.boxes)
    assert bottom == 1080 - LOOK.margin_v  # bottom-centre, the background 60 from the edge


def test_a_line_too_wide_for_the_frame_shrinks_its_caption():
    result = placed("incomprehensibilities notwithstanding extraordinarily", width=1080, height=1920)
    assert result.scale < 100
    assert min(box.left for box in result.boxes) >= LOOK.margin_h * 1920 / 1080 - 0.01
    assert max(box.right for box in result.boxes) <= 1080 - LOOK.margin_h * 1920 / 1080 + 0.01
