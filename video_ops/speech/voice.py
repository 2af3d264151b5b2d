"""Word timings kept out of the silences the sound really has.

Whisper places words by attention, a few tenths of a second off at the edges of speech: the first word after
a silence often starts inside it, the last word before one runs on into it (a caption would then show over
the pause). Where the sound holds a clear silence (near digital quiet for at least `MIN_SILENCE_S`), a word's
start or end that falls inside it is moved to the silence's edge; speech under music or noise has no such
silences, and its timings are left as heard.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, TypeVar

import numpy as np

FRAME_S = 0.01
QUIET = 10 ** (-50 / 20)  # peak below -50 dBFS in a 10 ms frame: no voice
MIN_SILENCE_S = 0.3  # shorter quiet is a stop consonant or a breath inside speech
LONE_WORD_S = 0.2  # a word heard wholly inside a silence is given this much of the voice beside it


class Timed(Protocol):
    start: float
    end: float


Heard = TypeVar("Heard", bound=Timed)  # a word as the caller keeps it (a frozen dataclass: subtitles' Word)


def silences(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """(start, end) in seconds of every run of quiet frames lasting at least MIN_SILENCE_S."""
    frame = max(1, round(rate * FRAME_S))
    count = len(samples) // frame
    if count == 0:
        return []
    peaks = np.abs(samples[:count * frame]).reshape(count, frame).max(axis=1)
    quiet = np.concatenate(([False], peaks < QUIET, [False]))
    edges = np.flatnonzero(quiet[1:] != quiet[:-1])
    runs = zip(edges[::2], edges[1::2], strict=True)
    return [(start * frame / rate, end * frame / rate) for start, end in runs
            if (end - start) * frame / rate >= MIN_SILENCE_S]


def fit_to_voice(words: list[Heard], quiet: list[tuple[float, float]]) -> list[Heard]:
    """The words with their edges moved out of the silences; a word wholly inside one joins the end of the
    speech before it (Whisper's usual slip: a phrase's last word run on into the pause), the first word of
    all the speech after it."""
    fitted: list[Heard] = []
    for word in words:
        start, end = word.start, word.end
        for begin, finish in quiet:
            if begin <= start and end <= finish:
                if fitted:
                    start, end = max(begin - LONE_WORD_S, fitted[-1].end), begin
                else:
                    start, end = finish, finish + LONE_WORD_S
            elif begin <= start < finish:
                start = finish
            elif begin < end <= finish:
                end = begin
        fitted.append(dataclasses.replace(word, start=start, end=max(start, end)))
    return fitted
