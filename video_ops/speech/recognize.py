"""16 kHz samples -> faster-whisper's segments with word timings, decoded to the end in one call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from video_ops.speech.models import LoadedModel


@dataclass(frozen=True)
class Options:
    """What a caller may choose of the decoding (the reference's options)."""

    language: str | None = None  # None: detected from the first 30 s
    enable_vad: bool = True
    beam_size: int = 5
    temperature: float = 0.0
    initial_prompt: str | None = None
    task: str = "transcribe"  # or "translate": the speech as English text


@dataclass(frozen=True)
class Recognized:
    language: str
    language_probability: float
    segments: list[Any]  # faster_whisper.transcribe.Segment, each with `.words`
    decode_s: float


def recognize(loaded: LoadedModel, samples: np.ndarray, options: Options) -> Recognized:
    """Run the model over `samples` (mono float32 at 16 kHz). Blocking: call in a thread."""
    started = time.monotonic()
    segments, info = loaded.model.transcribe(
        samples,
        language=options.language,
        task=options.task,
        beam_size=options.beam_size,
        temperature=options.temperature,
        initial_prompt=options.initial_prompt or None,
        vad_filter=options.enable_vad,
        word_timestamps=True,
    )
    decoded = list(segments)  # the generator does the decoding
    return Recognized(info.language, round(float(info.language_probability), 4), decoded,
                      round(time.monotonic() - started, 3))
