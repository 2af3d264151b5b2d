"""Sound cut to the sample: kept ranges of one audio stream, joined by crossfades that keep it in sync.

Each range is read by its own seek (a long file is never held in memory) and padded or cut to its exact
length in samples. Inner joins overlap by `CROSSFADE_S`: each side reaches half of it past its cut, so
the overlaps cost no time and the middle of every crossfade lies at the cut, where the picture joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CROSSFADE_S = 0.01  # a few milliseconds: no click, too short to hear as a fade
_READ_PAST_S = 0.5  # each input reads this far past its range, then stops (its exact end is the graph's)


@dataclass(frozen=True)
class AudioCut:
    """The FFmpeg inputs and graph of a cut's sound; the graph's output is `[cut]`."""

    inputs: list[str]
    graph: str
    samples: int  # the sound's exact length


def audio_cut(source: Path, stream_index: int, sample_rate: int, ranges: list[tuple[float, float]],
              first_input: int = 0) -> AudioCut:
    """Inputs numbered from `first_input`, one per range; `ranges` in seconds of the file, sorted and apart."""
    bounds = [(round(start * sample_rate), round(end * sample_rate)) for start, end in ranges]
    shortest = min(end - start for start, end in bounds)
    half = min(round(CROSSFADE_S * sample_rate), shortest) // 2
    last = len(bounds) - 1
    inputs: list[str] = []
    chains: list[str] = []
    for position, (start, end) in enumerate(bounds):
        begin = max(start - (half if position else 0), 0)
        length = end + (half if position < last else 0) - begin
        # `-t` stops each input's decoding past its range: a long file cut in many places decodes each
        # range once, not every input to its end.
        inputs += ["-ss", f"{begin / sample_rate:.9f}", "-t", f"{length / sample_rate + _READ_PAST_S:.9f}",
                   "-i", str(source)]
        chains.append(f"[{first_input + position}:{stream_index}]aresample=async=1:first_pts=0,"
                      f"apad=whole_len={length},atrim=end_sample={length}[r{position}]")
    joined = "r0"
    for position in range(1, len(bounds)):
        label = "cut" if position == last else f"j{position}"
        chains.append(f"[{joined}][r{position}]acrossfade=ns={2 * half}:c1=tri:c2=tri[{label}]" if half else
                      f"[{joined}][r{position}]concat=n=2:v=0:a=1[{label}]")
        joined = label
    if last == 0:
        chains[0] = chains[0].replace("[r0]", "[cut]")
    return AudioCut(inputs, ";".join(chains), sum(end - start for start, end in bounds))
