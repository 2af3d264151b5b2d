"""Timed words -> subtitle cues people can read, by the timed-text guidelines of Netflix and the BBC.

A cue holds at most `max_lines` lines of at most `max_chars_per_line` characters (42, or 32 on a frame taller
than wide), shows for `min_duration_s` to `max_duration_s`, and leaves at least two frames before the next.
A sentence's end, or a pause in the speech, closes a cue. Lines break after punctuation or before a
conjunction rather than inside a phrase, and the lines of a cue are balanced. A cue never starts before its
first word is spoken nor ends before its last word ends: a short cue is held on into the silence after it,
never over the next cue's first word.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from dataclasses import dataclass

from video_ops.subtitles.words import Word, ends_sentence

LANDSCAPE_CHARS, PORTRAIT_CHARS = 42, 32
DEFAULT_FPS = 25.0  # the frame rate the gap between cues is counted in when the sound has no pictures
PAUSE_S = 1.0  # silence between two words that closes the cue: a caption is not left up over a pause
PHRASE_ENDS = (",", ";", ":", "—", "–", ".", "?", "!", "…")
# A line that breaks before one of these keeps its phrase whole (English, Portuguese, Spanish).
CONJUNCTIONS = frozenset({
    "and", "but", "or", "nor", "so", "yet", "because", "although", "though", "while", "whereas", "if", "unless",
    "when", "that", "which", "who", "whose", "where", "than", "until", "since", "as",
    "e", "mas", "ou", "nem", "porque", "pois", "que", "quando", "enquanto", "se", "embora", "onde", "como",
    "y", "pero", "o", "ni", "aunque", "cuando", "mientras", "donde", "sino",
})
# A line ending with one of these cuts its phrase in two: an article or preposition from its noun.
CLINGING = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "with", "from", "by", "my", "your", "his", "her", "our",
    "their", "its", "this", "these", "those",
    "o", "os", "as", "um", "uma", "de", "do", "da", "dos", "das", "em", "no", "na", "nos", "nas", "com", "por",
    "para", "ao", "el", "la", "los", "las", "un", "una", "del", "al", "en", "con",
})
INSIDE_PHRASE = 64  # a break inside a phrase costs what 8 characters of imbalance between the lines cost
SPLIT_PHRASE = 400  # a line ending on an article or preposition: 20 characters of imbalance


@dataclass(frozen=True)
class CueRules:
    """The guidelines' numbers; `max_chars_per_line` None takes the frame's shape into account."""

    max_chars_per_line: int | None = None
    max_lines: int = 2
    min_duration_s: float = 0.83
    max_duration_s: float = 7.0
    gap_frames: int = 2


@dataclass(frozen=True)
class Cue:
    start: float  # seconds, on the millisecond grid
    end: float
    lines: tuple[str, ...]
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Layout:
    """What the rules came to for one video: the line length and the gap actually used."""

    max_chars_per_line: int
    frame_rate: float
    frame_rate_known: bool

    @property
    def frame_s(self) -> float:
        return 1 / self.frame_rate


def layout_for(rules: CueRules, frame_size: tuple[int, int] | None, fps: float | None) -> Layout:
    """42 characters a line, 32 on a frame taller than wide (a sound alone counts as wide); 25 fps unknown."""
    chars = rules.max_chars_per_line
    if chars is None:
        chars = PORTRAIT_CHARS if frame_size is not None and frame_size[1] > frame_size[0] else LANDSCAPE_CHARS
    known = fps is not None and fps > 0
    return Layout(chars, fps if known else DEFAULT_FPS, known)


def cues_from_words(words: list[Word], frame_size: tuple[int, int] | None, fps: float | None,
                    rules: CueRules) -> list[Cue]:
    """The words (in time order) as cues: grouped, broken into lines and timed by the rules."""
    layout = layout_for(rules, frame_size, fps)
    groups = _groups([word for word in words if word.text.strip()], rules, layout.max_chars_per_line)
    return _timed(groups, rules, rules.gap_frames * layout.frame_s, layout.max_chars_per_line)


def _groups(words: list[Word], rules: CueRules, chars: int) -> list[list[Word]]:
    """Words gathered into cues: a cue closes after a sentence's end, before a pause, and before the word that
    would not fit its lines or its longest duration (then at the last good break in its second half)."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if current and word.start - current[-1].end >= PAUSE_S:
            current = _close(groups, current)
        elif current and not _fits([*current, word], rules, chars):
            cut = _last_good_break(current)
            groups.append(current[:cut])
            current = current[cut:]
            if current and not _fits([*current, word], rules, chars):
                current = _close(groups, current)
        current.append(word)
        if ends_sentence(word):
            current = _close(groups, current)
    _close(groups, current)
    return groups


def _close(groups: list[list[Word]], current: list[Word]) -> list[Word]:
    if current:
        groups.append(current)
    return []


def _fits(words: list[Word], rules: CueRules, chars: int) -> bool:
    one_word = len(words) == 1  # a word longer than the line or the longest duration still gets its cue
    return one_word or (words[-1].end - words[0].start <= rules.max_duration_s
                        and _lines(words, rules.max_lines, chars) is not None)


def _last_good_break(current: list[Word]) -> int:
    """Where a cue closed for room is best cut: the latest break after punctuation or before a conjunction in
    its second half, else after its last word (the words from the index on move to the next cue)."""
    for index in range(len(current) - 1, max(len(current) // 2, 1) - 1, -1):
        if _break_cost(current[index - 1], current[index]) == 0:
            return index
    return len(current)


def _break_cost(before: Word, after: Word) -> int:
    """What breaking between two words costs: nothing after punctuation or before a conjunction."""
    if before.text.rstrip("\"'”’»)").endswith(PHRASE_ENDS) or _bare(after) in CONJUNCTIONS:
        return 0
    return SPLIT_PHRASE if _bare(before) in CLINGING else INSIDE_PHRASE


def _bare(word: Word) -> str:
    return word.text.strip("\"'“”‘’«»()¿¡.,;:!?…").lower()


def _lines(words: list[Word], max_lines: int, chars: int) -> tuple[str, ...] | None:
    """The fewest lines (at most `max_lines`, each at most `chars` long) that hold the words, broken where it
    costs least: balanced lengths, breaks at punctuation and conjunctions; None when they do not fit."""
    texts = [word.text.strip() for word in words]
    for count in range(1, max_lines + 1):
        best = _best_breaks(words, texts, count, chars)
        if best is not None:
            edges = [0, *best, len(words)]
            return tuple(_join(texts[a:b]) for a, b in itertools.pairwise(edges))
    return None


def _best_breaks(words: list[Word], texts: list[str], count: int, chars: int) -> list[int] | None:
    """The `count - 1` word indexes that start new lines, at least cost (dynamic programming over breaks)."""
    n = len(words)
    if count > n:
        return None
    target = len(_join(texts)) / count
    # best[k][j]: (cost, breaks) of words[:j] in k lines
    best: list[dict[int, tuple[float, list[int]]]] = [{0: (0.0, [])}]
    for lines in range(1, count + 1):
        row: dict[int, tuple[float, list[int]]] = {}
        for end in range(lines, n + 1):
            for start, (cost, breaks) in best[lines - 1].items():
                if start >= end or (lines == count and end != n):
                    continue
                length = len(_join(texts[start:end]))
                if length > chars:
                    continue
                total = cost + (length - target) ** 2 + (_break_cost(words[start - 1], words[start]) if start else 0)
                if end not in row or total < row[end][0]:
                    row[end] = (total, [*breaks, start] if start else breaks)
        best.append(row)
    return best[count][n][1] if n in best[count] else None


def _join(texts: list[str]) -> str:
    """Words with spaces between them, none between two characters of a script written without (CJK)."""
    joined = ""
    for text in texts:
        spaced = joined and not (_unspaced(joined[-1]) and _unspaced(text[0]))
        joined += (" " if spaced else "") + text
    return joined


def _unspaced(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _timed(groups: list[list[Word]], rules: CueRules, gap_s: float, chars: int) -> list[Cue]:
    """Each group shown from its first word to its last, held to `min_duration_s` into the silence after it
    but not past the next group's first word less the gap; a group whose first word comes sooner than the gap
    after the cue before starts that much later."""
    cues: list[Cue] = []
    for index, group in enumerate(groups):
        start = group[0].start if not cues else max(group[0].start, cues[-1].end + gap_s)
        start = _up_to_ms(start)
        last_end = max(word.end for word in group)
        following = groups[index + 1][0].start - gap_s if index + 1 < len(groups) else math.inf
        end = max(last_end, min(start + rules.min_duration_s, following), start + 0.001)
        lines = _lines(group, rules.max_lines, chars) or (_join([word.text.strip() for word in group]),)
        cues.append(Cue(start, _up_to_ms(end), lines, tuple(group)))
    return cues


def _up_to_ms(seconds: float) -> float:
    """On the millisecond grid SRT and WebVTT write, never earlier than the time given."""
    return math.ceil(round(seconds * 1000, 6)) / 1000
