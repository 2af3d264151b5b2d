"""The split render bench: the render workload's video made as one `render` job, and as the split the
gateway and the client make of it (a plan, the sound and parts of a third of it, a join), each job a
fresh worker process run one after another, as RunPod's workers would run them side by side.

Measured against the unsplit render of the same run, job against job (each job's own time in a warm
worker, as the render workload measures it): the join's wall time (it copies the parts' pictures and
the sound) and the CPU time of the sound job and the parts summed (what splitting costs in all).
The plan job, and for the join the jobs it joins, run while the variant is prepared, unmeasured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from video_ops.client.render_split import RenderSplit, cut, join_input, part_input, sound_input

from . import gateway, render
from .media import FULL, Media, Scale, make_media
from .workloads import LOUDNESS_RUNS, OUTPUT_PREFIX, Run, Target, Variant, Workload, bench_env, worker_variant

PARTS = 3


def _job_command(folder: Path, name: str, job_input: dict[str, Any]) -> list[str]:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"id": name, "input": {**job_input, "path": OUTPUT_PREFIX}}))
    return [sys.executable, "-m", "bench.jobrun", str(path), str(folder / f"{name}.report.json"), LOUDNESS_RUNS]


def _run_now(folder: Path, name: str, job_input: dict[str, Any]) -> dict[str, Any]:
    """A job run while preparing (not measured); its result."""
    subprocess.run(_job_command(folder, name, job_input), cwd=folder, env=bench_env(), check=True)
    result = json.loads((folder / f"{name}.report.json").read_text())["result"]
    if "error" in result:
        raise RuntimeError(f"{name}: {result['error']}")
    return result


def _beside(folder: Path, split: RenderSplit) -> list[dict[str, Any]]:
    """What runs side by side after the plan: the sound job, then the parts."""
    plan = _run_now(folder, "plan", split.plan_input())
    parts = [part_input(split.job_input, frames, k) for k, frames in enumerate(cut(plan, split.seconds))]
    return [sound_input(split.job_input), *parts]


def render_split(media: Media, scale: Scale) -> Workload:
    files = render.inputs(media, scale)
    job = render.render_job(media, scale, files)
    split = RenderSplit.start(job, scale.seconds / PARTS, "bench")

    def parts(folder: Path) -> Run:
        inputs = _beside(folder, split)
        commands = [_job_command(folder, f"job{k}", one) for k, one in enumerate(inputs)]
        return Run(commands=commands, outputs=[],
                   job_reports=tuple(folder / f"job{k}.report.json" for k in range(len(inputs))))

    def join(folder: Path) -> Run:
        sound, *parts = [_run_now(folder, f"job{k}", one) for k, one in enumerate(_beside(folder, split))]
        command = _job_command(folder, "join", join_input(split.job_input, sound, parts))
        return Run(commands=[command], outputs=[folder / "output" / OUTPUT_PREFIX / "render.mp4"],
                   job_reports=(folder / "join.report.json",))

    width, height = render.size(scale)
    return Workload(
        name="render-split",
        title=f"render split across workers: the render workload's {scale.seconds:g} s at {width}x{height}, "
              f"as one job and as the sound, {PARTS} parts and a join",
        output_seconds=scale.seconds,
        variants=[
            worker_variant("worker: one `render` job, unsplit", job, ["render.mp4"], extra_work=(LOUDNESS_RUNS,)),
            Variant("parts", f"the sound (`render` with `sound_only`) and the {PARTS} parts (`render` with `part`), "
                    "one process each, one after another", "baseline", parts),
            Variant("join", "the join (`render` with `join`): the parts' pictures and the sound copied",
                    "baseline", join),
        ],
        targets=[
            Target("the join's wall time over the unsplit render's", lambda s: _share(s, "join", "wall_s"), 0.05,
                   at_most=True),
            Target("the sound's and the parts' CPU time, summed, over the unsplit render's",
                   lambda s: _share(s, "parts", "cpu_s"),
                   1.10, at_most=True),
        ],
    )


def _share(summary: dict[str, Any], key: str, stat: str) -> float | None:
    variants = summary["variants"]
    if key not in variants:
        return None
    return round(variants[key][stat]["median"] / variants["worker"][stat]["median"], 4)


def through_gateway(media: Media, scale: Scale, workers: int) -> dict[str, Any]:
    """The same render through a running gateway on `workers` local workers: sent whole, then split into
    parts of a third of it; seconds from submit to COMPLETED for each."""
    job = {key: value for key, value in render.render_job(media, scale, render.inputs(media, scale)).items()
           if key != "operation"}
    walls = {}
    for name, seconds in (("unsplit", 0.0), ("split", scale.seconds / PARTS)):
        with tempfile.TemporaryDirectory(prefix="render-split-gateway-") as scratch:
            running = gateway.RunningGateway(Path(scratch), workers, VIDEO_OPS_SPLIT_RENDER_SECONDS=f"{seconds:g}")
            try:
                walls[name] = _wall_until_completed(running, job)
            finally:
                running.stop()
    return {"workers": workers, "parts": PARTS, **{f"{name}_wall_s": round(wall, 2) for name, wall in walls.items()},
            "speedup": round(walls["unsplit"] / walls["split"], 2)}


def _wall_until_completed(running: gateway.RunningGateway, job: dict[str, Any]) -> float:
    headers = {"X-API-Key": gateway.KEY}
    started = time.monotonic()
    job_id = requests.post(f"{running.url}/video/render/async", json=job, headers=headers, timeout=30).json()["jobId"]
    while (status := requests.get(f"{running.url}/video/job/{job_id}", headers=headers, timeout=30).json())[
            "status"] in ("IN_QUEUE", "IN_PROGRESS"):
        time.sleep(0.2)
    if status["status"] != "COMPLETED":
        raise RuntimeError(f"the render ended {status['status']}: {status.get('error')}")
    return time.monotonic() - started


def main(argv: list[str]) -> int:
    """`python -m bench.render_split WORK_FOLDER [WORKERS]`: the full-scale render through the gateway, whole
    and split, printed as JSON (the inputs are made in WORK_FOLDER, or reused from a bench run there)."""
    folder = Path(argv[0]).resolve()
    media = make_media(folder, FULL)
    print(json.dumps(through_gateway(media, FULL, int(argv[1]) if len(argv) > 1 else 2)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
