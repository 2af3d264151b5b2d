"""Encode the frames next to a cut so that they join the copied frames: the source's codec, profile, level,
size, pixel format, sample aspect ratio and colour tags, no B-frames (decode order is display order),
and, for x264, parameter-set ids apart from the source's so one sample entry serves both.

Which streams can be cut this way is decided here too; any other is encoded whole by the worker's usual
H.264 recipe, and the reason goes into the result.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from video_ops.media.encoders import NVENC, Encoder
from video_ops.media.frame_index import FrameIndex
from video_ops.media.picture import EVEN_SIZE
from video_ops.media.probe import Stream

_PIXELS = {"yuv420p", "yuvj420p"}
_H264_PROFILES = {"Baseline": "baseline", "Constrained Baseline": "baseline", "Main": "main", "High": "high"}
_HEVC_PROFILES = {"Main": "main"}
_COLOUR_OPTIONS = ("-color_range", "-colorspace", "-color_trc", "-color_primaries")
_QUALITY = "16"  # a few frames beside copied ones: close to them (SSIM well over 0.98) for a few kilobytes


def smart_cut_refusal(picture: Stream, index: FrameIndex | None) -> str | None:
    """Why this picture cannot be cut by copying most of it, or None when it can."""
    profiles = {"h264": _H264_PROFILES, "hevc": _HEVC_PROFILES}.get(picture.codec_name)
    if profiles is None:
        return f"{picture.codec_name} is not smart-cut (only H.264 and HEVC are)"
    if picture.pix_fmt not in _PIXELS:
        return f"its pixel format {picture.pix_fmt} is not 8-bit 4:2:0"
    if picture.profile not in profiles:
        return f"its {picture.profile or 'unknown'} profile is not one the frames next to a cut can be encoded in"
    if picture.field_order not in ("", "progressive"):
        return "it is interlaced"
    if index is None or index.param_sets is None:
        return "its parameter sets are not in its sample entry"
    if len(index.copy_starts) < 2 <= index.keyframes:
        return ("its keyframes cannot start a copy (open groups of frames whose leading pictures refer to the "
                "group before)")
    if not index.copy_starts:
        return "it has no keyframe a copy can start at"
    return None


def piece_args(source: Path, picture: Stream, index: FrameIndex, first: int, last: int, encoder: Encoder,
               output: Path, *, origin: float, matched: bool, number: int = 0) -> tuple[list[str], list[str]]:
    """FFmpeg's input and output options for display frames `first`..`last`, decoded from the copy start
    before them, as input `number` of a run. `matched`: to join copied frames (the source's format,
    frames as stored); else the worker's usual H.264, upright. `origin`: the file's start time, which
    FFmpeg's seek counts from."""
    key = index.copy_start_at_or_before(first)
    seek = max(float(index.shown[key] * index.time_base) - origin - 0.001, 0.0) if key else 0.0
    low, high = (_between(index, before, after) - origin - seek for before, after in ((first - 1, first),
                                                                                      (last, last + 1)))
    picked = f"select='between(t,{low:.6f},{high:.6f})'"
    if matched:
        sar = picture.sample_aspect_ratio if picture.sample_aspect_ratio not in ("", "0:1") else "1:1"
        frames = [f"{picked},setsar={sar.replace(':', '/')}"]
        codec = [*_codec_args(picture, index, encoder), "-pix_fmt", picture.pix_fmt,
                 *[arg for option, value in zip(_COLOUR_OPTIONS, picture.colour, strict=True) if value
                   for arg in (option, value)]]
    else:
        frames = [f"{picked},{EVEN_SIZE}"]
        codec = [*encoder.video_args(), "-bf", "0"]
    inputs = [*(["-noautorotate"] if matched else []), "-noaccurate_seek", "-ss", f"{seek:.6f}",
              *encoder.decode_args(None if matched else picture), "-i", str(source)]
    outputs = ["-map", f"{number}:{picture.index}", "-vf", *frames, "-fps_mode", "passthrough",
               "-frames:v", str(last - first + 1), "-an", "-sn", "-dn", *codec,
               "-video_track_timescale", str(Fraction(index.time_base).denominator), str(output)]
    return inputs, outputs


def _codec_args(picture: Stream, index: FrameIndex, encoder: Encoder) -> list[str]:
    nvenc = encoder.name == NVENC
    if picture.codec_name == "hevc":
        if nvenc:
            return ["-c:v", "hevc_nvenc", "-preset", "p4", "-rc", "constqp", "-qp", _QUALITY, "-bf", "0",
                    "-profile:v", "main", "-tag:v", "hvc1"]
        return ["-c:v", "libx265", "-preset", "veryfast", "-crf", _QUALITY, "-profile:v", "main", "-tag:v", "hvc1",
                "-x265-params", f"bframes=0:level-idc={picture.level / 30:g}:log-level=error"]
    profile = _H264_PROFILES[picture.profile]
    level = f"{picture.level // 10}.{picture.level % 10}"
    if nvenc:
        return ["-c:v", NVENC, "-preset", "p4", "-rc", "constqp", "-qp", _QUALITY, "-bf", "0",
                "-profile:v", profile, "-level", level]
    used = index.param_sets.ids() if index.param_sets else {0}
    spare = next(i for i in range(32) if i not in used)
    return ["-c:v", "libx264", "-preset", "veryfast", "-crf", _QUALITY, "-bf", "0", "-profile:v", profile,
            "-level", level, "-x264-params", f"sps-id={spare}"]


def _between(index: FrameIndex, before: int, after: int) -> float:
    """A time between two frames (display indices), in seconds: frames are picked by it, so a decoder that
    times them a little apart from the demuxer still picks the same ones."""
    if before < 0:
        return float(index.shown[0] * index.time_base) - 3600.0
    if after >= index.count:
        return float(index.shown[-1] * index.time_base) + 3600.0
    return float((index.shown[before] + index.shown[after]) * index.time_base / 2)
