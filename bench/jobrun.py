"""One worker job in a fresh process, run the way a warm RunPod worker runs it, with its own figures.

`python -m bench.jobrun JOB.json RESULT.json [module:function ...] [stage=module:function ...]`: imports
the worker, probes the encoder and reads the fonts (as handler.py's fitness checks do before the first
job), then awaits `handle_job` once. RESULT.json gets the handler's result and, for that one call: wall
time, CPU time (this process and its FFmpeg/ffprobe children) and the time spent in media work. Media
work is every FFmpeg run (`run_ffmpeg`, as the job context calls it), plus the functions named on the
command line (work an operation does in Python instead of FFmpeg, such as decoding images); the rest of
the job's wall time is the worker's own overhead: validation, copying inputs in, probes, bookkeeping,
copying out. The time in ffprobe (`run_ffprobe`) is reported too, as the part of the overhead spent
reading media. A `stage=module:function` argument times that function on its own, in `stages[stage]`:
where an operation's time goes, measured (stages may overlap when the operation runs them at once).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MEDIA_WORK = "video_ops.jobkit.context:run_ffmpeg"
PROBES = "video_ops.media.probe:run_ffprobe"


class Intervals:
    """Start and end times of calls that may overlap (parallel renders): their union is what counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: list[tuple[float, float]] = []

    def add(self, start: float, end: float) -> None:
        with self._lock:
            self.spans.append((start, end))

    def covered(self, start: float, end: float) -> float:
        """Seconds within [start, end] that at least one call was running."""
        total, reach = 0.0, start
        for begin, finish in sorted(self.spans):
            begin, finish = max(begin, reach), min(finish, end)
            if finish > begin:
                total += finish - begin
                reach = finish
        return total

    def wrap(self, target: str) -> None:
        """Replace `module:function` by a timed version of itself (coroutine functions included)."""
        module_name, _, name = target.partition(":")
        module = importlib.import_module(module_name)
        original: Callable[..., Any] = getattr(module, name)

        if inspect.iscoroutinefunction(original):
            @functools.wraps(original)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.monotonic()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.add(started, time.monotonic())

            setattr(module, name, timed_async)
        else:
            @functools.wraps(original)
            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.monotonic()
                try:
                    return original(*args, **kwargs)
                finally:
                    self.add(started, time.monotonic())

            setattr(module, name, timed)


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def run_once(job: dict[str, Any], ffmpeg: Intervals, python_work: Intervals, probes: Intervals,
                   stages: dict[str, Intervals]) -> dict[str, Any]:
    from video_ops.worker import handle_job

    cpu_before, started = cpu_seconds(), time.monotonic()
    result = await handle_job(job)
    ended = time.monotonic()
    media = Intervals()
    media.spans = ffmpeg.spans + python_work.spans
    media_s = media.covered(started, ended)
    return {
        "result": result,
        "job_wall_s": ended - started,
        "job_cpu_s": cpu_seconds() - cpu_before,
        "media_work_s": media_s,
        "ffmpeg_runs": len(ffmpeg.spans),
        "overhead_s": ended - started - media_s,
        "probe_s": probes.covered(started, ended),
        "stages": {name: spans.covered(started, ended) for name, spans in stages.items()},
    }


def main(argv: list[str]) -> int:
    job_file, result_file, *extra_work = argv
    from video_ops.media.encoders import check_encoder
    from video_ops.subtitles.fonts import check_fonts

    check_encoder()
    check_fonts()
    ffmpeg, python_work, probes = Intervals(), Intervals(), Intervals()
    ffmpeg.wrap(MEDIA_WORK)
    stages: dict[str, Intervals] = {}
    for target in extra_work:
        name, _, function = target.rpartition("=")
        spans = stages.setdefault(name, Intervals()) if name else python_work
        spans.wrap(function)
    probes.wrap(PROBES)
    report = asyncio.run(run_once(json.loads(Path(job_file).read_text()), ffmpeg, python_work, probes, stages))
    Path(result_file).write_text(json.dumps(report, indent=1))
    if "error" in report["result"]:
        print(f"the job failed: {report['result']['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
