"""What a subtitle writer reads of a stretch of speech: when it starts and ends, and its text. Transcript
segments, reading cues and word-timed lines all are one."""

from __future__ import annotations

from typing import Protocol


class Timed(Protocol):
    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def text(self) -> str: ...
