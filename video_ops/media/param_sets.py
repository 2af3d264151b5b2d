"""H.264 and HEVC parameter sets as MP4 carries them (`avcC`, `hvcC`, length-prefixed NAL units).

A smart cut joins frames from two encoders: each run of frames must reach the decoder with its own
parameter sets. Where their ids differ, H.264's sets all go in one `avcC` (plain `avc1`, which every
player takes); otherwise they travel in-band at each run's first frame (`avc3`/`hev1`, where a new
coded video sequence may bring new sets).
"""

from __future__ import annotations

from dataclasses import dataclass

_H264_SPS, _H264_PPS, _H264_IDR = 7, 8, 5
_HEVC_VPS, _HEVC_SPS, _HEVC_PPS = 32, 33, 34
_HEVC_IRAP = range(16, 24)
HEVC_CRA = 21
HEVC_BLA_N_LP = 18


@dataclass(frozen=True)
class ParamSets:
    """A stream's parameter sets (NAL units without start codes or lengths) and its NAL length size."""

    codec: str
    units: tuple[bytes, ...]
    length_size: int = 4

    def inband(self) -> bytes:
        """The sets as length-prefixed NAL units, to put before a keyframe's own units."""
        return b"".join(len(unit).to_bytes(self.length_size, "big") + unit for unit in self.units)

    def ids(self) -> set[int]:
        """H.264: the SPS and PPS ids in use (the first Exp-Golomb number after each set's fixed header)."""
        found = set()
        for unit in self.units:
            kind = unit[0] & 0x1F
            if kind == _H264_SPS:
                found.add(_first_ue(unit[4:]))
            elif kind == _H264_PPS:
                found.add(_first_ue(unit[1:]))
        return found


def read_param_sets(codec: str, extradata: bytes | None) -> ParamSets | None:
    """The sets in an MP4 stream's `avcC`/`hvcC`; None when it has none (an in-band-only stream)."""
    if not extradata or extradata[0] != 1:
        return None
    if codec == "h264":
        return _read_avcc(extradata)
    if codec == "hevc":
        return _read_hvcc(extradata)
    return None


def merged_avcc(first: bytes, second: ParamSets) -> bytes:
    """`first` (an `avcC`) with `second`'s SPS and PPS added: one sample entry that decodes both encoders'
    frames, since their ids differ."""
    sets = _read_avcc(first)
    sps = [u for u in (*sets.units, *second.units) if u[0] & 0x1F == _H264_SPS]
    pps = [u for u in (*sets.units, *second.units) if u[0] & 0x1F == _H264_PPS]
    body = bytearray(first[:5])
    body.append(0xE0 | len(sps))
    for unit in sps:
        body += len(unit).to_bytes(2, "big") + unit
    body.append(len(pps))
    for unit in pps:
        body += len(unit).to_bytes(2, "big") + unit
    body += _avcc_tail(first)
    return bytes(body)


def nal_types(codec: str, packet: bytes, length_size: int = 4) -> list[int]:
    """The NAL unit types in a length-prefixed packet."""
    kinds, offset = [], 0
    while offset + length_size <= len(packet):
        size = int.from_bytes(packet[offset:offset + length_size], "big")
        offset += length_size
        if size == 0 or offset + size > len(packet):
            break
        kinds.append(packet[offset] & 0x1F if codec == "h264" else (packet[offset] >> 1) & 0x3F)
        offset += size
    return kinds


def sequence_start(codec: str, packet: bytes, length_size: int = 4) -> str | None:
    """Whether a keyframe starts a coded video sequence: "idr" when it needs nothing before it and nothing
    after it is shown before it (an H.264 IDR, an HEVC IDR or BLA), "cra" for an HEVC CRA (its leading
    pictures may refer to the group before), None for an I-frame that starts nothing (H.264 open GOP)."""
    kinds = nal_types(codec, packet, length_size)
    if codec == "h264":
        return "idr" if _H264_IDR in kinds else None
    if HEVC_CRA in kinds:
        return "cra"
    return "idr" if any(kind in _HEVC_IRAP for kind in kinds) else None


def as_broken_link(packet: bytes, length_size: int = 4) -> bytes:
    """An HEVC packet whose CRA is marked BLA without leading pictures: spliced after other frames, it starts
    a new sequence, and its leading pictures (dropped by the cut, encoded with the frames before it) are
    not expected."""
    data, offset = bytearray(packet), 0
    while offset + length_size <= len(data):
        size = int.from_bytes(data[offset:offset + length_size], "big")
        offset += length_size
        if size and (data[offset] >> 1) & 0x3F == HEVC_CRA:
            data[offset] = (data[offset] & 0x81) | (HEVC_BLA_N_LP << 1)
        offset += size
    return bytes(data)


def _read_avcc(data: bytes) -> ParamSets:
    length_size = (data[4] & 0x03) + 1
    units, offset = [], 5
    for _ in range(2):  # SPS list, then PPS list
        count = data[offset] & (0x1F if not units else 0xFF)
        offset += 1
        for _ in range(count):
            size = int.from_bytes(data[offset:offset + 2], "big")
            units.append(bytes(data[offset + 2:offset + 2 + size]))
            offset += 2 + size
    return ParamSets("h264", tuple(units), length_size)


def _avcc_tail(data: bytes) -> bytes:
    """What follows the PPS list in an `avcC` (High profiles' chroma and bit-depth fields)."""
    offset = 5
    for mask in (0x1F, 0xFF):
        count = data[offset] & mask
        offset += 1
        for _ in range(count):
            offset += 2 + int.from_bytes(data[offset:offset + 2], "big")
    return bytes(data[offset:])


def _read_hvcc(data: bytes) -> ParamSets:
    length_size = (data[21] & 0x03) + 1
    units, offset = [], 23
    for _ in range(data[22]):
        offset += 1  # array_completeness and NAL type
        count = int.from_bytes(data[offset:offset + 2], "big")
        offset += 2
        for _ in range(count):
            size = int.from_bytes(data[offset:offset + 2], "big")
            units.append(bytes(data[offset + 2:offset + 2 + size]))
            offset += 2 + size
    kinds = [(unit[0] >> 1) & 0x3F for unit in units]
    wanted = [u for u, k in zip(units, kinds, strict=True) if k in (_HEVC_VPS, _HEVC_SPS, _HEVC_PPS)]
    return ParamSets("hevc", tuple(wanted), length_size)


def _first_ue(data: bytes) -> int:
    """The first unsigned Exp-Golomb number of a NAL unit's payload (emulation bytes do not occur this early)."""
    bits = "".join(f"{byte:08b}" for byte in data[:8])
    zeros = len(bits) - len(bits.lstrip("0"))
    return int(bits[zeros:2 * zeros + 1], 2) - 1
