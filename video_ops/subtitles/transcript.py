"""A transcript (timed segments, each with its timed words) -> the files callers chain into captions.

SRT and WebVTT hold cues made from the words by the timed-text rules (video_ops.subtitles.cues), not
Whisper's segments, which run as long as a thought and ignore the reader. SRT and WebVTT keep times to the
millisecond; the JSON files round them (never truncate); the words file is the shape caption_highlight
reads (`{"words": [{"word", "start", "end"}]}`); the ASS karaoke file lights each word as it is spoken
(`\\kf`, centiseconds: ASS's own resolution). Text is never written raw: line breaks cannot end a cue
early, `-->` cannot fake a timing line, and in ASS `{`, `}` and `\\` are drawn as typed (the escaping
caption_segments uses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysubs2

from video_ops.subtitles.ass import ass_style
from video_ops.subtitles.colours import Rgba
from video_ops.subtitles.cues import Cue, CueRules, cues_from_words
from video_ops.subtitles.markup import escape_text
from video_ops.subtitles.srt import Cue as SrtCue
from video_ops.subtitles.style import PRESETS, REFERENCE_HEIGHT
from video_ops.subtitles.timed import Timed
from video_ops.subtitles.word_timed import write_word_timed
from video_ops.subtitles.words import Word, words_from_cues

KARAOKE_STYLE = "Karaoke"
SUNG, UNSUNG = Rgba(255, 214, 0), Rgba(255, 255, 255)  # ASS karaoke: secondary colour until sung, then primary
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    end: float
    text: str
    words: list[Word]


def segment_words(segments: list[Segment]) -> list[Word]:
    """Every segment's words in order; a segment heard without word timings gives its text's words, its time
    spread over them by their lengths."""
    words: list[Word] = []
    for seg in segments:
        if seg.words:
            words.extend(seg.words)
        elif lines_of(seg.text):
            cue = SrtCue(milliseconds(seg.start), milliseconds(seg.end), " ".join(lines_of(seg.text)), 0)
            words.extend(words_from_cues([cue]))
    return words


def transcript_cues(segments: list[Segment], frame_size: tuple[int, int] | None, fps: float | None,
                    rules: CueRules) -> list[Cue]:
    """The cues a transcript's subtitles show: its words grouped and timed for reading."""
    return cues_from_words(segment_words(segments), frame_size, fps, rules)


def lines_of(text: str) -> list[str]:
    """The text's non-blank lines, trimmed: a blank line would end an SRT or VTT cue."""
    return [line.strip() for line in _LINE_BREAKS.split(text) if line.strip()]


def milliseconds(seconds: float) -> int:
    return round(seconds * 1000)


def _stamp(seconds: float, separator: str) -> str:
    ms = milliseconds(seconds)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{separator}{ms % 1000:03d}"


def srt_text(segments: Sequence[Timed]) -> str:
    cues = [seg for seg in segments if lines_of(seg.text)]
    return "".join(
        f"{n}\n{_stamp(seg.start, ',')} --> {_stamp(seg.end, ',')}\n"
        + "\n".join(line.replace("-->", "->") for line in lines_of(seg.text)) + "\n\n"
        for n, seg in enumerate(cues, start=1)
    )


def vtt_text(segments: Sequence[Timed]) -> str:
    """WebVTT: cue text is markup there, so `&`, `<` and `>` are written as entities."""
    cues = [
        f"{_stamp(seg.start, '.')} --> {_stamp(seg.end, '.')}\n"
        + "\n".join(line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in lines_of(seg.text))
        for seg in segments if lines_of(seg.text)
    ]
    return "WEBVTT\n\n" + "".join(cue + "\n\n" for cue in cues)


def _word(word: Word) -> dict[str, Any]:
    return {"word": word.text, "start": milliseconds(word.start) / 1000, "end": milliseconds(word.end) / 1000}


def words_document(segments: list[Segment], language: str, duration: float) -> dict[str, Any]:
    """caption_highlight's words file; `language` and `duration` ride along (its reader ignores them)."""
    return {"language": language, "duration": round(duration, 3),
            "words": [_word(word) for seg in segments for word in seg.words]}


def segments_document(segments: list[Segment], language: str, duration: float) -> dict[str, Any]:
    """Every segment with its text and words (the shape of Whisper's verbose_json, which caption_highlight
    also reads)."""
    return {"language": language, "duration": round(duration, 3), "segments": [
        {"id": n, "start": milliseconds(seg.start) / 1000, "end": milliseconds(seg.end) / 1000,
         "text": " ".join(lines_of(seg.text)), "words": [_word(word) for word in seg.words]}
        for n, seg in enumerate(segments)]}


def karaoke_script(segments: list[Segment]) -> pysubs2.SSAFile:
    """One line per segment; each word lights up from its start to its end (`\\kf`), the gaps between
    words wait unlit, so the sweep follows the speech."""
    script = pysubs2.SSAFile()
    script.info.update({"PlayResX": "1920", "PlayResY": str(REFERENCE_HEIGHT), "ScaledBorderAndShadow": "yes",
                        "WrapStyle": "0"})
    style = ass_style(PRESETS["default"], REFERENCE_HEIGHT)
    style.primarycolor, style.secondarycolor = SUNG.to_pysubs2(), UNSUNG.to_pysubs2()
    script.styles = {KARAOKE_STYLE: style}
    for seg in segments:
        text = _karaoke_text(seg)
        if text:
            script.events.append(pysubs2.SSAEvent(start=milliseconds(seg.start), end=milliseconds(seg.end),
                                                  style=KARAOKE_STYLE, text=text))
    return script


def _karaoke_text(seg: Segment) -> str:
    """`{\\kf<cs>}word` for each word, on the centisecond grid of the line's start (no drift over long lines)."""
    if not seg.words:
        return "\\N".join(escape_text(line) for line in lines_of(seg.text))
    start_cs = round(seg.start * 100)
    parts, at = [], start_cs
    for word in seg.words:
        text = " ".join(lines_of(word.text))
        begin, end = max(round(word.start * 100), at), max(round(word.end * 100), at)
        if begin > at:
            parts.append(f"{{\\k{begin - at}}}")
        parts.append(f"{{\\kf{end - begin}}}{escape_text(text)} ")
        at = end
    return "".join(parts).rstrip()


def write_transcript(folder: Path, segments: list[Segment], cues: list[Cue], language: str,
                     duration: float) -> dict[str, Path]:
    """Every file, by its place in the result (`segments.srt` ... `words.ass_karaoke`, `words.lrc`): the
    subtitles show `cues`, the JSON, karaoke and lyrics files follow the segments."""
    files = {
        "segments.srt": folder / "segments.srt",
        "segments.vtt": folder / "segments.vtt",
        "segments.json": folder / "segments.json",
        "words.json": folder / "words.json",
        "words.ass_karaoke": folder / "words_karaoke.ass",
    }
    files["segments.srt"].write_text(srt_text(cues), encoding="utf-8")
    files["segments.vtt"].write_text(vtt_text(cues), encoding="utf-8")
    for key, document in (("segments.json", segments_document(segments, language, duration)),
                          ("words.json", words_document(segments, language, duration))):
        files[key].write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    karaoke_script(segments).save(str(files["words.ass_karaoke"]), format_="ass")
    return {**files, **write_word_timed(folder, segments)}
