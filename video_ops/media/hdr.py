"""HDR metadata: what a PQ or HLG picture says of the display it was mastered on and of its light levels.

A container may carry it as stream side data (Matroska's MasteringMetadata, MP4's `mdcv`/`clli`), which
ffprobe lists; an H.264 or HEVC encoder such as libx265 writes it only in the bitstream, as SEI messages
beside the first keyframe, where ffprobe shows it only per decoded frame. Those are read here from the
first packet, demuxed in-process (no decoding, no FFmpeg start-up).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from video_ops.media.param_sets import read_param_sets

TRANSFERS = {"smpte2084": "PQ", "arib-std-b67": "HLG"}
_MASTERING_DISPLAY, _CONTENT_LIGHT = 137, 144  # SEI payload types, the same in H.264 and HEVC
_SEI_NAL = {"h264": 6, "hevc": 39}  # H.264 SEI; HEVC prefix SEI
_CHROMATICITY, _LUMINANCE = 50000, 10000  # units of the SEI's and side data's fields
_PACKETS_READ = 4  # the SEI rides with the first access unit; a stream may open with a parameter-set packet


def from_side_data(side_data: list[dict[str, Any]]) -> dict[str, Any]:
    """Mastering display and content light level from ffprobe's stream `side_data_list`, where present."""
    found: dict[str, Any] = {}
    for item in side_data:
        kind = item.get("side_data_type", "")
        if kind == "Mastering display metadata" and "red_x" in item:
            value = {colour: [_ratio(item[f"{colour}_x"]), _ratio(item[f"{colour}_y"])]
                     for colour in ("red", "green", "blue")}
            value["white_point"] = [_ratio(item["white_point_x"]), _ratio(item["white_point_y"])]
            value["min_luminance"] = _ratio(item.get("min_luminance", "0"))
            value["max_luminance"] = _ratio(item.get("max_luminance", "0"))
            found["mastering_display"] = value
        elif kind == "Content light level metadata":
            found["content_light_level"] = {"max_cll": int(item.get("max_content", 0)),
                                            "max_fall": int(item.get("max_average", 0))}
        elif kind.startswith("DOVI configuration"):
            found["dolby_vision"] = {"profile": item.get("dv_profile"), "level": item.get("dv_level")}
    return found


def from_bitstream(path: Path, stream_index: int, codec: str) -> dict[str, Any]:
    """Mastering display and content light level from the SEI of an H.264/HEVC stream's first packets
    (empty when there are none, or the file cannot be read this way)."""
    if codec not in _SEI_NAL:
        return {}
    found: dict[str, Any] = {}
    try:
        with av.open(str(path)) as container:
            stream = container.streams[stream_index]
            sets = read_param_sets(codec, stream.codec_context.extradata)
            length_size = sets.length_size if sets else 0  # 0: Annex B start codes (MPEG-TS, raw streams)
            for number, packet in enumerate(container.demux(stream)):
                if number == _PACKETS_READ or len(found) == 2:
                    break
                for unit in _units(bytes(packet), length_size):
                    if _nal_type(codec, unit) == _SEI_NAL[codec]:
                        found.update(_sei_messages(_rbsp(unit[1 if codec == "h264" else 2:])))
    except (av.FFmpegError, IndexError, ValueError):
        return {}
    return found


def _units(data: bytes, length_size: int) -> list[bytes]:
    """The NAL units of a packet: length-prefixed (MP4, Matroska) or after start codes (Annex B)."""
    units = []
    if length_size:
        offset = 0
        while offset + length_size <= len(data):
            size = int.from_bytes(data[offset:offset + length_size], "big")
            offset += length_size
            units.append(data[offset:offset + size])
            offset += size
        return [unit for unit in units if unit]
    for piece in data.split(b"\x00\x00\x01"):
        unit = piece.rstrip(b"\x00")
        if unit:
            units.append(unit)
    return units


def _nal_type(codec: str, unit: bytes) -> int:
    return unit[0] & 0x1F if codec == "h264" else (unit[0] >> 1) & 0x3F


def _rbsp(payload: bytes) -> bytes:
    """The payload without its emulation-prevention bytes (00 00 03 -> 00 00)."""
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


def _sei_messages(rbsp: bytes) -> dict[str, Any]:
    found: dict[str, Any] = {}
    offset = 0
    while offset + 2 <= len(rbsp) and rbsp[offset] != 0x80:  # 0x80: the RBSP's stop bit
        kind, offset = _sei_number(rbsp, offset)
        size, offset = _sei_number(rbsp, offset)
        body = rbsp[offset:offset + size]
        offset += size
        if kind == _MASTERING_DISPLAY and len(body) >= 24:
            found["mastering_display"] = _mastering_display(body)
        elif kind == _CONTENT_LIGHT and len(body) >= 4:
            found["content_light_level"] = {"max_cll": int.from_bytes(body[0:2], "big"),
                                            "max_fall": int.from_bytes(body[2:4], "big")}
    return found


def _sei_number(data: bytes, offset: int) -> tuple[int, int]:
    """An SEI payload type or size: 0xFF bytes add 255 each, the next byte ends it."""
    value = 0
    while offset < len(data) and data[offset] == 0xFF:
        value += 255
        offset += 1
    return value + (data[offset] if offset < len(data) else 0), offset + 1


def _mastering_display(body: bytes) -> dict[str, Any]:
    """SMPTE ST 2086 as the SEI orders it: green, blue, red primaries, the white point, then the maximum and
    minimum luminance."""
    words = [int.from_bytes(body[i:i + 2], "big") for i in range(0, 16, 2)]
    chromaticity = [round(word / _CHROMATICITY, 5) for word in words]
    return {
        "red": chromaticity[4:6],
        "green": chromaticity[0:2],
        "blue": chromaticity[2:4],
        "white_point": chromaticity[6:8],
        "min_luminance": int.from_bytes(body[20:24], "big") / _LUMINANCE,
        "max_luminance": int.from_bytes(body[16:20], "big") / _LUMINANCE,
    }


def _ratio(text: Any) -> float:
    try:
        return round(float(Fraction(str(text))), 5)
    except (ValueError, ZeroDivisionError):
        return 0.0
