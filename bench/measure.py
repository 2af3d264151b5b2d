"""Run commands in fresh processes and measure them the same way whatever they are: wall time, CPU
time of the whole process tree, and the tree's peak resident memory."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

POLL_S = 0.02  # the polling interval once a command has run a while
FIRST_POLL_S = 0.001  # polls start this fast, so that a command of a few milliseconds is still seen whole
_PAGE = os.sysconf("SC_PAGE_SIZE")
_STDERR_TAIL = 2000


class BenchError(RuntimeError):
    """A measured command failed: the bench stops, since its numbers would mean nothing."""


@dataclass(frozen=True)
class Sample:
    wall_s: float
    cpu_s: float  # user + system of the process and every descendant it waited for
    peak_rss_mb: float  # the largest sum of RSS over the process tree, polled (FIRST_POLL_S up to POLL_S) while it ran


def measure(commands: Sequence[Sequence[str]], *, cwd: Path, env: Mapping[str, str] | None = None) -> Sample:
    """Run `commands` one after another (as a user would, typing them); times add up, memory is the peak."""
    samples = [_measure_one(command, cwd, env) for command in commands]
    return Sample(
        wall_s=sum(s.wall_s for s in samples),
        cpu_s=sum(s.cpu_s for s in samples),
        peak_rss_mb=max(s.peak_rss_mb for s in samples),
    )


def _measure_one(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> Sample:
    """`os.wait4` gives the CPU time of the child and of every descendant it reaped (FFmpeg, under the
    worker). Memory is polled from /proc: rusage's ru_maxrss knows only the largest single process,
    and a child inherits its parent's (this bench's) high-water mark at fork."""
    with tempfile.TemporaryFile() as stderr:
        started = time.monotonic()
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env) if env is not None else None,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        peak, interval = 0, FIRST_POLL_S
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, tree_rss(process.pid))
            time.sleep(interval)
            interval = min(POLL_S, interval * 1.5)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if process.returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace")[-_STDERR_TAIL:]
            raise BenchError(f"{' '.join(command[:4])} ... exited with {process.returncode}:\n{tail}")
    return Sample(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, peak_rss_mb=peak / 2**20)


def tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants now (shared pages counted once per process)."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * _PAGE
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue  # it ended between two reads
    return total
