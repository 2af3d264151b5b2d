"""Media the tests make with real FFmpeg (lavfi sources), and ffprobe readings of what came out."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import av


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    size: str = "320x240",
    rate: int = 25,
    audio: bool = True,
    codec: list[str] | None = None,
    source: str = "testsrc2",
) -> Path:
    """A test-pattern video (with a sine tone unless `audio=False`)."""
    args = ["-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", str(seconds)]
    args += codec or ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-b:a", "64k"]
    ffmpeg(*args, str(path))
    return path


def make_audio(path: Path, *, seconds: float = 2.0, frequency: int = 880, codec: list[str] | None = None) -> Path:
    """A sine tone; the container follows the file's extension (mp3, wav, m4a...)."""
    args = ["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=44100", "-t", str(seconds)]
    ffmpeg(*args, *(codec or []), str(path))
    return path


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(out)


def stream(info: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((s for s in info["streams"] if s["codec_type"] == kind), None)


def stream_duration(path: Path, kind: str) -> float:
    found = stream(probe(path), kind)
    assert found is not None, f"{path.name} has no {kind} stream"
    return float(found["duration"])


def packet_hashes(path: Path, selector: str = "v:0") -> list[str]:
    """Per-packet data hashes: equal lists mean a stream was copied, not re-encoded (read as JSON: a packet's side
    data, such as an AAC track's first skip, would shift a CSV line)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", selector, "-show_data_hash", "md5", "-show_entries",
         "packet=data_hash", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [packet["data_hash"] for packet in json.loads(out).get("packets", [])]


def frame_hashes(path: Path) -> list[str]:
    """Each H.264 video packet's hash less its SPS and PPS units: equal lists mean the frames were copied, also
    where a copy-join put each clip's parameter sets in-band before its first frame (FFmpeg's concat demuxer
    does, so `packet_hashes` differs there)."""
    hashes = []
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            data, kept, at = bytes(packet), bytearray(), 0
            while at + 4 <= len(data):  # MP4's 4-byte lengths before each unit
                end = at + 4 + int.from_bytes(data[at:at + 4], "big")
                if data[at + 4] & 0x1F not in (7, 8):  # not an SPS or a PPS
                    kept += data[at:end]
                at = end
            if data:
                hashes.append(hashlib.md5(kept).hexdigest())
    return hashes


def decodes_cleanly(path: Path) -> bool:
    """True when FFmpeg decodes every frame without an error: the file plays."""
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
    )
    return result.returncode == 0 and not result.stderr.strip()


def zero_length_mp4(path: Path) -> Path:
    """A one-frame MP4 whose headers say it lasts 0 s, as some broken uploads do."""
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x36:rate=25", "-frames:v", "1", "-c:v", "libx264", "-f", "mp4",
           str(path))
    data = bytearray(path.read_bytes())
    # The duration field's offset after each box name: version+flags, two dates, then the timescale
    # (mvhd, mdhd) or the track id and a reserved word (tkhd).
    for box, offset in ((b"mvhd", 16), (b"mdhd", 16), (b"tkhd", 20)):
        at = data.find(box) + 4 + offset
        data[at:at + 4] = bytes(4)
    path.write_bytes(data)
    return path
