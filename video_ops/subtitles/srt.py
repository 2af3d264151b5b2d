"""SRT text -> timed cues: read as players read real files, and precise about what it could not read.

Cue numbers and blank lines are optional, `,` or `.` may stand before the milliseconds, and timing
lines that break the format but that players (ExoPlayer, VLC, most editors) still read are read the
same way, with a warning: three-digit seconds (`00:00:013,567` is 13.567 s), no milliseconds
(`00:00:01 --> 00:00:10`), no hours. A cue whose timing line cannot be read at all is skipped with
a warning naming the line; only a file without a single readable cue fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from video_ops.base.errors import JobError

# SubRip's own form (as pysubs2 reads it): 1-2 digit fields, 1-3 digit fractions, anywhere on the line.
_STANDARD_STAMP = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})[.,](\d{1,3})")
# What players accept: hours optional, any number of digits, the fraction optional.
_LOOSE_STAMP = r"(?:(\d+):)?(\d+):(\d+)(?:[.,](\d+))?"
_LOOSE_TIMING = re.compile(rf"^\s*{_LOOSE_STAMP}\s*-+\s*>\s*{_LOOSE_STAMP}")
# A line made only of time-like numbers around an arrow: meant as a timing, whatever its defects.
_TIMING_SHAPED = re.compile(r"^\s*[\d:.,]+\s*-+\s*>\s*[\d:.,]*\s*$")
_CUE_NUMBER = re.compile(r"^\s*\d+\s*$")
_NEXT_CUE_NUMBER = re.compile(r"\n+ *\d+ *$")
EXAMPLE_TIMING = "00:00:01,000 --> 00:00:04,000"


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str  # lines joined by `\N`, the SRT's tags (<i>, <font color>...) still in place
    line: int  # the line number of its timing line, for messages


@dataclass(frozen=True)
class Subtitles:
    cues: list[Cue]
    warnings: list[str]


@dataclass(frozen=True)
class _Timing:
    line: int
    start_ms: int | None  # None: the line is meant as a timing but cannot be read
    end_ms: int | None
    standard: bool
    shown: str


def read_srt(text: str, field: str) -> Subtitles:
    """Every readable cue in file order, and warnings for the timing lines read leniently or skipped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise JobError(f"{field}: the subtitle file is empty.")
    lines = text.split("\n")
    timings: list[_Timing] = []
    bodies: list[list[str]] = []
    for number, line in enumerate(lines, 1):
        timing = _timing(line, number)
        if timing is not None:
            timings.append(timing)
            bodies.append([])
        elif bodies:
            bodies[-1].append(line)
    cues = [
        Cue(start_ms=timing.start_ms, end_ms=timing.end_ms, text=_cue_text(body), line=timing.line)
        for timing, body in zip(timings, bodies, strict=True)
        if timing.start_ms is not None and timing.end_ms is not None
    ]
    unreadable = [timing for timing in timings if timing.start_ms is None]
    if not cues:
        raise JobError(_no_cue(lines, unreadable, field))
    loose = [timing for timing in timings if timing.start_ms is not None and not timing.standard]
    warnings = []
    if loose:
        first = loose[0]
        warnings.append(
            f"{field}: line {first.line}'s timing {first.shown} is not standard SRT; it was read as players read "
            f"it ({_format(first.start_ms)} --> {_format(first.end_ms)}){_and_more(loose, 'read so')}."
        )
    if unreadable:
        warnings.append(
            f"{field}: line {unreadable[0].line}'s timing {unreadable[0].shown} cannot be read (expected "
            f"hours:minutes:seconds,milliseconds, like {EXAMPLE_TIMING}); its cue was skipped"
            f"{_and_more(unreadable, 'skipped')}."
        )
    return Subtitles(cues=cues, warnings=warnings)


def _timing(line: str, number: int) -> _Timing | None:
    """The line as a timing line (readable or not), or None when it is cue text or a number."""
    standard = _STANDARD_STAMP.findall(line)
    if len(standard) == 2:
        start, end = (_milliseconds(*stamp) for stamp in standard)
        return _Timing(number, start, end, standard=True, shown=_show(line))
    loose = _LOOSE_TIMING.match(line)
    if loose:
        groups = loose.groups()
        return _Timing(number, _milliseconds(*groups[:4]), _milliseconds(*groups[4:]), standard=False,
                       shown=_show(line))
    if _TIMING_SHAPED.match(line):
        return _Timing(number, None, None, standard=False, shown=_show(line))
    return None


def _milliseconds(hours: str | None, minutes: str, seconds: str, fraction: str | None) -> int:
    """A fraction is a decimal one, as pysubs2 reads it: `,5` is 500 ms, `,25` 250 ms."""
    millis = int((fraction or "0").ljust(3, "0")[:3])
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + millis


def _cue_text(body: list[str]) -> str:
    """A cue's lines joined by `\\N`, without the next cue's number (blank lines between cues are optional)."""
    if len(body) >= 2 and not any(line.strip() for line in body[:-1]) and _CUE_NUMBER.match(body[-1]):
        return ""
    text = _NEXT_CUE_NUMBER.sub("", "\n".join(body).strip())
    return text.replace("\n", "\\N")


def _no_cue(lines: list[str], unreadable: list[_Timing], field: str) -> str:
    if unreadable:
        return (f"{field}: no cue can be read; line {unreadable[0].line} looks like a cue timing but cannot be "
                f"read: {unreadable[0].shown} (expected hours:minutes:seconds,milliseconds, like {EXAMPLE_TIMING}).")
    filled = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    number, line = next(((n, line) for n, line in filled if not _CUE_NUMBER.match(line)), filled[0])
    return (f"{field}: no subtitle cue found; line {number} is neither a cue number nor a timing like "
            f"{EXAMPLE_TIMING}: {_show(line)}.")


def _and_more(timings: list[_Timing], done: str) -> str:
    more = len(timings) - 1
    if not more:
        return ""
    return f"; {more} more such timing line{'s were' if more > 1 else ' was'} {done}"


def _format(ms: int | None) -> str:
    ms = ms or 0
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _show(line: str) -> str:
    """A line as safe to quote in a message: trimmed, control characters visible."""
    shown = line.strip()
    return repr(shown if len(shown) <= 60 else shown[:57] + "...")
