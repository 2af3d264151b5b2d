"""What extract_audio and audio_concatenate share: the fields of the file they write (format, bitrate, sample
rate, channels, loudness), reading each input's sound, and writing the file: every input decoded once, one
encode, the length counted as it is written. docs/editing.md shows both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from video_ops.base.tasks import all_or_nothing
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, NumberField, WholeNumber
from video_ops.jobkit.results import sound_output
from video_ops.media import audio
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.probe import Stream, played_seconds, probe, probe_output, require_audio, require_duration
from video_ops.media.sound_files import (
    FORMATS,
    MAX_CHANNELS,
    PCM_FLOAT,
    RATE_RANGE,
    Decoded,
    Join,
    SoundFormat,
    SoundSpec,
    counted,
    levelled_graph,
    metered,
    raw_input,
    raw_samples,
    reading,
    samples_counted,
    spec_for,
    stated_end,
)

LOUDNESS_RANGE = (-70.0, -5.0)  # EBU R128's absolute gate up to louder than any master
_PROBES_AT_ONCE = 8
_SECONDS_PER_SECOND = 3.0  # timeout budget: an MP3 encode takes about 0.01 s a second of sound


def _kbps(value: Any) -> Any:
    """kb/s as a number (192) or as FFmpeg writes it ("192k")."""
    if isinstance(value, bool):
        raise ValueError("must be a number of kb/s such as 192, or \"192k\"")
    if isinstance(value, str) and value.strip().lower().endswith("k"):
        return value.strip()[:-1]
    return value


Kbps = Annotated[int, BeforeValidator(_kbps)]


class SoundInput(JobInput):
    """The sound file a job writes, and where it goes."""

    output_filename: str | None = None
    format: Literal["mp3", "m4a", "wav", "opus", "flac"] = "mp3"
    bitrate: Kbps | None = None
    sample_rate: WholeNumber | None = Field(None, ge=RATE_RANGE[0], le=RATE_RANGE[1])
    channels: WholeNumber | None = Field(None, ge=1, le=MAX_CHANNELS)
    loudness_lufs: NumberField | None = Field(None, ge=LOUDNESS_RANGE[0], le=LOUDNESS_RANGE[1], allow_inf_nan=False)

    @model_validator(mode="after")
    def _the_format_holds_it(self) -> SoundInput:
        problem = self.sound_format.refusal(self.bitrate, self.sample_rate, self.channels)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def sound_format(self) -> SoundFormat:
        return FORMATS[self.format]

    def filename(self, default_stem: str) -> str:
        """The object's name, checked before any work: the format's suffix, appended when missing."""
        suffix = f".{self.sound_format.suffix}"
        return clean_filename(self.output_filename or default_stem + suffix, extension=suffix)

    def spec(self, streams: Sequence[Stream]) -> SoundSpec:
        return spec_for(self.sound_format, streams, self.bitrate, self.sample_rate, self.channels)


@dataclass(frozen=True)
class Sound:
    """An input's sound, probed (not decoded)."""

    path: Path
    stream: Stream
    field: str
    about_s: float  # from the headers: an MP3's count its encoder's delay and padding (a few ms more)
    end_s: float | None  # where an MP4-family file says it ends (`stated_end`)
    alone: bool  # the file holds this stream only

    @property
    def decoded(self) -> Decoded:
        return Decoded(self.path, self.stream, self.end_s, self.alone)


async def read_sounds(ctx: JobContext, urls: Sequence[str], field: Callable[[int], str]) -> list[Sound]:
    """Download every distinct URL once and probe each input; one without sound fails the job, named by its
    `field`, before any decoding."""
    first_of: dict[str, int] = {}
    for position, url in enumerate(urls):
        first_of.setdefault(url, position)
    files = await ctx.download({field(position): url for url, position in first_of.items()})
    slots = asyncio.Semaphore(_PROBES_AT_ONCE)

    async def inspect(position: int) -> Sound:
        path, name = files[field(first_of[urls[position]])], field(position)
        async with slots:
            info = await probe(path, name)
        stream = require_audio(info, name)
        require_duration(info, name)  # a file of no samples is a broken download, not a sound
        end = stated_end(info, stream)
        length = stream.duration if stream.duration is not None else info.duration or 0.0
        return Sound(path, stream, name, end if end is not None else length - max(stream.start_time, 0.0), end,
                     len(info.streams) == 1)

    with ctx.timed("probe"):
        return await all_or_nothing(*(inspect(position) for position in range(len(urls))))


@dataclass
class Written:
    """What writing a sound did, for the result."""

    samples: int
    input_lufs: float | None = None
    gain_db: float | None = None
    warnings: list[str] = field(default_factory=list)

    def describe(self, target_lufs: float | None) -> dict[str, Any]:
        if target_lufs is None:
            return {}
        found: dict[str, Any] = {"loudness_lufs": target_lufs, "input_lufs": self.input_lufs,
                                 "gain_db": self.gain_db}
        return {**found, **({"warnings": self.warnings} if self.warnings else {})}


async def write_sound(ctx: JobContext, sounds: Sequence[Sound], spec: SoundSpec, join: Join, output: Path,
                      loudness_lufs: float | None) -> Written:
    """`sounds` decoded once each, joined, and encoded once into `output`. For a loudness, the joined sound is
    measured as it is decoded and kept raw in the job folder; the encode then lifts or lowers it to the level
    asked, through the shared limiter (peaks stay under -1 dBTP)."""
    inputs, graph = reading([sound.decoded for sound in sounds], spec, join, ctx.workdir / "sounds.ffconcat")
    seconds = max(sum(sound.about_s for sound in sounds), 1.0)
    timeout = step_timeout(seconds, _SECONDS_PER_SECOND)
    if loudness_lufs is None:
        stderr = await ctx.ffmpeg([*inputs, *_script(ctx, counted(graph)), "-map", "[sound]", *spec.encode_args(),
                                   str(output)], step="Writing the sound", duration=seconds, timeout=timeout,
                                  log_level="info")
        samples = samples_counted(stderr, spec.channels)
        if samples is None:  # the count is a log line: should FFmpeg ever not print it, decode instead
            samples = round(await output_seconds(output) * spec.rate)
        return Written(samples)
    raw = ctx.workdir / f"joined.{PCM_FLOAT}"
    stderr = await ctx.ffmpeg([*inputs, *_script(ctx, metered(graph)), "-map", "[sound]", "-f", PCM_FLOAT, str(raw)],
                              step="Decoding and measuring the sound", duration=seconds, timeout=timeout,
                              log_level="info")
    measured = audio.parse_integrated(stderr)
    written = Written(raw_samples(raw, spec), measured, 0.0 if measured is None else round(loudness_lufs - measured, 2))
    if measured is None:
        written.warnings.append(f"loudness_lufs: the sound is silent (nothing above {audio.SILENCE_LUFS:g} LUFS), "
                                "so its level was kept.")
    await ctx.ffmpeg([*raw_input(spec, raw), "-filter_complex", levelled_graph(spec, written.gain_db or 0.0),
                      "-map", "[sound]", *spec.encode_args(), str(output)], step="Encoding the sound",
                     duration=seconds, timeout=timeout)
    raw.unlink()
    return written


def _script(ctx: JobContext, graph: str) -> list[str]:
    """The graph from a file in the job folder: 500 inputs' chains are longer than one argument may be."""
    script = ctx.workdir / "sound.graph"
    script.write_text(graph)
    return ["-filter_complex_script", str(script)]


async def output_seconds(output: Path) -> float:
    """How long a written sound file plays: to the end its edit list states (an M4A), else by decoding it."""
    info = await probe_output(output)
    stream = require_audio(info, "output")
    end = stated_end(info, stream)
    return end if end is not None else await played_seconds(output, stream, "output")


async def stored_sound(ctx: JobContext, job: SoundInput, output: Path, filename: str, message: str,
                       seconds: float) -> dict[str, Any]:
    """Upload the file under the job's `path`; the result's keys for a sound."""
    fmt = job.sound_format
    stored, = await ctx.upload([(output, join_key(clean_prefix(job.path), filename))], fmt.content_type)
    return sound_output(message, stored, filename, seconds)
