"""The render bench: one `render` job against the same video made by chaining this worker's own single
operations (img2vid -> concatenate -> addaudio -> caption_highlight -> trilhasonora), both with local
storage, and both compared with a lossless rendering of the same timeline.

`python -m bench.render JOB.json`: runs a render job with a lossless encoder (x264 `-qp 0`), the
reference the two outputs are measured against.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import highlight, quality
from .media import Media, Scale, ffmpeg, music
from .workloads import (
    LOUDNESS_RUNS,
    OUTPUT_PREFIX,
    Run,
    Target,
    Workload,
    bench_env,
    command_variant,
    overhead_target,
    speedup,
    worker_variant,
)

SIZE = (1080, 1920)  # vertical, as short videos are
RATE = 30
MOTIONS = ["zoomin", "panright", None, "zoomout", "panleft", "pandown"]  # None: the video clip's scene
WORDS = 150
LOSSLESS = ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"]
SSIM_VS_LOSSLESS = "SSIM vs a lossless rendering of the same timeline"


def scene_seconds(scale: Scale) -> float:
    return round(scale.seconds / len(MOTIONS), 3)


def size(scale: Scale) -> tuple[int, int]:
    """1080x1920 at full scale; the quick scale's height as the width, so it stays vertical."""
    return SIZE if scale.name == "full" else (scale.height, scale.width)


def inputs(media: Media, scale: Scale) -> dict[str, Path]:
    """The clip (the bench video's first sixth), the words, the music: made once beside the other inputs."""
    clip, words = media.folder / "render_clip.mp4", media.folder / "render_words.json"
    if not clip.exists():
        ffmpeg("-i", str(media.video), "-t", f"{scene_seconds(scale):g}", "-c:v", "libx264", "-preset", "veryfast",
               "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip))
    highlight.write_words(words, highlight.words(scale, WORDS))
    return {"clip": clip, "words": words, "music": music(media), "narration": media.audio}


def render_job(media: Media, scale: Scale, files: dict[str, Path]) -> dict[str, Any]:
    seconds = scene_seconds(scale)
    images = iter(media.images * len(MOTIONS))
    scenes: list[dict[str, Any]] = []
    for motion in MOTIONS:
        if motion is None:
            scenes.append({"video_url": files["clip"].resolve().as_uri(), "fit": "cover"})
        else:
            scenes.append({"image_url": next(images).resolve().as_uri(), "duration": seconds, "motion": motion})
    width, height = size(scale)
    return {"operation": "render", "output_filename": "render.mp4", "width": width, "height": height,
            "frame_rate": RATE, "scenes": scenes, "narration": {"url": files["narration"].resolve().as_uri()},
            "music": {"url": files["music"].resolve().as_uri(), "ducking": True},
            "captions": {"words_url": files["words"].resolve().as_uri(), "highlight_mode": "box"}}


def chain_jobs(media: Media, scale: Scale, files: dict[str, Path]) -> list[dict[str, Any]]:
    """The same video as five jobs, each reading the one before's output from the local output folder."""
    seconds = scene_seconds(scale)
    width, height = size(scale)
    images = media.images * len(MOTIONS)
    stills = [motion for motion in MOTIONS if motion is not None]

    def made(name: str) -> str:
        return f"file:output/{OUTPUT_PREFIX}/{name}"

    clips = [made(f"video_{n + 1}.mp4") for n in range(len(stills))]
    clips.insert(MOTIONS.index(None), files["clip"].resolve().as_uri())
    return [
        {"operation": "img2vid", "width": width, "height": height, "frame_rate": RATE, "zoom_types": stills,
         "images": [{"id": f"scene{n}", "image_url": images[n].resolve().as_uri(), "duracao": seconds}
                    for n in range(len(stills))]},
        {"operation": "concatenate", "video_urls": clips, "width": width, "height": height, "frame_rate": RATE,
         "fit": "cover", "output_filename": "joined.mp4"},
        {"operation": "addaudio", "url_video": made("joined.mp4"), "url_audio": files["narration"].resolve().as_uri(),
         "output_filename": "narrated.mp4"},
        {"operation": "caption_highlight", "url_video": made("narrated.mp4"),
         "url_words_json": files["words"].resolve().as_uri(), "output_filename": "captioned.mp4"},
        {"operation": "trilhasonora", "url_video": made("captioned.mp4"),
         "trilha_sonora": files["music"].resolve().as_uri(), "ducking": True, "output_filename": "chain.mp4"},
    ]


def render(media: Media, scale: Scale) -> Workload:
    files = inputs(media, scale)
    job = render_job(media, scale, files)
    chain = chain_jobs(media, scale, files)

    def chained(folder: Path) -> tuple[list[list[str]], list[Path]]:
        commands = []
        for n, step in enumerate(chain):
            path = folder / f"chain_{n}.json"
            path.write_text(json.dumps({"id": f"chain{n}", "input": {**step, "path": OUTPUT_PREFIX}}))
            commands.append([sys.executable, "-m", "bench.jobrun", str(path), str(folder / f"chain_{n}.report.json")])
        return commands, [folder / "output" / OUTPUT_PREFIX / "chain.mp4"]

    def assess(runs: dict[str, Run], scratch: Path) -> dict[str, Any]:
        reference = lossless_rendering(job, scratch / "render-lossless")
        found = {key: quality.ssim(run.outputs[0], reference) for key, run in runs.items()}
        return {SSIM_VS_LOSSLESS: found}

    width, height = size(scale)
    return Workload(
        name="render",
        title=f"render: {scale.seconds:g} s at {width}x{height} {RATE} fps, 5 images with camera moves and a clip, "
              f"narration, music ducked under it, {WORDS} words boxed",
        output_seconds=scale.seconds,
        variants=[
            worker_variant("worker: one `render` job (one encode)", job, ["render.mp4"], extra_work=(LOUDNESS_RUNS,)),
            command_variant("chain", "this worker's single operations chained: img2vid -> concatenate -> addaudio "
                                     "-> caption_highlight -> trilhasonora (five jobs, local storage)", chained),
        ],
        targets=[
            Target("at least 2x faster than the chain of single operations", lambda s: speedup(s, "chain"), 2,
                   at_most=False),
            Target("SSIM vs the lossless timeline above the chain's (render minus chain)",
                   lambda s: _ssim_margin(s), 0.0, at_most=False),
            overhead_target(),
        ],
        assess=assess,
    )


def _ssim_margin(summary: dict[str, Any]) -> float | None:
    found = summary.get("quality", {}).get(SSIM_VS_LOSSLESS)
    return None if not found else round(found["worker"] - found["chain"], 4)


def lossless_rendering(job: dict[str, Any], folder: Path) -> Path:
    """The render job again, with x264 lossless: what both outputs would be with no loss to encoding."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "job.json"
    path.write_text(json.dumps({"id": "lossless", "input": {**job, "path": OUTPUT_PREFIX,
                                                             "output_filename": "lossless.mp4"}}))
    subprocess.run([sys.executable, "-m", "bench.render", str(path)], cwd=folder, env=bench_env(), check=True)
    return folder / "output" / OUTPUT_PREFIX / "lossless.mp4"


def main(argv: list[str]) -> int:
    from video_ops.media.encoders import Encoder
    from video_ops.worker import handle_job

    Encoder.video_args = lambda self, camera_move=False: list(LOSSLESS)  # type: ignore[method-assign]
    result = asyncio.run(handle_job(json.loads(Path(argv[0]).read_text())))
    if "error" in result:
        print(result["error"], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

