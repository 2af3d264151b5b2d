"""A media file described for callers: container, streams and chapters from one ffprobe run.

The fields keep ffprobe's values (codec names, colour names, fractions, the display matrix's angle) but are
gathered the way a caller asks for them: the size a player shows (rotation and pixel shape applied), HDR as
PQ or HLG with its mastering metadata, language from the stream's tags.
"""

from __future__ import annotations

import asyncio
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from video_ops.media import hdr
from video_ops.media.probe import MediaInfo, Stream, ffprobe_data, parse_probe

SHOW = ("-show_format", "-show_streams", "-show_chapters")
_DEPTH = re.compile(r"p(\d+)(?:le|be)$")  # yuv420p10le -> 10


async def describe(path: Path, field: str) -> tuple[MediaInfo, dict[str, Any]]:
    """The file's description, and what the worker reads of it (for the passes a caller may add)."""
    data = await ffprobe_data(path, field, SHOW)
    info = parse_probe(data)
    fmt = data.get("format", {})
    streams = [_stream(raw, parsed) for raw, parsed in zip(data.get("streams", []), info.streams, strict=True)]
    for entry, parsed in zip(streams, info.streams, strict=True):
        found = entry.get("hdr")
        if found is not None and "mastering_display" not in found and "content_light_level" not in found:
            found.update(await asyncio.to_thread(hdr.from_bitstream, path, parsed.index, parsed.codec_name))
    return info, {
        "container": info.container,
        "format_name": info.format_name,
        **({"brand": info.brand} if info.brand else {}),
        "duration": info.duration,
        "start_time": info.start_time,
        "size_bytes": info.size_bytes,
        "bit_rate": _int(fmt.get("bit_rate")),
        "tags": _tags(fmt),
        "streams": streams,
        "chapters": [_chapter(raw) for raw in data.get("chapters", [])],
    }


def _stream(raw: dict[str, Any], parsed: Stream) -> dict[str, Any]:
    tags = _tags(raw)
    entry: dict[str, Any] = {
        "index": parsed.index,
        "type": parsed.codec_type,
        "codec": parsed.codec_name,
        "codec_long_name": raw.get("codec_long_name", ""),
        "profile": parsed.profile or None,
        "duration": parsed.duration,
        "bit_rate": parsed.bit_rate or None,
        "language": tags.get("language"),
        "title": tags.get("title"),
        "default": bool(raw.get("disposition", {}).get("default")),
    }
    if parsed.codec_type == "video":
        entry.update(_picture(raw, parsed))
    elif parsed.codec_type == "audio":
        entry.update(sample_rate=parsed.sample_rate, channels=parsed.channels,
                     channel_layout=raw.get("channel_layout"), sample_format=raw.get("sample_fmt"),
                     bit_depth=_int(raw.get("bits_per_raw_sample")) or _int(raw.get("bits_per_sample")) or None)
    return entry


def _picture(raw: dict[str, Any], parsed: Stream) -> dict[str, Any]:
    width, height = parsed.upright_size
    colour_range, space, transfer, primaries = parsed.colour
    found: dict[str, Any] = {
        "width": parsed.width,
        "height": parsed.height,
        "display_width": width,
        "display_height": height,
        "rotation": parsed.rotation,  # ffprobe's display-matrix angle (counter-clockwise), 0 to 359
        "sample_aspect_ratio": parsed.sample_aspect_ratio or None,
        "display_aspect_ratio": raw.get("display_aspect_ratio"),
        "frame_rate": _fraction(raw.get("avg_frame_rate")) or _fraction(raw.get("r_frame_rate")),
        "r_frame_rate": _fraction(raw.get("r_frame_rate")),
        "frames": _int(raw.get("nb_frames")),
        "pix_fmt": parsed.pix_fmt,
        "bit_depth": _int(raw.get("bits_per_raw_sample")) or _depth(parsed.pix_fmt),
        "field_order": parsed.field_order or None,
        "color": {"range": colour_range or None, "space": space or None, "transfer": transfer or None,
                  "primaries": primaries or None},
        "cover_art": parsed.is_cover_art,
        "hdr": None,
    }
    side = raw.get("side_data_list", [])
    metadata = hdr.from_side_data(side)
    if transfer in hdr.TRANSFERS or "dolby_vision" in metadata:
        found["hdr"] = {"format": hdr.TRANSFERS.get(transfer, "Dolby Vision"), "transfer": transfer or None,
                        **metadata}
    return found


def _chapter(raw: dict[str, Any]) -> dict[str, Any]:
    return {"start": _float(raw.get("start_time")), "end": _float(raw.get("end_time")),
            "title": _tags(raw).get("title")}


def _tags(raw: dict[str, Any]) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in (raw.get("tags") or {}).items()}


def _fraction(text: Any) -> str | None:
    """"30000/1001" as ffprobe writes it, reduced; None for ffprobe's "0/0" (unknown)."""
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return f"{value.numerator}/{value.denominator}" if value > 0 else None


def _depth(pix_fmt: str) -> int | None:
    found = _DEPTH.search(pix_fmt)
    return int(found.group(1)) if found else (8 if pix_fmt else None)


def _int(text: Any) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _float(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
