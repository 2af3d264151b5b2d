"""A video's picture under a new sound: copied into MP4 when players take it as it is, else encoded once.

Operations that only change the audio (`addaudio`, `trilhasonora`) share this recipe, so a picture is
copied, tagged and re-encoded by the same rules wherever its sound is replaced. A picture whose packet
times cannot be trusted (cut mid-GOP, timed far from zero: a broadcast recording) is encoded, as a join
normalises such a clip: copied, its first frames would not decode and its sound would start apart from it.
Encoded, FFmpeg holds its first frame back to the file's start (constant frame rate into MP4), as a player does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from video_ops.media.encoders import Encoder
from video_ops.media.packets import PacketTimes, packet_times
from video_ops.media.probe import MediaInfo, Stream, require_video

# Streams MP4 carries that every common player decodes: copying them is lossless and ~free.
_COPYABLE = {("h264", "yuv420p"), ("h264", "yuvj420p"), ("hevc", "yuv420p"), ("hevc", "yuvj420p")}
# 4:2:0 needs even sizes: odd ones are rounded down.
EVEN_SIZE = "scale=trunc(iw/2)*2:trunc(ih/2)*2"
DECODE = "VIDEO_DECODE"  # placeholder before the video's `-i`: NVDEC options when it is encoded on the GPU
CODEC = "VIDEO_CODEC"  # placeholder for the picture's output options


def copies(picture: Stream) -> bool:
    return (picture.codec_name, picture.pix_fmt) in _COPYABLE


@dataclass(frozen=True)
class Source:
    """A video's picture stream, and why its packets cannot be copied as they are (None: they can)."""

    stream: Stream
    untrusted: str | None = None

    @property
    def copied(self) -> bool:
        return copies(self.stream) and self.untrusted is None


async def copy_times(path: Path, stream: Stream, field: str) -> PacketTimes | None:
    """The packet times of a picture whose codec could be copied (a demux only, no decoding); None for one
    that is encoded anyway. Joins and new-sound operations judge a copy by them alike."""
    return await packet_times(path, stream.index, stream.time_base, field) if copies(stream) else None


async def read_source(path: Path, info: MediaInfo, field: str) -> Source:
    """The picture, its packet times checked when its codec could be copied."""
    stream = require_video(info, field)
    packets = await copy_times(path, stream, field)
    return Source(stream, packets.untrusted() if packets is not None else None)


def input_args(source: Source) -> list[str]:
    """What goes before the video's `-i`: the decoder choice, only when the picture is encoded."""
    return [] if source.copied else [DECODE]


def output_args(source: Source) -> list[str]:
    """The picture's output options: a copy (HEVC with the `hvc1` tag players expect) or an encode."""
    if not source.copied:
        return [CODEC]
    return ["-c:v", "copy", *(["-tag:v", "hvc1"] if source.stream.codec_name == "hevc" else [])]


@dataclass(frozen=True)
class Plan:
    """An FFmpeg argv with placeholders: DECODE, CODEC and each input's field name (filled by `argv`)."""

    args: list[str]
    duration: float
    picture: Source

    @property
    def copies_video(self) -> bool:
        return self.picture.copied


def argv(plan: Plan, files: dict[str, Path], encoder: Encoder) -> list[str]:
    """The plan's placeholders filled in for this encoder and these downloaded files."""
    fill = {
        DECODE: encoder.decode_args(plan.picture.stream),
        CODEC: ["-vf", EVEN_SIZE, *encoder.video_args()],
        **{field: [str(path)] for field, path in files.items()},
    }
    return [part for arg in plan.args for part in fill.get(arg, [arg])]
