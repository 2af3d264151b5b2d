"""SRT text -> timed cues: as forgiving as real files need, and precise about a file it cannot read.

pysubs2 does the reading (cue numbers optional, blank lines optional, `,` or `.` before the
milliseconds). It never complains, though: a malformed timing line silently becomes subtitle text and a
file without cues gives an empty list. The line scan here finds those cases and names the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pysubs2
from pysubs2.time import TIMESTAMP

from video_ops.base.errors import JobError

# A line made only of time-like numbers around an arrow: meant as a timing, whatever its defects.
_TIMING_SHAPED = re.compile(r"^\s*[\d:.,]+\s*-+\s*>\s*[\d:.,]+\s*$")
_CUE_NUMBER = re.compile(r"^\s*\d+\s*$")
EXAMPLE_TIMING = "00:00:01,000 --> 00:00:04,000"


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str  # lines joined by `\N`, the SRT's tags (<i>, <font color>...) still in place
    line: int  # the line number of its timing line, for messages


def read_cues(text: str, field: str) -> list[Cue]:
    """Every cue in file order; an empty or unreadable file fails naming its first bad line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise JobError(f"{field}: the subtitle file is empty.")
    timing_lines = _timing_lines(text.split("\n"), field)
    events = pysubs2.SSAFile.from_string(text, format_="srt", keep_html_tags=True).events
    # pysubs2 makes one event per line holding two timestamps, in file order, as the scan counted.
    return [
        Cue(start_ms=event.start, end_ms=event.end, text=event.text, line=line)
        for event, line in zip(events, timing_lines, strict=True)
    ]


def _timing_lines(lines: list[str], field: str) -> list[int]:
    found = []
    for number, line in enumerate(lines, 1):
        if len(TIMESTAMP.findall(line)) == 2:
            found.append(number)
        elif _TIMING_SHAPED.match(line):
            raise JobError(
                f"{field}: line {number} looks like a cue timing but cannot be read: {_show(line)} "
                f"(expected hours:minutes:seconds,milliseconds, like {EXAMPLE_TIMING})."
            )
    if not found:
        number, line = next(
            ((n, line) for n, line in enumerate(lines, 1) if line.strip() and not _CUE_NUMBER.match(line)),
            next((n, line) for n, line in enumerate(lines, 1) if line.strip()),
        )
        raise JobError(
            f"{field}: no subtitle cue found; line {number} is neither a cue number nor a timing like "
            f"{EXAMPLE_TIMING}: {_show(line)}."
        )
    return found


def _show(line: str) -> str:
    """A line as safe to quote in a message: trimmed, control characters visible."""
    shown = line.strip()
    return repr(shown if len(shown) <= 60 else shown[:57] + "...")
