#!/usr/bin/env python3
"""What this machine's GPU does for video-ops: the GPU, whether NVENC and NVDEC work, the encoder the
worker picks and why, and how fast caption- and img2vid-like jobs run with each encoder available.

Standard library only, offline, safe where FFmpeg or the GPU is missing (it says so and goes on).
Run it from the repository (`python3 bench/gpu_check.py`) or in the worker image
(`docker run --rm --gpus all IMAGE python bench/gpu_check.py`); the worker's own probe and encoder
settings come from `video_ops`, which imports without the worker's dependencies.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
try:
    from video_ops.media import encoders, gpu_probe
except ImportError as err:  # the script was copied on its own: say what is lost, measure what is left
    encoders = gpu_probe = None
    IMPORT_ERROR = f"{err.__class__.__name__}: {err}"
else:
    IMPORT_ERROR = ""

RATE = 25
SIZE = "1920x1080"
QUALITY_SOURCES = {
    "clean graphics": f"testsrc2=size={SIZE}:rate={RATE}",
    "grainy": f"testsrc2=size={SIZE}:rate={RATE},noise=alls=10:allf=t+u",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each 1080p test clip (default 10)")
    parser.add_argument("--no-bench", action="store_true", help="only the checks, no throughput or SSIM runs")
    args = parser.parse_args()

    heading("Machine")
    print(f"GPU (name, driver, memory): {describe_gpu()}")
    ffmpeg = ffmpeg_version()
    print(f"FFmpeg:         {ffmpeg or 'not found on PATH: install FFmpeg (the worker image has one with NVENC)'}")
    available = set()
    if ffmpeg:
        available = build_features()
        wanted = ["h264_nvenc", "hevc_nvenc", "libx264", "cuda hwaccel", "subtitles (libass)"]
        print("FFmpeg build:   " + ", ".join(f"{name} {'yes' if name in available else 'NO'}" for name in wanted))

    heading("NVENC and NVDEC")
    nvenc_ok = nvdec_ok = False
    if gpu_probe is None:
        print(f"video_ops is not importable ({IMPORT_ERROR}), so the worker's probe cannot run here;")
        print("run this script from the repository or inside the worker image to see it.")
        nvenc_ok = "h264_nvenc" in available  # tried below; a failure shows in its row
    else:
        nvenc = encoders.nvenc_status()
        nvdec = encoders.nvdec_status()
        nvenc_ok, nvdec_ok = nvenc.ok, nvdec.ok
        print(f"NVENC (h264_nvenc, the worker's settings): {verdict(nvenc)}")
        print(f"NVDEC (-hwaccel cuda, frames kept on the GPU): {verdict(nvdec)}")

        heading("The worker's choice")
        modes = [f"{name}={os.environ.get(name, 'auto')}" for name in ("VIDEO_OPS_ENCODER", "VIDEO_OPS_DECODER")]
        print(f"settings: {', '.join(modes)}")
        try:
            chosen = encoders.current_encoder()
        except encoders.EncoderUnavailable as err:
            print(f"startup error (the RunPod fitness check fails): {err}")
        else:
            fallback = f" (fallback: {chosen.fallback_reason})" if chosen.fallback_reason else ""
            print(f"encoder: {chosen.name}{fallback}")
            print(f"decoding: {'NVDEC for large H.264/HEVC/VP9 inputs' if chosen.hwdec else 'CPU'}")

    if args.no_bench or not ffmpeg:
        return 0
    usable = {"h264_nvenc": nvenc_ok, "libx264": True}
    candidates = [name for name in ("h264_nvenc", "libx264") if name in available and usable[name]]
    if not candidates:
        print("\nNo usable H.264 encoder in this FFmpeg: nothing to measure.")
        return 0
    with tempfile.TemporaryDirectory(prefix="video-ops-gpu-check-") as folder:
        work = Path(folder)
        throughput(work, candidates, nvdec_ok, args.seconds)
        quality(work, candidates, min(args.seconds, 4.0))
    return 0


def heading(title: str) -> None:
    print(f"\n== {title}")


def verdict(result: gpu_probe.ProbeResult) -> str:
    return "works" if result.ok else f"does not work: {result.reason}"


def describe_gpu() -> str:
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"none visible (nvidia-smi: {err.__class__.__name__})"
    if done.returncode != 0:
        return f"none visible (nvidia-smi: {last_line(done.stdout + done.stderr)})"
    gpus = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return "; ".join(gpus) or "none listed by nvidia-smi"


def ffmpeg_version() -> str | None:
    if shutil.which("ffmpeg") is None:
        return None
    done = subprocess.run(["ffmpeg", "-hide_banner", "-version"], capture_output=True, text=True, check=False)
    return done.stdout.splitlines()[0] if done.stdout else "present (version unknown)"


def build_features() -> set[str]:
    def listing(flag: str) -> str:
        return subprocess.run(["ffmpeg", "-hide_banner", flag], capture_output=True, text=True, check=False).stdout

    codecs = set(re.findall(r"^\s*V\S*\s+(\S+)", listing("-encoders"), re.MULTILINE))
    found = {name for name in ("h264_nvenc", "hevc_nvenc", "libx264") if name in codecs}
    if "cuda" in listing("-hwaccels").split():
        found.add("cuda hwaccel")
    if re.search(r"^\s*\S+\s+subtitles\s", listing("-filters"), re.MULTILINE):
        found.add("subtitles (libass)")
    return found


def video_args(name: str) -> list[str]:
    """The worker's settings for this encoder, or plain ones when video_ops is not importable."""
    if encoders is not None:
        return encoders.Encoder(name).video_args()
    return ["-c:v", name, "-pix_fmt", "yuv420p"]


def run(args: list[str], cwd: Path) -> tuple[float, str | None]:
    """Wall seconds of one FFmpeg run, and its first error line (where FFmpeg names the cause) when it failed."""
    started = time.monotonic()
    done = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)
    return time.monotonic() - started, (first_line(done.stderr) if done.returncode else None)


def throughput(work: Path, candidates: list[str], nvdec_ok: bool, seconds: float) -> None:
    heading(f"Throughput: frames per second, {SIZE} at {RATE} fps, {seconds:g} s clips")
    _, failed = run(["-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate={RATE}", "-t", f"{seconds}", "-c:v", "libx264",
                     "-preset", "ultrafast", "-pix_fmt", "yuv420p", "source.mp4"], work)
    _, failed_still = run(["-f", "lavfi", "-i", f"testsrc2=size={SIZE}", "-frames:v", "1", "still.png"], work)
    (work / "subs.srt").write_text("".join(
        f"{n + 1}\n00:00:{n:02d},000 --> 00:00:{n:02d},900\nCaption line {n + 1}, as a caption job burns it\n\n"
        for n in range(int(seconds))), encoding="utf-8")
    run(["-f", "lavfi", "-i", "color=size=64x64:duration=0.2", "-vf", "subtitles=subs.srt", "-f", "null", "-"],
        work)  # warm-up: libass's first use builds the font cache, which is no part of a job's speed
    frames = round(seconds * RATE)
    print(f"{'job':<44} {'encoder':<11} {'fps':>7}")
    for name in candidates:
        decoders = [("CPU decode", [])] + ([("NVDEC decode", ["-hwaccel", "cuda"])] if nvdec_ok else [])
        for label, decode in decoders:
            if failed:
                report(f"caption (libass burn-in), {label}", name, 0, frames, f"no source clip: {failed}")
                continue
            took, error = run([*decode, "-i", "source.mp4", "-vf", "subtitles=subs.srt", *video_args(name), "-an",
                               f"caption-{name}.mp4"], work)
            report(f"caption (libass burn-in), {label}", name, took, frames, error)
        took, error = run(["-framerate", "1", "-loop", "1", "-i", "still.png", "-vf",
                           f"scale={SIZE.replace('x', ':')},format=yuv420p,fps={RATE}", "-t", f"{seconds}",
                           *video_args(name), f"img2vid-{name}.mp4"], work) if not failed_still else (0, failed_still)
        report("img2vid (still image to clip)", name, took, frames, error)


def report(job: str, encoder: str, took: float, frames: int, error: str | None) -> None:
    print(f"{job:<44} {encoder:<11} {'failed: ' + error if error else f'{frames / took:7.1f}'}")


def quality(work: Path, candidates: list[str], seconds: float) -> None:
    heading(f"Quality: SSIM against the lossless source, {SIZE}, {seconds:g} s")
    print(f"{'source':<16} {'encoder':<11} {'SSIM':>8} {'Mb/s':>7}")
    for label, source in QUALITY_SOURCES.items():
        for name in candidates:
            out = work / f"quality-{name}.mp4"
            _, error = run(["-f", "lavfi", "-i", source, "-t", f"{seconds}", *video_args(name), out.name], work)
            score = None if error else ssim(work, out.name, source, seconds)
            if error or score is None:
                print(f"{label:<16} {name:<11} failed: {error or 'no SSIM in the output'}")
                continue
            rate = out.stat().st_size * 8 / seconds / 1e6
            print(f"{label:<16} {name:<11} {score:8.4f} {rate:7.2f}")


def ssim(work: Path, encoded: str, source: str, seconds: float) -> float | None:
    done = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", encoded, "-f", "lavfi", "-i", source, "-t",
                           f"{seconds}", "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"], cwd=work,
                          capture_output=True, text=True, check=False)
    found = re.search(r"All:([0-9.]+)", done.stderr)
    return float(found.group(1)) if found else None


def first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "no message")
    return re.sub(r" @ 0x[0-9a-f]+\]", "]", line)[:200]


def last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "no message")[:200]


if __name__ == "__main__":
    sys.exit(main())
