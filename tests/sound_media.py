"""Sound files the extract_audio and audio_concatenate tests share, made once a session with FFmpeg, and
readings of what a job wrote: its length as it plays, its samples, its first bytes.

A continuous tone is cut mid-wave into pieces (sample-exact), so that joining the pieces back must give
the tone itself: any gap, overlap or encoder padding left at a join shows as a jump between two samples.
"""

from __future__ import annotations

import itertools
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.media import ffmpeg, make_audio, probe, stream

TONE_HZ = 440
TONE_RATE = 44100
TONE_AMPLITUDE = 0.125  # FFmpeg's `sine` source
CUTS = (0, 30001, 71111, 100000)  # sample-exact, none at a zero crossing
# The largest step between two samples of the tone: a join that adds or drops anything jumps further.
TONE_STEP = 2 * np.pi * TONE_HZ / TONE_RATE * TONE_AMPLITUDE
# What a magic number says each format is: (offset, bytes).
MAGIC = {"mp3": (0, b"ID3"), "m4a": (4, b"ftypM4A"), "wav": (8, b"WAVE"), "opus": (28, b"OpusHead"),
         "flac": (0, b"fLaC")}
CODECS = {"mp3": "mp3", "m4a": "aac", "wav": "pcm_s16le", "opus": "opus", "flac": "flac"}


@dataclass(frozen=True)
class SoundMedia:
    tone: Path  # the whole tone, 16-bit WAV
    pieces_wav: list[Path]  # the tone cut at CUTS, 16-bit WAV (and FLAC beside each)
    pieces_mp3: list[Path]  # the same pieces, each its own MP3 (its own encoder delay and padding)
    stereo_48k: Path  # 1.5 s of a 48 kHz stereo chord, WAV
    noise: Path  # 2 s of 48 kHz stereo pink noise, WAV: an encoder spends on it the bitrate it is given


def make_sound_media(folder: Path) -> SoundMedia:
    folder.mkdir(parents=True, exist_ok=True)
    source = ["-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:sample_rate={TONE_RATE}"]
    tone = folder / "tone.wav"
    ffmpeg(*source, "-af", f"atrim=end_sample={CUTS[-1]}", "-c:a", "pcm_s16le", str(tone))
    pieces_wav, pieces_mp3 = [], []
    for number, (start, end) in enumerate(itertools.pairwise(CUTS)):
        piece = f"atrim=start_sample={start}:end_sample={end}"
        pieces_wav.append(folder / f"piece_{number}.wav")
        pieces_mp3.append(folder / f"piece_{number}.mp3")
        ffmpeg(*source, "-af", piece, "-c:a", "pcm_s16le", str(pieces_wav[-1]))
        ffmpeg(*source, "-af", piece, "-c:a", "libmp3lame", "-b:a", "128k", str(pieces_mp3[-1]))
        ffmpeg(*source, "-af", piece, "-c:a", "flac", str(folder / f"piece_{number}.flac"))
    stereo = folder / "stereo_48k.wav"
    ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.2*sin(2*PI*330*t)|0.2*sin(2*PI*495*t):s=48000:d=1.5",
           "-c:a", "pcm_s16le", str(stereo))
    noise = folder / "noise.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=2:c=pink:r=48000:a=0.3:seed=5", "-ac", "2", "-c:a", "pcm_s16le",
           str(noise))
    return SoundMedia(tone, pieces_wav, pieces_mp3, stereo, noise)


def played_s(path: Path) -> float:
    """How long the first audio stream plays, by decoding it, as the worker measures its inputs."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-f", "null",
                          "-progress", "pipe:1", "-"], capture_output=True, text=True, check=True).stdout
    return int([line for line in out.splitlines() if line.startswith("out_time_us=")][-1].split("=")[1]) / 1e6


def length_s(path: Path) -> float:
    """How long a written file plays: decoded, except an M4A's, which its edit list ends (to the millisecond of
    its movie timescale) while FFmpeg's decoder plays its last AAC frame whole, the encoder's padding too."""
    info = probe(path)
    if info["format"]["format_name"].startswith("mov,"):
        return float(stream(info, "audio")["duration"])
    return played_s(path)


def samples(path: Path, channels: int = 1) -> np.ndarray:
    """The first audio stream's decoded samples, float, one row a sample, one column a channel."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-f", "f32le",
                          "-c:a", "pcm_f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, channels)


def has_magic(path: Path, fmt: str) -> bool:
    offset, magic = MAGIC[fmt]
    return path.read_bytes()[offset:offset + len(magic)] == magic


def make_mp3(path: Path, seconds: float, frequency: int) -> Path:
    return make_audio(path, seconds=seconds, frequency=frequency, codec=["-c:a", "libmp3lame", "-b:a", "128k"])
