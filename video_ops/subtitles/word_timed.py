"""Word-timed transcripts for players: a karaoke WebVTT and an enhanced LRC, one line per segment.

WebVTT marks each word after the first with a cue timestamp (`<00:00:01.250>`); the format wants every such
stamp strictly after the cue's start, strictly before its end and after the stamp before it, so a word whose
time cannot be told apart on the millisecond grid joins the word before it. Enhanced LRC gives the line's start
(`[mm:ss.xx]`) and each word's (`<mm:ss.xx>`) in centiseconds, never going back, then a stamp for when the
last word ends; an empty timed line clears the lyric when the speech pauses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from video_ops.subtitles.timed import Timed
from video_ops.subtitles.words import Word


class Segment(Timed, Protocol):
    """A transcript's segment as these writers read it (transcript.py's, which imports this module)."""

    @property
    def words(self) -> Sequence[Word]: ...

# LRC has no escaping: these would open a tag, so a word shows them as look-alikes.
_LRC_TAG_MARKS = str.maketrans({"[": "(", "]": ")", "<": "\u2039", ">": "\u203a"})


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def vtt_stamp(ms: int) -> str:
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def lrc_stamp(cs: int) -> str:
    return f"{cs // 6000:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _vtt_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_payload(seg: Segment, start: int, end: int) -> str:
    words = [(_ms(word.start), _one_line(word.text)) for word in seg.words if _one_line(word.text)]
    if not words:
        return _vtt_escaped(_one_line(seg.text))
    parts, last = [_vtt_escaped(words[0][1])], start
    for at, text in words[1:]:
        if last < at < end:
            parts.append(f" <{vtt_stamp(at)}>{_vtt_escaped(text)}")
            last = at
        else:
            parts.append(f" {_vtt_escaped(text)}")
    return "".join(parts)


def karaoke_vtt_text(segments: Sequence[Segment]) -> str:
    cues = []
    for seg in segments:
        start, end = _ms(seg.start), _ms(seg.end)
        payload = _vtt_payload(seg, start, end)
        if payload and end > start:
            cues.append(f"{vtt_stamp(start)} --> {vtt_stamp(end)}\n{payload}\n\n")
    return "WEBVTT\n\n" + "".join(cues)


def lrc_text(segments: Sequence[Segment]) -> str:
    lines: list[str] = []
    spoken = [seg for seg in segments if _one_line(seg.text)]
    for position, seg in enumerate(spoken):
        start = round(seg.start * 100)
        words = [(word, _one_line(word.text).translate(_LRC_TAG_MARKS)) for word in seg.words]
        if words := [(word, text) for word, text in words if text]:
            parts, at = [], start
            for word, text in words:
                at = max(round(word.start * 100), at)
                parts.append(f"<{lrc_stamp(at)}>{text}")
            end = max(round(words[-1][0].end * 100), at)
            text = " ".join(parts) + f" <{lrc_stamp(end)}>"
        else:
            text = _one_line(seg.text).translate(_LRC_TAG_MARKS)
        lines.append(f"[{lrc_stamp(start)}]{text}")
        following = spoken[position + 1].start if position + 1 < len(spoken) else None
        if following is None or round(following * 100) > round(seg.end * 100):
            lines.append(f"[{lrc_stamp(max(round(seg.end * 100), start))}]")
    return "".join(line + "\n" for line in lines)


def write_word_timed(folder: Path, segments: Sequence[Segment]) -> dict[str, Path]:
    """`words.vtt_karaoke` and `words.lrc`, by their place in transcribe's result."""
    files = {"words.vtt_karaoke": folder / "words_karaoke.vtt", "words.lrc": folder / "words.lrc"}
    files["words.vtt_karaoke"].write_text(karaoke_vtt_text(segments), encoding="utf-8")
    files["words.lrc"].write_text(lrc_text(segments), encoding="utf-8")
    return files
