"""The handler driven as RunPod drives it: a subprocess for `python handler.py`, in-process for failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, leftover_workdirs, run_job
from tests.media import decodes_cleanly, stream_duration


def run_handler(job_input: dict, env_extra: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, str(REPO / "handler.py"), "--test_input", json.dumps({"input": job_input})],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def test_good_job_exits_0_and_writes_the_output(media_server, tmp_path):
    out_dir = tmp_path / "out"
    job = {"operation": "addaudio", "url_video": f"{media_server}/video.mp4", "url_audio": f"{media_server}/tone.mp3",
           "path": "videos/output", "output_filename": "done.mp4"}
    process = run_handler(job, {"VIDEO_OPS_OUTPUT_DIR": str(out_dir)})
    assert process.returncode == 0, process.stdout + process.stderr
    assert decodes_cleanly(out_dir / "videos" / "output" / "done.mp4")


def test_bad_job_exits_1_with_the_reason(media_server, tmp_path):
    job = {"operation": "addaudio", "url_video": f"{media_server}/missing.mp4", "url_audio": f"{media_server}/tone.mp3"}
    process = run_handler(job, {"VIDEO_OPS_OUTPUT_DIR": str(tmp_path)})
    assert process.returncode == 1
    assert f"url_video: download failed: HTTP 404 File not found from {media_server}/missing.mp4." in process.stdout
    assert "Traceback" not in process.stdout + process.stderr


def test_the_bundled_sample_job_runs(tmp_path):
    """test_input.json with the sample media: what the README's first command runs."""
    env = {**os.environ, "VIDEO_OPS_ALLOW_FILE_URLS": "1", "VIDEO_OPS_OUTPUT_DIR": str(tmp_path)}
    process = subprocess.run([sys.executable, "handler.py"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120)
    assert process.returncode == 0, process.stdout + process.stderr
    job = json.loads((REPO / "test_input.json").read_text())["input"]
    out = tmp_path / job["path"] / job["output_filename"]
    assert stream_duration(out, "video") == pytest.approx(stream_duration(REPO / "samples/sample_video.mp4", "video"))
    assert decodes_cleanly(out)


def addaudio(media_server: str, **change) -> dict:
    job = {"operation": "addaudio", "url_video": f"{media_server}/video.mp4", "url_audio": f"{media_server}/tone.mp3",
           "path": "out"}
    job.update(change)
    return {k: v for k, v in job.items() if v is not None}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"url_video": "{server}/missing.mp4"},
         "url_video: download failed: HTTP 404 File not found from {server}/missing.mp4."),
        ({"url_video": "{server}/page.html"}, "url_video: the file is not a media file FFmpeg can read ("),
        ({"url_video": "{server}/tone.mp3"}, "url_video: the file has no video stream (found: audio)."),
        ({"url_audio": "{server}/silent.mp4"}, "url_audio: the file has no audio stream (found: video)."),
        ({"url_audio": "ftp://{host}/x.mp3"}, "url_audio: unsupported URL scheme 'ftp'; use http, https or s3."),
        ({"url_audio": None}, "Invalid input: missing required field 'url_audio'."),
        ({"operation": "blur"}, "Invalid input: unknown operation 'blur'; valid operations: "),
        ({"path": "../../etc"}, "Invalid input: field 'path' must be a name, not '..'."),
        ({"output_filename": "x.avi"}, "Invalid input: field 'output_filename' must end with .mp4"),
        ({"url_vidoe": "x"}, "Invalid input: unknown field 'url_vidoe' (did you mean 'url_video'?)."),
    ],
)
def test_failures_are_one_clear_sentence(media_server, worker_env, change, expected):
    host = media_server.split("//")[1]
    change = {k: v.format(server=media_server, host=host) if isinstance(v, str) else v for k, v in change.items()}
    expected = expected.format(server=media_server, host=host)
    result = run_job(addaudio(media_server, **change))
    assert set(result) == {"error"}
    assert result["error"].startswith(expected), result["error"]
    assert "Traceback" not in result["error"]
    assert str(worker_env) not in result["error"]  # no internal paths
    assert leftover_workdirs(worker_env) == []


def test_an_unexpected_crash_is_reported_without_a_traceback(media_server, worker_env, monkeypatch, caplog):
    from video_ops.ops import addaudio as addaudio_module

    def broken_plan(*args, **kwargs):
        raise KeyError("internal detail")

    monkeypatch.setattr(addaudio_module, "plan", broken_plan)
    result = run_job(addaudio(media_server))
    assert result == {"error": "Internal error in the worker (KeyError); the job was not completed."}
    assert "Traceback" in caplog.text  # the worker's own log keeps it
    assert leftover_workdirs(worker_env) == []


def test_progress_reports_each_stage_to_the_sdk(media_server, bucket, monkeypatch):
    """Deployed, every stage goes to runpod.serverless.progress_update, with FFmpeg's percent while processing."""
    import runpod.serverless

    updates: list[tuple[str, dict]] = []
    monkeypatch.setattr(runpod.serverless, "progress_update", lambda job, update: updates.append((job["id"], update)))
    monkeypatch.setenv("RUNPOD_WEBHOOK_GET_JOB", "http://127.0.0.1:1/job-take/$ID")
    result = run_job(addaudio(media_server), job_id="progress-job")
    assert result.get("success"), result
    assert {job_id for job_id, _ in updates} == {"progress-job"}
    stages = [update["stage"] for _, update in updates]
    assert stages[0] == "downloading"
    assert stages.index("downloading") < stages.index("processing") < stages.index("uploading")
    assert {"stage": "processing", "percent": 100} in [update for _, update in updates]


def test_a_cancelled_job_leaves_no_temp_folder(media_server, tricky, worker_env):
    """RunPod's cancel cancels the handler's task: the temp folder must still go."""
    import asyncio

    from video_ops.worker import handle_job

    async def cancel_while_downloading() -> None:
        task = asyncio.ensure_future(handle_job({"id": "c", "input": addaudio(media_server,
                                                                              url_audio=f"{tricky.url}/trickle")}))
        for _ in range(50):
            await asyncio.sleep(0.1)
            if leftover_workdirs(worker_env):
                break
        assert leftover_workdirs(worker_env), "the job never started"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_downloading())
    assert leftover_workdirs(worker_env) == []


def test_empty_and_truncated_inputs_are_named(media_server, media_dir, worker_env):
    (media_dir / "empty.mp4").write_bytes(b"")
    whole = (media_dir / "video.mp4").read_bytes()
    (media_dir / "truncated.mp4").write_bytes(whole[: len(whole) // 3])
    assert run_job(addaudio(media_server, url_video=f"{media_server}/empty.mp4")) == {
        "error": "url_video: the file is empty (0 bytes)."}
    truncated = run_job(addaudio(media_server, url_video=f"{media_server}/truncated.mp4"))["error"]
    assert truncated.startswith("url_video: ")
    assert leftover_workdirs(worker_env) == []


def test_input_duration_limit(media_server, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_MAX_INPUT_DURATION_S", "2.5")  # the 2 s video passes, the 3 s tone does not
    expected = "url_audio: the media lasts 3 s, over the limit of 2.5 s (raise it with VIDEO_OPS_MAX_INPUT_DURATION_S)."
    assert run_job(addaudio(media_server)) == {"error": expected}


def test_a_local_run_saves_the_whole_result_the_log_cuts(media_dir, media_server, tmp_path):
    """24 clips make a result longer than the SDK's 4096-character log line; the file holds it all."""
    from tests.pictures import quadrants

    quadrants(32, 32).save(media_dir / "tiny.png")
    images = [{"id": f"clip-{n}", "image_url": f"{media_server}/tiny.png", "duracao": 0.1} for n in range(24)]
    job = {"operation": "img2vid", "images": images, "width": 32, "height": 32, "frame_rate": 10}
    env = {**os.environ, "VIDEO_OPS_OUTPUT_DIR": str(tmp_path)}
    process = subprocess.run(
        [sys.executable, str(REPO / "handler.py"), "--test_input", json.dumps({"id": "big job/1", "input": job})],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    saved = tmp_path / "big_job_1.result.json"
    result = json.loads(saved.read_text())
    assert result["success"] and [video["id"] for video in result["videos"]] == [f"clip-{n}" for n in range(24)]
    assert len(json.dumps(result)) > 4096
    assert f"the whole result is in {saved}" in process.stdout + process.stderr


def test_a_job_run_in_the_worker_saves_no_result_file(media_server, worker_env, tmp_path):
    result = run_job(addaudio(media_server))
    assert result.get("success"), result
    assert not list((tmp_path / "output").rglob("*.result.json"))


def test_a_worker_without_fonts_fails_its_fitness_check(tmp_path):
    """handler.py reads the fonts before the first job: a worker image built without any stops there,
    instead of failing every caption job."""
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?>\n<fontconfig><cachedir>{tmp_path / "cache"}</cachedir></fontconfig>\n')
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "VIDEO_OPS_ENCODER": "x264",
           "RUNPOD_WEBHOOK_GET_JOB": "http://127.0.0.1:9/job-take/w", "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true"}
    env.pop("RUNPOD_WEBHOOK_PING", None)
    done = subprocess.run([sys.executable, "handler.py"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Fitness check failed: check_fonts" in output
    assert "No installed font covers Latin text" in output
