"""transcribe: speech -> segments.srt, segments.vtt, segments.json, words.json and word-timed karaoke files (ASS,
WebVTT, enhanced LRC), with faster-whisper.

The sound is decoded once to 16 kHz by FFmpeg, the model (kept by the process between jobs) decodes it
in a thread, and the files are written in the job's folder and uploaded together: all or none.
`render` calls `transcribe_file` to caption its narration in the same job.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import AliasChoices, Field, field_validator, model_validator

from video_ops.base.models import StrictModel
from video_ops.base.settings import env_float
from video_ops.io.keys import clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, Operation, UrlField
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.probe import DEFAULT_MAX_INPUT_DURATION_S, MediaInfo, probe, require_audio, require_duration
from video_ops.media.speech_audio import SPEECH_RATE, read_samples, speech_audio_args
from video_ops.speech.languages import language_code
from video_ops.speech.models import DEFAULT_MODEL, ENGLISH_ONLY, NO_TRANSLATION, ModelName, get_model
from video_ops.speech.recognize import Options, recognize
from video_ops.speech.voice import fit_to_voice, silences
from video_ops.subtitles.cues import Cue, CueRules
from video_ops.subtitles.transcript import Segment, transcript_cues, write_transcript
from video_ops.subtitles.words import Word

MESSAGE = "Transcription completed successfully"
NO_SPEECH = "No speech was found in the audio: the files hold no segments and no words."
Format = Literal["srt", "vtt", "json", "ass", "vtt_karaoke", "lrc"]
FORMAT_FILES: dict[str, tuple[str, ...]] = {"srt": ("segments.srt",), "vtt": ("segments.vtt",),
                                            "json": ("segments.json", "words.json"), "ass": ("words.ass_karaoke",),
                                            "vtt_karaoke": ("words.vtt_karaoke",), "lrc": ("words.lrc",)}
WORD_FILES = ("ass_karaoke", "json", "vtt_karaoke", "lrc")
DECODE_S_PER_SECOND = 0.1  # FFmpeg decodes speech hundreds of times faster than real time: a generous bound
CONTENT_TYPES = {".srt": "application/x-subrip", ".vtt": "text/vtt", ".json": "application/json",
                 ".ass": "text/x-ssa", ".lrc": "text/plain"}


class SpeechOptions(StrictModel):
    """How the speech is heard: the model, the language (absent: detected) and the decoding options;
    `task: translate` writes the speech as English text."""

    model: ModelName = DEFAULT_MODEL
    language: str | None = Field(None, max_length=20)
    task: Literal["transcribe", "translate"] = "transcribe"
    enable_vad: bool = True
    beam_size: int = Field(5, ge=1, le=10)
    temperature: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)
    initial_prompt: str | None = Field(None, max_length=2000)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else language_code(value)

    @model_validator(mode="after")
    def _the_model_can_do_it(self) -> SpeechOptions:
        if self.model in ENGLISH_ONLY and self.language not in (None, "en"):
            raise ValueError(f"field 'language': the model '{self.model}' hears English only; give language 'en', "
                             "leave it out, or choose a multilingual model such as 'small' or 'large-v3'")
        if self.task == "translate" and self.model in NO_TRANSLATION:
            raise ValueError(f"field 'task': the model '{self.model}' cannot translate; choose a multilingual model "
                             "trained to, such as 'small', 'medium' or 'large-v3'")
        return self

    def options(self) -> Options:
        """English-only models are told the language (distil-large-v3 would otherwise guess among all)."""
        language = "en" if self.model in ENGLISH_ONLY else self.language
        return Options(language=language, enable_vad=self.enable_vad, beam_size=self.beam_size,
                       temperature=self.temperature, initial_prompt=self.initial_prompt, task=self.task)


class CueOptions(StrictModel):
    """How the subtitles' cues are made for reading (Netflix's and the BBC's timed-text guidelines):
    `max_chars_per_line` left out is 42, or 32 when the video is taller than wide."""

    max_chars_per_line: int | None = Field(None, ge=16, le=100)
    max_lines: int = Field(2, ge=1, le=4)
    min_duration_s: float = Field(0.83, ge=0, le=10, allow_inf_nan=False)
    max_duration_s: float = Field(7.0, ge=1, le=30, allow_inf_nan=False)

    @model_validator(mode="after")
    def _shortest_below_longest(self) -> CueOptions:
        if self.min_duration_s > self.max_duration_s:
            raise ValueError("field 'min_duration_s': it must not exceed 'max_duration_s'")
        return self

    def rules(self) -> CueRules:
        return CueRules(max_chars_per_line=self.max_chars_per_line, max_lines=self.max_lines,
                        min_duration_s=self.min_duration_s, max_duration_s=self.max_duration_s)


class TranscribeInput(JobInput, SpeechOptions, CueOptions):
    operation: Literal["transcribe"]
    audio_url: UrlField = Field(validation_alias=AliasChoices("audio_url", "url_video", "url_audio"))
    output_formats: list[Format] = Field(default_factory=lambda: list(FORMAT_FILES), min_length=1)

    @field_validator("output_formats", mode="before")
    @classmethod
    def _ass_karaoke(cls, value: Any) -> Any:
        """`ass_karaoke` (the result's name for the file) means `ass`."""
        return [("ass" if item == "ass_karaoke" else item) for item in value] if isinstance(value, list) else value


@dataclass(frozen=True)
class Transcript:
    language: str
    language_probability: float
    duration: float
    segments: list[Segment]
    stats: dict[str, Any]
    frame_size: tuple[int, int] | None  # the picture's shape as a player shows it; None for a sound alone
    frame_rate: float | None

    @property
    def text(self) -> str:
        return " ".join(" ".join(seg.text.split()) for seg in self.segments).strip()

    @property
    def words(self) -> int:
        return sum(len(seg.words) for seg in self.segments)

    def cues(self, rules: CueRules) -> list[Cue]:
        """The words as subtitle cues for this file's pictures (line length by their shape, gaps in frames)."""
        return transcript_cues(self.segments, self.frame_size, self.frame_rate, rules)


async def transcribe_file(ctx: JobContext, path: Path, field: str, speech: SpeechOptions) -> Transcript:
    """The speech of a downloaded file; model loading and decoding are timed apart (`model_s`, `transcribe_s`)."""
    with ctx.timed("audio"):
        samples, info = await _speech_samples(ctx, path, field)
    ctx.progress.stage("transcribing")
    with ctx.timed("model"):
        loaded, fresh = await asyncio.to_thread(get_model, speech.model)
    with ctx.timed("transcribe"):
        heard = await asyncio.to_thread(recognize, loaded, samples, speech.options())
    segments = await asyncio.to_thread(_fitted, heard.segments, samples)
    stats = {"segments": len(segments), "words": sum(len(seg.words) for seg in segments), "model": loaded.name,
             "device": loaded.device, "compute_type": loaded.compute_type, "model_loaded_now": fresh,
             "model_load_s": loaded.load_s if fresh else 0.0, "decode_s": heard.decode_s, "task": speech.task}
    video = info.video
    return Transcript(heard.language, heard.language_probability, round(len(samples) / SPEECH_RATE, 3), segments,
                      stats, video.upright_size if video else None, (video.frame_rate or None) if video else None)


async def _speech_samples(ctx: JobContext, path: Path, field: str) -> tuple[np.ndarray, MediaInfo]:
    """The sound at 16 kHz, and what the probe found. FFmpeg decodes while ffprobe reads the header (two
    process starts at once, not one after the other); a file the probe refuses (no sound, too long, not media)
    stops the decode and fails with the probe's sentence."""
    raw = ctx.workdir / "speech.f32"
    limit = env_float("VIDEO_OPS_MAX_INPUT_DURATION_S", DEFAULT_MAX_INPUT_DURATION_S)
    decode = asyncio.ensure_future(ctx.ffmpeg(speech_audio_args(path, raw), step=f"{field}: decoding the sound",
                                              timeout=step_timeout(limit, DECODE_S_PER_SECOND), duration=None,
                                              show_percent=False))
    try:
        info = await probe(path, field)
        require_audio(info, field)
        require_duration(info, field)
    except BaseException:
        decode.cancel()
        await asyncio.gather(decode, return_exceptions=True)  # FFmpeg is killed before the error leaves
        raise
    await decode
    return await asyncio.to_thread(read_samples, raw), info


def _fitted(raw_segments: list[Any], samples: np.ndarray) -> list[Segment]:
    """The segments with their words' edges moved out of the sound's silences (video_ops.speech.voice)."""
    quiet = silences(samples, SPEECH_RATE)
    return [replace(seg, words=fit_to_voice(seg.words, quiet)) for seg in map(_segment, raw_segments)]


def _segment(raw: Any) -> Segment:
    """faster-whisper's segment as the writers take it: floats, words with text only."""
    words = [Word(" ".join(w.word.split()), float(w.start), float(w.end)) for w in (raw.words or [])]
    return Segment(float(raw.start), float(raw.end), raw.text.strip(), [w for w in words if w.text])


async def run(ctx: JobContext, job: TranscribeInput) -> dict:
    prefix = clean_prefix(job.path)
    files = await ctx.download({"audio_url": job.audio_url})
    transcript = await transcribe_file(ctx, files["audio_url"], "audio_url", job)
    with ctx.timed("write"):
        cues = transcript.cues(job.rules())
        written = await asyncio.to_thread(write_transcript, ctx.workdir, transcript.segments, cues,
                                          transcript.language, transcript.duration)
    wanted = [name for fmt in dict.fromkeys(job.output_formats) for name in FORMAT_FILES[fmt]]
    stored = await ctx.upload([(written[name], join_key(prefix, written[name].name)) for name in wanted],
                              CONTENT_TYPES)
    urls = dict(zip(wanted, (item.url for item in stored), strict=True))
    keys = dict(zip(wanted, (item.key for item in stored), strict=True))
    return {
        "message": MESSAGE,
        "language": transcript.language,
        "language_probability": transcript.language_probability,
        "transcription": transcript.text,
        "duration": transcript.duration,
        "files": _by_kind(urls),
        "s3_keys": _by_kind(keys),
        "stats": {**transcript.stats, "cues": len(cues)},
        "warnings": [] if transcript.segments else [NO_SPEECH],
    }


def _by_kind(values: dict[str, str]) -> dict[str, dict[str, str | None]]:
    """{"segments.srt": x, ...} -> {"segments": {"srt": x, "vtt", "json"}, "words": {"ass_karaoke", "json",
    "vtt_karaoke", "lrc"}}."""
    return {"segments": {kind: values.get(f"segments.{kind}") for kind in ("srt", "vtt", "json")},
            "words": {kind: values.get(f"words.{kind}") for kind in WORD_FILES}}


OPERATION = Operation(name="transcribe", input_model=TranscribeInput, run=run)
