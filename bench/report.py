"""From measured samples to the numbers a reader wants: medians and ranges, ratios to each baseline,
realtime factors, targets met or missed; written as JSON and as the tables of docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any

from .workloads import Workload

START = "<!-- bench:results:start (written by `python -m bench`; edit outside these markers) -->"
END = "<!-- bench:results:end -->"
_STATS = ("wall_s", "cpu_s", "peak_rss_mb", "overhead_s", "media_work_s", "probe_s", "process_wall_s")


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(workload: Workload, samples: dict[str, list[dict[str, Any]]], found: dict[str, Any]) -> dict[str, Any]:
    variants: dict[str, Any] = {}
    for variant in workload.variants:
        runs = samples[variant.key]
        entry: dict[str, Any] = {"label": variant.label, "role": variant.role, "samples": runs}
        for key in _STATS:
            if all(key in run for run in runs):
                entry[key] = spread([run[key] for run in runs])
        if runs and all(run.get("stages") for run in runs):
            entry["stages"] = {name: spread([run["stages"][name] for run in runs]) for name in runs[0]["stages"]}
        if workload.output_seconds:
            entry["realtime"] = workload.output_seconds / entry["wall_s"]["median"]
        variants[variant.key] = entry
    summary: dict[str, Any] = {"name": workload.name, "title": workload.title, "note": workload.note,
                               "output_seconds": workload.output_seconds, "variants": variants, "quality": found}
    worker = next((entry for entry in variants.values() if entry["role"] == "worker"), None)
    if worker is not None:
        summary["vs"] = {
            key: {"wall_ratio": worker["wall_s"]["median"] / entry["wall_s"]["median"],
                  "cpu_ratio": worker["cpu_s"]["median"] / entry["cpu_s"]["median"]}
            for key, entry in variants.items() if entry is not worker
        }
    summary["targets"] = [target.check(summary) for target in workload.targets]
    return summary


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_doc(path: Path, results: dict[str, Any], json_path: Path) -> None:
    """Replace the generated block of the page (the hand-written text around it stays)."""
    link = Path(os.path.relpath(json_path.resolve(), path.resolve().parent)).as_posix()
    block = f"{START}\n{render(results, link)}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + block + tail, encoding="utf-8")


def render(results: dict[str, Any], json_link: str) -> str:
    machine, settings = results["machine"], results["settings"]
    command = f"python -m bench {settings['arguments']}".strip()
    lines = [
        f"Run of {results['date']} (`{command}`); every number below, and each repetition's, is in "
        f"[{Path(json_link).name}]({json_link}).",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']:.0f} GiB; "
        f"{machine['ffmpeg']}; Python {machine['python']}.",
        f"- Worker encoder: {machine['encoder']}.",
        f"- Load average (1 min): {machine['load_before']:.2f} before the run, {_range(machine['load_during'])} "
        f"at the start of each measured run (this bench's own FFmpeg threads count in it), "
        f"{machine['load_after']:.2f} after.",
        f"- {settings['reps']} repetition(s) of every run, alternated (each repetition rotates which run goes "
        f"first); {settings['scale']} inputs; moviepy: {settings['moviepy'] or 'not installed, not run'}.",
        "",
        "Medians, with the range over the repetitions in brackets. The worker's wall and CPU time are its "
        "job's (the handler's call, as a warm RunPod worker runs it); start-up is measured on its own below. "
        "Peak memory is the RSS of the whole process tree. Realtime: seconds of video made per second of "
        "wall time.",
    ]
    for summary in results["workloads"]:
        lines += ["", *(_startup_section(summary) if summary["name"] == "startup" else _section(summary))]
    overhead = [summary for summary in results["workloads"] if "vs" in summary]
    if overhead:
        lines += ["", *_overhead_section(overhead)]
    return "\n".join(lines)


def _section(summary: dict[str, Any]) -> list[str]:
    lines = [f"### {summary['title']}", "", *([summary["note"], ""] if summary.get("note") else []),
             "| run | wall s | CPU s | peak RSS MiB | realtime | worker's wall vs this | worker's CPU vs this |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, entry in summary["variants"].items():
        versus = summary["vs"].get(key)
        lines.append(
            f"| {entry['label']} | {_range(entry['wall_s'])} | {_range(entry['cpu_s'])} | "
            f"{_range(entry['peak_rss_mb'], digits=0)} | {_realtime(entry)} | "
            f"{_versus(versus['wall_ratio'], 'faster', 'its time') if versus else ''} | "
            f"{_versus(versus['cpu_ratio'], 'less', 'more') if versus else ''} |"
        )
    lines += ["", *_stage_lines(summary["variants"]), *_quality_table(summary["quality"], list(summary["variants"])),
              *_target_lines(summary["targets"])]
    return lines


def _stage_lines(variants: dict[str, Any]) -> list[str]:
    """Where a job's time went, for runs whose stages were timed (`bench.jobrun`'s stage=...)."""
    lines = []
    for entry in variants.values():
        if "stages" in entry:
            stages = ", ".join(f"{name} {_range(stats)}" for name, stats in entry["stages"].items())
            lines.append(f"- Stages of {entry['label'].split(':')[0]}'s job, wall s (stages run at once may overlap): "
                         f"{stages}.")
    return [*lines, ""] if lines else []


def _startup_section(summary: dict[str, Any]) -> list[str]:
    lines = [f"### {summary['title']}", "", "| process | wall s | CPU s | peak RSS MiB |", "| --- | --- | --- | --- |"]
    for entry in summary["variants"].values():
        lines.append(f"| {entry['label']} | {_range(entry['wall_s'], digits=3)} | {_range(entry['cpu_s'], digits=3)} "
                     f"| {_range(entry['peak_rss_mb'], digits=0)} |")
    return [*lines, "", *_target_lines(summary["targets"])]


def _overhead_section(summaries: list[dict[str, Any]]) -> list[str]:
    lines = ["### The worker's own overhead per job", "",
             "Wall time of the job beyond media work (FFmpeg runs, and img2vid's image decoding and resampling): "
             "input validation, copying the inputs in (`file:` URLs), ffprobe, bookkeeping, copying the output "
             "to the local output folder.", "",
             "| workload | job wall s | media work s | overhead ms | of which ffprobe, ms | of which copying in "
             "and out, ms | whole process, cold, wall s |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for summary in summaries:
        worker = next(entry for entry in summary["variants"].values() if entry["role"] == "worker")
        copies = statistics.median(run["timings"].get("download_s", 0) + run["timings"].get("upload_s", 0)
                                   for run in worker["samples"])
        lines.append(f"| {summary['name']} | {_range(worker['wall_s'])} | {_range(worker['media_work_s'])} | "
                     f"{_range(_ms(worker['overhead_s']), digits=0)} | {_range(_ms(worker['probe_s']), digits=0)} | "
                     f"{copies * 1000:.0f} | {_range(worker['process_wall_s'])} |")
    return lines


def _quality_table(found: dict[str, dict[str, float]], order: list[str]) -> list[str]:
    """One row per run that was assessed, one column per measure."""
    if not found:
        return []
    rows = [key for key in order if any(key in values for values in found.values())]
    lines = [f"| run | {' | '.join(found)} |", f"| --- |{' --- |' * len(found)}"]
    lines += [f"| {key} | {' | '.join(_number(values.get(key)) for values in found.values())} |" for key in rows]
    return [*lines, ""]


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"


def _target_lines(targets: list[dict[str, Any]]) -> list[str]:
    lines = []
    for target in targets:
        if target["met"] is None:
            verdict, value = "not measured", "-"
        else:
            verdict, value = ("met" if target["met"] else "**missed**"), f"{target['value']:.4g}"
        sign = "<=" if target["at_most"] else ">="
        lines.append(f"- Target: {target['text']}: {value} (goal {sign} {target['limit']:g}): {verdict}")
    return lines


def _realtime(entry: dict[str, Any]) -> str:
    """Seconds of video made per second; blank for a workload that makes none (pictures, a description)."""
    return f"{entry['realtime']:.1f}x" if "realtime" in entry else ""


def _ms(stats: dict[str, float]) -> dict[str, float]:
    return {key: value * 1000 for key, value in stats.items()}


def _range(stats: dict[str, float], digits: int | None = None) -> str:
    places = digits if digits is not None else (2 if stats["median"] < 10 else 1)
    return f"{stats['median']:.{places}f} ({stats['min']:.{places}f}–{stats['max']:.{places}f})"


def _versus(ratio: float, below: str, above: str) -> str:
    """0.25 reads "4.0x faster" (or "less"); 1.1 reads "1.10x its time" (or "more")."""
    return f"{1 / ratio:.1f}x {below}" if ratio < 1 else f"{ratio:.2f}x {above}"
