"""Word timings as transcription tools write them -> one list of timed words, fitted to the video.

Accepted shapes: `{"words": [...]}` (the reference's, and OpenAI's verbose_json top level), a bare list
of words, verbose_json / faster-whisper `segments[].words[]`, and WhisperX `word_segments` (whose words
may lack times: those are interpolated). A word is `{"word" (or "text"), "start", "end"}` in seconds.
An SRT file's cues also give words: each cue's time is spread over its words by their length.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

from video_ops.base.errors import JobError
from video_ops.subtitles.srt import Cue

SENTENCE_ENDS = (".", "?", "!", "…")
EXPECTED = ('{"words": [{"word", "start", "end"}, ...]}, a list of such words, a Whisper verbose_json '
            '(segments[].words[]) or a WhisperX file (word_segments)')
UNTIMED_TAIL_S = 0.4
MAX_WORDS = 100_000  # ten hours of speech; each word becomes a few script events
WORD_EXAMPLE = '{"word": "hello", "start": 0.5, "end": 0.9}'
_TAGS = re.compile(r"<[^<>]*>|\{\\[^{}]*\}")


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds
    end: float


@dataclass(frozen=True)
class _Raw:
    text: str
    start: float | None
    end: float | None
    where: str  # e.g. "segments[0].words[3]", for messages


def read_words(data: bytes, field: str) -> list[Word]:
    """The words of a JSON words file, in file order, with missing times interpolated."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise JobError(f"{field}: the file is not valid UTF-8 JSON; expected {EXPECTED}.") from None
    items = _word_items(document, field)
    if len(items) > MAX_WORDS:
        raise JobError(f"{field}: the file holds {len(items)} words; at most {MAX_WORDS} are accepted.")
    raws = [raw for where, item in items if (raw := _read_item(item, where, field)) is not None]
    if not raws:
        raise JobError(f"{field}: the file holds no words; expected {EXPECTED}.")
    return _join_punctuation(_interpolate(raws, field))


def _word_items(document: Any, field: str) -> list[tuple[str, Any]]:
    """(where, item) for every word object, whichever shape the file has."""
    if isinstance(document, list):
        return [(f"[{n}]", item) for n, item in enumerate(document)]
    if isinstance(document, dict):
        for key in ("words", "word_segments"):
            if isinstance(document.get(key), list) and document[key]:
                return [(f"{key}[{n}]", item) for n, item in enumerate(document[key])]
        segments = document.get("segments")
        if isinstance(segments, list):
            return [(f"segments[{s}].words[{n}]", item) for s, segment in enumerate(segments)
                    if isinstance(segment, dict) and isinstance(segment.get("words"), list)
                    for n, item in enumerate(segment["words"])]
        if isinstance(document.get("words"), list) or isinstance(document.get("word_segments"), list):
            return []
        keys = ", ".join(str(key)[:30] for key in list(document)[:5]) or "none"
        raise JobError(f"{field}: expected {EXPECTED}; got an object with the keys {keys}.")
    raise JobError(f"{field}: expected {EXPECTED}; got a JSON {type(document).__name__}.")


def _read_item(item: Any, where: str, field: str) -> _Raw | None:
    if not isinstance(item, dict):
        raise JobError(f"{field}: {where} must be an object like {WORD_EXAMPLE}.")
    text = item.get("word", item.get("text"))
    if not isinstance(text, str):
        raise JobError(f"{field}: {where} has no \"word\" text.")
    text = " ".join(text.split())  # whisper tokens carry a leading space; no double spaces from them
    if not text:
        return None
    return _Raw(text, _time(item, "start", where, field), _time(item, "end", where, field), where)


def _time(item: dict[str, Any], key: str, where: str, field: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JobError(f"{field}: {where}.{key} must be a number of seconds.")
    if not math.isfinite(value) or value < 0:
        raise JobError(f"{field}: {where}.{key} must be a finite number of seconds, 0 or more (got {value}).")
    return float(value)


def _interpolate(raws: list[_Raw], field: str) -> list[Word]:
    """Times for words that lack one or both (WhisperX leaves digits and symbols untimed): the gap between
    the timed neighbours shared evenly; untimed words at the end get a nominal 0.4 s each."""
    if not any(_timed(raw) for raw in raws):
        raise JobError(f"{field}: no word has both a start and an end time.")
    words: list[Word] = []
    index = 0
    while index < len(raws):
        raw = raws[index]
        if _timed(raw):
            if raw.end < raw.start:  # type: ignore[operator]
                raise JobError(f"{field}: {raw.where} ends ({raw.end:g} s) before it starts ({raw.start:g} s).")
            words.append(Word(raw.text, raw.start, raw.end))  # type: ignore[arg-type]
            index += 1
            continue
        after = next(n for n in range(index, len(raws) + 1) if n == len(raws) or _timed(raws[n]))
        run = raws[index:after]
        low = words[-1].end if words else raws[after].start
        high = raws[after].start if after < len(raws) else low + UNTIMED_TAIL_S * len(run)
        step = max(high - low, 0.0) / len(run)  # type: ignore[operator]
        words += [Word(r.text, low + k * step, low + (k + 1) * step) for k, r in enumerate(run)]  # type: ignore[operator]
        index = after
    return words


def _timed(raw: _Raw) -> bool:
    return raw.start is not None and raw.end is not None


def _join_punctuation(words: list[Word]) -> list[Word]:
    """A token of punctuation only (`,` `.` `?`) belongs to the word before it."""
    joined: list[Word] = []
    for word in words:
        if joined and not any(ch.isalnum() for ch in word.text):
            last = joined[-1]
            joined[-1] = replace(last, text=last.text + word.text, end=max(last.end, word.end))
        else:
            joined.append(word)
    return joined


def words_from_cues(cues: list[Cue]) -> list[Word]:
    """Each cue's words, its time spread over them in proportion to their lengths (a fair guess of speech)."""
    words: list[Word] = []
    for cue in cues:
        texts = _TAGS.sub("", cue.text.replace("\\N", " ").replace("\\n", " ")).split()
        total = sum(len(text) for text in texts)
        start, span = cue.start_ms / 1000, (cue.end_ms - cue.start_ms) / 1000
        done = 0
        for text in texts:
            words.append(Word(text, start + span * done / total, start + span * (done + len(text)) / total))
            done += len(text)
    return _join_punctuation(words)


@dataclass(frozen=True)
class FittedWords:
    words: list[Word]
    warnings: list[str]


def fit_words(words: list[Word], duration: float, field: str) -> FittedWords:
    """Sorted, without overlaps, within the video; each fix said once in the warnings."""
    warnings = []
    ordered = sorted(words, key=lambda w: w.start)
    if ordered != words:
        warnings.append(f"{field}: the words were not in time order and were sorted.")
    late = [w for w in ordered if w.start >= duration]
    kept = [replace(w, end=min(w.end, duration)) for w in ordered if w.start < duration]
    if not kept:
        raise JobError(f"{field}: every word starts after the video ends ({duration:.2f} s); "
                       "are these the words of this video?")
    if late or any(w.end > duration for w in ordered):
        warnings.append(f"{field}: words past the video's end ({duration:.2f} s) were cut there"
                        + (f" ({len(late)} dropped)." if late else "."))
    trimmed = 0
    for n in range(len(kept) - 1):
        if kept[n].end > kept[n + 1].start:
            kept[n] = replace(kept[n], end=kept[n + 1].start)
            trimmed += 1
    if trimmed:
        warnings.append(f"{field}: {trimmed} word{'s' if trimmed > 1 else ''} overlapped the next and "
                        f"{'were' if trimmed > 1 else 'was'} trimmed to end where it starts.")
    return FittedWords(kept, warnings)


def ends_sentence(word: Word) -> bool:
    return word.text.rstrip("\"'”’»)").endswith(SENTENCE_ENDS)
