"""Google Drive and Dropbox share links -> the URLs that download the file itself.

People paste the link a share dialog gives them. Fetched as it is, that link downloads a web page
(Drive's viewer, Dropbox's preview), and the job would fail with "not a media file". Only the exact
hosts are recognised; a look-alike on any other host is downloaded as it stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from video_ops.base.errors import JobError

DRIVE = "Google Drive"
DROPBOX = "Dropbox"
_DRIVE_HOST = "drive.google.com"
_DOCS_HOST = "docs.google.com"
_DROPBOX_HOSTS = {"www.dropbox.com", "dropbox.com"}
_FILE_ID = re.compile(r"[A-Za-z0-9_-]{10,128}")
_FILE_LINK = "https://drive.google.com/file/d/<id>/view"
_EDITORS = {
    "document": "a Google Docs document",
    "spreadsheets": "a Google Sheets spreadsheet",
    "presentation": "a Google Slides presentation",
    "forms": "a Google Forms form",
    "drawings": "a Google Drawings drawing",
}


@dataclass(frozen=True)
class Source:
    """Where a download starts, and what the caller sent (errors name that, not the rewrite)."""

    sent: str
    url: str
    service: str | None = None  # DRIVE or DROPBOX when the URL is one of their links

    @property
    def is_drive(self) -> bool:
        return self.service == DRIVE


def source_of(url: str, field: str) -> Source:
    """The direct download for a share link, the URL itself for anything else; links that can
    never give a file (Docs editors, folders) fail here with what to share instead."""
    parts = urlsplit(url)
    try:
        host = (parts.hostname or "").rstrip(".")
        default_port = parts.port in {None, 80, 443}
    except ValueError:  # an invalid port: the download reports it
        return Source(url, url)
    if not default_port:
        return Source(url, url)
    if host == "drive.usercontent.google.com":  # already the download itself
        return Source(url, url, DRIVE)
    if host == _DRIVE_HOST or (host == _DOCS_HOST and _drive_path(parts.path)):
        return Source(url, _drive_download(parts, field), DRIVE)
    if host == _DOCS_HOST:
        kind = _EDITORS.get(_segments(parts.path)[0], "a Google Docs editors file")
        raise JobError(
            f"{field}: {kind} is not a media file and cannot be downloaded as one; upload the video, audio or "
            f'image file itself to Google Drive and share that file with "anyone with the link".'
        )
    if host in _DROPBOX_HOSTS:
        return Source(url, _dropbox_download(parts, host, field), DROPBOX)
    return Source(url, url)


def _segments(path: str) -> list[str]:
    """The path's segments without the account switch (`/u/1/`) that Drive puts in some links."""
    segments = [segment for segment in path.split("/") if segment]
    cleaned: list[str] = []
    for segment in segments:
        if cleaned and cleaned[-1] == "u" and segment.isdigit():
            cleaned.pop()
            continue
        cleaned.append(segment)
    return cleaned or [""]


def _drive_path(path: str) -> bool:
    """docs.google.com serves a few Drive file links too (older `uc?id=` and `file/d/` links)."""
    return _segments(path)[0] in {"uc", "file"}


def _drive_download(parts: SplitResult, field: str) -> str:
    segments = _segments(parts.path)
    query = dict(parse_qsl(parts.query))
    if segments[0] == "file" and len(segments) >= 3 and segments[1] == "d":
        file_id = segments[2]
    elif segments[0] in {"uc", "open"} and "id" in query:
        file_id = query["id"]
    elif "folders" in segments or segments[0] in {"folderview", "embeddedfolderview"}:
        raise JobError(
            f"{field}: a Google Drive folder link cannot be downloaded; share the file itself "
            f"(its link looks like {_FILE_LINK})."
        )
    else:
        raise JobError(f"{field}: this Google Drive link names no file; share the file's own link ({_FILE_LINK}).")
    if not _FILE_ID.fullmatch(file_id):
        raise JobError(f"{field}: the Google Drive link's file id is not valid (letters, digits, '-' and '_' only).")
    direct = {"export": "download", "id": file_id}
    if "resourcekey" in query:  # files shared before 2021 need it
        direct["resourcekey"] = query["resourcekey"]
    return urlunsplit(("https", _DRIVE_HOST, "/uc", urlencode(direct), ""))


def _dropbox_download(parts: SplitResult, host: str, field: str) -> str:
    segments = _segments(parts.path)
    if segments[0] == "sh" or segments[:2] == ["scl", "fo"]:
        raise JobError(
            f"{field}: a Dropbox folder link cannot be downloaded; share the file itself "
            "(its link looks like https://www.dropbox.com/scl/fi/...)."
        )
    if segments[0] != "s" and segments[:2] != ["scl", "fi"]:
        return parts.geturl()
    query = parse_qsl(parts.query, keep_blank_values=True)
    if ("raw", "1") in query:  # the other direct form
        return parts.geturl()
    query = [(key, value) for key, value in query if key != "dl"] + [("dl", "1")]
    return urlunsplit(("https", host, parts.path, urlencode(query), ""))
