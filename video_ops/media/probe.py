"""What a media file really is, judged by ffprobe rather than by its URL or Content-Type."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from video_ops.base.errors import JobError
from video_ops.base.settings import env_float
from video_ops.media.ffmpeg import FFmpegError, run_ffmpeg, run_ffprobe, step_timeout, summarize_stderr

DEFAULT_MAX_INPUT_DURATION_S = 4 * 3600.0
FRAMES_CHECKED = 3  # decoded at probe time: a stream FFmpeg cannot decode fails before any work
# Formats whose file names other files or streams to read (a playlist's segments, a list of paths, an RTP
# session): a download read as one would pull files from outside the job (another job's, the image's) into its
# output, so it is refused before FFmpeg opens it for work. The two text lists are known by their first bytes
# too, since ffprobe fails on one naming a file it may not open, in its own words.
READS_OTHER_FILES = {"hls": "an HLS playlist", "concat": "an FFmpeg concat list", "dash": "a DASH manifest",
                     "sdp": "an SDP session description"}
_LEADING = {b"#EXTM3U": "hls", b"ffconcat version": "concat"}
_CONTAINERS = {"mpegts": "MPEG-TS", "matroska,webm": "Matroska/WebM", "avi": "AVI", "flv": "FLV"}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stream:
    index: int
    codec_type: str
    codec_name: str
    width: int = 0
    height: int = 0
    pix_fmt: str = ""
    frame_rate: float = 0.0
    duration: float | None = None
    is_cover_art: bool = False
    rotation: int = 0  # degrees from the display matrix; FFmpeg turns the decoded frames upright
    rate_text: str = ""  # r_frame_rate as ffprobe writes it ("30000/1001"): exact, for comparing and planning
    time_base: str = ""
    sample_aspect_ratio: str = ""  # "1:1", "4:3"...; empty when the file does not say
    sample_rate: int = 0
    channels: int = 0
    start_time: float = 0.0
    reorder_delay: int = 0  # frames a B-frame stream's decoding runs ahead of its display (ffprobe's has_b_frames)
    profile: str = ""  # "High", "Main"...
    level: int = 0  # H.264: 41 is 4.1; HEVC: 30 times the level
    colour: tuple[str, str, str, str] = ("", "", "", "")  # range, space, transfer, primaries ("" where unsaid)
    field_order: str = ""  # "progressive", "tt"...; empty when the file does not say
    bit_rate: int = 0

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) of the frames FFmpeg's filters see: a phone's 90-degree video is taller than wide."""
        return (self.height, self.width) if self.rotation % 180 == 90 else (self.width, self.height)

    @property
    def upright_size(self) -> tuple[int, int]:
        """(width, height) a player shows: non-square pixels widened or narrowed to square ones, then turned
        by the rotation."""
        width = self.width
        try:
            aspect = Fraction(self.sample_aspect_ratio.replace(":", "/"))
        except (ValueError, ZeroDivisionError):
            aspect = Fraction(1)
        if aspect > 0 and aspect != 1:
            width = max(1, round(width * aspect))
        return (self.height, width) if self.rotation % 180 == 90 else (width, self.height)


@dataclass(frozen=True)
class MediaInfo:
    format_name: str
    duration: float | None
    size_bytes: int
    streams: tuple[Stream, ...]
    brand: str = ""  # an MP4 family file's major brand: "qt" is QuickTime
    start_time: float = 0.0  # the file's first timestamp: FFmpeg reads it as 0 unless told -copyts

    @property
    def container(self) -> str:
        """The container in the user's words (QuickTime, MP4, MPEG-TS...)."""
        if self.format_name.startswith("mov,"):
            return "QuickTime" if self.brand == "qt" else "MP4"
        return _CONTAINERS.get(self.format_name, self.format_name)

    @property
    def video(self) -> Stream | None:
        """The first real picture stream (an MP3's cover art does not count)."""
        return next((s for s in self.streams if s.codec_type == "video" and not s.is_cover_art), None)

    @property
    def audio(self) -> Stream | None:
        return next((s for s in self.streams if s.codec_type == "audio"), None)


async def probe(path: Path, field: str, *, check_decode: bool = True) -> MediaInfo:
    """Probe an input; a file FFmpeg cannot read, one too long to process, or a picture that does not decode
    fails naming its field. `check_decode=False` leaves the decode check (an FFmpeg start-up) to an operation
    that decodes the picture itself and says so when it cannot."""
    info = await _read(path, field)
    limit = env_float("VIDEO_OPS_MAX_INPUT_DURATION_S", DEFAULT_MAX_INPUT_DURATION_S)
    if info.duration is not None and info.duration > limit:
        raise JobError(
            f"{field}: the media lasts {info.duration:.0f} s, over the limit of {limit:g} s "
            "(raise it with VIDEO_OPS_MAX_INPUT_DURATION_S)."
        )
    if info.video is not None and check_decode:
        await _first_frames_decode(path, info, info.video, field)
    return info


def undecodable(info: MediaInfo, video: Stream, field: str) -> JobError:
    """The refusal for a picture FFmpeg cannot decode, in the decode check's words."""
    return JobError(f"{field}: the video stream ({video.codec_name}, {info.container}) cannot be decoded.")


async def probe_output(path: Path) -> MediaInfo:
    """Probe what a job wrote, for its result: the limits and the decode check are for inputs (a join of
    hours would otherwise be blamed on the output)."""
    return await _read(path, "output")


async def _read(path: Path, field: str) -> MediaInfo:
    return parse_probe(await ffprobe_data(path, field))


async def ffprobe_data(path: Path, field: str, show: Sequence[str] = ("-show_format", "-show_streams")
                       ) -> dict[str, Any]:
    """ffprobe's JSON for an input (`show`: what to list); an empty or unreadable file fails naming its field."""
    if path.stat().st_size == 0:
        raise JobError(f"{field}: the file is empty (0 bytes).")
    with path.open("rb") as file:
        start = file.read(32).lstrip(b"\xef\xbb\xbf \t\r\n")
    _refuse_lists([name for leading, name in _LEADING.items() if start.startswith(leading)], field)
    code, data, stderr = await run_ffprobe(path, show=show)
    if code != 0 or "format" not in data:
        reason = summarize_stderr(stderr, path.parent).replace(f"{path.name}: ", "")
        raise JobError(f"{field}: the file is not a media file FFmpeg can read ({reason}).")
    _refuse_lists(str(data["format"].get("format_name", "")).split(","), field)
    return data


def _refuse_lists(format_names: list[str], field: str) -> None:
    for name in format_names:
        if name in READS_OTHER_FILES:
            raise JobError(f"{field}: the file is {READS_OTHER_FILES[name]}, which names other files to read; "
                           "send the media file itself.")


async def _first_frames_decode(path: Path, info: MediaInfo, video: Stream, field: str) -> None:
    """Decode the first frames of the picture: a stream FFmpeg cannot decode (a codec variant it lacks,
    HEVC without its parameter sets) fails here, naming the field, not later in FFmpeg's own words."""
    report = path.with_name(f"{path.name}.decoded")
    try:
        await run_ffmpeg(["-i", str(path), "-map", f"0:{video.index}", "-frames:v", str(FRAMES_CHECKED),
                          "-f", "null", "-progress", str(report), "-"],
                         step=f"{field}: decoding the first frames", timeout=60.0, workdir=path.parent)
    except FFmpegError as error:
        log.info("%s: decoding the first frames failed: %s", field, error.stderr)
        raise undecodable(info, video, field) from None
    finally:
        done = report.read_text() if report.exists() else ""
        report.unlink(missing_ok=True)
    frames = [line.partition("=")[2] for line in done.splitlines() if line.startswith("frame=")]
    if not frames or frames[-1].strip() in ("", "0"):
        raise JobError(f"{field}: the video stream ({video.codec_name}, {info.container}) decodes to no picture.")


async def played_seconds(path: Path, stream: Stream, field: str) -> float:
    """How long a stream really plays, by decoding it (fast for audio): an MP3's headers count the
    encoder's delay and padding (a 4.000 s tone reads as 4.049 s), which would add a frame of picture."""
    report = path.with_name(f"{path.name}.progress")
    await run_ffmpeg(["-i", str(path), "-map", f"0:{stream.index}", "-f", "null", "-progress", str(report), "-"],
                     step=f"{field}: reading the length", timeout=step_timeout(stream.duration, 1.0),
                     workdir=path.parent)
    ends = [line for line in report.read_text().splitlines() if line.startswith("out_time_us=")]
    report.unlink()
    try:
        return int(ends[-1].partition("=")[2]) / 1e6
    except (IndexError, ValueError):
        raise JobError(f"{field}: the file has no readable duration (is it truncated?).") from None


def parse_probe(data: dict[str, Any]) -> MediaInfo:
    fmt = data.get("format", {})
    streams = tuple(_stream(raw) for raw in data.get("streams", []))
    return MediaInfo(
        format_name=fmt.get("format_name", ""),
        duration=_float(fmt.get("duration")),
        size_bytes=int(fmt.get("size") or 0),
        streams=streams,
        brand=str(fmt.get("tags", {}).get("major_brand", "")).strip(),
        start_time=_float(fmt.get("start_time")) or 0.0,
    )


def require_video(info: MediaInfo, field: str) -> Stream:
    return _require(info.video, info, "video", field)


def require_audio(info: MediaInfo, field: str) -> Stream:
    return _require(info.audio, info, "audio", field)


def _require(stream: Stream | None, info: MediaInfo, kind: str, field: str) -> Stream:
    if stream is None:
        found = ", ".join(sorted({s.codec_type for s in info.streams})) or "no streams"
        raise JobError(f"{field}: the file has no {kind} stream (found: {found}).")
    return stream


def require_duration(info: MediaInfo, field: str) -> float:
    duration = info.duration
    if duration is None or duration <= 0:
        raise JobError(f"{field}: the file has no readable duration (is it truncated?).")
    return duration


def _stream(raw: dict[str, Any]) -> Stream:
    return Stream(
        index=int(raw.get("index", 0)),
        codec_type=raw.get("codec_type", ""),
        codec_name=raw.get("codec_name", ""),
        width=int(raw.get("width") or 0),
        height=int(raw.get("height") or 0),
        pix_fmt=raw.get("pix_fmt", ""),
        frame_rate=_rate(raw.get("avg_frame_rate")) or _rate(raw.get("r_frame_rate")),
        duration=_float(raw.get("duration")),
        is_cover_art=bool(raw.get("disposition", {}).get("attached_pic")),
        rotation=_rotation(raw),
        rate_text=raw.get("r_frame_rate", ""),
        time_base=raw.get("time_base", ""),
        sample_aspect_ratio=raw.get("sample_aspect_ratio", ""),
        sample_rate=int(raw.get("sample_rate") or 0),
        channels=int(raw.get("channels") or 0),
        start_time=_float(raw.get("start_time")) or 0.0,
        reorder_delay=int(raw.get("has_b_frames") or 0),
        profile=str(raw.get("profile") or ""),
        level=int(raw.get("level") or 0),
        colour=tuple(_known(raw.get(key)) for key in ("color_range", "color_space", "color_transfer",
                                                      "color_primaries")),  # type: ignore[arg-type]
        field_order=_known(raw.get("field_order")),
        bit_rate=int(raw.get("bit_rate") or 0),
    )


def _known(value: Any) -> str:
    return "" if value in (None, "unknown", "reserved") else str(value)


def _rotation(raw: dict[str, Any]) -> int:
    for side_data in raw.get("side_data_list", []):
        if "rotation" in side_data:
            return round(float(side_data["rotation"])) % 360
    return 0


def _rate(text: str | None) -> float:
    try:
        return float(Fraction(text)) if text and not text.endswith("/0") else 0.0
    except (ValueError, ZeroDivisionError):
        return 0.0


def _float(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
