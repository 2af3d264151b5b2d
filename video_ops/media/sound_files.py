"""Sound files as callers ask for them: the five formats and what each can hold, when a stream may be copied
as it is, and the FFmpeg arguments that decode sounds (each once), join them to the sample and encode once.

Filter text is made of checked numbers and fixed labels only, never a caller's text. The loudness meter
and the limiter are the shared audio graph's (`media.audio`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from video_ops.media import audio
from video_ops.media.encoders import AAC_KBPS
from video_ops.media.probe import MediaInfo, Stream

RATE_RANGE = (8000, 192000)
MAX_CHANNELS = 8
# FFmpeg's default layout for each channel count (the Vorbis/Opus orders, which every encoder here takes).
LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
BITRATE_SLACK = 0.05  # a stream within 5 % of the bitrate asked is that bitrate (VBR averages are never round)
PCM_FLOAT = "f32le"  # the raw sound between a loudness measurement and the encode
_COUNTED = re.compile(r"n_samples: (\d+)")
_SELF_ENDING = ("mp3", "flac", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le")


@dataclass(frozen=True)
class SoundFormat:
    """One `format` callers may ask for: its file, its encoder, and the limits of what it holds."""

    name: str
    codecs: tuple[str, ...]  # what a stream must be to be copied into it as it is
    holds: str  # those codecs in words
    content_type: str
    encoder: tuple[str, ...]
    quality: tuple[str, ...] = ()  # the encoder's setting when no bitrate is asked
    kbps: tuple[int, int] | None = None  # the bitrates it takes; None: lossless, no bitrate to set
    default_kbps: int | None = None
    rates: tuple[int, ...] | None = None  # the sample rates it holds; None: any within RATE_RANGE
    max_channels: int = MAX_CHANNELS
    muxer: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        return self.name

    def refusal(self, kbps: int | None, rate: int | None, channels: int | None) -> str | None:
        """Why this format cannot be written as asked, naming the field; None when it can."""
        if kbps is not None:
            if self.kbps is None:
                return f"'bitrate' does not apply to {self.name}, which is lossless"
            low, high = self.kbps
            if not low <= kbps <= high:
                return f"'bitrate' for {self.name} must be {low} to {high} kb/s (got {kbps})"
        if rate is not None and self.rates is not None and rate not in self.rates:
            listed = ", ".join(str(r) for r in self.rates[:-1]) + f" or {self.rates[-1]}"
            return f"'sample_rate' for {self.name} must be one of {listed} Hz (got {rate})"
        if channels is not None and channels > self.max_channels:
            return f"'channels' for {self.name} must be 1 to {self.max_channels} (got {channels})"
        return None

    def rate_for(self, source: int) -> int:
        """The rate a source's sound keeps here: its own when the format holds it, else the nearest one above
        (the highest when none is), so no frequency it carries is lost."""
        low, high = RATE_RANGE
        if self.rates is None:
            return min(max(source, low), high)
        if source in self.rates:
            return source
        return min((rate for rate in self.rates if rate >= source), default=max(self.rates))


FORMATS = {
    "mp3": SoundFormat("mp3", ("mp3",), "MP3", "audio/mpeg", ("-c:a", "libmp3lame"), quality=("-q:a", "2"),
                       kbps=(32, 320), rates=(8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
                       max_channels=2),
    "m4a": SoundFormat("m4a", ("aac",), "AAC", "audio/mp4", ("-c:a", "aac", "-aac_coder", "fast"), kbps=(16, 512),
                       default_kbps=AAC_KBPS, rates=(7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100,
                                                     48000, 64000, 88200, 96000),
                       muxer=("-movflags", "+faststart")),
    "wav": SoundFormat("wav", ("pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8"),
                       "little-endian PCM", "audio/wav", ("-c:a", "pcm_s16le")),
    "opus": SoundFormat("opus", ("opus",), "Opus", "audio/ogg", ("-c:a", "libopus"), kbps=(6, 512), default_kbps=128,
                        rates=(8000, 12000, 16000, 24000, 48000)),
    "flac": SoundFormat("flac", ("flac",), "FLAC", "audio/flac", ("-c:a", "flac", "-sample_fmt", "s16")),
}


@dataclass(frozen=True)
class SoundSpec:
    """What a sound file is written as."""

    format: SoundFormat
    rate: int
    channels: int
    kbps: int | None = None  # None: the format's default

    @property
    def layout(self) -> str:
        return LAYOUTS[self.channels]

    def encode_args(self) -> list[str]:
        kbps = self.kbps or self.format.default_kbps
        setting = ["-b:a", f"{kbps}k"] if kbps and self.format.kbps else list(self.format.quality)
        return [*self.format.encoder, *setting, *self.format.muxer]

    def describe(self) -> dict[str, int | str]:
        """The result's account of the file."""
        found: dict[str, int | str] = {"format": self.format.name, "sample_rate": self.rate, "channels": self.channels}
        kbps = self.kbps or self.format.default_kbps
        if kbps and self.format.kbps:
            found["bitrate"] = kbps
        return found


def spec_for(fmt: SoundFormat, sources: Sequence[Stream], kbps: int | None, rate: int | None,
             channels: int | None) -> SoundSpec:
    """The file to write from `sources`: what was asked, else the richest source's rate and channel count
    (mono and stereo joined are stereo), within what the format holds."""
    chosen_rate = rate or fmt.rate_for(max(stream.sample_rate or 48000 for stream in sources))
    widest = max(min(stream.channels or 2, MAX_CHANNELS) for stream in sources)
    return SoundSpec(fmt, chosen_rate, channels or min(widest, fmt.max_channels), kbps)


def copy_refusal(stream: Stream, fmt: SoundFormat, kbps: int | None, rate: int | None,
                 channels: int | None) -> str | None:
    """Why `stream` cannot be copied into `fmt` as asked (a reason for `reencode_reason`); None when it can."""
    if stream.codec_name not in fmt.codecs:
        return f"its sound is {stream.codec_name or 'of an unknown codec'}, not {fmt.holds}"
    if rate is not None and rate != stream.sample_rate:
        return f"its sound is {stream.sample_rate} Hz, not the {rate} Hz asked"
    if channels is not None and channels != stream.channels:
        return f"its sound has {stream.channels} channel{'s' * (stream.channels != 1)}, not the {channels} asked"
    if kbps is not None:
        if not stream.bit_rate:
            return f"its sound's bitrate is not recorded, so the {kbps} kb/s asked cannot be confirmed"
        if abs(stream.bit_rate / 1000 - kbps) > BITRATE_SLACK * kbps:
            return f"its sound is {stream.bit_rate / 1000:.0f} kb/s, not the {kbps} kb/s asked"
    return None


def stated_end(info: MediaInfo, stream: Stream) -> float | None:
    """Where an MP4-family file says its sound ends, in FFmpeg's timeline (the file's first time at 0); None
    for other files. Its edit list ends the sound where the encoder's padding begins, but FFmpeg's decoder
    plays the last AAC frame whole: up to 1023 samples of padding, which would be a gap at a join."""
    if not info.format_name.startswith("mov,") or stream.duration is None:
        return None
    return stream.start_time - info.start_time + stream.duration


def copy_args(path: Path, stream: Stream, fmt: SoundFormat, output: Path) -> list[str]:
    """The stream into its file as it is: no decoding, nothing but the sound kept."""
    return ["-i", str(path), "-map", f"0:{stream.index}", "-c:a", "copy", "-vn", "-sn", "-dn", *fmt.muxer,
            str(output)]


@dataclass(frozen=True)
class Join:
    """How the sounds follow each other: end to end, with `crossfade` samples overlapping at each join, or
    `silence` samples between them (never both)."""

    crossfade: int = 0
    silence: int = 0


@dataclass(frozen=True)
class Decoded:
    """One input: its file, its audio stream, where its sound ends when the file says so (`stated_end`), and
    whether that stream is all the file holds."""

    path: Path
    stream: Stream
    end_s: float | None = None
    alone: bool = True


def reading(inputs: Sequence[Decoded], spec: SoundSpec, join: Join, listing: Path) -> tuple[list[str], str]:
    """The FFmpeg input arguments and the filter text to the label `[joined]`: files alike that end by themselves
    are read one after another from a list (`listing`, written here), one file open at a time; any others each
    as its own input (`decode_graph`). Both are the same sound, to the bit."""
    if not _one_after_another(inputs, join):
        return [arg for decoded in inputs for arg in ("-i", str(decoded.path))], decode_graph(inputs, spec, join)
    quoted = (str(decoded.path.resolve()).replace("'", "'\\''") for decoded in inputs)
    listing.write_text("ffconcat version 1.0\n" + "".join(f"file '{path}'\n" for path in quoted))
    # Not from time 0: the list starts at its first file's first time (an MP3's encoder delay, already dropped).
    # -safe 0: the list is the job's own, of absolute paths (a local run's `file:` inputs are not copied).
    return (["-f", "concat", "-safe", "0", "-i", str(listing)],
            f"[0:0]{_timed_by_samples(spec, from_zero=False)}[joined]")


def _one_after_another(inputs: Sequence[Decoded], join: Join) -> bool:
    """Whether the concat demuxer can read `inputs` as one stream: a plain join of files of one stream each, all
    of one codec, rate and channel count, of a codec whose decoder ends each file where its sound does (an
    MP3's LAME tag, FLAC's and PCM's exact lengths; an MP4's edit list is not honoured), at paths a list can
    hold (no line breaks)."""
    first = inputs[0].stream
    return not (join.crossfade or join.silence) and all(
        decoded.alone and decoded.end_s is None and not {"\n", "\r"} & set(str(decoded.path))
        and decoded.stream.codec_name in _SELF_ENDING
        and (decoded.stream.codec_name, decoded.stream.sample_rate, decoded.stream.channels)
        == (first.codec_name, first.sample_rate, first.channels) for decoded in inputs)


def _timed_by_samples(spec: SoundSpec, from_zero: bool = True) -> str:
    """A decoded sound at the spec's rate and layout, its timestamps counted from its samples alone; `from_zero`:
    from its file's time 0 (a late start padded with silence, an encoder's negative pre-roll dropped)."""
    start = ":first_pts=0" if from_zero else ""
    return f"aresample={spec.rate}{start},aformat=sample_fmts=fltp:channel_layouts={spec.layout},asetpts=N/SR/TB"


def decode_graph(inputs: Sequence[Decoded], spec: SoundSpec, join: Join) -> str:
    """Filter text from inputs 0..n-1 to the label `[joined]`: each sound timed by its samples and ended where
    its file says, so the sounds follow each other to the sample whatever their files' timestamps say."""
    chains = []
    last = len(inputs) - 1
    for number, decoded in enumerate(inputs):
        end = f",atrim=end_sample={round(decoded.end_s * spec.rate)}" if decoded.end_s is not None else ""
        pad = f",apad=pad_len={join.silence}" if join.silence and number < last else ""
        chains.append(f"[{number}:{decoded.stream.index}]{_timed_by_samples(spec)}{end}{pad}[s{number}]")
    if last == 0:
        chains[0] = chains[0].replace("[s0]", "[joined]")
    elif join.crossfade:
        joined = "s0"
        for number in range(1, last + 1):
            label = "joined" if number == last else f"x{number}"
            chains.append(f"[{joined}][s{number}]acrossfade=ns={join.crossfade}:c1=qsin:c2=qsin[{label}]")
            joined = label
    else:
        chains.append("".join(f"[s{number}]" for number in range(last + 1)) + f"concat=n={last + 1}:v=0:a=1[joined]")
    return ";".join(chains)


def counted(graph: str) -> str:
    """`graph` with its `[joined]` sound also counted (`samples_counted` reads the count from the log), for an
    exact length without decoding the output again: the branch costs about 1 % of an MP3 encode."""
    return f"{graph};[joined]asplit=2[sound][count];[count]volumedetect,anullsink"


def metered(graph: str) -> str:
    """`graph` with its `[joined]` sound also measured (EBU R128, read with `audio.parse_integrated`)."""
    return f"{graph};[joined]asplit=2[sound][meter];[meter]{audio.loudness_meter()},anullsink"


def samples_counted(stderr: str, channels: int) -> int | None:
    """The samples per channel that `counted` saw; None when the log does not say."""
    found = [int(value) for value in _COUNTED.findall(stderr)]
    return max(found) // channels if found else None


def levelled_graph(spec: SoundSpec, gain_db: float) -> str:
    """The raw sound (`PCM_FLOAT`) lifted or lowered by `gain_db`, through the shared true-peak limiter."""
    if not -100 < gain_db < 100:
        raise ValueError(f"gain {gain_db!r} dB out of range")
    return (f"[0:a]aformat=sample_fmts=fltp:channel_layouts={spec.layout},volume={gain_db:.2f}dB,"
            f"{audio.limiter(spec.rate)}[sound]")


def raw_input(spec: SoundSpec, path: Path) -> list[str]:
    """The raw sound written by a measuring pass, as an input."""
    return ["-f", PCM_FLOAT, "-ar", str(spec.rate), "-ac", str(spec.channels), "-i", str(path)]


def raw_samples(path: Path, spec: SoundSpec) -> int:
    """Samples per channel in a raw `PCM_FLOAT` file."""
    return path.stat().st_size // (4 * spec.channels)
