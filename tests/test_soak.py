"""200 mixed good and bad jobs through the local endpoint: the worker ends where it started."""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path

import pytest

from tests.endpoint import LocalEndpoint, command_name, descendants, wait_until
from tests.helpers import REPO, leftover_workdirs, new_bucket, stored_keys
from tests.media import make_video
from video_ops.client import Client, JobFailed

JOBS = 200
MEMORY_SLACK_BYTES = 50 * 1024 * 1024
FD_SLACK = 2  # keep-alive connections of the SDK to the endpoint come and go; a per-job leak would be ~200


def resources(pid: int, workdir: Path) -> dict[str, int]:
    """What a worker holds: open files, child processes, resident memory, and temp disk in use."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    temp = sum(f.stat().st_size for f in workdir.rglob("*") if f.is_file()) if workdir.exists() else 0
    media_tools = [p for p in descendants(pid) if command_name(p) in {"ffmpeg", "ffprobe"}]
    return {"open_files": len(os.listdir(f"/proc/{pid}/fd")), "children": len(descendants(pid)),
            "media_tools": len(media_tools),
            "rss": rss_kb * 1024, "temp_bytes": temp, "temp_entries": len(leftover_workdirs(workdir))}


def named(job_input: dict, filename: str) -> dict:
    return {**job_input, "output_filename": filename}


def job_inputs(media_server: str) -> list[tuple[dict, bool]]:
    """Good jobs interleaved with broken ones that fail at each stage: validation, download, probe."""
    good = {"operation": "addaudio", "url_video": f"{media_server}/soak.mp4", "url_audio": f"{media_server}/tone.mp3",
            "path": "soak"}
    bad = [
        {**good, "url_video": f"{media_server}/missing.mp4"},
        {**good, "url_video": f"{media_server}/page.html"},
        {**good, "url_audio": f"{media_server}/silent.mp4"},
        {**good, "path": "../escape"},
        {"operation": "nope"},
    ]
    cycle = itertools.cycle([(good, True), (good, True), (good, True)] + [(b, False) for b in bad[:2]]
                            + [(good, True)] + [(b, False) for b in bad[2:]])
    return [next(cycle) for _ in range(JOBS)]


def test_soak_200_mixed_jobs(media_server, media_dir, s3_server, tmp_path):
    make_video(media_dir / "soak.mp4", seconds=0.5, size="160x120")
    settings = new_bucket(s3_server)
    workdir = tmp_path / "work"
    env = {**settings, "VIDEO_OPS_WORKDIR": str(workdir), "RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS": "true"}
    with LocalEndpoint(REPO / "handler.py", 2, tmp_path / "endpoint.log", env) as endpoint:
        client: Client = endpoint.client()
        workers = endpoint.worker_pids()
        jobs = job_inputs(media_server)
        # Warm up: the first jobs import modules and fill caches that then stay, as they should.
        for n, (job_input, ok) in enumerate(jobs[:10]):
            with contextlib.suppress(JobFailed):
                client.run(named(job_input, f"warmup_{n}.mp4") if ok else job_input, timeout=120)
        before = {pid: resources(pid, workdir) for pid in workers}

        ids = [(client.submit(named(job_input, f"out_{n}.mp4") if ok else job_input), ok)
               for n, (job_input, ok) in enumerate(jobs)]
        succeeded = failed = 0
        for job_id, ok in ids:
            if ok:
                assert client.wait(job_id, timeout=600)["success"] is True
                succeeded += 1
            else:
                with pytest.raises(JobFailed):
                    client.wait(job_id, timeout=600)
                failed += 1

        after = {pid: wait_until(lambda p=pid: (r := resources(p, workdir))["media_tools"] == 0 and r, 5,
                                 "an FFmpeg or ffprobe process outlived its job") for pid in workers}
        assert endpoint.worker_pids() == workers  # no worker died and was replaced
    assert (succeeded, failed) == (sum(ok for _, ok in jobs), sum(not ok for _, ok in jobs))
    assert len([k for k in stored_keys(settings) if k.startswith("soak/out_")]) == succeeded
    for pid in workers:
        assert after[pid]["temp_entries"] == 0 and after[pid]["temp_bytes"] == 0
        assert after[pid]["open_files"] <= before[pid]["open_files"] + FD_SLACK, (before[pid], after[pid])
        assert after[pid]["children"] <= before[pid]["children"], (before[pid], after[pid])
        assert after[pid]["rss"] <= before[pid]["rss"] + MEMORY_SLACK_BYTES, (before[pid], after[pid])
