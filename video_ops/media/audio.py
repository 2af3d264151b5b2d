"""The shared audio graph: loudness, a music bed under a video, and the mix with ducking and a limiter.

Every operation that lays music under speech (`trilhasonora`, `addaudio` in `mix` mode, later
`render`) builds its sound here, so they cannot drift apart. The graph functions return FFmpeg
filter text made of checked numbers and fixed labels only, never a caller's text, and need no job.
docs/audio.md explains the choices (crossfaded loop seams, the ducking's timing, the limiter).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from video_ops.base.tasks import all_or_nothing
from video_ops.media.ffmpeg import run_ffmpeg, step_timeout

SAMPLE_RATE = 48000
MAX_REDUCTION_DB = 40.0
SILENCE_LUFS = -70.0  # EBU R128's absolute gate: a track measured at or below it has nothing to hear
# The limiter looks at 4x oversampled audio, where sample peaks are true peaks within ~0.5 dB, and
# limits 2 dB below the -1 dBTP ceiling: AAC's own overshoot on full-scale noise measured 1.2 dB.
_LIMIT_DBFS = -3.0
_OVERSAMPLING = 4
# Ducking: the music dips within 20 ms of a word and comes back only after ~0.5 s of quiet, so the
# short gaps between words do not make it pump (sidechaincompress's envelope time constant is a
# quarter of its attack/release).
DUCK_ATTACK_MS = 20.0
DUCK_RELEASE_MS = 500.0
_DUCK_RATIO = 20.0  # the compressor's strongest ratio: it squashes, and the dry share sets the depth
_DUCK_KEY_LUFS = -23.0  # the key (narration) is scaled to this level, so the threshold sits still
_DUCK_HEADROOM_DB = 30.0  # the threshold sits this far below the scaled narration
MAX_DUCK_DB = 24.0
_LABEL = re.compile(r"^[a-z][a-z0-9_]*(:a(:\d+)?)?$|^\d+:a(:\d+)?$")
_INTEGRATED = re.compile(r"^\s*I:\s+(-?inf|-?\d+(?:\.\d+)?) LUFS", re.MULTILINE)
_RANGE = re.compile(r"^\s*LRA:\s+(-?inf|-?\d+(?:\.\d+)?) LU\b", re.MULTILINE)
_TRUE_PEAK = re.compile(r"^\s*Peak:\s+(-?inf|-?\d+(?:\.\d+)?) dBFS", re.MULTILINE)


# Loudness -----------------------------------------------------------------------------------------


def mix_layout(voice_channels: int | None, music_channels: int) -> str:
    """The channel layout of the mix: the narration's (mono stays mono, so its level is kept exactly),
    else the music's; anything wider than stereo is folded down to stereo."""
    channels = voice_channels if voice_channels is not None else music_channels
    return "mono" if channels == 1 else "stereo"


def loudness_meter() -> str:
    """The EBU R128 meter as filter text: its summary (`parse_integrated`) is printed at the `info` log level,
    its per-frame lines below it. Surround channels are weighted as the standard says."""
    return "ebur128=framelog=verbose"


async def integrated_loudness(path: Path, *, seconds: float, layout: str, step: str,
                              workdir: Path | None = None) -> float | None:
    """EBU R128 integrated loudness (LUFS) of the first audio stream over its first `seconds`, as heard
    in the mix's channel `layout` (folding stereo into mono changes loudness by up to 3 LU, by how
    alike the channels are).

    Gated, so the pauses between sentences do not count (the reference's mean volume counted them).
    None when nothing rises above the absolute gate: a silent track has no level to match.
    """
    args = ["-t", _number(seconds), "-i", str(path), "-map", "0:a:0",
            "-af", f"aformat=channel_layouts={_layout(layout)},{loudness_meter()}", "-f", "null", "-"]
    stderr = await run_ffmpeg(args, step=step, timeout=step_timeout(seconds, 1.0), workdir=workdir,
                              log_level="info")
    return parse_integrated(stderr)


async def loudness(path: Path, stream_index: int, *, seconds: float | None, step: str,
                   workdir: Path | None = None) -> dict[str, float | None]:
    """EBU R128 of one audio stream, whole: integrated loudness (LUFS, None when silent), loudness range
    (LU) and true peak (dBTP, None for digital silence), as `ebur128` sums them up at the end."""
    args = ["-i", str(path), "-map", f"0:{stream_index}", "-af", f"{loudness_meter()}:peak=true",
            "-f", "null", "-"]
    stderr = await run_ffmpeg(args, step=step, timeout=step_timeout(seconds, 1.0), workdir=workdir,
                              log_level="info")
    return {"integrated_lufs": parse_integrated(stderr), "range_lu": _last_number(_RANGE, stderr),
            "true_peak_dbtp": _last_number(_TRUE_PEAK, stderr)}


def _last_number(pattern: re.Pattern[str], stderr: str) -> float | None:
    found = pattern.findall(stderr)
    return None if not found or found[-1].endswith("inf") else float(found[-1])


@dataclass(frozen=True)
class Levels:
    """Integrated loudness (LUFS) of the narration and the music; None where absent, silent or unmeasured."""

    voice_lufs: float | None = None
    music_lufs: float | None = None


async def measure_levels(voice: Path | None, music: Path, *, seconds: float, layout: str,
                         workdir: Path | None = None) -> Levels:
    """The narration (when there is one) and the music, measured side by side over their first `seconds`."""
    async def nothing() -> None:
        return None

    voice_lufs, music_lufs = await all_or_nothing(
        integrated_loudness(voice, seconds=seconds, layout=layout, step="Measuring the narration", workdir=workdir)
        if voice else nothing(),
        integrated_loudness(music, seconds=seconds, layout=layout, step="Measuring the music", workdir=workdir),
    )
    return Levels(voice_lufs=voice_lufs, music_lufs=music_lufs)


def parse_integrated(stderr: str) -> float | None:
    """The integrated loudness from `ebur128`'s summary; None for silence or no summary."""
    found = _INTEGRATED.findall(stderr)
    if not found or found[-1].endswith("inf"):
        return None
    value = float(found[-1])
    return None if value <= SILENCE_LUFS else value


def reduction_for_offset(narration_lufs: float | None, music_lufs: float | None, offset_lu: float) -> float:
    """How many dB to lower the music so that it sits `offset_lu` below the narration.

    Automatic level never raises the music (a music already quieter keeps its level) and lowers it
    by at most MAX_REDUCTION_DB; without a narration or a music to measure there is nothing to match.
    """
    if narration_lufs is None or music_lufs is None:
        return 0.0
    return round(min(max(music_lufs - (narration_lufs - offset_lu), 0.0), MAX_REDUCTION_DB), 2)


def decibels_to_volume(gain_db: float) -> float:
    return 10 ** (gain_db / 20)


# The music bed ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MusicBed:
    """A music track shaped to lie under a video: looped with crossfaded seams, faded, lowered, trimmed."""

    length_s: float  # how long the bed plays: the output's length
    source_s: float  # the music file's length
    layout: str = "stereo"  # the mix's channel layout (`mix_layout`)
    volume: float = 1.0  # linear gain; `decibels_to_volume` for a level in dB
    loop: bool = True  # False: a shorter music simply ends (the mix pads it with silence)
    crossfade_s: float = 1.0
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0

    @property
    def seam_s(self) -> float:
        """The crossfade at each seam: at most a third of the music, so head and tail never overlap."""
        return min(self.crossfade_s, self.source_s / 3)

    @property
    def loops(self) -> int:
        """How many times the music starts again after its first play."""
        if not self.loop or self.source_s >= self.length_s:
            return 0
        return math.ceil((self.length_s - self.source_s) / (self.source_s - self.seam_s) - 1e-9)

    @property
    def plays_s(self) -> float:
        """How long music is heard: the whole bed when looped, else up to the music's end."""
        return self.length_s if self.loop else min(self.length_s, self.source_s)

    def graph(self, source: str, out: str) -> str:
        """Filter text from the stream `source` (e.g. `1:a`) to the label `out`."""
        _label(source), _label(out)
        chain = [f"aresample={SAMPLE_RATE}", f"aformat=sample_fmts=fltp:channel_layouts={_layout(self.layout)}"]
        if self.loops:
            looped, head = self._looped(source, out, chain)
        else:
            looped, head = "", f"[{source}]" + ",".join(chain)
        shape = [f"atrim=0:{_number(self.length_s)}"]
        if self.volume != 1.0:
            shape.append(f"volume={_number(self.volume)}")
        fade_in, fade_out = (min(fade, self.plays_s / 2) for fade in (self.fade_in_s, self.fade_out_s))
        if fade_in > 0:
            shape.append(f"afade=t=in:st=0:d={_number(fade_in)}")
        if fade_out > 0:
            shape.append(f"afade=t=out:st={_number(self.plays_s - fade_out)}:d={_number(fade_out)}")
        return f"{looped}{head},{','.join(shape)}[{out}]"

    def _looped(self, source: str, out: str, chain: list[str]) -> tuple[str, str]:
        """The music's first play, then a loop unit whose end crossfades into the music's start.

        The unit is the music from `seam` on, its last `seam` seconds crossfaded (equal power) with
        its first ones; so the unit ends where its own start continues, and aloop repeats it without
        a jump. aloop keeps the unit in memory (stereo float: about 23 MB per minute of music).
        """
        seam = self.seam_s
        keep = math.ceil((self.source_s + 1.0) * SAMPLE_RATE)  # room for a probe that underestimates
        restart = f"aloop=loop=-1:size={keep},asetpts=N/SR/TB"
        pre = ",".join(chain)
        if seam <= 0:  # a hard cut at each seam, as asked
            return "", f"[{source}]{pre},{restart}"
        s = _number(seam)
        looped = (f"[{source}]{pre},asplit=3[{out}_a][{out}_b][{out}_c];"
                  f"[{out}_a]atrim=0:{s},asetpts=PTS-STARTPTS[{out}_head];"
                  f"[{out}_b]atrim=0:{s},asetpts=PTS-STARTPTS[{out}_join];"
                  f"[{out}_c]atrim=start={s},asetpts=PTS-STARTPTS[{out}_tail];"
                  f"[{out}_tail][{out}_join]acrossfade=d={s}:c1=qsin:c2=qsin,{restart}[{out}_unit];")
        return looped, f"[{out}_head][{out}_unit]concat=n=2:v=0:a=1"


# The mix ------------------------------------------------------------------------------------------


def limiter(rate: int = SAMPLE_RATE) -> str:
    """A true-peak limiter: the sum never goes above -1 dBTP, and nothing below the limit is touched; the
    sound comes out at `rate` (the mix's 48 kHz unless a sound file asks for another)."""
    limit = 10 ** (_LIMIT_DBFS / 20)
    return (f"aresample={_OVERSAMPLING * rate},alimiter=limit={_number(limit)}:attack=5:release=50:level=0:"
            f"latency=1,aresample={rate}")


def duck(music: str, key: str, out: str, *, depth_db: float, narration_lufs: float) -> str:
    """The music lowered by about `depth_db` while the narration (the key) speaks.

    The key is scaled to a fixed level and squashed at the strongest ratio; the compressor's dry
    share (`mix`) then bounds the dip, so speech at any level ducks by `depth_db` (never more than
    about 1 dB beyond it), and the music comes back to its level in the pauses.
    """
    for label in (music, key, out):
        _label(label)
    if not 0 < depth_db <= MAX_DUCK_DB:
        raise ValueError(f"duck depth {depth_db} dB outside (0, {MAX_DUCK_DB}]")
    scale = min(max(10 ** ((_DUCK_KEY_LUFS - narration_lufs) / 20), 1 / 64), 64)
    threshold = 10 ** ((_DUCK_KEY_LUFS - _DUCK_HEADROOM_DB) / 20)
    squashed = 10 ** (-_DUCK_HEADROOM_DB * (1 - 1 / _DUCK_RATIO) / 20)  # gain at speech level, fully wet
    floor = 10 ** (-depth_db / 20)
    wet = (1 - floor) / (1 - squashed)
    return (f"[{music}][{key}]sidechaincompress=threshold={_number(threshold)}:ratio={_number(_DUCK_RATIO)}:"
            f"attack={_number(DUCK_ATTACK_MS)}:release={_number(DUCK_RELEASE_MS)}:level_sc={_number(scale)}:"
            f"mix={_number(wet)}[{out}]")


def mix(voice: str | None, music: str, out: str, *, layout: str, duck_db: float | None = None,
        narration_lufs: float | None = None) -> str:
    """The narration at its own level plus the music, through the limiter, padded with silence.

    `amix normalize=0`: amix otherwise divides each input by the input count (the reference's hidden
    -6 dB on the narration). Ducking needs the narration's loudness; without narration (or with a
    silent one) the music is the only sound and is not ducked. The caller cuts the end with `-t`.
    """
    _label(music), _label(out)
    if voice is None:
        return f"[{music}]{limiter()},apad[{out}]"
    _label(voice)
    # first_pts=0: a voice that starts after the picture (a phone's AAC track, 44 ms in) keeps its place
    # behind silence, rather than making the whole mix start late.
    speech = f"[{voice}]aresample={SAMPLE_RATE}:first_pts=0,aformat=channel_layouts={_layout(layout)}"
    if duck_db and narration_lufs is not None:
        graph = (f"{speech},asplit=2[{out}_voice][{out}_key];[{out}_key]apad[{out}_keyp];"
                 + duck(music, f"{out}_keyp", f"{out}_ducked", depth_db=duck_db, narration_lufs=narration_lufs)
                 + ";")
        music = f"{out}_ducked"
    else:
        graph = f"{speech}[{out}_voice];"
    return (graph + f"[{out}_voice][{music}]amix=inputs=2:duration=longest:normalize=0,{limiter()},apad[{out}]")


def music_under_voice(bed: MusicBed, music: str, voice: str | None, out: str, *, duck_db: float | None = None,
                      narration_lufs: float | None = None) -> str:
    """The whole sound: the bed made from `music`, mixed under `voice` (ducked when asked) and limited."""
    return ";".join([bed.graph(music, f"{out}_bed"),
                     mix(voice, f"{out}_bed", out, layout=bed.layout, duck_db=duck_db, narration_lufs=narration_lufs)])


def _number(value: float) -> str:
    """A finite number as filter text; anything else is a bug upstream, never caller text."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def _layout(name: str) -> str:
    if name not in ("mono", "stereo"):
        raise ValueError(f"not a mix layout: {name!r}")
    return name


def _label(name: str) -> None:
    if not _LABEL.match(name):
        raise ValueError(f"not a filter label this module makes: {name!r}")
