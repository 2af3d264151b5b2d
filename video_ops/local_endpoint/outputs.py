"""The local output folder over HTTP: without a bucket, results are links that open, not file:// paths."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

ROUTE = "output"  # results are served at /output/<object key>


def output_file(root: Path, url_path: str) -> Path | None:
    """The file under `root` that a URL path below /output/ names, or None.

    The path is decoded and resolved (symlinks included) before the check, so `..`, `%2e%2e`,
    absolute paths and links pointing out of the folder can never reach a file outside it.
    """
    relative = unquote(url_path)
    if not relative or "\x00" in relative:
        return None
    folder = root.resolve()
    candidate = (folder / relative.lstrip("/")).resolve()
    if not candidate.is_relative_to(folder) or not candidate.is_file():
        return None
    return candidate
