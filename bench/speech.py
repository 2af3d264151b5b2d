"""Speech made on this machine with known timings, for the bench and the tests that check real recognition.

Sentences are read by espeak-ng through its library, which reports the sample where each word starts, and
Debian's recorded voices (alsa-utils' `/usr/share/sounds/alsa/*.wav`: "Front left"...) are real people. Each
piece is trimmed to its voice and laid after exact silences, so where speech sounds, where the pauses lie and
where each read word starts are known to the sample.
"""

from __future__ import annotations

import ctypes
import difflib
import functools
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000  # what Whisper hears
RECORDINGS = Path("/usr/share/sounds/alsa")
VOICE_FLOOR = 0.02  # amplitude (of 1.0) below which a sample counts as silence when trimming
WORDS_PER_MINUTE = 175  # espeak-ng's default pace
_WORD_EVENT, _LIST_END, _SYNCHRONOUS, _RATE_PARAMETER, _BY_CHARACTER = 1, 0, 2, 1, 1


@dataclass(frozen=True)
class Said:
    """One piece of the speech: its words, where its voice sounds, where each word starts (read ones only)."""

    text: str
    start: float
    end: float
    word_starts: tuple[float, ...] = ()


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # mono float32 at RATE
    said: tuple[Said, ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE

    @property
    def text(self) -> str:
        return " ".join(piece.text for piece in self.said)

    def pauses(self) -> list[tuple[float, float]]:
        """The silences between two pieces."""
        return [(a.end, b.start) for a, b in zip(self.said, self.said[1:], strict=False)]

    def write_wav(self, path: Path) -> Path:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes((np.clip(self.samples, -1, 1) * 32767).astype("<i2").tobytes())
        return path


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h)."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@functools.cache
def _espeak() -> tuple[ctypes.CDLL, int]:
    """libespeak-ng (Debian's espeak-ng package), started once: (library, its sample rate)."""
    library = ctypes.CDLL("libespeak-ng.so.1")
    rate = library.espeak_Initialize(_SYNCHRONOUS, 0, None, 0)
    if rate <= 0:
        raise RuntimeError("espeak-ng did not start")
    library.espeak_SetVoiceByName(b"en-us")
    return library, rate


def read_aloud(text: str, words_per_minute: int = WORDS_PER_MINUTE) -> tuple[np.ndarray, list[float]]:
    """espeak-ng reading `text` (at RATE, trimmed to its voice) and the second each word starts at."""
    library, rate = _espeak()
    chunks: list[np.ndarray] = []
    starts: list[int] = []

    def collect(wav: ctypes._Pointer, count: int, events: ctypes._Pointer) -> int:
        if wav and count > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.float32) / 32768)
        index = 0
        while events[index].type != _LIST_END:
            if events[index].type == _WORD_EVENT:
                starts.append(events[index].sample)
            index += 1
        return 0

    callback = _CALLBACK(collect)  # kept alive until the synthesis returns
    library.espeak_SetSynthCallback(callback)
    library.espeak_SetParameter(_RATE_PARAMETER, words_per_minute, 0)
    encoded = text.encode("utf-8")
    library.espeak_Synth(encoded, len(encoded) + 1, 0, _BY_CHARACTER, 0, 0, None, None)
    library.espeak_Synchronize()
    samples = _resample(np.concatenate(chunks), rate)
    first, last = _voice_bounds(samples)
    word_starts = [max(0.0, sample / rate - first / RATE) for sample in starts]
    return samples[first:last], word_starts


def recorded(name: str) -> np.ndarray:
    """One of Debian's recorded voices (`Front_Left`...) at RATE, trimmed to its voice."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(RECORDINGS / f"{name}.wav"), "-f", "f32le",
                          "-ac", "1", "-ar", str(RATE), "-"], check=True, capture_output=True).stdout
    samples = np.frombuffer(raw, np.float32)
    first, last = _voice_bounds(samples)
    return samples[first:last]


def recorded_text(name: str) -> str:
    """What the recording says: its name's words (`Front_Left` is "Front left")."""
    return name.replace("_", " ").capitalize()


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    times = np.arange(round(len(samples) * RATE / rate)) / RATE
    return np.interp(times, np.arange(len(samples)) / rate, samples).astype(np.float32)


def _voice_bounds(samples: np.ndarray) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(samples) > VOICE_FLOOR)
    return int(loud[0]), int(loud[-1]) + 1


def compose(pieces: list[tuple[str, np.ndarray, list[float]]], pause_s: float, lead_s: float = 0.5) -> Speech:
    """The pieces one after another, `pause_s` of digital silence between them and around them."""
    parts, said, at = [np.zeros(round(lead_s * RATE), np.float32)], [], lead_s
    for text, samples, word_starts in pieces:
        seconds = len(samples) / RATE
        said.append(Said(text, round(at, 4), round(at + seconds, 4), tuple(round(at + s, 4) for s in word_starts)))
        parts += [samples, np.zeros(round(pause_s * RATE), np.float32)]
        at += seconds + round(pause_s * RATE) / RATE
    return Speech(np.concatenate(parts), tuple(said))


def normalized_words(text: str) -> list[str]:
    """Words as compared for the error rate: lower case, letters, digits and apostrophes only."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def word_error_rate(reference: str, heard: str) -> float:
    """(substitutions + deletions + insertions) / words said, by edit distance over words."""
    said, got = normalized_words(reference), normalized_words(heard)
    row = list(range(len(got) + 1))
    for i, word in enumerate(said, start=1):
        previous, row[0] = row[0], i
        for j, other in enumerate(got, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1] / max(1, len(said))


def word_start_errors(speech: Speech, words: list[dict]) -> list[float]:
    """|heard start - said start| of each read word heard as said (words matched in order by their text;
    recorded pieces have no known word starts and are left out)."""
    said = [(word, start) for piece in speech.said for word, start in zip(piece.text.split(), piece.word_starts,
                                                                          strict=False)]
    said_keys = [" ".join(normalized_words(word)) for word, _ in said]
    heard_keys = [" ".join(normalized_words(word["word"])) for word in words]
    matcher = difflib.SequenceMatcher(a=said_keys, b=heard_keys, autojunk=False)
    return [abs(words[block.b + n]["start"] - said[block.a + n][1])
            for block in matcher.get_matching_blocks() for n in range(block.size)]
