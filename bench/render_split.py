"""The split render bench: the render workload's video made as one `render` job, and as the split the
gateway and the client make of it (a plan, parts of a third of it, a join), each job a fresh worker
process run one after another, as RunPod's workers would run them side by side.

Measured against the unsplit render of the same run, job against job (each job's own time in a warm
worker, as the render workload measures it): the join's wall time (it copies the parts' pictures and
mixes the sound once) and the parts' CPU time summed (what splitting costs in all).
The plan job, and for the join the parts it joins, run while the variant is prepared, unmeasured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from video_ops.client.render_split import RenderSplit, cut, part_input

from . import render
from .media import Media, Scale
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


def _parts(folder: Path, split: RenderSplit) -> list[dict[str, Any]]:
    plan = _run_now(folder, "plan", split.plan_input())
    return [part_input(split.job_input, frames, k) for k, frames in enumerate(cut(plan, split.seconds))]


def render_split(media: Media, scale: Scale) -> Workload:
    files = render.inputs(media, scale)
    job = render.render_job(media, scale, files)
    split = RenderSplit.start(job, scale.seconds / PARTS, "bench")

    def parts(folder: Path) -> Run:
        inputs = _parts(folder, split)
        commands = [_job_command(folder, f"part{k}", one) for k, one in enumerate(inputs)]
        return Run(commands=commands, outputs=[],
                   job_reports=tuple(folder / f"part{k}.report.json" for k in range(len(inputs))))

    def join(folder: Path) -> Run:
        made = [_run_now(folder, f"part{k}", one)["video_url"] for k, one in enumerate(_parts(folder, split))]
        command = _job_command(folder, "join", {**split.job_input, "join": {"parts": made}})
        return Run(commands=[command], outputs=[folder / "output" / OUTPUT_PREFIX / "render.mp4"],
                   job_reports=(folder / "join.report.json",))

    width, height = render.size(scale)
    return Workload(
        name="render-split",
        title=f"render split across workers: the render workload's {scale.seconds:g} s at {width}x{height}, "
              f"as one job and as {PARTS} parts and a join",
        output_seconds=scale.seconds,
        variants=[
            worker_variant("worker: one `render` job, unsplit", job, ["render.mp4"], extra_work=(LOUDNESS_RUNS,)),
            Variant("parts", f"the {PARTS} parts (`render` with `part`), one process each, one after another",
                    "baseline", parts),
            Variant("join", "the join (`render` with `join`): the parts' pictures copied, the sound mixed once",
                    "baseline", join),
        ],
        targets=[
            Target("the join's wall time over the unsplit render's", lambda s: _share(s, "join", "wall_s"), 0.05,
                   at_most=True),
            Target("the parts' CPU time, summed, over the unsplit render's", lambda s: _share(s, "parts", "cpu_s"),
                   1.10, at_most=True),
        ],
    )


def _share(summary: dict[str, Any], key: str, stat: str) -> float | None:
    variants = summary["variants"]
    if key not in variants:
        return None
    return round(variants[key][stat]["median"] / variants["worker"][stat]["median"], 4)
