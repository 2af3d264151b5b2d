"""The local result folder of runs without a bucket, and the files its URLs name.

The local endpoint serves the folder at VIDEO_OPS_OUTPUT_URL, so a result's link is
`http://127.0.0.1:<port>/output/<key>`. A later job given such a link (a split render's join, fed its
parts) reads the file from the folder instead: the download guard rightly refuses 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from video_ops.base.settings import env_str


def local_output_dir() -> Path:
    """Where a run without a bucket writes its outputs."""
    return Path(env_str("VIDEO_OPS_OUTPUT_DIR", "output"))


def output_file(root: Path, url_path: str) -> Path | None:
    """The file under `root` that a URL path below the folder's URL names, or None.

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


def own_result(url: str) -> Path | None:
    """The local result a URL under VIDEO_OPS_OUTPUT_URL names; None for any other URL, or for one under it
    that names no file inside the folder."""
    base = env_str("VIDEO_OPS_OUTPUT_URL").rstrip("/")
    if not base or not url.startswith(f"{base}/"):
        return None
    return output_file(local_output_dir(), url[len(base) + 1:].split("?", 1)[0].split("#", 1)[0])
