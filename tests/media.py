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


def picture_hashes(path: Path) -> list[str]:
    """Per-packet hashes of the picture's coded slices, parameter sets left out: a copy-join may repeat a
    clip's SPS and PPS in its first keyframe (so a player switching clips has them), which changes the
    packet but not one coded picture."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        sets = {7, 8} if codec == "h264" else {32, 33, 34}
        hashes = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            data, offset, kept = bytes(packet), 0, hashlib.md5()
            while offset + 4 <= len(data):
                size = int.from_bytes(data[offset:offset + 4], "big")
                unit = data[offset + 4:offset + 4 + size]
                kind = unit[0] & 0x1F if codec == "h264" else (unit[0] >> 1) & 0x3F
                if kind not in sets:
                    kept.update(unit)
                offset += 4 + size
            hashes.append(kept.hexdigest())
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


BLOCK = 48  # the side of the numbered block in the top-left corner of `numbered_video`'s frames


def numbered_video(path: Path, *, frames: int = 40, gop: int = 12, rotate: int | None = None, audio: bool = True,
                   codec: list[str] | None = None) -> Path:
    """A 320x240 clip whose frames say their number: the top-left block's grey level is 20 + 5 n (read back by
    `frame_number`), over a test pattern. Timed like a phone's slow-motion burst (variable rate: 40 ms a frame
    for the first 20 frames, then 20 ms), with B-frames and a keyframe every `gop` frames; `rotate`: a phone's
    rotation tag, written by a second, copying run (FFmpeg 5.1 drops it when it encodes), which also delays the
    sound by 79 ms, as a phone's starts after its picture."""
    assert frames <= 43, "the block's grey level must stay below 235"
    block = f"lt(X\\,{BLOCK})*lt(Y\\,{BLOCK})"
    chroma = f"lt(X\\,{BLOCK // 2})*lt(Y\\,{BLOCK // 2})"
    graph = (f"testsrc2=size=320x240:rate=25,format=yuv420p,geq=lum='if({block}\\,20+5*N\\,lum(X\\,Y))'"
             f":cb='if({chroma}\\,128\\,cb(X\\,Y))':cr='if({chroma}\\,128\\,cr(X\\,Y))',settb=1/1000,"
             "setpts='if(lt(N\\,20)\\,N*40\\,800+(N-20)*20)/1000/TB'")
    encoded = path.with_name(f"encoded-{path.name}") if rotate is not None else path
    args = ["-f", "lavfi", "-i", graph]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-shortest", "-c:a", "aac"]
    ffmpeg(*args, "-frames:v", str(frames), "-fps_mode:v", "passthrough",
           *(codec or ["-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-bf", "2", "-pix_fmt", "yuv420p"]),
           "-g", str(gop), "-keyint_min", str(gop), "-video_track_timescale", "1000", str(encoded))
    if rotate is not None:
        sound = (["-itsoffset", "0.079", "-i", str(encoded)], ["-map", "1:a"]) if audio else ([], [])
        ffmpeg("-i", str(encoded), *sound[0], "-map", "0:v", *sound[1], "-c", "copy", "-metadata:s:v:0",
               f"rotate={rotate}", str(path))
        encoded.unlink()
    return path


def frame_number(image: Any, center: tuple[int, int]) -> int:
    """The number a `numbered_video` frame says, read at `center`, the middle of its block in `image` (a
    Pillow image, RGB or grey, full-range as pictures are)."""
    grey = image.convert("L").getpixel(center)
    return round((grey * 219 / 255 + 16 - 20) / 5)


def display_times(path: Path) -> list[float]:
    """The display times of the first video stream's frames, as ffprobe reads its packets, in order."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                          "-of", "csv=p=0", str(path)], check=True, capture_output=True, text=True).stdout
    return sorted(float(line) for line in out.split() if line.strip() not in ("", "N/A"))
