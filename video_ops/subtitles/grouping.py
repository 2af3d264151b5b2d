"""Timed words -> captions of a few short lines, grouped as the reference worker grouped them.

A line holds at most `words_per_line` words and ends after a word that ends a sentence or once it has
lasted 5 s; a caption holds at most `max_lines` lines. Each caption is shown from its first word's
start to its last word's end.
"""

from __future__ import annotations

from dataclasses import dataclass

from video_ops.subtitles.words import Word, ends_sentence

MAX_LINE_S = 5.0


@dataclass(frozen=True)
class Caption:
    lines: tuple[tuple[Word, ...], ...]

    @property
    def words(self) -> list[Word]:
        return [word for line in self.lines for word in line]

    @property
    def start(self) -> float:
        return self.lines[0][0].start

    @property
    def end(self) -> float:
        return self.lines[-1][-1].end


def group(words: list[Word], words_per_line: int, max_lines: int) -> list[Caption]:
    lines: list[tuple[Word, ...]] = []
    line: list[Word] = []
    for word in words:
        if line and (len(line) >= words_per_line or word.start - line[0].start >= MAX_LINE_S):
            lines.append(tuple(line))
            line = []
        line.append(word)
        if ends_sentence(word):
            lines.append(tuple(line))
            line = []
    if line:
        lines.append(tuple(line))
    return [Caption(tuple(lines[n:n + max_lines])) for n in range(0, len(lines), max_lines)]
