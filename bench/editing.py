"""The editing bench: `trim`, `cut` and `remove_silence` (frame-exact, only the frames next to each cut
encoded) on a 10-minute 1080p30 H.264 file with 2-second groups of frames and B-frames, each against bare
FFmpeg in the same run: the copy-only floor (what moving the packets costs, keyframe-inexact) and
encoding the kept time again with the worker's own settings (what a frame-exact cut costs without a
smart cut).

The outputs are checked against the source frames they came from: the frames the job copied must
decode bit-exact (`framemd5`), the ones it encoded close (SSIM). No frame list from the worker is
trusted for this: which source frame each output frame should be is worked out here from the
source's own timestamps (the frame shown at a range's start, to the one shown just before its end).
"""

from __future__ import annotations

import bisect
import json
import random
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from video_ops.media.encoders import AAC_ARGS, Encoder, current_encoder
from video_ops.ops import OPERATIONS
from video_ops.ops.editing import kept_between, merged

from .media import Media, Scale, ffmpeg, once
from .workloads import FFMPEG, Run, Target, Variant, Workload, command_variant, ratio, worker_variant

GOP_S = 2  # a keyframe every 2 s, as cameras and streaming encoders write them
B_FRAMES = 3
# x264 `superfast` (CABAC, 8x8 transforms: High profile, as a phone or an editor writes) capped near 6 Mb/s,
# fixed groups of frames, 3 B-frames: cheap to make, and the frames a cut falls between are B-frames.
SOURCE_X264 = ["-c:v", "libx264", "-preset", "superfast", "-crf", "23", "-maxrate", "6M", "-bufsize", "12M",
               "-bf", str(B_FRAMES), "-sc_threshold", "0", "-pix_fmt", "yuv420p"]
CUT_AT = (0.08, 0.25, 0.43, 0.61, 0.80)  # where the 5 removed ranges begin, as shares of the source
OFF_KEYFRAME_S = 1.31  # every time asked for lies mid-group and mid-frame
# remove_silence's defaults (issue 33), which the bench's own detection of the kept ranges follows
NOISE_DB, MIN_SILENCE_S, PADDING_S = -35, 0.5, 0.15
SPEECH_S, PAUSE_S = (1.5, 6.0), (0.3, 2.0)  # lengths of phrases and of the pauses between them
STAGES = ("index=video_ops.ops.editing:read_index", "pieces=video_ops.ops.editing:_encode_pieces",
          "sound=video_ops.ops.editing:_cut_sound", "mux=video_ops.ops.editing:write_cut")
PYAV_WORK = ("video_ops.ops.editing:read_index", "video_ops.ops.editing:write_cut")  # demux and mux in Python
MIN_SSIM = 0.98
Build = Callable[[Path], tuple[list[list[str]], list[Path]]]  # a baseline's commands and outputs in a run folder
Assess = Callable[[dict[str, Run], Path], dict[str, Any]]

FRAMES_EXPECTED = "frames the ranges show in the source"
FRAMES_OUT = "frames in the output"
BIT_EXACT = "frames bit-exact with their source frame"
COPIED = "frames_copied (job result)"
ENCODED = "frames_encoded (job result)"
SSIM_MIN = "SSIM of the other frames vs their source frames, min"
SSIM_MEAN = "SSIM of the other frames vs their source frames, mean"
KEPT_RANGES = "kept ranges"
KEPT_S = "kept seconds"


@dataclass(frozen=True)
class EditMedia:
    video: Path  # the picture described above, a 330 Hz tone as its sound (AAC)
    speech: Path  # the same picture under speech-like bursts with pauses between them (AAC)
    seconds: float
    size: str
    fps: int

    @property
    def frame_hashes(self) -> Path:
        """The source's decoded frames' MD5s (`framemd5`), made once, when first checked against."""
        path = self.video.with_suffix(".framemd5")
        once(path, lambda out: framemd5(self.video, out))
        return path


def edit_media(media: Media, scale: Scale) -> EditMedia:
    folder, seconds = media.folder, scale.edit_seconds
    edit = EditMedia(folder / "edit_video.mp4", folder / "edit_speech.mp4", seconds, scale.size, scale.video_fps)
    once(edit.video, lambda out: ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={scale.size}:rate={scale.video_fps}",
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", f"{seconds:g}", *SOURCE_X264,
        "-g", str(GOP_S * scale.video_fps), "-keyint_min", str(GOP_S * scale.video_fps),
        "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "mp4", str(out)))
    once(edit.speech, lambda out: ffmpeg(
        "-i", str(edit.video), "-f", "lavfi", "-i", speech_source(phrases(seconds), seconds, folder / "speech.cmd"),
        "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-t", f"{seconds:g}",
        "-f", "mp4", str(out)))
    return edit


def phrases(seconds: float, seed: int = 33) -> list[tuple[float, float]]:
    """When someone speaks: phrases of 1.5-6 s with pauses of 0.3-2 s between them (a fixed seed)."""
    rng, spoken, at = random.Random(seed), [], 1.0
    while at < seconds - 1.0:
        end = min(at + rng.uniform(*SPEECH_S), seconds - 0.5)
        spoken.append((round(at, 3), round(end, 3)))
        at = end + rng.uniform(*PAUSE_S)
    return spoken


def speech_source(spoken: list[tuple[float, float]], seconds: float, commands: Path) -> str:
    """Pink noise in the voice band (200-3400 Hz), pulsing at syllable rate while someone speaks and 50 dB
    down in the pauses (a quiet room, not digital silence). The phrases go to the volume filter as timed
    commands (`commands`, written here): one expression for them all is too deep for FFmpeg to parse."""
    talking, quiet = "0.7+0.3*sin(2*PI*4*t)", "0.003"
    commands.write_text("".join(f"{start:.3f} volume volume {talking};\n{end:.3f} volume volume {quiet};\n"
                                for start, end in spoken))
    return (f"anoisesrc=d={seconds:g}:c=pink:r=48000:a=0.5:s=7:n=480,highpass=f=200,lowpass=f=3400,"
            f"asendcmd=f='{commands}',volume=volume={quiet}:eval=frame")


# what the source holds, measured --------------------------------------------------------------


def display_times(video: Path) -> list[float]:
    """Every frame's display time, in seconds from the file's start (what FFmpeg's `-ss` counts from), in
    display order: read from the packets, nothing decoded."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        origin = (container.start_time or 0) / av.time_base
        pts = sorted(packet.pts for packet in container.demux(stream) if packet.size and packet.pts is not None)
        return [float(t * stream.time_base) - origin for t in pts]


def framemd5(video: Path, out: Path) -> None:
    """The MD5 of each decoded frame of the first picture, in display order; none dropped or repeated."""
    ffmpeg("-i", str(video), "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "framemd5", str(out))


def read_hashes(path: Path) -> list[str]:
    return [line.rsplit(",", 1)[1].strip() for line in path.read_text().splitlines() if not line.startswith("#")]


def shown(times: list[float], spans: list[tuple[float, float]]) -> list[int]:
    """The source frames (display indices) that `spans` show, in order: for each, the frame whose interval
    holds its start to the one shown just before its end."""
    frames: list[int] = []
    for start, end in spans:
        first = max(bisect.bisect_right(times, start) - 1, 0)
        frames += range(first, bisect.bisect_left(times, end))
    return frames


def runs_of(positions: list[int], sources: list[int]) -> list[tuple[int, int]]:
    """Output positions in runs (first, last) that are consecutive in the output and in the source."""
    runs: list[tuple[int, int]] = []
    for position in positions:
        if runs and position == runs[-1][1] + 1 and sources[position] == sources[position - 1] + 1:
            runs[-1] = (runs[-1][0], position)
        else:
            runs.append((position, position))
    return runs


def seek_to(times: list[float], frame: int) -> float:
    """A time between frame `frame` and the one before it: an accurate `-ss` there starts at that frame."""
    return (times[frame - 1] + times[frame]) / 2 if frame else max(times[0] - 0.5, 0.0)


def frame_ssim(output: Path, out_at: float, source: Path, source_at: float, count: int) -> list[float]:
    """SSIM ("All") of `count` frames of `output` from `out_at` against as many of `source` from `source_at`,
    paired by position."""
    with tempfile.TemporaryDirectory() as folder:
        stats = Path(folder) / "ssim.log"
        frames = f"trim=end_frame={count},settb=AVTB,setpts=N"  # both timed by position: pairs by position
        graph = f"[0:v]{frames}[a];[1:v]{frames}[b];[a][b]ssim=stats_file={stats}"
        ffmpeg("-ss", f"{out_at:.6f}", "-i", str(output), "-ss", f"{source_at:.6f}", "-i", str(source),
               "-filter_complex", graph, "-f", "null", "-")
        return [float(found) for found in re.findall(r"All:([0-9.]+)", stats.read_text())][:count]


def frame_check(edit: EditMedia, output: Path, spans: list[tuple[float, float]], result: dict[str, Any],
                folder: Path) -> dict[str, Any]:
    """Each output frame against the source frame it should be: how many are bit-exact (all the copied
    ones must be), and the SSIM of the rest (the encoded ones)."""
    source_times = display_times(edit.video)
    expected = shown(source_times, spans)
    source_hashes = read_hashes(edit.frame_hashes)
    framemd5(output, folder / "output.framemd5")
    out_hashes, out_times = read_hashes(folder / "output.framemd5"), display_times(output)
    paired = min(len(expected), len(out_hashes))
    other = [k for k in range(paired) if out_hashes[k] != source_hashes[expected[k]]]
    scores: list[float] = []
    for first, last in runs_of(other, expected):
        scores += frame_ssim(output, seek_to(out_times, first), edit.video, seek_to(source_times, expected[first]),
                             last - first + 1)
    return {FRAMES_EXPECTED: len(expected), FRAMES_OUT: len(out_hashes), BIT_EXACT: paired - len(other),
            COPIED: result.get("frames_copied"), ENCODED: result.get("frames_encoded"),
            SSIM_MIN: min(scores) if scores else None, SSIM_MEAN: sum(scores) / len(scores) if scores else None}


def frame_targets() -> list[Target]:
    def found(summary: dict[str, Any], key: str) -> Any:
        return summary["quality"][key]["worker"]

    return [
        Target("frames in the output minus the frames the ranges show in the source (none missing or extra)",
               lambda s: abs(found(s, FRAMES_OUT) - found(s, FRAMES_EXPECTED)), 0, at_most=True),
        Target("every copied frame bit-exact: frames bit-exact with their source frame minus frames_copied",
               lambda s: found(s, BIT_EXACT) - found(s, COPIED), 0, at_most=False),
        Target(f"the other (encoded) frames' SSIM against their source frames, min, at least {MIN_SSIM}",
               lambda s: found(s, SSIM_MIN), MIN_SSIM, at_most=False),
    ]


def job_result(run: Run) -> dict[str, Any]:
    return json.loads(run.job_reports[0].read_text())["result"]


def checked(edit: EditMedia, spans: list[tuple[float, float]]) -> Assess:
    def assess(runs: dict[str, Run], scratch: Path) -> dict[str, Any]:
        worker = runs["worker"]
        found = frame_check(edit, worker.outputs[0], spans, job_result(worker), worker.outputs[0].parent)
        return {title: {"worker": value} for title, value in found.items()}

    return assess


# the silences, as FFmpeg's silencedetect finds them -----------------------------------------------


def silences(path: Path, seconds: float) -> list[tuple[float, float]]:
    """FFmpeg's `silencedetect` at remove_silence's defaults: the quiet stretches of at least 0.5 s."""
    done = subprocess.run([*FFMPEG[:-2], "-loglevel", "info", "-i", str(path), "-map", "0:a:0", "-af",
                           f"silencedetect=noise={NOISE_DB}dB:d={MIN_SILENCE_S}", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    starts = [float(x) for x in re.findall(r"silence_start: ([0-9.]+)", done.stderr)]
    ends = [float(x) for x in re.findall(r"silence_end: ([0-9.]+)", done.stderr)]
    return list(zip(starts, [*ends, seconds][:len(starts)], strict=True))


def kept_ranges(quiet: list[tuple[float, float]], seconds: float) -> list[tuple[float, float]]:
    """What a jump cut keeps: everything but the silences, less `PADDING_S` of each beside speech (none at the
    file's ends)."""
    removed = [(start + (PADDING_S if start > 0 else 0), end - (PADDING_S if end < seconds else 0))
               for start, end in quiet]
    return kept_between(merged([(a, b) for a, b in removed if b > a]), seconds)


def speech_kept(edit: EditMedia) -> list[tuple[float, float]]:
    """The kept ranges of the speech track, found once and kept beside it."""
    path = edit.speech.with_suffix(".kept.json")
    once(path, lambda out: out.write_text(json.dumps(kept_ranges(silences(edit.speech, edit.seconds),
                                                                 edit.seconds))))
    return [(start, end) for start, end in json.loads(path.read_text())]


# the baselines ------------------------------------------------------------------------------------


def copy_join(source: Path, kept: list[tuple[float, float]], codecs: tuple[str, ...] = ("-c", "copy")) -> Build:
    """The copy floor of a cut: each kept range copied on its own (`-ss A -to B -i in -c copy`: from the
    keyframe before A), then joined by the concat demuxer, copying again. `codecs` may ask for the sound
    to be encoded instead (one range only)."""

    def build(folder: Path) -> tuple[list[list[str]], list[Path]]:
        if len(kept) == 1:
            out = folder / "out.mp4"
            return [[*FFMPEG, "-ss", f"{kept[0][0]:.6f}", "-to", f"{kept[0][1]:.6f}", "-i", str(source), *codecs,
                     str(out)]], [out]
        parts = [folder / f"part_{n}.mp4" for n in range(len(kept))]
        commands = [[*FFMPEG, "-ss", f"{start:.6f}", "-to", f"{end:.6f}", "-i", str(source), "-c", "copy", str(part)]
                    for (start, end), part in zip(kept, parts, strict=True)]
        listing, out = folder / "list.txt", folder / "out.mp4"
        listing.write_text("".join(f"file '{part.name}'\n" for part in parts))
        commands.append([*FFMPEG, "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out)])
        return commands, [out]

    return build


def encode_again(source: Path, kept: list[tuple[float, float]], encoder: Encoder) -> Build:
    """The kept time encoded again with the worker's own settings: one range by an accurate seek, several by
    dropping the removed frames and samples (`select`/`aselect`) in one run."""

    def build(folder: Path) -> tuple[list[list[str]], list[Path]]:
        out = folder / "out.mp4"
        settings = [*encoder.video_args(), *AAC_ARGS, str(out)]
        if len(kept) == 1:
            return [[*FFMPEG, "-ss", f"{kept[0][0]:.6f}", "-to", f"{kept[0][1]:.6f}", "-i", str(source),
                     *settings]], [out]
        inside = "+".join(f"between(t,{start:.6f},{end:.6f})" for start, end in kept)
        return [[*FFMPEG, "-i", str(source), "-vf", f"select='{inside}',setpts=N/FRAME_RATE/TB",
                 "-af", f"aselect='{inside}',asetpts=N/SR/TB", *settings]], [out]

    return build


def floor_variant(source: Path, kept: list[tuple[float, float]]) -> Variant:
    what = ("`ffmpeg -ss A -to B -i in -c copy out.mp4`" if len(kept) == 1 else
            f"{len(kept)} x `ffmpeg -ss A -to B -i in -c copy part.mp4`, then `-f concat -c copy`")
    return command_variant("floor", f"copy floor (keyframe-inexact): {what}", copy_join(source, kept))


def reencode_variant(source: Path, kept: list[tuple[float, float]], encoder: Encoder) -> Variant:
    how = ("`ffmpeg -ss A -to B -i in`" if len(kept) == 1 else
           f"`ffmpeg -i in -vf select=... -af aselect=...` ({len(kept)} ranges)")
    return command_variant("reencode", f"encode again: {how} {' '.join(encoder.video_args())} "
                                       f"{' '.join(AAC_ARGS)}", encode_again(source, kept, encoder))


# the workloads ------------------------------------------------------------------------------------


def source_title(edit: EditMedia) -> str:
    return (f"a {edit.seconds / 60:g}-minute {edit.size} {edit.fps} fps H.264+AAC video ({GOP_S} s groups of "
            f"frames, {B_FRAMES} B-frames)")


def trim(edit: EditMedia, encoder: Encoder) -> Workload:
    start = edit.seconds / 4 + OFF_KEYFRAME_S
    span = (start, start + edit.seconds / 2)
    uri = edit.video.resolve().as_uri()
    return Workload(
        name="trim",
        title=f"trim: {span[1] - span[0]:g} s from the middle ({span[0]:g}-{span[1]:g} s) of {source_title(edit)}",
        output_seconds=span[1] - span[0],
        variants=[
            worker_variant("worker: `trim`, `accuracy: frame` (smart cut)",
                           {"operation": "trim", "url_video": uri, "start": span[0], "end": span[1],
                            "accuracy": "frame", "output_filename": "trim.mp4"}, ["trim.mp4"],
                           extra_work=(*PYAV_WORK, *STAGES)),
            floor_variant(edit.video, [span]),
            command_variant("floor-sound", "the copy floor with the sound encoded as the worker encodes it: "
                                           f"`-c:v copy {' '.join(AAC_ARGS)}`",
                            copy_join(edit.video, [span], ("-c:v", "copy", *AAC_ARGS))),
            reencode_variant(edit.video, [span], encoder),
        ],
        targets=[
            Target("at most 5% of encoding the range again with the worker's settings",
                   lambda s: ratio(s, "reencode"), 0.05, at_most=True),
            Target("within 1.5x of the copy-only floor", lambda s: ratio(s, "floor"), 1.5, at_most=True),
            *frame_targets(),
        ],
        assess=checked(edit, [span]),
    )


def cut(edit: EditMedia, encoder: Encoder) -> Workload:
    length = edit.seconds / 50 + 0.55
    removed = [(share * edit.seconds + 0.37, share * edit.seconds + 0.37 + length) for share in CUT_AT]
    kept = kept_between(removed, edit.seconds)
    uri = edit.video.resolve().as_uri()
    return Workload(
        name="cut",
        title=f"cut: {len(removed)} ranges of {length:g} s out of {source_title(edit)}",
        output_seconds=sum(end - start for start, end in kept),
        variants=[
            worker_variant(f"worker: `cut`, {len(removed)} ranges (smart cut)",
                           {"operation": "cut", "url_video": uri, "output_filename": "cut.mp4",
                            "cuts": [{"start": start, "end": end} for start, end in removed]}, ["cut.mp4"],
                           extra_work=(*PYAV_WORK, *STAGES)),
            floor_variant(edit.video, kept),
            reencode_variant(edit.video, kept, encoder),
        ],
        targets=[
            Target("at most 10% of encoding the kept time again with the worker's settings",
                   lambda s: ratio(s, "reencode"), 0.10, at_most=True),
            *frame_targets(),
        ],
        assess=checked(edit, kept),
    )


def remove_silence(edit: EditMedia) -> Workload:
    """The jump cut; until this worker has `remove_silence`, `cut` of the same ranges stands in for it."""
    kept = speech_kept(edit)
    uri = edit.speech.resolve().as_uri()
    if "remove_silence" in OPERATIONS:
        job = {"operation": "remove_silence", "url_video": uri, "noise_db": NOISE_DB, "min_silence_s": MIN_SILENCE_S,
               "padding_s": PADDING_S, "output_filename": "jumpcut.mp4"}
        label, operation, note = "worker: `remove_silence` at its defaults (smart cut)", None, None
    else:
        job = {"operation": "cut", "url_video": uri, "output_filename": "jumpcut.mp4",
               "cuts": [{"start": a, "end": b} for a, b in kept_between(kept, edit.seconds)]}  # the complement
        label, operation = "worker: `cut` of the same ranges (standing in for `remove_silence`)", "cut"
        note = ("This worker has no `remove_silence` operation yet: `cut` of the ranges FFmpeg's silencedetect "
                "finds at its defaults was measured in its place (the same cut, without the detection).")

    def assess(runs: dict[str, Run], _scratch: Path) -> dict[str, Any]:
        result = job_result(runs["worker"])
        theirs = [(r["start"], r["end"]) for r in result.get("kept", [])]
        return {KEPT_RANGES: {"worker": len(theirs), "floor": len(kept)},
                KEPT_S: {"worker": sum(b - a for a, b in theirs), "floor": sum(b - a for a, b in kept)}}

    return Workload(
        name="remove_silence",
        title=f"remove_silence: {edit.seconds / 60:g} minutes of speech-like sound with pauses of "
              f"{PAUSE_S[0]:g}-{PAUSE_S[1]:g} s under the same picture, {len(kept)} ranges kept",
        output_seconds=sum(end - start for start, end in kept),
        variants=[worker_variant(label, job, ["jumpcut.mp4"], extra_work=(*PYAV_WORK, *STAGES)),
                  floor_variant(edit.speech, kept)],
        targets=[Target("within 2x of the copy floor of the kept ranges", lambda s: ratio(s, "floor"), 2.0,
                        at_most=True)],
        assess=assess,
        operation=operation,
        note=note,
    )


def workloads(media: Media, scale: Scale) -> list[Workload]:
    edit = edit_media(media, scale)
    encoder = current_encoder()
    return [trim(edit, encoder), cut(edit, encoder), remove_silence(edit)]
