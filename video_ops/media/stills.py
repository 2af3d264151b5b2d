"""Chosen frames of a video as pictures, each the frame shown at its time, decoded in-process in one pass.

The packet index (`media.frame_index`) says when every frame is shown before anything is decoded, so the
frames wanted are known by their display index. Decoding starts at the keyframe shown at or before the
first of them and goes on through the next ones while they are near; where the next one lies past a
keyframe not reached yet, the decoder seeks to that keyframe instead of decoding what lies between. Dense
times cost one pass, sparse ones a seek each, and no FFmpeg start-up either way.

Pictures come out as FFmpeg's command line makes them: turned upright by the display matrix, scaled with
bicubic filtering, converted with the frame's own colour matrix and range.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from video_ops.base.errors import JobError
from video_ops.media.frame_index import FrameIndex, read_index

_TURNS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
# A keyframe this many frames past the last one decoded is sought; a nearer one is decoded through: the
# decoder already holds the packets in between (frame threads, B-frame reordering), which a seek throws away.
_SEEK_GAP = 16
_ERRORS_TOLERATED = 20  # packets a decoder may refuse (a damaged stretch) before the file counts as undecodable

Keep = Callable[[int, int, Image.Image], None]  # (display index wanted, display index decoded, picture)


class Undecodable(Exception):
    """The stream gave no picture (or kept failing): the caller names its field."""


class Stopped(Exception):
    """The job was cancelled while its frames were being decoded."""


@dataclass
class DecodeStats:
    """How much decoding the frames cost: every frame decoded, and every seek the decoder started from."""

    decoded: int = 0
    seeks: int = 0


def scaled_size(upright: tuple[int, int], width: int | None) -> tuple[int, int]:
    """The picture's size: as a player shows it, or `width` wide with the same shape."""
    if width is None:
        return upright
    return width, max(1, round(width * upright[1] / upright[0]))


def take_frames(path: Path, stream_index: int, index: FrameIndex, wanted: Sequence[int], size: tuple[int, int],
                rotation: int, keep: Keep, stop: threading.Event | None = None) -> DecodeStats:
    """Decode the frames at display indices `wanted` and hand each to `keep`, in display order, `size` wide
    and high (upright); `rotation` is the stream's display-matrix angle (`Stream.rotation`). A frame the
    decoder never gives (a damaged one) is replaced by the next one it gives, which `keep` is told."""
    return _Taker(path, stream_index, index, size, rotation, keep, stop).run(sorted(set(wanted)))


class _Taker:
    def __init__(self, path: Path, stream_index: int, index: FrameIndex, size: tuple[int, int], rotation: int,
                 keep: Keep, stop: threading.Event | None) -> None:
        self.path, self.stream_index, self.index = path, stream_index, index
        self.size, self.rotation, self.keep, self.stop = size, rotation, keep, stop
        self.by_pts = {pts: shown for shown, pts in enumerate(index.shown)}
        keys = sorted({index.rank[key]: key for key in (index.keys or (0,))}.items())
        self.key_shown = [shown for shown, _ in keys]  # display index of each keyframe, in display order
        self.key_packet = [key for _, key in keys]
        self.stats = DecodeStats()
        self.errors = 0

    def run(self, pending: list[int]) -> DecodeStats:
        retry: dict[int, int] = {}  # wanted frame -> the keyframe (position in key_shown) to decode it from
        frames: Iterator[VideoFrame] | None = None
        since = -1  # the keyframe the decoder last started from
        position = -1  # display index of the last frame decoded since then
        last: tuple[int, Image.Image] | None = None
        with av.open(str(self.path)) as container:
            stream = container.streams[self.stream_index]
            stream.thread_type = "AUTO"
            while pending:
                key = self._key_for(pending[0], retry)
                if frames is None or (key != since and self.key_shown[key] > position + _SEEK_GAP):
                    frames, since, position = self._decode_from(container, stream, key), key, -1
                frame = next(frames, None)
                if frame is None:  # the stream ended before the frames still wanted: the last one stands in
                    if last is None:
                        raise Undecodable
                    for missed in pending:
                        self.keep(missed, *last)
                    break
                shown = self.by_pts.get(frame.pts) if frame.pts is not None else None
                if shown is None:
                    continue
                position = shown
                picture = None
                while pending and pending[0] <= shown:
                    own = self._key_for(pending[0], retry)
                    if pending[0] < shown and own > 0:  # decoded past it: its keyframe did not lead to it
                        retry[pending[0]] = own - 1  # so it is decoded from the keyframe before
                        frames = None
                        break
                    picture = picture or self.picture(frame)
                    self.keep(pending.pop(0), shown, picture)
                if picture is not None:
                    last = (shown, picture)
        return self.stats

    def _key_for(self, wanted: int, retry: dict[int, int]) -> int:
        """The keyframe to decode a frame from: the last one shown at or before it, or an earlier one after
        a miss."""
        return retry.get(wanted, max(bisect.bisect_right(self.key_shown, wanted) - 1, 0))

    def _decode_from(self, container: InputContainer, stream: VideoStream, key: int) -> Iterator[VideoFrame]:
        """Frames from the keyframe at position `key` on (or from one before it, where the demuxer cannot
        land on it), to the end of the stream."""
        self.stats.seeks += 1
        for packet in self._packets_from(container, stream, self.key_packet[key]):
            try:
                frames = stream.codec_context.decode(packet)
            except av.FFmpegError:  # a damaged packet: the decoder goes on with the next one
                self.errors += 1
                if self.errors > _ERRORS_TOLERATED:
                    raise Undecodable from None
                continue
            for frame in frames:
                if self.stop is not None and self.stop.is_set():
                    raise Stopped
                self.stats.decoded += 1
                yield frame

    def _packets_from(self, container: InputContainer, stream: VideoStream, packet: int) -> Iterator[av.Packet]:
        """Packets from the keyframe `packet` (a decode index) on. Demuxers seek by different clocks (an MP4
        by its decode times shifted by its edit list, Matroska by display times), so each candidate time is
        tried until the first packet is that keyframe; else the demuxer starts from the last landing before it."""
        wanted, index = self.index.pts[packet], self.index
        before = None
        for time in dict.fromkeys((index.dts[packet] + index.lead, wanted, index.dts[packet])):
            packets = self._seek(container, stream, time)
            first = next(packets, None)
            if first is not None and first.pts == wanted:
                return itertools.chain([first], packets)
            if first is not None and first.pts is not None and first.pts < wanted:
                before = time
        return self._seek(container, stream, before if before is not None else index.dts[0])

    def _seek(self, container: InputContainer, stream: VideoStream, time: int) -> Iterator[av.Packet]:
        container.seek(time, stream=stream, backward=True)
        stream.codec_context.flush_buffers()
        return container.demux(stream)

    def picture(self, frame: VideoFrame) -> Image.Image:
        """The frame upright at `size`, as the worker's FFmpeg makes it: a picture to scale is turned first, in
        its own pixel format, into a frame without the decoder's chroma siting (FFmpeg 5.1's `scale` ignores
        it; PyAV's newer swscale honours H.264's, which moved a test pattern's colours to SSIM 0.955); a
        picture kept at its size is turned once it is RGB, which gives the same pixels."""
        turns = (self.rotation % 360) // 90 if self.rotation % 90 == 0 else 0
        width, height = self.size
        stored = (height, width) if turns % 2 else (width, height)
        if (frame.width, frame.height) != stored:
            turned = turned_planes(frame, turns)
            if turned is not None:
                frame, turns, stored = turned, 0, (width, height)
        # One conversion, scaling included, as FFmpeg's `scale` filter does when it feeds an RGB encoder.
        image = frame.reformat(width=stored[0], height=stored[1], format="rgb24", interpolation="BICUBIC",
                               src_color_range=frame.color_range, dst_color_range="JPEG").to_image()
        return image.transpose(_TURNS[turns * 90]) if turns else image


def turned_planes(frame: VideoFrame, quarter_turns: int) -> VideoFrame | None:
    """A copy of `frame` turned counter-clockwise by `quarter_turns` quarters, plane by plane in its own pixel
    format, with its colour matrix and range but no chroma siting;
    None for a format that cannot be turned so (packed or interleaved pixels, or chroma subsampled more one
    way than the other, which FFmpeg's transpose filter also refuses)."""
    fmt = frame.format
    planes = {component.plane for component in fmt.components}
    if len(planes) != len(fmt.components) or fmt.is_big_endian or fmt.has_palette:
        return None
    if quarter_turns % 2 and fmt.chroma_width(64) != fmt.chroma_height(64):
        return None
    dtype = np.dtype(np.uint8) if max(c.bits for c in fmt.components) <= 8 else np.dtype("<u2")
    width, height = (frame.height, frame.width) if quarter_turns % 2 else (frame.width, frame.height)
    turned = VideoFrame(width, height, fmt.name)
    for source, target in zip(frame.planes, turned.planes, strict=True):
        pixels = np.frombuffer(source, dtype).reshape(source.height, -1)[:, :source.width]
        np.frombuffer(target, dtype).reshape(target.height, -1)[:, :target.width] = np.rot90(pixels, quarter_turns)
    turned.colorspace, turned.color_range = frame.colorspace, frame.color_range
    return turned


def read_picture_index(path: Path, stream_index: int, codec: str, field: str) -> FrameIndex:
    """The packet index of a video stream, or the refusal naming `field` for one that cannot be read."""
    try:
        index = read_index(path, stream_index, codec)
    except av.FFmpegError:
        raise JobError(f"{field}: the video's packets could not be read (is the file truncated?).") from None
    if index.count == 0:
        raise JobError(f"{field}: the video stream has no frames.")
    return index


def shown_at(index: FrameIndex, tick: int) -> int:
    """The display index of the frame shown at `tick` (the one whose interval holds it; the first frame
    for a time before it)."""
    return max(bisect.bisect_right(index.shown, tick) - 1, 0)
