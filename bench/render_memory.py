"""`python -m bench.render_memory [--scenes 150] [--seconds 600]`: a long render's peak memory.

Runs one `render` job (1080x1920, 30 fps, the scenes cycling through images with camera moves and a
clip, fades, narration, ducked music, boxed words) in a fresh worker process and samples, twice a
second, the resident memory of that process and all its children (the encoder and the clip
decoders) added up. Prints the peak and the job's time as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from . import highlight
from .media import FULL, Scale, ffmpeg, make_media, music
from .workloads import REPO, bench_env

MOTIONS = ["zoomin", "panright", "zoomout", "panleft", "pandown", None]


def tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and every process below it, in MiB (read from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            pages = int(Path(f"/proc/{entry}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def job(folder: Path, scenes: int, seconds: float) -> dict:
    media = make_media(folder, FULL)
    clip = folder / "memory_clip.mp4"
    if not clip.exists():
        ffmpeg("-i", str(media.video), "-t", "8", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
               "-c:a", "aac", str(clip))
    narration = folder / "memory_narration.mp3"
    if not narration.exists():
        ffmpeg("-stream_loop", "-1", "-i", str(media.audio), "-t", f"{seconds:g}", "-c:a", "libmp3lame",
               str(narration))
    words = folder / "memory_words.json"
    long = Scale("memory", 1920, 1080, 30, seconds, 1, 1.0, 24, 1)
    highlight.write_words(words, highlight.words(long, int(seconds * 2.5)))
    each = seconds / scenes
    shots = []
    for n in range(scenes):
        motion = MOTIONS[n % len(MOTIONS)]
        if motion is None:
            shots.append({"video_url": clip.resolve().as_uri(), "duration": each, "fit": "cover"})
        else:
            image = media.images[n % len(media.images)]
            shots.append({"image_url": image.resolve().as_uri(), "duration": each, "motion": motion})
    return {"id": "memory", "input": {
        "operation": "render", "path": "bench", "output_filename": "long.mp4", "width": 1080, "height": 1920,
        "frame_rate": 30, "scenes": shots, "transition": {"type": "fade", "duration": 0.4},
        "narration": {"url": narration.resolve().as_uri()}, "fit_to_narration": True,
        "music": {"url": music(media).resolve().as_uri(), "ducking": True},
        "captions": {"words_url": words.resolve().as_uri(), "highlight_mode": "box"}}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.render_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    spec = args.work / "memory_job.json"
    spec.write_text(json.dumps(job(args.work, args.scenes, args.seconds)))
    report = args.work / "memory_report.json"
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "bench.jobrun", str(spec), str(report)], cwd=args.work,
                               env=bench_env())
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, tree_rss_mb(process.pid))
        time.sleep(0.5)
    result = json.loads(report.read_text())["result"] if report.exists() else {}
    print(json.dumps({"scenes": args.scenes, "seconds": args.seconds, "peak_tree_rss_mb": round(peak, 1),
                      "wall_s": round(time.monotonic() - started, 1), "frames": result.get("frames"),
                      "error": result.get("error")}))
    return process.returncode


if __name__ == "__main__":
    raise SystemExit(main())
