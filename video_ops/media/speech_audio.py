"""A file's sound as speech recognisers read it: mono float32 samples at 16 kHz, decoded once by FFmpeg."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from video_ops.media.ffmpeg import run_ffmpeg, step_timeout
from video_ops.media.probe import probe, require_audio, require_duration

SPEECH_RATE = 16000


async def speech_samples(path: Path, field: str, workdir: Path) -> tuple[np.ndarray, float]:
    """The first audio stream of `path` (audio or a video with sound) and its length in seconds; a file with
    no sound fails naming `field`."""
    info = await probe(path, field)
    stream = require_audio(info, field)
    seconds = stream.duration or require_duration(info, field)
    raw = workdir / f"{path.name}.f32"
    await run_ffmpeg(["-i", str(path), "-map", f"0:{stream.index}", "-vn", "-ac", "1", "-ar", str(SPEECH_RATE),
                      "-f", "f32le", str(raw)], step=f"{field}: decoding the sound",
                     timeout=step_timeout(seconds, 1.0), workdir=workdir)
    samples = np.fromfile(raw, dtype=np.float32)
    raw.unlink()
    return samples, len(samples) / SPEECH_RATE
