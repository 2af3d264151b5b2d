"""`python -m bench`: make the inputs, run every workload and its baselines alternately, write the results.

Each repetition runs every workload's variants in a rotated order (the worker first in one
repetition, a baseline first in the next), so a change of load on the machine hits all of them alike.
Quality (SSIM, smoothness) is measured once, untimed, on the first repetition's outputs.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from video_ops.media.encoders import current_encoder
from video_ops.ops import OPERATIONS

from . import audio, compose, convert, editing, gateway, render, render_split, report, stills, transcribe, workloads
from .measure import measure
from .media import FULL, QUICK, Media, Scale, make_media
from .workloads import REPO, Run, Workload, bench_env

NAMES = ("addaudio", "caption", "img2vid-still", "img2vid-zoomin", "startup", "trilhasonora", "concatenate",
         "concat_video_audio", "caption_segments", "caption_highlight", "render", "render-split", "transcribe",
         "audio_concatenate", "extract_audio", "frames", "probe", "convert", "trim", "cut", "remove_silence", "compose",
         "gateway")
GATEWAY_JOBS = 50  # the gateway's burst (bench/gateway.py); 5 with --quick


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, help="repetitions of every run (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny inputs (320x180, 2 s, 2 images): proves the bench runs, measures nothing useful")
    parser.add_argument("--only", help=f"comma-separated workloads among {', '.join(NAMES)} ('img2vid': both)")
    parser.add_argument("--no-moviepy", action="store_true", help="skip the moviepy runs even if it is installed")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for <date>.json")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md",
                        help="markdown page whose generated block is replaced")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work",
                        help="inputs (kept between runs) and scratch outputs")
    args = parser.parse_args(argv)
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    wanted = set(args.only.split(",")) if args.only else set(NAMES)
    unknown = {name for name in wanted if name not in NAMES and name != "img2vid"}
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(sorted(unknown))}; choose among {', '.join(NAMES)}")
    args.wanted = wanted
    args.arguments = " ".join(argv if argv is not None else sys.argv[1:])
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scale = QUICK if args.quick else FULL
    reps = args.reps or (1 if args.quick else 3)
    moviepy = None if args.no_moviepy else moviepy_version()
    chosen: list[Workload] = []
    skipped: dict[str, str] = {}
    if args.wanted - {"gateway"}:  # the gateway's burst runs the bundled samples: no inputs to make
        print(f"making the {scale.name} inputs in {args.work} (reused when present)", flush=True)
        media = make_media(args.work, scale)
        chosen, skipped = select(build(media, scale, moviepy), args.wanted)
    for name, why in skipped.items():
        print(f"skipped {name}: {why}", flush=True)
    machine = describe_machine()
    scratch = args.work / "runs"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    summaries = run_all(chosen, reps, scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    burst = run_gateway(args.quick) if "gateway" in args.wanted else None
    machine["load_after"] = os.getloadavg()[0]
    loads = [run["load_1min"] for summary in summaries for variant in summary["variants"].values()
             for run in variant["samples"]]
    machine["load_during"] = report.spread(loads) if loads else None
    today = datetime.date.today().isoformat()
    results = {
        "date": today,
        "machine": machine,
        "settings": {"reps": reps, "scale": scale.name, "moviepy": moviepy, "arguments": args.arguments,
                     "skipped": skipped},
        "workloads": summaries,
        "gateway": burst,
    }
    json_path = args.out / f"{today}.json"
    report.write_json(json_path, results)
    if summaries:  # a run of the gateway burst alone leaves the page's tables as they are
        report.write_doc(args.doc, results, json_path)
    print(f"wrote {json_path}" + (f" and {args.doc}" if summaries else ""), flush=True)
    return 0


def run_gateway(quick: bool) -> dict[str, Any]:
    """The gateway's burst and its split img2vid batch (bench/gateway.py): the numbers go to the JSON;
    docs/benchmarks.md quotes them."""
    jobs = 5 if quick else GATEWAY_JOBS
    print(f"gateway: {jobs} concurrent submits, 2 workers, every job polled until it ends", flush=True)
    burst = gateway.run(jobs, workers=2)
    print(f"[gateway] {json.dumps(burst)}", flush=True)
    images, split_size = (6, 2) if quick else (60, 20)
    print(f"gateway: a {images}-image still batch on 3 workers, unsplit then split by {split_size}", flush=True)
    burst["split"] = gateway.split_comparison(images, workers=3, split_size=split_size)
    print(f"[gateway split] {json.dumps(burst['split'])}", flush=True)
    print(f"gateway: the burst with its records in PostgreSQL; {gateway.LISTED_JOBS} stored jobs listed", flush=True)
    burst["databases"] = gateway.databases(jobs, workers=2)
    print(f"[gateway databases] {json.dumps(burst['databases'])}", flush=True)
    return burst


def build(media: Media, scale: Scale, moviepy: str | None) -> list[Workload]:
    encoder = current_encoder()
    return [
        workloads.addaudio(media, scale, moviepy is not None),
        workloads.caption(media, scale, encoder, moviepy_font() if moviepy else None),
        workloads.img2vid_still(media, scale, moviepy is not None),
        workloads.img2vid_zoomin(media, scale),
        workloads.startup(),
        workloads.trilhasonora(media, scale),
        workloads.concatenate(media, scale),
        workloads.concat_video_audio(media, scale),
        workloads.caption_segments(media, scale, encoder),
        workloads.caption_highlight(media, scale, encoder),
        render.render(media, scale),
        render_split.render_split(media, scale),
        transcribe.transcribe(media, scale),
        audio.audio_concatenate(media, scale),
        audio.extract_audio(media, scale),
        stills.frames(media, scale),
        stills.probe(media, scale),
        convert.convert(media, scale, encoder),
        compose.compose(media, scale, encoder),
        *editing.workloads(media, scale),
    ]


def select(candidates: list[Workload], wanted: set[str]) -> tuple[list[Workload], dict[str, str]]:
    """The workloads asked for whose operation this worker has."""
    chosen, skipped = [], {}
    for workload in candidates:
        if workload.name not in wanted and workload.name.split("-")[0] not in wanted:
            continue
        operation = workload.operation or workload.name.split("-")[0]
        if operation != "startup" and operation not in OPERATIONS:
            skipped[workload.name] = f"this worker has no '{operation}' operation"
            continue
        if workload.note:
            print(f"{workload.name}: {workload.note}", flush=True)
        chosen.append(workload)
    return chosen, skipped


def run_all(chosen: list[Workload], reps: int, scratch: Path) -> list[dict[str, Any]]:
    env = bench_env()
    warm_up(env, scratch)
    samples = {workload.name: {variant.key: [] for variant in workload.variants} for workload in chosen}
    found: dict[str, dict[str, Any]] = {workload.name: {} for workload in chosen}
    for rep in range(reps):
        for workload in chosen:
            shift = rep % len(workload.variants)
            runs: dict[str, Run] = {}
            for variant in workload.variants[shift:] + workload.variants[:shift]:
                folder = scratch / f"{workload.name}-{variant.key}-{rep + 1}"
                folder.mkdir()
                run = variant.prepare(folder)
                record = sample(run, folder, env)
                samples[workload.name][variant.key].append(record)
                runs[variant.key] = run
                print(f"[{rep + 1}/{reps}] {workload.name} {variant.key}: {record['wall_s']:.2f} s wall, "
                      f"{record['cpu_s']:.2f} s CPU, {record['peak_rss_mb']:.0f} MiB", flush=True)
            if rep == 0 and workload.assess is not None:
                found[workload.name] = workload.assess(runs, scratch)
                print(f"[quality] {workload.name}: {json.dumps(found[workload.name])}", flush=True)
            for variant in workload.variants:
                shutil.rmtree(scratch / f"{workload.name}-{variant.key}-{rep + 1}", ignore_errors=True)
    return [report.summarize(workload, samples[workload.name], found[workload.name]) for workload in chosen]


def sample(run: Run, folder: Path, env: dict[str, str]) -> dict[str, Any]:
    """One measured run; where the run's jobs report (`bench.jobrun`), wall and CPU time are the jobs' own."""
    load = os.getloadavg()[0]
    measured = measure(run.commands, cwd=folder, env=env)
    record: dict[str, Any] = {"wall_s": measured.wall_s, "cpu_s": measured.cpu_s,
                              "peak_rss_mb": measured.peak_rss_mb, "load_1min": load}
    if run.job_reports:
        jobs = [json.loads(path.read_text()) for path in run.job_reports]

        def total(key: str) -> float:
            return sum(job[key] for job in jobs)

        record.update(
            wall_s=total("job_wall_s"), cpu_s=total("job_cpu_s"), process_wall_s=measured.wall_s,
            process_cpu_s=measured.cpu_s, media_work_s=total("media_work_s"), overhead_s=total("overhead_s"),
            probe_s=total("probe_s"), ffmpeg_runs=total("ffmpeg_runs"), timings=jobs[0]["result"]["timings"],
            stages={name: sum(job["stages"][name] for job in jobs) for name in jobs[0]["stages"]},
        )
    return record


def warm_up(env: dict[str, str], scratch: Path) -> None:
    """Compile the bytecode and fill the page cache once, so the first timed run pays no more than the rest."""
    subprocess.run([sys.executable, "-c", "import handler, video_ops.client, video_ops.ops, bench.jobrun"],
                   cwd=scratch, env=env, check=True)


def moviepy_version() -> str | None:
    """moviepy 2.x when installed (it is never a dependency); 1.x has another API and is not run."""
    if importlib.util.find_spec("moviepy") is None:
        return None
    version = importlib.metadata.version("moviepy")
    return version if version.startswith("2.") else None


def moviepy_font() -> str | None:
    """moviepy's TextClip needs a font file; fontconfig's default sans-serif one, when fontconfig is here."""
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(["fc-match", "-f", "%{file}", "sans-serif"], capture_output=True, text=True).stdout
    return found if found and Path(found).is_file() else None


def describe_machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout
    encoder = current_encoder()
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": memory_kib / 2**20,
        "ffmpeg": ffmpeg.splitlines()[0].split(" Copyright")[0],
        "python": platform.python_version(),
        "kernel": platform.release(),
        "encoder": encoder.name + (f" ({encoder.fallback_reason})" if encoder.fallback_reason else ""),
        "load_before": os.getloadavg()[0],
    }
