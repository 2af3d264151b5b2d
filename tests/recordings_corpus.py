"""The recordings every video operation is tried on: the made ones in tests/recordings, the real ones the
workplace keeps beside the clone (`../shared/recordings/`), and any folder named by VIDEO_OPS_RECORDINGS
(real files fetched for a local check, never committed). See tests/recordings/README.md."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import REPO

MADE = REPO / "tests" / "recordings"
SHARED = REPO.parent / "shared" / "recordings"
MEDIA_SUFFIXES = {".mp4", ".mov", ".m4v", ".ts", ".m2ts", ".mts", ".mkv", ".webm", ".avi", ".3gp", ".mpg", ".mxf"}
# Made recordings that no operation can use: each must be refused in one sentence naming its field.
REFUSED = {"mjpeg-undecodable.mov", "hevc-no-parameter-sets.ts"}


def folders() -> list[Path]:
    """The folders whose media files become cases, the made ones first."""
    extra = [Path(p) for p in os.environ.get("VIDEO_OPS_RECORDINGS", "").split(os.pathsep) if p]
    return [MADE, *(folder for folder in (SHARED, *extra) if folder.is_dir())]


def recordings() -> list[Path]:
    """Every media file of those folders, by name (the first folder wins a name met twice)."""
    found: dict[str, Path] = {}
    for folder in folders():
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in MEDIA_SUFFIXES:
                found.setdefault(path.name, path)
    return list(found.values())


def is_made(path: Path) -> bool:
    """A made recording's outcome is known: refused when listed in REFUSED, else a clean output."""
    return path.parent == MADE
