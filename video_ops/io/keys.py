"""Object keys built from untrusted strings: a key can never leave its prefix or smuggle control text."""

from __future__ import annotations

import unicodedata

from video_ops.base.errors import JobError

MAX_SEGMENT_BYTES = 255
MAX_KEY_BYTES = 1024
# Characters that look like a slash or a dot-dot but are not ASCII: refused so that a key never
# reads differently to a person than to the store.
_LOOKALIKES = {"\uff0f", "\u2215", "\u2044", "\u29f8", "\uff3c", "\u2216", "\uff0e", "\u2024", "\u2025"}


def check_segment(value: str, field: str) -> str:
    """Validate one name (a file name, an image id): no separators, no dot names, no control text."""
    if value in {"", ".", ".."}:
        raise JobError(f"Invalid input: field '{field}' must be a name, not {value!r}.")
    for char in value:
        if char in "/\\":
            raise JobError(f"Invalid input: field '{field}' must not contain '/' or '\\'.")
        if char in _LOOKALIKES:
            raise JobError(f"Invalid input: field '{field}' contains a look-alike of '/' or '.' (U+{ord(char):04X}).")
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}:
            raise JobError(
                f"Invalid input: field '{field}' contains a control or invisible character (U+{ord(char):04X})."
            )
    if len(value.encode()) > MAX_SEGMENT_BYTES:
        raise JobError(f"Invalid input: field '{field}' is longer than {MAX_SEGMENT_BYTES} bytes.")
    return value


def clean_prefix(path: str, field: str = "path") -> str:
    """`videos/output`, ` videos/output/ ` -> `videos/output`; '' means the bucket's root."""
    trimmed = path.strip()
    if trimmed.startswith("/"):
        raise JobError(f"Invalid input: field '{field}' must be a relative key prefix, not an absolute path.")
    trimmed = trimmed.rstrip("/")
    if not trimmed:
        return ""
    for segment in trimmed.split("/"):
        if segment == "":
            raise JobError(f"Invalid input: field '{field}' contains an empty segment ('//').")
        check_segment(segment, field)
    return trimmed


def clean_filename(name: str, field: str = "output_filename", extension: str = ".mp4") -> str:
    """A single file name ending in `extension`; one without an extension gets it appended."""
    trimmed = check_segment(name.strip(), field)
    if trimmed.startswith("."):
        raise JobError(f"Invalid input: field '{field}' must not start with '.'.")
    stem, dot, suffix = trimmed.rpartition(".")
    if not dot or not stem:
        return trimmed + extension
    if "." + suffix.lower() != extension:
        raise JobError(f"Invalid input: field '{field}' must end with {extension}, the format this operation writes.")
    return trimmed


def join_key(prefix: str, filename: str) -> str:
    key = f"{prefix}/{filename}" if prefix else filename
    if len(key.encode()) > MAX_KEY_BYTES:
        raise JobError(f"Invalid input: the object key for '{filename}' is longer than {MAX_KEY_BYTES} bytes.")
    return key
