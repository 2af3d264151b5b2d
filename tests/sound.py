"""Sound the tests make (tone bursts as speech, a chord as music) and ear-like readings of what came out.

The narration is a 2 kHz tone and the music a chord below 200 Hz, so a steep low-pass hears only
the music and a steep high-pass only the narration: levels are read per track from a mixed output.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

SPEECH = "0.1*sin(2*PI*2000*t)*lt(mod(t\\,10)\\,5)"  # talks 0-5 s and 10-15 s, pauses 5-10 s
CHORD = "0.2*sin(2*PI*111.25*t)+0.2*sin(2*PI*166.9*t)"  # 3 s of it do not end where they begin
ONLY_MUSIC = ",".join(["lowpass=f=500"] * 4)  # the 2 kHz narration falls ~90 dB, the chord ~1 dB
ONLY_SPEECH = ",".join(["highpass=f=1000"] * 4)

def ebur128(path: Path, filters: str = "", seconds: float | None = None) -> str:
    chain = ",".join(part for part in (filters, "ebur128=peak=true") if part)
    limit = ["-t", f"{seconds:g}"] if seconds else []
    return subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", *limit, "-i", str(path), "-map", "0:a:0",
                           "-af", chain, "-f", "null", "-"], capture_output=True, text=True, check=True).stderr


def loudness(path: Path, filters: str = "", seconds: float | None = None) -> float:
    """Integrated loudness (LUFS) of the first audio stream, after `filters`."""
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", ebur128(path, filters, seconds))[-1])


def true_peak(path: Path) -> float:
    summary = ebur128(path).split("True peak:")[-1]
    return float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))


def short_term(path: Path, filters: str, at: float) -> float:
    """Short-term loudness (the 3 s before `at`) after `filters`."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-af",
                          f"{filters},ebur128=metadata=1,ametadata=mode=print:key=lavfi.r128.S:file=-",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stdout
    times = [float(t) for t in re.findall(r"pts_time:([\d.]+)", out)]
    values = [float(v) for v in re.findall(r"lavfi\.r128\.S=(-?[\d.]+)", out)]
    return values[int(np.argmin([abs(t - at) for t in times]))]
