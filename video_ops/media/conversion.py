"""A video rewritten into another container, codec, size, shape or frame rate: each stream copied when
nothing about it changes, else encoded once; a GIF through a palette made for it.

What each container takes follows what browsers and players play (docs/editing.md): MP4 H.264, HEVC or
AV1 (VP9 in MP4 does not play in Safari; WebM is its container), QuickTime H.264 or HEVC, WebM VP9 or AV1,
Matroska all four. Sound: AAC in MP4 and QuickTime, Opus (or Vorbis, copied) in WebM, in Matroska whatever
it carries (else AAC), none in a GIF. No knowledge of jobs: `ops.convert` checks the caller's numbers and
calls these with a probed clip. Filter text holds numbers and FFmpeg's own names only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from video_ops.base.errors import JobError
from video_ops.media.clips import Clip, frame_rate, natural_size
from video_ops.media.encoders import AAC_FAST_ARGS, Encoder, VideoCodec
from video_ops.media.fitting import FrameFit, Framing, fit_filter

Container = Literal["mp4", "mov", "webm", "mkv", "gif"]
GIF_MAX_SECONDS = 60.0
GIF_MAX_SIDE = 1080
GIF_FPS = 12
GIF_MAX_FPS = 50  # a GIF's frame delays are in hundredths of a second, and browsers slow shorter ones down
MAX_SIDE = 4096
MIN_SIDE = 16
AV1_MIN_SIDE = 64  # SVT-AV1 refuses smaller frames
_LIMITED_RANGE = ":out_range=tv"  # every encode writes limited range (a full-range phone clip is converted)
_TEN_BIT = {"yuv420p10le"}
_EIGHT_BIT = {"yuv420p", "yuvj420p"}
_OPUS_ARGS = ("-c:a", "libopus", "-b:a", "128k")
# Sound Matroska carries as it is; anything else is encoded to AAC.
_MATROSKA_SOUNDS = frozenset({"aac", "mp3", "mp2", "opus", "vorbis", "flac", "alac", "ac3", "eac3", "dts", "truehd",
                              "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8"})


@dataclass(frozen=True)
class Carrier:
    """A container: its file, the video codecs it takes (its default first), the sound copied into it and
    how other sound is encoded for it."""

    suffix: str
    content_type: str
    codecs: tuple[VideoCodec, ...]
    refusal: str  # why a codec it does not take is refused ({codec} is filled in)
    sounds: frozenset[str] = frozenset()
    sound_args: tuple[str, ...] = ()
    sound_name: str = ""
    muxer: tuple[str, ...] = ()


_WEB_READY = ("-movflags", "+faststart")  # the index before the media: playback starts before the download ends
CONTAINERS: dict[Container, Carrier] = {
    "mp4": Carrier("mp4", "video/mp4", ("h264", "hevc", "av1"),
                   "{codec} in mp4 does not play in Safari; use container \"webm\" for vp9, or h264, hevc or av1 "
                   "in mp4", frozenset({"aac"}), AAC_FAST_ARGS, "AAC", _WEB_READY),
    "mov": Carrier("mov", "video/quicktime", ("h264", "hevc"),
                   "QuickTime (mov) plays h264 or hevc, not {codec}", frozenset({"aac"}), AAC_FAST_ARGS, "AAC",
                   _WEB_READY),
    "webm": Carrier("webm", "video/webm", ("vp9", "av1"), "webm carries vp9 or av1, not {codec}",
                    frozenset({"opus", "vorbis"}), _OPUS_ARGS, "Opus or Vorbis"),
    "mkv": Carrier("mkv", "video/x-matroska", ("h264", "hevc", "vp9", "av1"), "", _MATROSKA_SOUNDS, AAC_FAST_ARGS,
                   "a sound Matroska carries"),
    "gif": Carrier("gif", "image/gif", (), "a GIF has its own codec; leave video_codec out"),
}


def codec_refusal(container: Container, codec: VideoCodec) -> str | None:
    """Why `codec` cannot go in `container`, or None when it can."""
    carrier = CONTAINERS[container]
    return None if codec in carrier.codecs else carrier.refusal.format(codec=codec)


@dataclass(frozen=True)
class Target:
    """What the caller asked for, checked: None where the source's own is kept."""

    container: Container = "mp4"
    codec: VideoCodec | None = "h264"  # None for a GIF
    crf: int | None = None
    bitrate: int | None = None  # bits per second
    width: int | None = None
    height: int | None = None
    aspect: tuple[int, int] | None = None
    fit: FrameFit = "contain"
    background: tuple[int, int, int] = (0, 0, 0)
    focus_x: float = 0.5
    fps: Fraction | None = None

    @property
    def gif(self) -> bool:
        return self.container == "gif"

    @property
    def shaped(self) -> bool:
        """Whether the frame's shape is the caller's (an aspect, or both sides) rather than the picture's."""
        return self.aspect is not None or (self.width is not None and self.height is not None)


@dataclass(frozen=True)
class Conversion:
    """How one clip becomes the target: the frame, and why each stream is encoded (None: copied)."""

    clip: Clip
    target: Target
    size: tuple[int, int]
    rate: Fraction
    video_reason: str | None
    audio_reason: str | None  # meaningless when `sound` is False
    sound: bool  # the output has sound

    @property
    def copies_video(self) -> bool:
        return self.video_reason is None

    @property
    def ten_bit(self) -> bool:
        return self.clip.picture.pix_fmt in _TEN_BIT and self.target.codec != "h264"

    def video_filter(self) -> str:
        """The frames' way to the target: frame rate, size and shape, limited range, pixel format (not for a
        GIF: its palette takes them as they come)."""
        width, height = self.size
        chain = [f"fps={self.rate.numerator}/{self.rate.denominator}"] if self.target.fps or self.target.gif else []
        if self.target.shaped:
            matrix = "bt709" if self.clip.picture.colour[1] == "bt709" else "bt601"  # the bars in the picture's own
            framing = Framing(width, height, self.target.fit, self.target.background, self.target.focus_x, matrix)
            chain.append(fit_filter(self.clip.display_size, framing, _LIMITED_RANGE))
        else:
            chain.append(f"scale={width}:{height}{_LIMITED_RANGE},setsar=1")
        if not self.target.gif:
            chain.append("format=yuv420p10le" if self.ten_bit else "format=yuv420p")
        return ",".join(chain)

    def argv(self, source: Path, output: Path, encoder: Encoder) -> list[str]:
        """One FFmpeg run that writes the output (not a GIF: `gif_argv`)."""
        picture, target = self.clip.picture, self.target
        carrier = CONTAINERS[target.container]
        assert target.codec is not None
        if self.copies_video:
            inputs, video = [], ["-c:v", "copy"]
        else:
            inputs = encoder.decode_args(picture)
            # The frames carry the source's colour tags through the filters to the encoder, which writes them.
            video = ["-vf", self.video_filter(),
                     *encoder.codec_args(target.codec, crf=target.crf, bitrate=target.bitrate, ten_bit=self.ten_bit)]
        if target.codec == "hevc" and target.container in ("mp4", "mov"):
            video += ["-tag:v", "hvc1"]  # what Apple's players ask of HEVC
        return [*inputs, "-i", str(source), "-map", f"0:{picture.index}", *video, *self._sound_args(carrier),
                *carrier.muxer, "-f", _MUXERS[target.container], str(output)]

    def palette_argv(self, source: Path, palette: Path) -> list[str]:
        """A GIF's first run: the 256 colours that suit these frames best."""
        return ["-i", str(source), "-map", f"0:{self.clip.picture.index}", "-vf", f"{self.video_filter()},palettegen",
                "-frames:v", "1", str(palette)]

    def gif_argv(self, source: Path, palette: Path, output: Path) -> list[str]:
        """A GIF's second run: the frames drawn in that palette (dithered), looping, silent."""
        graph = f"[0:{self.clip.picture.index}]{self.video_filter()}[frames];[frames][1:v]paletteuse[gif]"
        return ["-i", str(source), "-i", str(palette), "-filter_complex", graph, "-map", "[gif]", "-an",
                "-loop", "0", "-f", "gif", str(output)]

    def _sound_args(self, carrier: Carrier) -> list[str]:
        sound = self.clip.audio
        if not self.sound or sound is None:
            return ["-an"]
        codec = ["-c:a", "copy"] if self.audio_reason is None else list(carrier.sound_args)
        return ["-map", f"0:{sound.index}", *codec]


_MUXERS = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska", "gif": "gif"}


def plan(clip: Clip, target: Target) -> Conversion:
    """The frame and each stream's fate; a GIF over its limits or a frame out of range is refused."""
    if target.gif and clip.seconds > GIF_MAX_SECONDS:
        raise JobError(f"url_video: the video lasts {clip.seconds:.1f} s; a GIF is at most {GIF_MAX_SECONDS:g} s "
                       "(trim it first).")
    size = frame_size(clip, target)
    if target.codec == "av1" and min(size) < AV1_MIN_SIDE:
        raise JobError(f"video_codec: av1 frames are at least {AV1_MIN_SIDE} px a side; this one would be "
                       f"{size[0]}x{size[1]}.")
    rate = target.fps or (Fraction(GIF_FPS) if target.gif else frame_rate(clip.picture))
    carrier = CONTAINERS[target.container]
    sound = clip.audio is not None and not target.gif
    audio_reason = None
    if sound and clip.audio is not None and clip.audio.codec_name not in carrier.sounds:
        audio_reason = f"its sound is {clip.audio.codec_name}; {target.container} gets {carrier.sound_name}"
    return Conversion(clip, target, size, rate, _video_change(clip, target, size), audio_reason, sound)


def frame_size(clip: Clip, target: Target) -> tuple[int, int]:
    """The output's frame: the caller's sides, the other one from the aspect (or the picture's), else the
    picture's size; for an aspect alone, the picture's shorter side kept (1080p to 9:16 is 1080x1920)."""
    natural = natural_size(clip)
    shape = Fraction(*target.aspect) if target.aspect else Fraction(*natural)
    given = target.width is not None or target.height is not None
    if target.width is not None and target.height is not None:
        size = (target.width, target.height)
    elif target.width is not None:
        size = (target.width, _even(target.width / shape))
    elif target.height is not None:
        size = (_even(target.height * shape), target.height)
    elif target.aspect is not None:
        short = min(natural)
        size = (short, _even(short / shape)) if shape < 1 else (_even(short * shape), short)
    else:
        size = natural
    limit = GIF_MAX_SIDE if target.gif else MAX_SIDE
    if max(size) > limit and not given:
        factor = limit / max(size)
        size = (_even(size[0] * factor, down=True), _even(size[1] * factor, down=True))
    field = "width" if target.width is not None else "height"
    if max(size) > limit:
        what = "a GIF is" if target.gif else "frames are"
        raise JobError(f"{field}: the frame would be {size[0]}x{size[1]}; {what} at most {limit} px a side.")
    if min(size) < MIN_SIDE:
        named = field if given else "url_video"
        raise JobError(f"{named}: the frame would be {size[0]}x{size[1]}; frames are at least {MIN_SIDE} px a side.")
    return size


def _video_change(clip: Clip, target: Target, size: tuple[int, int]) -> str | None:
    """Why the picture must be encoded, or None when it is copied as it is."""
    picture = clip.picture
    if target.codec is None:
        return "a GIF is drawn from the decoded frames"
    if picture.codec_name != target.codec:
        return f"its codec is {picture.codec_name or 'unknown'}, not {target.codec}"
    if target.crf is not None or target.bitrate is not None:
        return f"a {'crf' if target.crf is not None else 'bitrate'} was asked for"
    if target.width is not None or target.height is not None or target.aspect is not None:
        shown = clip.display_size
        if size != natural_size(clip) or shown != (float(size[0]), float(size[1])):
            return f"its frame changes ({_size(shown)} to {size[0]}x{size[1]})"
    if target.fps is not None and target.fps != frame_rate(picture):
        return f"its frame rate changes ({float(frame_rate(picture)):g} to {float(target.fps):g} fps)"
    playable = _EIGHT_BIT if target.codec == "h264" else _EIGHT_BIT | _TEN_BIT
    if picture.pix_fmt not in playable:
        depth = "8-bit" if target.codec == "h264" else "8- or 10-bit"
        return f"its pixel format {picture.pix_fmt} is not {depth} 4:2:0"
    if picture.rotation and target.container in ("webm", "mkv"):
        return f"it is turned by metadata, which {target.container} does not keep: it is turned upright"
    if clip.packets is not None:
        return clip.packets.untrusted()
    return None


def _size(shown: tuple[float, float]) -> str:
    return f"{shown[0]:g}x{shown[1]:g}"


def _even(value: float | Fraction, *, down: bool = False) -> int:
    """The nearest even whole number (or the even one below), at least 2."""
    return max(2, (math.floor(value / 2) if down else round(value / 2)) * 2)
