"""Run FFmpeg and ffprobe as asyncio subprocesses: argv lists only, bounded time, killed on cancel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from video_ops.base.errors import JobError
from video_ops.base.tasks import all_or_nothing

ProgressCallback = Callable[[float], None]
_STDERR_LINES_KEPT = 40
_STDERR_FIRST_LINES_KEPT = 10  # where FFmpeg names a device that failed before a flood of per-frame errors
_NOISE = ("Conversion failed!", "Exiting normally", "-- ")
_CONTEXT_TAG = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\] ")  # "[mov,mp4 @ 0x55e6...] ": a pointer, not a reason


class FFmpegError(JobError):
    """FFmpeg exited non-zero; `stderr` keeps the tail for logs and for telling failure kinds apart."""

    def __init__(self, message: str, returncode: int | None, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


def step_timeout(duration: float | None, seconds_per_media_second: float, floor: float = 60.0) -> float:
    """A generous bound for one step: a hung FFmpeg must not hold the worker forever."""
    return floor + seconds_per_media_second * max(duration or 0.0, 1.0)


def filter_value(text: str) -> str:
    """Escape a filter option value: first for the option parser (\\ ' :), then for the graph (\\ ' [ ] , ;)."""
    for specials in ("\\':", "\\'[],;"):
        text = "".join("\\" + ch if ch in specials else ch for ch in text)
    return text


async def run_ffmpeg(
    args: Sequence[str],
    *,
    step: str,
    timeout: float,
    workdir: Path | None = None,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    log_level: str = "error",
) -> str:
    """Run `ffmpeg <args>`; report percent done of `duration`; raise FFmpegError with a one-line reason.

    Returns the stderr lines kept (the first and the last ones): with `log_level="info"` they carry
    what analysis filters such as `ebur128` print at the end.
    """
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", log_level, "-nostats"]
    if on_progress is not None:
        argv += ["-progress", "pipe:1"]
    argv += list(args)
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if on_progress else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, so a kill takes any helpers with it
    )
    head: list[str] = []
    tail: deque[str] = deque(maxlen=_STDERR_LINES_KEPT)

    def keep(line: str) -> None:
        (head if len(head) < _STDERR_FIRST_LINES_KEPT else tail).append(line)

    readers = [_collect_lines(process.stderr, keep)]
    if on_progress is not None and process.stdout is not None:
        readers.append(_collect_lines(process.stdout, _progress_parser(duration, on_progress)))
    try:
        await asyncio.wait_for(all_or_nothing(*readers, process.wait()), timeout)
    except asyncio.TimeoutError:
        await _kill(process)
        raise JobError(f"{step} took longer than {timeout:.0f} s and was stopped.") from None
    except BaseException:  # cancelled job, or anything else: FFmpeg must not outlive the job
        await _kill(process)
        raise
    stderr = "\n".join([*head, *tail])
    if "No space left on device" in stderr:  # FFmpeg can exit 0 when only its final write failed
        raise FFmpegError(f"{step} failed: the worker's temp disk is full", process.returncode, stderr)
    if process.returncode != 0:
        if process.returncode is not None and process.returncode < 0:
            reason = f"FFmpeg was killed by signal {signal.Signals(-process.returncode).name}"
        else:
            reason = summarize_stderr(stderr, workdir)
        raise FFmpegError(f"{step} failed: {reason}", process.returncode, stderr)
    return stderr


async def run_ffprobe(path: Path, *, timeout: float = 30.0, show: Sequence[str] = ("-show_format", "-show_streams")
                      ) -> tuple[int, dict[str, Any], str]:
    """ffprobe's JSON for `path` (`show`: what to list): returns (exit code, parsed JSON, stderr)."""
    process = await asyncio.create_subprocess_exec(
        # Local files only, even for what a file names inside it (a playlist's segments are not fetched).
        "ffprobe", "-v", "error", "-protocol_whitelist", "file,pipe", *show, "-of", "json", str(path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        await _kill(process)
        raise JobError(f"Reading the media information took longer than {timeout:.0f} s.") from None
    except BaseException:
        await _kill(process)
        raise
    try:
        data = json.loads(stdout or b"{}")
    except ValueError:
        data = {}
    return process.returncode or 0, data, stderr.decode(errors="replace")


def summarize_stderr(stderr: str, workdir: Path | None = None) -> str:
    """The meaningful last line(s) of FFmpeg's complaint, without the job's temp paths."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(_NOISE)]
    if workdir is not None:
        prefix = str(workdir).rstrip("/") + "/"
        lines = [line.replace(prefix, "") for line in lines]
    lines = [_CONTEXT_TAG.sub("", line) for line in lines]
    if not lines:
        return "FFmpeg gave no reason"
    picked: list[str] = []
    for line in reversed(lines):
        if line not in picked:
            picked.insert(0, line)
        if len(picked) == 2:
            break
    summary = " / ".join(picked)
    return summary if len(summary) <= 300 else summary[:297] + "..."


async def _collect_lines(stream: asyncio.StreamReader | None, sink: Callable[[str], None]) -> None:
    if stream is None:
        return
    while True:
        line = await stream.readline()
        if not line:
            return
        sink(line.decode(errors="replace").rstrip())


def _progress_parser(duration: float | None, on_progress: ProgressCallback) -> Callable[[str], None]:
    """Turn `-progress` key=value lines into a percent of the expected output duration."""

    def handle(line: str) -> None:
        key, _, value = line.partition("=")
        if key == "out_time_us" and duration and value.strip().lstrip("-").isdigit():
            on_progress(max(0.0, min(100.0, int(value) / 1e6 / duration * 100)))
        elif key == "progress" and value == "end":
            on_progress(100.0)

    return handle


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        await asyncio.shield(process.wait())
