"""The FFmpeg runner: one-line reasons, timeouts and cancellation that leave no process behind."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from video_ops.base.errors import JobError
from video_ops.jobkit.progress import ProgressReporter
from video_ops.media.ffmpeg import FFmpegError, run_ffmpeg, step_timeout, summarize_stderr


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line mentions `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().split()[2]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def endless(out: Path) -> list[str]:
    return ["-re", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25", "-f", "null", str(out)]


async def start_endless(marker: Path, workdir: Path) -> tuple[asyncio.Future, list[int]]:
    """An endless FFmpeg run as a task, once its process is up: (task, pids)."""
    task = asyncio.ensure_future(run_ffmpeg(endless(marker), step="Rendering", timeout=60, workdir=workdir))
    for _ in range(50):
        await asyncio.sleep(0.1)
        if pids := processes_with(str(marker)):
            return task, pids
    raise AssertionError("FFmpeg never started")


def test_summary_keeps_the_last_meaningful_lines_without_temp_paths(tmp_path):
    stderr = (f"[mp4 @ 0x1] something early\n{tmp_path}/url_video: Invalid data found when processing input\n"
              "Conversion failed!\n")
    assert summarize_stderr(stderr, tmp_path) == (
        "something early / url_video: Invalid data found when processing input")


def test_failure_reason_is_one_line(tmp_path):
    (tmp_path / "url_video").write_text("not media")
    with pytest.raises(FFmpegError) as caught:
        asyncio.run(run_ffmpeg(["-i", str(tmp_path / "url_video"), "-f", "null", "-"], step="Adding the audio",
                               timeout=30, workdir=tmp_path))
    assert str(caught.value) == "Adding the audio failed: url_video: Invalid data found when processing input"
    assert caught.value.returncode != 0


def test_timeout_kills_ffmpeg(tmp_path):
    marker = tmp_path / "timeout-marker.nut"
    with pytest.raises(JobError, match="took longer than 1 s and was stopped"):
        asyncio.run(run_ffmpeg(endless(marker), step="Rendering", timeout=1, workdir=tmp_path))
    assert processes_with(str(marker)) == []


def test_cancel_kills_ffmpeg(tmp_path):
    marker = tmp_path / "cancel-marker.nut"

    async def cancel_soon() -> None:
        task, _ = await start_endless(marker, tmp_path)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_soon())
    assert processes_with(str(marker)) == []


def test_progress_percent_comes_from_ffmpeg(tmp_path):
    seen: list[float] = []
    args = ["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25", "-t", "2", "-f", "null", "-"]
    asyncio.run(run_ffmpeg(args, step="Rendering", timeout=30, duration=2.0, on_progress=seen.append))
    assert seen[-1] == 100.0
    assert seen == sorted(seen)


def test_step_timeout_grows_with_the_media():
    assert step_timeout(None, 30) == 90
    assert step_timeout(100, 3) == 360


def test_progress_reporter_throttles_percent_but_not_stages():
    sent: list[dict] = []
    now = [0.0]
    reporter = ProgressReporter({"id": "j"}, send=lambda job, update: sent.append(update), clock=lambda: now[0])
    reporter.stage("downloading")
    reporter.percent("processing", 1)
    reporter.percent("processing", 2)  # too soon after the last one
    now[0] = 1.5
    reporter.percent("processing", 50)
    reporter.percent("processing", 100)  # the end always shows
    reporter.stage("uploading")
    assert sent == [{"stage": "downloading"}, {"stage": "processing", "percent": 1},
                    {"stage": "processing", "percent": 50}, {"stage": "processing", "percent": 100},
                    {"stage": "uploading"}]


def test_ffmpeg_killed_from_outside_fails_the_step(tmp_path):
    marker = tmp_path / "killed-marker.nut"

    async def kill_it() -> None:
        task, pids = await start_endless(marker, tmp_path)
        os.kill(pids[0], 9)
        with pytest.raises(FFmpegError, match=r"^Rendering failed: FFmpeg was killed by signal SIGKILL$"):
            await task

    asyncio.run(kill_it())
