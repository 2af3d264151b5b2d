"""The result keys every single-output operation returns (the wire contract's part they share)."""

from __future__ import annotations

from typing import Any

from video_ops.io.storage import StoredObject
from video_ops.media.probe import MediaInfo


def single_output(message: str, stored: StoredObject, filename: str, output: MediaInfo) -> dict[str, Any]:
    """The contract's keys, plus what ffprobe says of the uploaded file."""
    picture = output.video
    return {
        "message": message,
        "video_url": stored.url,
        "filename": filename,
        "s3_key": stored.key,
        "duration": output.duration,
        "width": picture.width if picture else None,
        "height": picture.height if picture else None,
        "size_bytes": stored.size_bytes,
    }


def sound_output(message: str, stored: StoredObject, filename: str, seconds: float) -> dict[str, Any]:
    """The contract's keys for a sound file: `audio_url` where a video has `video_url`, and the length it plays
    (decoded or counted as written; an MP3's headers count its encoder's delay and padding)."""
    return {"message": message, "audio_url": stored.url, "filename": filename, "s3_key": stored.key,
            "duration": round(seconds, 6), "size_bytes": stored.size_bytes}


def reencode_reason(field: str, why: str | None) -> dict[str, str]:
    """The result's `reencode_reason`: why a picture that could have been copied was encoded (its timestamps
    cannot be trusted, or it does not match the other clips), so the caller knows what was done to it."""
    return {} if why is None else {"reencode_reason": f"{field}: {why}."}
