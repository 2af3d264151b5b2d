"""A video stream's packets as the container times them: whether a copy-join of the clip would keep its
decode times rising and its frame times exact, or its timestamps cannot be trusted for a copy."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from video_ops.base.errors import JobError
from video_ops.media.ffmpeg import run_ffprobe

_FAR_FROM_ZERO_S = 1.0  # a picture that starts later than this was cut from a stream (broadcast, a recorder)


@dataclass(frozen=True)
class PacketTimes:
    """One clip's video packets in ticks of `time_base`, counted from the file's zero (where a copy-join
    places it)."""

    time_base: Fraction
    count: int
    start_s: float  # the first frame's time in the file
    lead: int  # how far before zero the first packet is decoded (B-frame delay)
    room: int  # how far the last packet's decoding lies before the clip's end
    end: int  # the last frame's end
    keyed: bool  # the first packet is a key frame

    @property
    def end_s(self) -> float:
        """When the last frame ends, in the file's seconds (as ffprobe's start times are)."""
        return float(self.end * self.time_base)

    def follows(self, before: PacketTimes) -> bool:
        """Whether this clip's decode times, copied right after `before`, still rise: its B-frame delay fits
        in the time `before` leaves after its last decode time (not so when frames quicken, slow motion)."""
        return self.lead * self.time_base < before.room * before.time_base

    def untrusted(self) -> str | None:
        """Why a copy of this clip would not keep its frame times, or None."""
        if not self.keyed:
            return "it starts mid-GOP (its first frame is not a key frame)"
        if abs(self.start_s) > _FAR_FROM_ZERO_S:
            return f"its timestamps start {self.start_s:.3f} s from zero"
        if self.start_s * self.count > (self.end_s - self.start_s) * 1.5:  # over a frame and a half late
            return f"its picture starts {self.start_s:.3f} s after the file does (an edit list's delay)"
        return None


async def packet_times(path: Path, index: int, time_base: str, field: str) -> PacketTimes:
    """Read the packets' times (no decoding: a demux only, fast even for long clips)."""
    code, data, _ = await run_ffprobe(path, timeout=120.0, show=(
        "-select_streams", str(index), "-show_entries", "packet=pts,dts,duration,flags"))
    packets = [p for p in data.get("packets", []) if p.get("pts") is not None and p.get("dts") is not None]
    if code != 0 or not packets:
        raise JobError(f"{field}: the video's packets could not be read (is the file truncated?).")
    pts = [int(p["pts"]) for p in packets]
    start = min(pts)
    ends = [t + int(p.get("duration") or 0) for t, p in zip(pts, packets, strict=True)]
    base = Fraction(time_base) if time_base else Fraction(1, 90_000)
    return PacketTimes(time_base=base, count=len(packets), start_s=float(start * base),
                       lead=-int(packets[0]["dts"]), room=max(ends) - int(packets[-1]["dts"]),
                       end=max(ends), keyed="K" in packets[0].get("flags", ""))
