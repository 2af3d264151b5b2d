"""Cues fitted to the video: nothing past its end, nothing that ends before it starts, one cue at a time
in each place.

libass stacks overlapping cues one above the other, so a cue that lingers a few milliseconds into the
next makes the text jump up and back; real files (auto-generated ones above all) are full of those.
Cues placed elsewhere by a leading `{\\anN}` (a speaker at the top, a sign, a song) do not collide
with the others: each place keeps its own timeline, so they show side by side, as the file meant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from video_ops.base.errors import JobError
from video_ops.subtitles.markup import split_position
from video_ops.subtitles.srt import Cue


@dataclass(frozen=True)
class Timeline:
    cues: list[Cue]
    warnings: list[str]


def fit(cues: list[Cue], duration_s: float, field: str) -> Timeline:
    """Drop, cut and de-overlap cues for a video of `duration_s`; say what was changed."""
    end_ms = int(duration_s * 1000)
    problems: dict[str, list[int]] = {"backwards": [], "late": [], "cut": [], "overlap": []}
    timed = []
    for cue in cues:
        if not cue.text.strip():
            continue  # an empty cue shows nothing either way
        if cue.end_ms <= cue.start_ms:
            problems["backwards"].append(cue.line)
        elif cue.start_ms >= end_ms:
            problems["late"].append(cue.line)
        elif cue.end_ms > end_ms:
            problems["cut"].append(cue.line)
            timed.append(replace(cue, end_ms=end_ms))
        else:
            timed.append(cue)
    if not timed:
        raise JobError(_nothing_left(cues, problems, duration_s, field))

    places: dict[int | None, list[Cue]] = {}
    for cue in timed:
        places.setdefault(split_position(cue.text)[0], []).append(cue)
    fitted = [cue for place in places.values() for cue in _one_at_a_time(place, problems["overlap"])]
    fitted.sort(key=lambda c: (c.start_ms, c.line))
    return Timeline(cues=fitted, warnings=_warnings(problems, duration_s, field))


def _one_at_a_time(cues: list[Cue], overlaps: list[int]) -> list[Cue]:
    """Cues of one place: each ends where the next starts; cues starting together become one."""
    fitted: list[Cue] = []
    for cue in sorted(cues, key=lambda c: (c.start_ms, c.line)):
        previous = fitted[-1] if fitted else None
        if previous is not None and cue.start_ms < previous.end_ms:
            overlaps.append(previous.line)
            if cue.start_ms == previous.start_ms:  # said together: show together, as one cue
                text = split_position(cue.text)[1]  # the first cue's position tag leads the merged one
                fitted[-1] = replace(previous, end_ms=max(previous.end_ms, cue.end_ms),
                                     text=f"{previous.text}\\N{text}")
                continue
            fitted[-1] = replace(previous, end_ms=cue.start_ms)
        fitted.append(cue)
    return fitted


def _warnings(problems: dict[str, list[int]], duration_s: float, field: str) -> list[str]:
    templates = {
        "backwards": "{n} ended before it started and {was} skipped",
        "late": f"{{n}} started after the video's end ({duration_s:.2f} s) and {{was}} dropped",
        "cut": f"{{n}} ran past the video's end ({duration_s:.2f} s) and {{was}} cut there",
        "overlap": "{n} overlapped the next cue and {was} shortened (or merged when both start together)",
    }
    warnings = []
    for kind, lines in problems.items():
        if lines:
            n = f"{len(lines)} cue" + ("s" if len(lines) > 1 else "")
            text = templates[kind].format(n=n, was="were" if len(lines) > 1 else "was")
            warnings.append(f"{field}: {text} (first at line {min(lines)}).")
    return warnings


def _nothing_left(cues: list[Cue], problems: dict[str, list[int]], duration_s: float, field: str) -> str:
    if problems["late"]:
        return (f"{field}: every cue starts after the video ends ({duration_s:.2f} s); "
                "is this the subtitle file of this video?")
    if problems["backwards"]:
        return f"{field}: no cue has a positive duration (line {problems['backwards'][0]} ends before it starts)."
    return f"{field}: all {len(cues)} cues are empty; there is no text to burn in."
