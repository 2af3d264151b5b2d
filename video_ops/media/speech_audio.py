"""A file's sound as speech recognisers read it: mono float32 samples at 16 kHz, decoded once by FFmpeg."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPEECH_RATE = 16000


def speech_audio_args(source: Path, raw: Path) -> list[str]:
    """FFmpeg's arguments that write the first audio stream of `source` (the one ffprobe's `MediaInfo.audio`
    names) to `raw` as headerless 16 kHz mono float32."""
    return ["-i", str(source), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SPEECH_RATE), "-f", "f32le", str(raw)]


def read_samples(raw: Path) -> np.ndarray:
    """The samples FFmpeg wrote, the file removed (an hour is 230 MB)."""
    samples = np.fromfile(raw, dtype=np.float32)
    raw.unlink()
    return samples
