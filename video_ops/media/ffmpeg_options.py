"""The FFmpeg command-line options a caller may set on an input or an output, each held to what it means.

Every value is checked against its option's own shape (a time, a rate, a size, a word from a list), so
no value can name a file, a protocol (`file:`, `concat:`, `subfile:`, `data:`, `http:`...), another
option or another input. Demuxers and muxers are chosen from short lists of those that read or write
one file: `lavfi` (a graph of its own), `concat` (a list of paths), `hls`, `segment`, `tee`, `image2`
patterns and the like are not on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from video_ops.media.filter_policy import shown

_TIME = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|(?:[0-9]{1,2}:)?[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?)")
_RATE = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6})?(?:/[0-9]{1,6})?")
_BITRATE = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,3})?[kKM]?")
_SIZE = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")
_ASPECT = re.compile(r"[0-9]{1,5}(?:[:/][0-9]{1,5}|\.[0-9]{1,6})?")
_MOVFLAGS = ("faststart", "frag_keyframe", "empty_moov", "default_base_moof", "separate_moof", "omit_tfhd_offset",
             "negative_cts_offsets", "disable_chpl", "write_colr", "use_metadata_tags")
_PROTOCOL = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:(?!\d)")  # `file:`, `concat:`, `http:` (not `1:30`, a time)

# Demuxers that read the one file they are given (by the names `-f` takes). Also FFmpeg's `-format_whitelist`
# for every input: a download that is really a playlist (hls, whose segments may name other files), a concat
# list or anything else FFmpeg would recognise by its content is not read.
DEMUXERS = ("mov", "mp4", "matroska", "webm", "mpegts", "mpeg", "avi", "flv", "asf", "mxf", "mp3", "aac", "wav",
            "aiff", "flac", "ogg", "gif", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "srt", "ass",
            "webvtt")
# Muxers that write the one file they are given, by `f` and by the output name's extension.
MUXERS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "matroska": "matroska", "webm": "webm", "mp3": "mp3",
          "m4a": "ipod", "ipod": "ipod", "aac": "adts", "adts": "adts", "wav": "wav", "flac": "flac", "ogg": "ogg",
          "opus": "opus", "gif": "gif", "ts": "mpegts", "mpegts": "mpegts"}
SUFFIXES = {"mp4": ".mp4", "mov": ".mov", "matroska": ".mkv", "webm": ".webm", "mp3": ".mp3", "ipod": ".m4a",
            "adts": ".aac", "wav": ".wav", "flac": ".flac", "ogg": ".ogg", "opus": ".opus", "gif": ".gif",
            "mpegts": ".ts"}
CONTENT_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska", ".webm": "video/webm",
                 ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".wav": "audio/wav",
                 ".flac": "audio/flac", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".gif": "image/gif",
                 ".ts": "video/mp2t"}
# Codecs by the worker's own settings (NVENC where the card has it for h264 and hevc), then encoders by name.
WORKER_CODECS = ("h264", "hevc", "vp9", "av1")
VIDEO_ENCODERS = ("libx264", "libx265", "h264_nvenc", "hevc_nvenc", "libvpx-vp9", "libsvtav1", "libaom-av1", "mpeg4",
                  "gif", "copy")
AUDIO_ENCODERS = ("aac", "libmp3lame", "libopus", "libvorbis", "flac", "pcm_s16le", "pcm_s24le", "copy")
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "p1", "p2",
           "p3", "p4", "p5", "p6", "p7", *(str(n) for n in range(14)))
TUNES = ("film", "animation", "grain", "stillimage", "fastdecode", "zerolatency", "hq", "ll", "ull")
PROFILES = ("baseline", "main", "high", "high10", "main10", "main-intra", "high422", "high444")
PIXEL_FORMATS = ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "yuv420p10le", "yuv422p10le", "nv12", "p010le",
                 "rgb24", "rgba", "bgra", "gray", "yuva420p", "pal8")
ALIASES = {"vcodec": "c:v", "codec:v": "c:v", "acodec": "c:a", "codec:a": "c:a", "b": "b:v", "vframes": "frames:v"}


class OptionRefused(ValueError):
    """One sentence (without the field's name) saying which option breaks which rule."""


@dataclass(frozen=True)
class Spec:
    """An option: how its value is checked (returns the text FFmpeg is given), or None for a flag."""

    check: Callable[[str], str] | None
    rule: str


def _pattern(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError
        return value
    return check


def _among(choices: tuple[str, ...] | Mapping[str, str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError
        return value
    return check


def _whole(low: int, high: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.fullmatch(r"-?[0-9]{1,9}", value) or not low <= int(value) <= high:
            raise ValueError
        return str(int(value))
    return check


def _size(value: str) -> str:
    match = _SIZE.fullmatch(value)
    if match is None or not all(16 <= int(side) <= 8192 for side in match.groups()):
        raise ValueError
    return value


def _movflags(value: str) -> str:
    flags = re.findall(r"([+-]?)([a-z_]+)", value)
    if "".join(sign + name for sign, name in flags) != value or any(name not in _MOVFLAGS for _, name in flags):
        raise ValueError
    return value


def _signed_time(value: str) -> str:
    return "-" + _pattern(_TIME)(value[1:]) if value.startswith("-") else _pattern(_TIME)(value)


_TIME_RULE = "seconds (such as 1.5) or HH:MM:SS.mmm"
_RATE_RULE = "frames per second: a number or a fraction such as 30000/1001"
INPUT_OPTIONS: dict[str, Spec] = {
    "ss": Spec(_pattern(_TIME), _TIME_RULE),
    "t": Spec(_pattern(_TIME), _TIME_RULE),
    "to": Spec(_pattern(_TIME), _TIME_RULE),
    "itsoffset": Spec(_signed_time, f"{_TIME_RULE}, may be negative"),
    "stream_loop": Spec(_whole(-1, 1000), "a whole number from -1 (for ever, until the output ends) to 1000"),
    "loop": Spec(_whole(0, 1), "0 or 1 (an image repeated as a video)"),
    "r": Spec(_pattern(_RATE), _RATE_RULE),
    "framerate": Spec(_pattern(_RATE), _RATE_RULE),
    "f": Spec(_among(DEMUXERS), "one of these demuxers: " + ", ".join(DEMUXERS)),
}
OUTPUT_OPTIONS: dict[str, Spec] = {
    "c:v": Spec(_among((*WORKER_CODECS, *VIDEO_ENCODERS)),
                "one of " + ", ".join((*WORKER_CODECS, *VIDEO_ENCODERS))),
    "c:a": Spec(_among(AUDIO_ENCODERS), "one of " + ", ".join(AUDIO_ENCODERS)),
    "b:v": Spec(_pattern(_BITRATE), "bits per second, such as 2500k or 8M"),
    "b:a": Spec(_pattern(_BITRATE), "bits per second, such as 128k"),
    "crf": Spec(_whole(0, 63), "a whole number from 0 to 63"),
    "preset": Spec(_among(PRESETS), "an encoder preset: " + ", ".join(PRESETS)),
    "tune": Spec(_among(TUNES), "one of " + ", ".join(TUNES)),
    "profile:v": Spec(_among(PROFILES), "one of " + ", ".join(PROFILES)),
    "pix_fmt": Spec(_among(PIXEL_FORMATS), "one of " + ", ".join(PIXEL_FORMATS)),
    "r": Spec(_pattern(_RATE), _RATE_RULE),
    "s": Spec(_size, "WIDTHxHEIGHT, each 16 to 8192"),
    "aspect": Spec(_pattern(_ASPECT), "a ratio such as 16:9 or 1.777"),
    "g": Spec(_whole(1, 10000), "a whole number of frames from 1 to 10000"),
    "frames:v": Spec(_whole(1, 10_000_000), "a whole number of frames"),
    "ac": Spec(_whole(1, 8), "a whole number of channels from 1 to 8"),
    "ar": Spec(_whole(8000, 192000), "a sample rate from 8000 to 192000"),
    "ss": Spec(_pattern(_TIME), _TIME_RULE),
    "t": Spec(_pattern(_TIME), _TIME_RULE),
    "to": Spec(_pattern(_TIME), _TIME_RULE),
    "fps_mode": Spec(_among(("passthrough", "cfr", "vfr", "auto")), "passthrough, cfr, vfr or auto"),
    "movflags": Spec(_movflags, "flags such as +faststart, among " + ", ".join(_MOVFLAGS)),
    "loop": Spec(_whole(-1, 65535), "a GIF's repeat count: 0 for ever, -1 once"),
    "f": Spec(_among(MUXERS), "one of these muxers: " + ", ".join(sorted(set(MUXERS.values())))),
    "shortest": Spec(None, "a flag: true"),
    "an": Spec(None, "a flag: true"),
    "vn": Spec(None, "a flag: true"),
}


def option_args(options: Mapping[str, Any], allowed: Mapping[str, Spec]) -> dict[str, str | None]:
    """The options by their canonical names (`vcodec` is `c:v`), each value checked: text for FFmpeg, or
    None for a flag that is on. A flag set to false is left out."""
    checked: dict[str, str | None] = {}
    for given, raw in options.items():
        name = ALIASES.get(given.lstrip("-"), given.lstrip("-"))
        spec = allowed.get(name)
        if spec is None:
            raise OptionRefused(f"'{shown(given)}' is not an option compose accepts here (it accepts "
                                f"{', '.join(allowed)})")
        if name in checked:
            raise OptionRefused(f"'{name}' is given twice (under two of its names)")
        if spec.check is None:
            if not isinstance(raw, bool):
                raise OptionRefused(f"'{name}' is a flag: give true or false")
            if raw:
                checked[name] = None
            continue
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise OptionRefused(f"'{name}' must be {spec.rule}")
        text = str(raw).strip()
        if _PROTOCOL.match(text) or ("/" in text and name not in ("r", "framerate", "aspect")):
            raise OptionRefused(f"'{name}' names a file or a protocol; compose reads only the files in 'inputs' "
                                f"and writes only its 'outputs' ('{name}' must be {spec.rule})")
        try:
            checked[name] = spec.check(text)
        except ValueError:
            raise OptionRefused(f"'{name}' must be {spec.rule}") from None
    return checked


def as_argv(options: Mapping[str, str | None]) -> list[str]:
    """`{"ss": "1", "shortest": None}` -> `["-ss", "1", "-shortest"]`."""
    argv: list[str] = []
    for name, value in options.items():
        argv += [f"-{name}"] if value is None else [f"-{name}", value]
    return argv


def unreadable_format(format_name: str) -> bool:
    """Whether ffprobe's `format_name` (`mov,mp4,m4a,3gp,3g2,mj2`) is a demuxer off the list."""
    return not set(format_name.split(",")) & set(DEMUXERS)
