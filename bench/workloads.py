"""The workloads: what the worker runs, what it is compared with, and the targets it should meet.

Every variant is a list of commands for fresh processes (`measure`), prepared in an empty folder of
its own: the worker's job goes through `bench.jobrun` (the handler, local storage, `file:` URLs), a
baseline is the FFmpeg command a user would type, a moviepy variant a short moviepy 2 script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from video_ops.media.encoders import AAC_KBPS, Encoder

from . import highlight, quality, segments
from .media import MUSIC_SECONDS, Media, Scale, dot_position, dot_radius, make_clip_media, music

FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
OUTPUT_PREFIX = "bench"  # the worker's `path`: its outputs land in <run folder>/output/bench/
SRT_NAME = "captions.srt"  # a fixed name in the run folder: nothing to escape in `subtitles=`
# The reference worker's CPU encoder: x264 `medium` CRF 23 under its bitrate caps.
REFERENCE_X264_CAPPED = ["-c:v", "libx264", "-preset", "medium", "-crf", "23", "-maxrate", "10M", "-bufsize", "20M",
                         "-pix_fmt", "yuv420p"]
ABOVE_CAPTIONS = 0.75  # bottom-centred captions of both styles stay in the lowest fifth of the frame
WORKER_AUDIO_KBPS = AAC_KBPS  # what addaudio asks of the AAC encoder; FFmpeg's default is 128 kb/s
IMG2VID_RENDER = "video_ops.media.shots:paint"  # img2vid decodes and resamples images in Python: media work
LOUDNESS_RUNS = "video_ops.media.audio:run_ffmpeg"  # trilhasonora's loudness measurements: media work
REPO = Path(__file__).resolve().parent.parent

# Quality measures: {title: {variant key: value}}, as docs/benchmarks.md shows them (one column each).
SSIM_VS_DEFAULTS = "SSIM vs the defaults' output, whole frame"
SSIM_ABOVE_CAPTIONS = "SSIM vs the defaults' output, above the captions"
SSIM_VS_SOURCE = "SSIM vs the source image, mean of the clips"
SSIM_VS_SOURCE_MIN = "SSIM vs the source image, worst clip"
JITTER_COLUMNS = {"frames": "frames followed", "travel_px": "dot travel, px", "mean_step_px": "mean step, px",
                  "mean_px": "jitter mean, px", "max_px": "jitter max, px"}


@dataclass(frozen=True)
class Run:
    """One variant's commands for one repetition, the files they write, and the worker's own reports (one a
    job, `bench.jobrun`'s: then the variant's times are its jobs' own, summed)."""

    commands: list[list[str]]
    outputs: list[Path]
    job_reports: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Variant:
    key: str
    label: str  # how docs/benchmarks.md names it: the command, or what the worker ran
    role: str  # "worker", "baseline" or "moviepy"
    prepare: Callable[[Path], Run]


@dataclass(frozen=True)
class Target:
    """A goal from the issue, read off a workload's summary: `value(summary) <op> limit`."""

    text: str
    value: Callable[[dict[str, Any]], float | None]
    limit: float
    at_most: bool  # True: value <= limit; False: value >= limit

    def check(self, summary: dict[str, Any]) -> dict[str, Any]:
        value = self.value(summary)
        met = None if value is None else (value <= self.limit if self.at_most else value >= self.limit)
        return {"text": self.text, "value": value, "limit": self.limit, "at_most": self.at_most, "met": met}


@dataclass
class Workload:
    name: str
    title: str
    output_seconds: float | None  # seconds of video made, for the realtime factor
    variants: list[Variant]
    targets: list[Target] = field(default_factory=list)
    assess: Callable[[dict[str, Run], Path], dict[str, Any]] | None = None  # quality, from the first repetition
    operation: str | None = None  # the operation the worker runs, when the name's first word is not it
    note: str | None = None  # shown with the results: what differs from what the name says


def worker_variant(label: str, job_input: dict[str, Any], outputs: list[str], extra_work: tuple[str, ...] = ()
                   ) -> Variant:
    """The handler in a fresh process; `outputs` are file names under the job's `path`."""

    def prepare(folder: Path) -> Run:
        job = folder / "job.json"
        job.write_text(json.dumps({"id": "bench", "input": {**job_input, "path": OUTPUT_PREFIX}}))
        report = folder / "report.json"
        return Run(
            commands=[[sys.executable, "-m", "bench.jobrun", str(job), str(report), *extra_work]],
            outputs=[folder / "output" / OUTPUT_PREFIX / name for name in outputs],
            job_reports=(report,),
        )

    return Variant("worker", label, "worker", prepare)


def command_variant(key: str, label: str, build: Callable[[Path], tuple[list[list[str]], list[Path]]],
                    role: str = "baseline") -> Variant:
    def prepare(folder: Path) -> Run:
        commands, outputs = build(folder)
        return Run(commands=commands, outputs=outputs)

    return Variant(key, label, role, prepare)


def moviepy_variant(label: str, args: Callable[[Path], tuple[list[str], list[Path]]]) -> Variant:
    """A script of `bench.moviepy_jobs` in a fresh process (moviepy's import is part of its cost)."""

    def build(folder: Path) -> tuple[list[list[str]], list[Path]]:
        job_args, outputs = args(folder)
        return [[sys.executable, "-m", "bench.moviepy_jobs", *job_args]], outputs

    return command_variant("moviepy", label, build, role="moviepy")


def ratio(summary: dict[str, Any], baseline: str) -> float | None:
    """The worker's median wall time over the baseline's: below 1 the worker is faster."""
    variants = summary["variants"]
    if baseline not in variants:
        return None
    return variants["worker"]["wall_s"]["median"] / variants[baseline]["wall_s"]["median"]


def speedup(summary: dict[str, Any], baseline: str) -> float | None:
    value = ratio(summary, baseline)
    return None if value is None else 1 / value


def overhead_target() -> Target:
    return Target("the worker's own overhead (wall time beyond media work), median, in seconds",
                  lambda s: s["variants"]["worker"]["overhead_s"]["median"], 0.150, at_most=True)


# addaudio ---------------------------------------------------------------------------------------


def addaudio(media: Media, scale: Scale, moviepy: bool) -> Workload:
    video, audio = str(media.video), str(media.audio)
    mux = ["-i", video, "-i", audio, "-map", "0:v", "-map", "1:a"]
    variants = [
        worker_variant(f"worker: `addaudio` (video copied, audio to AAC {WORKER_AUDIO_KBPS} kb/s)",
                       {"operation": "addaudio", "url_video": media.video.resolve().as_uri(),
                        "url_audio": media.audio.resolve().as_uri(), "output_filename": "addaudio.mp4"},
                       ["addaudio.mp4"]),
        command_variant("floor", "floor: `ffmpeg -i v -i a -map 0:v -map 1:a -c:v copy -c:a aac out.mp4`",
                        lambda f: ([[*FFMPEG, *mux, "-c:v", "copy", "-c:a", "aac", str(f / "out.mp4")]],
                                   [f / "out.mp4"])),
        command_variant("floor-same-audio", f"floor-same-audio: the floor with `-b:a {WORKER_AUDIO_KBPS}k`, the "
                                            "worker's AAC bitrate",
                        lambda f: ([[*FFMPEG, *mux, "-c:v", "copy", "-c:a", "aac", "-b:a", f"{WORKER_AUDIO_KBPS}k",
                                     str(f / "out.mp4")]], [f / "out.mp4"])),
        command_variant("naive", "naive re-encode: `ffmpeg -i v -i a -map 0:v -map 1:a out.mp4`",
                        lambda f: ([[*FFMPEG, *mux, str(f / "out.mp4")]], [f / "out.mp4"])),
    ]
    if moviepy:
        variants.append(moviepy_variant(
            "moviepy: `VideoFileClip(v).with_audio(AudioFileClip(a)).write_videofile(out)`",
            lambda f: (["addaudio", video, audio, str(f / "out.mp4")], [f / "out.mp4"])))
    return Workload(
        name="addaudio",
        title=f"addaudio: {scale.seconds:g} s {scale.size} {scale.video_fps} fps H.264+AAC video + "
              f"{scale.seconds:g} s MP3",
        output_seconds=scale.seconds,
        variants=variants,
        targets=[
            Target("within 1.25x of the floor's wall time", lambda s: ratio(s, "floor"), 1.25, at_most=True),
            Target("at least 30x faster than naive re-encoding", lambda s: speedup(s, "naive"), 30, at_most=False),
            overhead_target(),
        ],
    )


# caption ----------------------------------------------------------------------------------------


def caption(media: Media, scale: Scale, encoder: Encoder, moviepy_font: str | None) -> Workload:
    video = str(media.video)
    same_settings = " ".join(encoder.video_args())

    def subtitles(extra: list[str]) -> Callable[[Path], tuple[list[list[str]], list[Path]]]:
        def build(folder: Path) -> tuple[list[list[str]], list[Path]]:
            shutil.copyfile(media.srt, folder / SRT_NAME)
            out = folder / "out.mp4"
            return [[*FFMPEG, "-i", video, "-vf", f"subtitles={SRT_NAME}", *extra, str(out)]], [out]

        return build

    variants = [
        worker_variant(f"worker: `caption`, default style ({same_settings}, audio copied)",
                       {"operation": "caption", "url_video": media.video.resolve().as_uri(),
                        "url_srt": media.srt.resolve().as_uri(), "output_filename": "caption.mp4"},
                       ["caption.mp4"]),
        command_variant("same-settings",
                        f"same-settings: `ffmpeg -i v -vf subtitles=s.srt {same_settings} -c:a copy out.mp4`",
                        subtitles([*encoder.video_args(), "-c:a", "copy"])),
        command_variant("defaults", "defaults: `ffmpeg -i v -vf subtitles=s.srt out.mp4` (FFmpeg's defaults: "
                                    "libx264 medium CRF 23, AAC)",
                        subtitles([])),
    ]
    if moviepy_font:
        variants.append(moviepy_variant(
            "moviepy: `CompositeVideoClip([video, SubtitlesClip(srt)]).write_videofile(out)`",
            lambda f: (["caption", video, str(media.srt), moviepy_font, str(f / "out.mp4")], [f / "out.mp4"])))

    def assess(runs: dict[str, Run], _scratch: Path) -> dict[str, Any]:
        """Each output against the defaults': whole frames, then the picture above the captions (the
        worker's caption style differs from libass's default one, the encoding should not)."""
        defaults = runs["defaults"].outputs[0]
        others = {key: run.outputs[0] for key, run in runs.items() if key != "defaults"}
        return {
            SSIM_VS_DEFAULTS: {key: quality.ssim(out, defaults) for key, out in others.items()},
            SSIM_ABOVE_CAPTIONS: {key: quality.ssim(out, defaults, top=ABOVE_CAPTIONS) for key, out in others.items()},
        }

    return Workload(
        name="caption",
        title=f"caption: {scale.seconds:g} s {scale.size} video + {scale.cues} cues",
        output_seconds=scale.seconds,
        variants=variants,
        targets=[
            Target("within 1.10x of bare FFmpeg with the same encoder settings", lambda s: ratio(s, "same-settings"),
                   1.10, at_most=True),
            Target("at least 1.8x faster than FFmpeg's defaults", lambda s: speedup(s, "defaults"), 1.8,
                   at_most=False),
            Target("SSIM against the defaults' output at least 0.97",
                   lambda s: s["quality"][SSIM_VS_DEFAULTS]["worker"], 0.97, at_most=False),
            overhead_target(),
        ],
        assess=assess,
    )


# img2vid ----------------------------------------------------------------------------------------


def img2vid_job(images: list[Path], scale: Scale, zoom: bool) -> dict[str, Any]:
    return {
        "operation": "img2vid",
        "images": [{"id": f"img{n + 1}", "image_url": image.resolve().as_uri(), "duracao": scale.image_seconds}
                   for n, image in enumerate(images)],
        "frame_rate": scale.image_fps,
        "width": scale.width,
        "height": scale.height,
        **({"zoom_types": ["zoomin"]} if zoom else {}),
    }


def img2vid_worker(images: list[Path], scale: Scale, zoom: bool) -> Variant:
    motion = "`zoom_types: [zoomin]`" if zoom else "still"
    return worker_variant(f"worker: `img2vid`, {motion}, one job of {len(images)}", img2vid_job(images, scale, zoom),
                          [f"video_{n + 1}.mp4" for n in range(len(images))], extra_work=(IMG2VID_RENDER,))


def one_after_another(images: list[Path], per_image: Callable[[str, Path], list[str]]
                      ) -> Callable[[Path], tuple[list[list[str]], list[Path]]]:
    def build(folder: Path) -> tuple[list[list[str]], list[Path]]:
        outputs = [folder / f"out_{n + 1}.mp4" for n in range(len(images))]
        return [[*FFMPEG, *per_image(str(image), out)] for image, out in zip(images, outputs, strict=True)], outputs

    return build


def naive_still(scale: Scale) -> Callable[[str, Path], list[str]]:
    return lambda image, out: ["-framerate", str(scale.image_fps), "-loop", "1", "-i", image,
                               "-t", f"{scale.image_seconds:g}", "-pix_fmt", "yuv420p", str(out)]


def reference_zoom(scale: Scale) -> Callable[[str, Path], list[str]]:
    """The reference orchestrator's Ken Burns: 6x Lanczos upscale, then zoompan (whole-pixel windows)."""
    zoompan = (f"scale=iw*6:ih*6:flags=lanczos,zoompan=z='min(zoom+0.0015,1.5)':x='iw/2-(iw/zoom/2)':"
               f"y='ih/2-(ih/zoom/2)':d={scale.image_frames}:s={scale.size}:fps={scale.image_fps}")
    return lambda image, out: ["-loop", "1", "-i", image, "-vf", zoompan, "-t", f"{scale.image_seconds:g}",
                               "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                               str(out)]


def img2vid_still(media: Media, scale: Scale, moviepy: bool) -> Workload:
    count = len(media.images)
    variants = [
        img2vid_worker(media.images, scale, zoom=False),
        command_variant("naive", f"naive: `ffmpeg -framerate {scale.image_fps} -loop 1 -i img -t "
                                 f"{scale.image_seconds:g} -pix_fmt yuv420p out.mp4`, {count} one after another",
                        one_after_another(media.images, naive_still(scale))),
    ]
    if moviepy:
        variants.append(moviepy_variant(
            f"moviepy: `ImageClip(img, duration={scale.image_seconds:g}).write_videofile(out, "
            f"fps={scale.image_fps})`, {count} in one script",
            lambda f: (["img2vid", str(f), f"{scale.image_seconds:g}", str(scale.image_fps),
                        *map(str, media.images)], [f / f"out_{n + 1}.mp4" for n in range(count)])))

    def assess(runs: dict[str, Run], _scratch: Path) -> dict[str, Any]:
        scores = {key: [quality.ssim(clip, image) for clip, image in zip(run.outputs, media.images, strict=True)]
                  for key, run in runs.items()}
        return {SSIM_VS_SOURCE: {key: sum(found) / len(found) for key, found in scores.items()},
                SSIM_VS_SOURCE_MIN: {key: min(found) for key, found in scores.items()}}

    return Workload(
        name="img2vid-still",
        title=f"img2vid still: {count} {scale.size} JPEGs x {scale.image_seconds:g} s at {scale.image_fps} fps",
        output_seconds=count * scale.image_seconds,
        variants=variants,
        targets=[
            Target("at least 4x faster than naive per-image FFmpeg", lambda s: speedup(s, "naive"), 4, at_most=False),
            Target("SSIM against the source image at least 0.98 (mean over the clips)",
                   lambda s: s["quality"][SSIM_VS_SOURCE]["worker"], 0.98, at_most=False),
            overhead_target(),
        ],
        assess=assess,
    )


def img2vid_zoomin(media: Media, scale: Scale) -> Workload:
    count = len(media.images)
    reference = reference_zoom(scale)
    variants = [
        img2vid_worker(media.images, scale, zoom=True),
        command_variant("reference", "reference recipe: 6x Lanczos upscale + `zoompan` to "
                                     f"{scale.size}, libx264 veryfast CRF 23, {count} one after another",
                        one_after_another(media.images, reference)),
    ]

    def assess(_runs: dict[str, Run], scratch: Path) -> dict[str, Any]:
        """The same two recipes on a picture of soft dots; one dot is followed through every frame."""
        found: dict[str, dict[str, float]] = {title: {} for title in JITTER_COLUMNS.values()}
        for variant in (img2vid_worker([media.dots], scale, zoom=True),
                        command_variant("reference", "", one_after_another([media.dots], reference))):
            folder = scratch / f"smoothness-{variant.key}"
            folder.mkdir()
            run = variant.prepare(folder)
            for command in run.commands:
                subprocess.run(command, cwd=folder, env=bench_env(), check=True, capture_output=True)
            reach = round(dot_radius(scale) * 3)
            measured = quality.jitter(run.outputs[0], dot_position(scale), reach)
            for field_name, title in JITTER_COLUMNS.items():
                found[title][variant.key] = getattr(measured, field_name)
        return found

    return Workload(
        name="img2vid-zoomin",
        title=f"img2vid zoomin: {count} {scale.size} JPEGs x {scale.image_seconds:g} s at {scale.image_fps} fps",
        output_seconds=count * scale.image_seconds,
        variants=variants,
        targets=[
            Target("at least 5x faster than the reference recipe", lambda s: speedup(s, "reference"), 5,
                   at_most=False),
            Target("smoother: the reference's mean jitter over the worker's, above 1",
                   lambda s: _smoother(s, JITTER_COLUMNS["mean_px"]), 1, at_most=False),
            Target("smoother: the reference's max jitter over the worker's, above 1",
                   lambda s: _smoother(s, JITTER_COLUMNS["max_px"]), 1, at_most=False),
            overhead_target(),
        ],
        assess=assess,
    )


def _smoother(summary: dict[str, Any], key: str) -> float:
    found = summary["quality"]
    return found[key]["reference"] / max(found[key]["worker"], 1e-6)


# start-up ---------------------------------------------------------------------------------------

STARTUP_TARGET_S = 0.2


def startup() -> Workload:
    def python(code: str) -> Callable[[Path], tuple[list[list[str]], list[Path]]]:
        return lambda _folder: ([[sys.executable, "-c", code]], [])

    variants = [
        command_variant("interpreter", "`python -c pass` (the interpreter alone, for scale)", python("pass")),
        command_variant("client", "`import video_ops.client`", python("import video_ops.client")),
        command_variant("worker", "`import video_ops.worker` (`handle_job` ready)", python("import video_ops.worker")),
        command_variant("handler", "`import handler` (handler.py's imports, RunPod SDK included; the loop not "
                                   "started)", python("import handler")),
    ]
    return Workload(
        name="startup",
        title="start-up: from process start to ready",
        output_seconds=None,
        variants=variants,
        targets=[
            Target(f"`import video_ops.client` under {STARTUP_TARGET_S} s",
                   lambda s: s["variants"]["client"]["wall_s"]["median"], STARTUP_TARGET_S, at_most=True),
            Target(f"process start to handler ready (`import handler`) under {STARTUP_TARGET_S} s",
                   lambda s: s["variants"]["handler"]["wall_s"]["median"], STARTUP_TARGET_S, at_most=True),
        ],
    )


def bench_env() -> dict[str, str]:
    """The worker runs with local storage (no bucket from this shell leaks in) and may read `file:` URLs;
    every process can import `bench`, `video_ops` and handler.py from the repository."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("BUCKET_", "RUNPOD_WEBHOOK_"))}
    env.update(PYTHONPATH=str(REPO), VIDEO_OPS_ALLOW_FILE_URLS="1", VIDEO_OPS_OUTPUT_DIR="output",
               VIDEO_OPS_WORKDIR="tmp", FFMPEG_BINARY=shutil.which("ffmpeg") or "ffmpeg")
    return env


# trilhasonora -----------------------------------------------------------------------------------


def trilhasonora(media: Media, scale: Scale) -> Workload:
    """Music under a narrated video: the worker copies the picture; the reference re-encoded it."""
    video, track = str(media.video), str(music(media))
    job = {"operation": "trilhasonora", "url_video": media.video.resolve().as_uri(),
           "trilha_sonora": Path(track).resolve().as_uri(), "output_filename": "trilha.mp4"}
    # The reference: music looped with a hard cut, lowered, amix (which halves both), picture re-encoded.
    reference = ["-i", video, "-stream_loop", "-1", "-i", track, "-filter_complex",
                 "[1:a]volume=-20dB[m];[0:a][m]amix=inputs=2:duration=first[a]", "-map", "0:v", "-map", "[a]",
                 *REFERENCE_X264_CAPPED, "-c:a", "aac"]
    variants = [
        worker_variant("worker: `trilhasonora`, automatic level (picture copied, loudness measured, limiter)", job,
                       ["trilha.mp4"], extra_work=(LOUDNESS_RUNS,)),
        replace(worker_variant("worker: `trilhasonora` with `ducking: true`", {**job, "ducking": True},
                               ["trilha.mp4"], extra_work=(LOUDNESS_RUNS,)), key="ducking"),
        command_variant("reference", "reference recipe: `-stream_loop -1` music, `volume`, `amix`, libx264 medium "
                                     "CRF 23 (maxrate 10M), AAC",
                        lambda f: ([[*FFMPEG, *reference, str(f / "out.mp4")]], [f / "out.mp4"])),
    ]

    def ducking_cost(summary: dict[str, Any]) -> float:
        found = summary["variants"]
        return found["ducking"]["wall_s"]["median"] / found["worker"]["wall_s"]["median"]

    return Workload(
        name="trilhasonora",
        title=f"trilhasonora: {scale.seconds:g} s {scale.size} {scale.video_fps} fps H.264+AAC video + "
              f"{MUSIC_SECONDS:g} s MP3 music",
        output_seconds=scale.seconds,
        variants=variants,
        targets=[
            Target("at least 20x faster than the reference's recipe", lambda s: speedup(s, "reference"), 20,
                   at_most=False),
            Target("ducking costs at most 1.5x the time without it", ducking_cost, 1.5, at_most=True),
        ],
    )


# concatenate and concat_video_audio -------------------------------------------------------------

SSIM_VS_TRUTH = "SSIM vs a near-lossless rendering of the same sequence"
REFERENCE_X264 = ["-c:v", "libx264", "-preset", "medium", "-crf", "23"]  # the reference worker's CPU settings
CYCLE_RATE = 30


def concatenate(media: Media, scale: Scale) -> Workload:
    clips = make_clip_media(media, scale)
    count, seconds = len(clips.same), scale.seconds / len(clips.same)

    def reference(folder: Path) -> tuple[list[list[str]], list[Path]]:
        listing = folder / "list.txt"
        listing.write_text("".join(f"file '{clip}'\n" for clip in clips.same))
        out = folder / "out.mp4"
        return [[*FFMPEG, "-f", "concat", "-safe", "0", "-i", str(listing), *REFERENCE_X264, "-c:a", "aac",
                 str(out)]], [out]

    return Workload(
        name="concatenate",
        title=f"concatenate: {count} matching {scale.size} 30 fps H.264+AAC clips of {seconds:g} s",
        output_seconds=scale.seconds,
        variants=[
            worker_variant("worker: `concatenate` (pictures copied, audio rebuilt to AAC)",
                           {"operation": "concatenate", "output_filename": "joined.mp4",
                            "video_urls": [{"video_url": clip.resolve().as_uri()} for clip in clips.same]},
                           ["joined.mp4"]),
            command_variant("reference", "reference recipe: concat demuxer, full re-encode (libx264 medium CRF 23, "
                                         "AAC)", reference),
        ],
        targets=[
            Target("at least 20x faster than the reference recipe", lambda s: speedup(s, "reference"), 20,
                   at_most=False),
            overhead_target(),
        ],
    )


def cycle_plan(seconds: list[float], total: float) -> list[tuple[int, float]]:
    """(clip, seconds) of each segment: the clips in a loop until `total`, the last one cut."""
    plan, left = [], total
    while left > 1e-6:
        clip = len(plan) % len(seconds)
        plan.append((clip, min(seconds[clip], left)))
        left -= plan[-1][1]
    return plan


def concat_video_audio(media: Media, scale: Scale) -> Workload:
    clips = make_clip_media(media, scale)
    plan = cycle_plan(clips.mixed_seconds, scale.seconds)
    normalise = (f"scale={scale.width}:{scale.height}:force_original_aspect_ratio=decrease,"
                 f"pad={scale.width}:{scale.height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={CYCLE_RATE}")

    def per_use(x264: list[str]) -> Callable[[Path], tuple[list[list[str]], list[Path]]]:
        """The reference's recipe: each segment normalised as it comes, one after another, then a copy-join."""
        def build(folder: Path) -> tuple[list[list[str]], list[Path]]:
            segments = [folder / f"segment_{n}.mp4" for n in range(len(plan))]
            commands = [[*FFMPEG, "-i", str(clips.mixed[clip]), "-t", f"{length:g}", "-vf", normalise, *x264,
                         "-pix_fmt", "yuv420p", "-an", str(segment)]
                        for (clip, length), segment in zip(plan, segments, strict=True)]
            listing = folder / "list.txt"
            listing.write_text("".join(f"file '{segment}'\n" for segment in segments))
            out = folder / "out.mp4"
            commands.append([*FFMPEG, "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(clips.narration),
                             "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", str(out)])
            return commands, [out]

        return build

    def assess(runs: dict[str, Run], scratch: Path) -> dict[str, Any]:
        """Both outputs against the same sequence rendered near-losslessly (x264 CRF 8)."""
        folder = scratch / "truth"
        folder.mkdir()
        commands, (truth,) = per_use(["-c:v", "libx264", "-preset", "ultrafast", "-crf", "8"])(folder)
        for command in commands:
            subprocess.run(command, cwd=folder, check=True, capture_output=True)
        return {SSIM_VS_TRUTH: {key: quality.ssim(run.outputs[0], truth) for key, run in runs.items()}}

    def better_or_equal(summary: dict[str, Any]) -> float:
        found = summary["quality"][SSIM_VS_TRUTH]
        return found["worker"] - found["reference"]

    return Workload(
        name="concat_video_audio",
        title=f"concat_video_audio: 4 mixed clips (landscape 30 fps, portrait, 25 fps, 10-bit 24 fps) cycled under "
              f"{scale.seconds:g} s of MP3 narration, {len(plan)} segments, to {scale.size} {CYCLE_RATE} fps",
        output_seconds=scale.seconds,
        variants=[
            worker_variant("worker: `concat_video_audio` (each distinct clip normalised once, in parallel, then a "
                           "copy-join; the MP3 carried as it is)",
                           {"operation": "concat_video_audio", "output_filename": "cycled.mp4",
                            "video_urls": [clip.resolve().as_uri() for clip in clips.mixed],
                            "audio_url": clips.narration.resolve().as_uri(), "width": scale.width,
                            "height": scale.height, "frame_rate": CYCLE_RATE},
                           ["cycled.mp4"]),
            command_variant("reference", f"reference recipe: each of the {len(plan)} segments normalised as it "
                                         "comes (scale+pad+fps, libx264 medium CRF 23), one after another, then a "
                                         "copy-join with the narration as AAC", per_use(REFERENCE_X264)),
        ],
        targets=[
            Target("at least 2x faster than the reference recipe", lambda s: speedup(s, "reference"), 2,
                   at_most=False),
            Target("equal or better SSIM: the worker's minus the reference's, at least 0", better_or_equal, 0,
                   at_most=False),
            overhead_target(),
        ],
        assess=assess,
    )


# caption_segments --------------------------------------------------------------------------------


def caption_segments(media: Media, scale: Scale, encoder: Encoder) -> Workload:
    """The reference's styled captions at its default style: against its own script burned with the
    worker's encoder settings (what the script costs), and with its own encoder settings (what callers ran)."""
    reference_ass = media.folder / "segments_reference.ass"
    segments.write_reference_ass(reference_ass, media.srt)
    same_settings = " ".join(encoder.video_args())

    def burn(extra: list[str]) -> Callable[[Path], tuple[list[list[str]], list[Path]]]:
        def build(folder: Path) -> tuple[list[list[str]], list[Path]]:
            shutil.copyfile(reference_ass, folder / "reference.ass")
            out = folder / "out.mp4"
            return [[*FFMPEG, "-i", str(media.video), "-vf", "ass=reference.ass", *extra, "-c:a", "copy",
                     str(out)]], [out]

        return build

    return Workload(
        name="caption_segments",
        title=f"caption_segments: {scale.seconds:g} s {scale.size} video + {scale.cues} cues, the reference's "
              "default style",
        output_seconds=scale.seconds,
        variants=[
            worker_variant(f"worker: `caption_segments`, the reference's default style ({same_settings}, audio "
                           "copied)",
                           {"operation": "caption_segments", "url_video": media.video.resolve().as_uri(),
                            "url_srt": media.srt.resolve().as_uri(), "output_filename": "segments.mp4"},
                           ["segments.mp4"]),
            command_variant("same-settings", "same-settings: the reference's ASS script through "
                                             f"`ffmpeg -vf ass=... {same_settings} -c:a copy`",
                            burn(encoder.video_args())),
            command_variant("reference", "reference recipe: its ASS script through `ffmpeg -vf ass=...` with "
                                         "libx264 medium CRF 23 (maxrate 10M), audio copied",
                            burn(REFERENCE_X264_CAPPED)),
        ],
        targets=[
            Target("within 1.10x of the reference's script burned with the same encoder settings",
                   lambda s: ratio(s, "same-settings"), 1.10, at_most=True),
            Target("at least 1.8x faster than the reference's recipe", lambda s: speedup(s, "reference"), 1.8,
                   at_most=False),
            overhead_target(),
        ],
    )


# caption_highlight -------------------------------------------------------------------------------

HIGHLIGHT_WORDS = 150
HIGHLIGHT_STYLE = {"fonte": "Roboto Black", "tamanho_fonte": 72, "padding_horizontal": 40, "padding_vertical": 20}


def caption_highlight(media: Media, scale: Scale, encoder: Encoder) -> Workload:
    """Word-by-word captions against `caption` with the same captions and look, and the reference's recipe."""
    spoken = highlight.words(scale, HIGHLIGHT_WORDS)
    words_json, srt, reference_ass = (media.folder / name for name in ("words.json", "highlight.srt", "reference.ass"))
    highlight.write_words(words_json, spoken)
    highlight.write_srt(srt, spoken)
    highlight.write_reference_ass(reference_ass, spoken)
    same_settings = " ".join(encoder.video_args())
    video = media.video.resolve().as_uri()
    as_caption = replace(worker_variant(
        "caption: `caption` on the same captions, Roboto Black 72 on a translucent box (one cue per caption)",
        {"operation": "caption", "url_video": video, "url_srt": srt.resolve().as_uri(), "output_filename": "c.mp4",
         "style": {"font": {"name": "Roboto Black", "size": 72}, "border": {"style": "box", "width": 20},
                   "colors": {"background": "#00000080"}}}, ["c.mp4"]), key="caption", role="baseline")

    def reference(folder: Path) -> tuple[list[list[str]], list[Path]]:
        shutil.copyfile(reference_ass, folder / "reference.ass")
        out = folder / "out.mp4"
        return [[*FFMPEG, "-i", str(media.video), "-vf", "ass=reference.ass", *encoder.video_args(), "-c:a", "copy",
                 str(out)]], [out]

    return Workload(
        name="caption_highlight",
        title=f"caption_highlight: {scale.seconds:g} s {scale.size} video + {HIGHLIGHT_WORDS} words",
        output_seconds=scale.seconds,
        variants=[
            worker_variant(f"worker: `caption_highlight`, box mode ({same_settings}, audio copied)",
                           {"operation": "caption_highlight", "url_video": video,
                            "url_words_json": words_json.resolve().as_uri(), "output_filename": "h.mp4",
                            "style": HIGHLIGHT_STYLE}, ["h.mp4"]),
            as_caption,
            command_variant("reference", "reference: its ASS recipe (per word the whole caption twice, two layers) "
                                         f"through `ffmpeg -vf ass=... {same_settings} -c:a copy`", reference),
        ],
        targets=[
            Target("within 1.15x of `caption` on the same video and captions", lambda s: ratio(s, "caption"), 1.15,
                   at_most=True),
            overhead_target(),
        ],
    )
