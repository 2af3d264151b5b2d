"""The gateway (`python -m video_ops.gateway`) over its local endpoint and real workers.

The reference guide's curl, Python and Node examples run as the guide writes them; only the host,
the job ids and the media URLs are changed (the media are the bundled samples, read as `file:` URLs).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.endpoint import SLEEPY, Gateway, LocalEndpoint, command_name, descendants, serving_app, wait_until
from tests.helpers import REPO
from tests.servers import TrickyServer
from video_ops.client import Client
from video_ops.gateway import replies
from video_ops.gateway.app import create_app
from video_ops.gateway.backend import Backend
from video_ops.gateway.schemas import body_schemas
from video_ops.gateway.store import Store
from video_ops.ops import OPERATIONS

VALID = ", ".join(sorted(OPERATIONS))

KEY = "your-api-key"  # the guide's own placeholder is the key the test gateway accepts
GUIDE_HOST = "http://localhost:3000"
SAMPLES = {
    "https://example.com/video.mp4": "file:samples/sample_video.mp4",
    "https://example.com/subtitles.srt": "file:samples/sample_captions.srt",
    "https://example.com/audio.mp3": "file:samples/sample_audio.mp3",
    "https://example.com/image1.jpg": "file:samples/sample_image.jpg",
    "https://example.com/image2.jpg": "file:samples/sample_image.jpg",
}
# The guide's examples, copied as it writes them.
CURL_CAPTION = """curl -X POST http://localhost:3000/video/caption/async \\
  -H "X-API-Key: your-api-key" \\
  -H "Content-Type: application/json" \\
  -d '{
    "url_video": "https://example.com/video.mp4",
    "url_srt": "https://example.com/subtitles.srt",
    "path": "videos/output",
    "output_filename": "video_with_caption.mp4"
  }'"""
CURL_IMG2VID = """curl -X POST http://localhost:3000/video/img2vid/async \\
  -H "X-API-Key: your-api-key" \\
  -H "Content-Type: application/json" \\
  -d '{
    "images": [
      {
        "id": "img1",
        "image_url": "https://example.com/image1.jpg",
        "duracao": 3.0
      },
      {
        "id": "img2",
        "image_url": "https://example.com/image2.jpg",
        "duracao": 4.0
      }
    ],
    "path": "videos/output"
  }'"""
CURL_ADDAUDIO = """curl -X POST http://localhost:3000/video/addaudio/async \\
  -H "X-API-Key: your-api-key" \\
  -H "Content-Type: application/json" \\
  -d '{
    "url_video": "https://example.com/video.mp4",
    "url_audio": "https://example.com/audio.mp3",
    "path": "videos/output",
    "output_filename": "video_with_audio.mp4"
  }'"""
CURL_STATUS = """curl http://localhost:3000/video/job/abc-123-def \\
  -H "X-API-Key: your-api-key\""""
CURL_RESULT = """curl http://localhost:3000/video/job/abc-123-def/result \\
  -H "X-API-Key: your-api-key\""""
CURL_CANCEL = """curl -X POST http://localhost:3000/job/abc-123-def/cancel \\
  -H "X-API-Key: your-api-key\""""
PYTHON_EXAMPLE = '''import requests
import time

API_URL = "http://localhost:3000"
API_KEY = "your-api-key"
HEADERS = {"X-API-Key": API_KEY, "Content-Type": "application/json"}

# 1. Submeter job
def submit_video(images):
    response = requests.post(
        f"{API_URL}/video/img2vid/async",
        headers=HEADERS,
        json={"images": images, "path": "videos/output"}
    )
    data = response.json()
    return data["jobId"]

# 2. Polling de status
def poll_job_status(job_id):
    while True:
        response = requests.get(
            f"{API_URL}/video/job/{job_id}",
            headers=HEADERS
        )
        status = response.json()

        print(f"Status: {status['status']}")

        if status["status"] == "COMPLETED":
            return status["output"]

        if status["status"] == "FAILED":
            raise Exception(status["error"])

        time.sleep(3)  # Aguarda 3 segundos

# 3. Uso
job_id = submit_video([...])
result = poll_job_status(job_id)
print("Videos:", result["videos"])
'''
NODE_EXAMPLE = """// 1. Submeter job
async function submitVideo(images) {
  const response = await fetch('http://localhost:3000/video/img2vid/async', {
    method: 'POST',
    headers: {
      'X-API-Key': 'your-api-key',
      'Content-Type': 'application/json'
    },
    body: JSON.stringify({ images, path: 'videos/output' })
  });

  const data = await response.json();
  return data.jobId;
}

// 2. Polling de status
async function pollJobStatus(jobId) {
  while (true) {
    const response = await fetch(`http://localhost:3000/video/job/${jobId}`, {
      headers: { 'X-API-Key': 'your-api-key' }
    });

    const status = await response.json();
    console.log(`Status: ${status.status}`);

    if (status.status === 'COMPLETED') {
      return status.output;
    }

    if (status.status === 'FAILED') {
      throw new Error(status.error);
    }

    // Aguarda 3 segundos antes de consultar novamente
    await new Promise(resolve => setTimeout(resolve, 3000));
  }
}

// 3. Uso completo
const jobId = await submitVideo([...]);
const result = await pollJobStatus(jobId);
console.log('Videos:', result.videos);
"""
# What the examples' `[...]` stands for: two small images, as in the guide's img2vid curl.
IMAGES = [{"id": "img1", "image_url": "file:samples/sample_image.jpg", "duracao": 1.0},
          {"id": "img2", "image_url": "file:samples/sample_image.jpg", "duracao": 1.5}]


def gateway_env(tmp: Path, **extra: str) -> dict[str, str]:
    """No bucket (results stay in tmp/output), `file:` samples allowed, CPU encoding as in every test."""
    unset = ("BUCKET_ENDPOINT_URL", "BUCKET_ACCESS_KEY_ID", "BUCKET_SECRET_ACCESS_KEY", "BUCKET_NAME",
             "BUCKET_PUBLIC_URL", "RUNPOD_ENDPOINT_ID", "RUNPOD_API_KEY", "VIDEO_OPS_API_KEYS", "X_API_KEY",
             "VIDEO_OPS_CPU_ENDPOINT_ID")
    return {**dict.fromkeys(unset, ""), "VIDEO_OPS_ALLOW_FILE_URLS": "1", "VIDEO_OPS_OUTPUT_DIR": str(tmp / "output"),
            "VIDEO_OPS_WORKDIR": str(tmp / "work"), "VIDEO_OPS_GATEWAY_DB": str(tmp / "gateway.sqlite"),
            "VIDEO_OPS_ENCODER": "x264", "VIDEO_OPS_DECODER": "cpu",
            "RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS": "true", **extra}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway with one worker for the module, accepting the guide's key and a second one."""
    tmp = tmp_path_factory.mktemp("gateway")
    env = gateway_env(tmp, VIDEO_OPS_API_KEYS=f"{KEY}, second-key")
    with Gateway(REPO / "handler.py", 1, tmp / "gateway.log", env) as running:
        yield running


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway whose sync route waits at most 1 s, with no key set (so it serves loopback to anyone)."""
    tmp = tmp_path_factory.mktemp("capped")
    env = gateway_env(tmp, VIDEO_OPS_SYNC_TIMEOUT_S="1")
    with Gateway(REPO / "handler.py", 1, tmp / "gateway.log", env) as running:
        yield running


def output_dir(gateway: Gateway) -> Path:
    return Path(gateway.env["VIDEO_OPS_OUTPUT_DIR"])


def call(gateway: Gateway, method: str, path: str, key: str | None = KEY, **kwargs: Any) -> requests.Response:
    headers = {"X-API-Key": key} if key else {}
    return requests.request(method, gateway.url + path, headers=headers, timeout=30, **kwargs)


def guide_text(gateway: Gateway, text: str, job_id: str | None = None) -> str:
    """An example with the host, the job id and the media URLs changed, nothing else."""
    text = text.replace(GUIDE_HOST, gateway.url)
    for guide_url, sample in SAMPLES.items():
        text = text.replace(guide_url, sample)
    return text.replace("abc-123-def", job_id) if job_id else text


def curl(gateway: Gateway, example: str, job_id: str | None = None) -> dict[str, Any]:
    done = subprocess.run(["bash", "-c", guide_text(gateway, example, job_id) + " --silent --show-error"],
                          capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


def final_result(gateway: Gateway, job_id: str, timeout: float = 120) -> requests.Response:
    """The result route's answer once it is no longer 202."""

    def ended() -> tuple[requests.Response] | None:  # in a tuple: a 4xx/5xx Response is falsy itself
        answer = call(gateway, "GET", f"/video/job/{job_id}/result")
        return None if answer.status_code == 202 else (answer,)

    return wait_until(ended, timeout, f"job {job_id} did not end", interval=0.2)[0]


def probe_duration(url: str, tmp: Path) -> float:
    """Download a result over its link and read its duration with ffprobe."""
    local = tmp / url.rsplit("/", 1)[1]
    response = requests.get(url, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "video/mp4"
    local.write_bytes(response.content)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(local)], capture_output=True, text=True, check=True)
    return float(probe.stdout)


def ffmpeg_children(gateway: Gateway) -> list[int]:
    return [pid for pid in descendants(gateway.proc.pid) if command_name(pid) == "ffmpeg"]


def job_counts(gateway: Gateway) -> dict[str, int]:
    return call(gateway, "GET", "/health", key=None).json()["jobs"]


# --- the guide's examples ----------------------------------------------------------------------------


def test_the_guides_curl_examples_submit_follow_fetch_and_cancel(gateway: Gateway, tmp_path: Path) -> None:
    img2vid = curl(gateway, CURL_IMG2VID)
    caption = curl(gateway, CURL_CAPTION)
    addaudio = curl(gateway, CURL_ADDAUDIO)  # queued behind the others: one worker
    queued = curl(gateway, CURL_STATUS, addaudio["jobId"])
    cancelled = curl(gateway, CURL_CANCEL, addaudio["jobId"])
    pending = curl(gateway, CURL_RESULT, caption["jobId"])

    for answer in (img2vid, caption, addaudio):
        job = answer["jobId"]
        assert {key: value for key, value in answer.items() if key != "estimatedTime"} == {
            "jobId": job, "status": "IN_QUEUE", "statusUrl": f"/video/job/{job}",
            "resultUrl": f"/video/job/{job}/result",
            "message": "Job submitted successfully. Use statusUrl to check progress."}
    assert img2vid["estimatedTime"] == "2-10 minutes depending on image count"
    assert "estimatedTime" not in caption
    assert queued["id"] == addaudio["jobId"] and queued["status"] == "IN_QUEUE" and "delayTime" in queued
    assert cancelled == {"message": "Job cancelled successfully", "jobId": addaudio["jobId"]}
    assert pending["status"] in ("IN_QUEUE", "IN_PROGRESS")
    assert pending["message"] in ("Job is in queue", "Job is in progress")
    assert pending["statusUrl"] == f"/video/job/{caption['jobId']}"

    final_result(gateway, caption["jobId"])
    done = curl(gateway, CURL_RESULT, caption["jobId"])
    assert done["status"] == "COMPLETED" and {"delayTime", "executionTime"} <= done.keys()
    assert done["result"]["video_url"].startswith("http://127.0.0.1:")
    assert probe_duration(done["result"]["video_url"], tmp_path) == pytest.approx(4.0, abs=0.1)
    final_result(gateway, img2vid["jobId"])
    status = curl(gateway, CURL_STATUS, img2vid["jobId"])
    assert [clip["duration"] for clip in status["output"]["videos"]] == [3.0, 4.0]
    assert call(gateway, "GET", f"/video/job/{addaudio['jobId']}").json()["status"] == "CANCELLED"
    assert not (output_dir(gateway) / "videos/output/video_with_audio.mp4").exists()


def test_the_guides_python_example_runs_as_written(gateway: Gateway) -> None:
    script = guide_text(gateway, PYTHON_EXAMPLE).replace("submit_video([...])", f"submit_video({IMAGES!r})")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2] == "Status: COMPLETED" and lines[-1].startswith("Videos: [{")
    assert re.findall(r"'video_url': 'http://127\.0\.0\.1:\d+/output/videos/output/video_(\d)\.mp4'", lines[-1]) == [
        "1", "2"]


def test_the_guides_node_example_runs_as_written(gateway: Gateway, tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the guide's JavaScript example cannot run here")
    script = tmp_path / "example.mjs"  # the example awaits at top level: an ES module
    images = json.dumps(IMAGES)
    script.write_text(guide_text(gateway, NODE_EXAMPLE).replace("submitVideo([...])", f"submitVideo({images})"))
    done = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    statuses, _, videos = done.stdout.partition("Videos: [")
    assert statuses.splitlines()[-1] == "Status: COMPLETED"
    links = re.findall(r"video_url: 'http://127\.0\.0\.1:\d+/output/videos/output/video_(\d)\.mp4'", videos)
    assert links == ["1", "2"]


# --- sync calls ------------------------------------------------------------------------------------------


def test_a_sync_call_answers_with_the_workers_output(gateway: Gateway, tmp_path: Path) -> None:
    body = json.loads(guide_text(gateway, json.dumps({"url_video": "https://example.com/video.mp4",
                                                      "url_audio": "https://example.com/audio.mp3",
                                                      "path": "sync", "output_filename": "synced.mp4"})))
    answer = call(gateway, "POST", "/video/addaudio", json=body)
    assert answer.status_code == 200
    output = answer.json()
    assert output["success"] is True and output["s3_key"] == "sync/synced.mp4"
    assert call(gateway, "GET", f"/video/job/{answer.headers['X-Job-Id']}").json()["output"] == output
    assert probe_duration(output["video_url"], tmp_path) == pytest.approx(4.0, abs=0.1)


def test_a_sync_call_past_its_cap_answers_202_and_the_job_completes(capped: Gateway) -> None:
    body = {"images": [{"id": "long", "image_url": "file:samples/sample_image.jpg", "duracao": 30}],
            "zoom_types": ["zoomin"], "width": 1280, "height": 720, "path": "capped"}
    started = time.monotonic()
    answer = call(capped, "POST", "/video/img2vid", key=None, json=body)
    waited = time.monotonic() - started
    assert answer.status_code == 202, answer.text
    pending = call(capped, "GET", answer.json()["resultUrl"], key=None)

    assert answer.status_code == 202 and 1.0 <= waited < 3.0
    job = answer.json()["jobId"]
    assert answer.json()["statusUrl"] == f"/video/job/{job}" and answer.json()["status"] == "IN_PROGRESS"
    assert pending.status_code == 202 and pending.json()["message"] == "Job is in progress"
    done = final_result(capped, job)
    assert done.status_code == 200 and done.json()["result"]["videos"][0]["frames"] == 30 * 24


def test_a_sync_call_the_caller_drops_still_runs_to_the_end(capped: Gateway) -> None:
    body = {"images": [{"id": "dropped", "image_url": "file:samples/sample_image.jpg", "duracao": 2}],
            "path": "dropped", "width": 320, "height": 180}
    with pytest.raises(requests.ReadTimeout):
        requests.post(capped.url + "/video/img2vid", json=body, timeout=(5, 0.3))
    clip = output_dir(capped) / "dropped" / "video_1.mp4"
    wait_until(clip.exists, 60, "the dropped call's job never finished", interval=0.2)


# --- result codes, cancel ----------------------------------------------------------------------------------


def test_a_failed_job_stops_the_poller_with_the_workers_sentence(gateway: Gateway) -> None:
    body = {"url_video": "file:samples/missing.mp4", "url_audio": "file:samples/sample_audio.mp3"}
    job = call(gateway, "POST", "/video/addaudio/async", json=body).json()["jobId"]
    failed = final_result(gateway, job)
    status = call(gateway, "GET", f"/job/{job}").json()  # the legacy status route

    assert failed.status_code == 500
    assert failed.json() == {"jobId": job, "status": "FAILED", "error": status["error"]}
    assert status["error"].startswith("url_video: ") and "\n" not in status["error"]
    assert "Traceback" not in status["error"] and not status["error"].startswith("{")


def test_cancel_stops_a_running_jobs_ffmpeg_and_uploads_nothing(gateway: Gateway) -> None:
    body = {"images": [{"id": "long", "image_url": "file:samples/sample_image.jpg", "duracao": 120}],
            "zoom_types": ["zoomin"], "width": 1280, "height": 720, "path": "cancelled"}
    job = call(gateway, "POST", "/video/img2vid/async", json=body).json()["jobId"]
    encoders = wait_until(lambda: ffmpeg_children(gateway), 60, "the job never started FFmpeg", interval=0.1)
    running = call(gateway, "GET", f"/video/job/{job}").json()

    cancelled = call(gateway, "POST", f"/job/{job}/cancel")
    wait_until(lambda: not ffmpeg_children(gateway), 15, "FFmpeg survived the cancel")
    again = call(gateway, "POST", f"/job/{job}/cancel")
    result = call(gateway, "GET", f"/video/job/{job}/result")

    assert running["status"] == "IN_PROGRESS" and encoders
    assert cancelled.status_code == 200 and cancelled.json() == {"message": "Job cancelled successfully", "jobId": job}
    assert again.status_code == 409 and "CANCELLED" in again.json()["message"]
    assert result.status_code == 410 and result.json() == {"jobId": job, "status": "CANCELLED",
                                                           "error": "The job was cancelled."}
    time.sleep(1.0)  # an upload would land just after the encode
    assert not (output_dir(gateway) / "cancelled").exists() or not any((output_dir(gateway) / "cancelled").iterdir())


def test_runpods_json_error_strings_become_the_workers_sentence() -> None:
    runpod_error = json.dumps({"error_type": "<class 'RuntimeError'>", "error_message": "url_video: boom.",
                               "error_traceback": "Traceback (most recent call last):\n  ..."})
    status = {"id": "j1", "status": "FAILED", "delayTime": 5, "error": runpod_error}
    assert replies.job_view(status) == {"id": "j1", "status": "FAILED", "delayTime": 5, "error": "url_video: boom."}
    assert replies.result_reply(status) == (500, {"jobId": "j1", "status": "FAILED", "error": "url_video: boom."})
    assert replies.result_reply({"id": "j2", "status": "TIMED_OUT"}) == (
        504, {"jobId": "j2", "status": "TIMED_OUT", "error": "The job reached its execution timeout."})


@pytest.mark.parametrize("job_id", ["no-such-job", "a.b", "%2e%2e", "x" * 200])
def test_unknown_jobs_are_404_on_every_job_route(gateway: Gateway, job_id: str) -> None:
    for method, path in (("GET", f"/video/job/{job_id}"), ("GET", f"/job/{job_id}"),
                         ("GET", f"/video/job/{job_id}/result"), ("POST", f"/job/{job_id}/cancel")):
        answer = call(gateway, method, path)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "Not Found"


# --- refusals at the door ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "wrong-key", KEY + "x", KEY[:-1]])
def test_a_missing_or_wrong_key_is_401_on_every_route_but_health_and_the_root(gateway: Gateway,
                                                                             key: str | None) -> None:
    for method, path in (("POST", "/video/caption/async"), ("POST", "/video/caption"), ("GET", "/video/job/x"),
                         ("GET", "/job/x"), ("GET", "/video/job/x/result"), ("POST", "/job/x/cancel"),
                         ("GET", "/queue/stats"), ("GET", "/admin/workers/status")):
        answer = call(gateway, method, path, key=key, json={})
        assert answer.status_code == 401, path
        assert answer.json() == {"error": "Unauthorized", "message": "Invalid or missing API key"}
    assert call(gateway, "GET", "/health", key=key).status_code == 200
    assert call(gateway, "GET", "/", key=key).status_code == 200


def test_every_configured_key_is_accepted(gateway: Gateway) -> None:
    for key in (KEY, "second-key"):
        assert call(gateway, "GET", "/video/job/no-such-job", key=key).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "code", "message"),
    [
        ("/video/addaudio/async", {"url_vidoe": "file:samples/sample_video.mp4", "url_audio": "file:a.mp3"}, 422,
         "Invalid input: missing required field 'url_video'; unknown field 'url_vidoe' (did you mean 'url_video'?)."),
        ("/video/img2vid", {"images": [{"id": "a", "image_url": "file:x.jpg", "duracao": -1}]}, 422,
         "Invalid input: field 'images[0].duracao': Input should be greater than 0."),
        ("/video/caption/async", {"operation": "addaudio", "url_video": "x", "url_srt": "y"}, 422,
         "Invalid input: field 'operation' must be 'caption' on this route, or left out (the route names the "
         "operation)."),
        ("/video/caption/async", [1, 2], 400, "The request body must be a JSON object (the job's input)."),
        ("/video/stabilize/async", {}, 404, f"Unknown operation 'stabilize'; valid operations: {VALID}."),
        ("/video/stabilize", {}, 404, f"Unknown operation 'stabilize'; valid operations: {VALID}."),
    ],
)
def test_bad_requests_are_refused_with_one_sentence_and_queue_nothing(
    gateway: Gateway, path: str, body: Any, code: int, message: str
) -> None:
    before = job_counts(gateway)
    answer = call(gateway, "POST", path, json=body)
    assert (answer.status_code, answer.json()["message"]) == (code, message)
    after = job_counts(gateway)
    assert sum(after.values()) == sum(before.values()), "a refused request reached the queue"


def test_malformed_json_is_400(gateway: Gateway) -> None:
    answer = requests.post(gateway.url + "/video/addaudio/async", data=b'{"url_video": ',
                           headers={"X-API-Key": KEY, "Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("The request body is not valid JSON: ")


def test_bodies_over_1_mib_are_413_declared_or_streamed(gateway: Gateway) -> None:
    big = json.dumps({"url_video": "x" * (1024 * 1024), "url_audio": "y"}).encode()
    declared = call(gateway, "POST", "/video/addaudio/async", data=big)
    streamed = call(gateway, "POST", "/video/addaudio/async", data=iter([big[:65536], big[65536:]]))  # chunked
    just_under = call(gateway, "POST", "/video/addaudio/async", data=b" " * (1024 * 1024 - 2) + b"[]")
    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert answer.json() == {"error": "Payload Too Large",
                                 "message": "The request body is larger than 1048576 bytes."}
    assert just_under.status_code == 400  # read in full, then refused for what it is


# --- the service -------------------------------------------------------------------------------------------


def test_health_reports_the_gateway_and_its_backend(gateway: Gateway) -> None:
    health = call(gateway, "GET", "/health", key=None).json()
    assert health["status"] == "ok" and health["backend"] == "local endpoint"
    assert health["workers"]["idle"] + health["workers"]["running"] == 1


def queue_stats(gateway: Gateway) -> dict[str, Any]:
    answer = call(gateway, "GET", "/queue/stats")
    assert answer.status_code == 200, answer.text
    return answer.json()


def epoch(moment: str) -> float:
    """An ISO 8601 time the gateway wrote ("...Z"), in seconds since the epoch."""
    return datetime.datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def moved(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, int]]:
    """What changed between two stats, per operation and state (only what moved)."""
    changes = {}
    for operation, counts in after["operations"].items():
        delta = {state: n - before["operations"].get(operation, {}).get(state, 0) for state, n in counts.items()}
        if any(delta.values()):
            changes[operation] = {state: n for state, n in delta.items() if n}
    return changes


def test_queue_stats_count_each_operations_jobs_queued_running_and_ended(gateway: Gateway) -> None:
    """One worker: an addaudio fails, a probe completes, then a long img2vid runs while another addaudio waits,
    and both are cancelled. The stats are the jobs as the gateway last saw them (it asks the backend every
    few seconds), so each expected state is waited for."""
    before = queue_stats(gateway)
    addaudio = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
                "path": "stats"}
    gateway.submit("addaudio", {**addaudio, "url_video": "file:samples/none.mp4"})
    gateway.submit("probe", {"url": "file:samples/sample_video.mp4"})
    long = gateway.submit("img2vid", {"images": [{"id": "long", "image_url": "file:samples/sample_image.jpg",
                                                  "duracao": 120}],
                                      "zoom_types": ["zoomin"], "width": 640, "height": 360, "path": "stats"})
    waiting = gateway.submit("addaudio", addaudio)

    def reached(expected: dict[str, dict[str, int]]) -> dict[str, Any]:
        def now() -> dict[str, Any] | None:
            stats = queue_stats(gateway)
            return stats if moved(before, stats) == expected else None

        return wait_until(now, 30, f"the stats never moved by {expected}", interval=0.2)

    busy = reached({"addaudio": {"failed": 1, "queued": 1}, "probe": {"completed": 1}, "img2vid": {"running": 1}})
    for job in (waiting, long):
        assert call(gateway, "POST", f"/job/{job}/cancel").status_code == 200
    after = reached({"addaudio": {"failed": 1, "cancelled": 1}, "probe": {"completed": 1},
                     "img2vid": {"cancelled": 1}})

    assert list(after["operations"])[:len(OPERATIONS)] == list(OPERATIONS)  # every operation, idle ones at zero
    for stats in (before, busy, after):
        assert stats["totals"] == {state: sum(counts[state] for counts in stats["operations"].values())
                                   for state in ("queued", "running", "completed", "failed", "cancelled")}
        since, until = epoch(stats["since"]), epoch(stats["until"])
        assert stats["windowSeconds"] == 3600 and round(until - since, 3) == 3600 and abs(until - time.time()) < 60


def test_workers_status_reports_each_backend_endpoints_health(gateway: Gateway) -> None:
    answer = call(gateway, "GET", "/admin/workers/status")
    status = answer.json()
    main = status["endpoints"]["main"]

    assert answer.status_code == 200 and status["status"] == "ok" and list(status["endpoints"]) == ["main"]
    assert main["backend"] == "local endpoint" and main["status"] == "ok"
    assert set(main["workers"]) == {"idle", "initializing", "ready", "running", "throttled", "unhealthy"}
    assert main["workers"]["idle"] + main["workers"]["running"] == 1 and main["workers"]["throttled"] == 0
    assert {"completed", "failed", "inProgress", "inQueue"} <= set(main["jobs"])
    assert status["workers"] == {state: main["workers"][state] for state in ("idle", "running", "throttled")}
    assert abs(epoch(status["checkedAt"]) - time.time()) < 60


def test_the_root_names_the_service_its_operations_and_every_route(gateway: Gateway) -> None:
    root = call(gateway, "GET", "/", key=None).json()
    document = call(gateway, "GET", "/openapi.json", key=None).json()
    documented = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    listed = {(route["method"], route["path"]): route for route in root["routes"]}

    assert (root["name"], root["version"]) == ("video-ops gateway", importlib.metadata.version("video-ops"))
    assert root["operations"] == list(OPERATIONS) and (root["docs"], root["openapi"]) == ("/docs", "/openapi.json")
    assert set(listed) == documented and len(listed) == len(root["routes"])
    assert {path for (_, path), route in listed.items() if not route["key"]} == {"/", "/health", "/ui"}
    assert all(route["summary"] for route in root["routes"])
    assert listed[("GET", "/queue/stats")]["key"] and listed[("GET", "/admin/workers/status")]["key"]


def test_the_openapi_bodies_are_the_workers_models(gateway: Gateway) -> None:
    document = call(gateway, "GET", "/openapi.json", key=None).json()
    components = document["components"]["schemas"]
    for name, operation in OPERATIONS.items():
        model = operation.input_model.model_json_schema()
        assert f"/runpod/video/{name}" in document["paths"]  # the reference's current route family
        for path in (f"/video/{name}/async", f"/video/{name}"):
            ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            body = components[ref.rsplit("/", 1)[1]]
            assert body["properties"].keys() == model["properties"].keys() - {"operation"}
            assert set(body["required"]) == set(model.get("required", [])) - {"operation"}
            for field, schema in body["properties"].items():
                assert json.dumps(schema).replace("#/components/schemas/", "#/$defs/") == json.dumps(
                    model["properties"][field]), f"{name}.{field}"
        for nested, schema in model.get("$defs", {}).items():
            assert json.dumps(components[nested]).replace("#/components/schemas/", "#/$defs/") == json.dumps(schema)
    assert components == {**components, **body_schemas(OPERATIONS)}
    assert document["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "one of VIDEO_OPS_API_KEYS"}
    assert "/health" in document["paths"] and "/job/{job_id}/cancel" in document["paths"]
    assert {"/", "/queue/stats", "/admin/workers/status", "/ui"} <= set(document["paths"])
    assert call(gateway, "GET", "/docs", key=None).status_code == 200


def test_without_a_key_the_gateway_refuses_a_public_address(tmp_path: Path) -> None:
    env = {**os.environ, **gateway_env(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "video_ops.gateway", "--host", "0.0.0.0", "--port", "0"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert "no API key is set (VIDEO_OPS_API_KEYS); refusing to listen on 0.0.0.0" in done.stderr


def test_the_gateway_loads_the_models_but_not_the_workers_runner_or_its_bucket_client() -> None:
    code = "import sys, video_ops.gateway.cli; print(sorted(m for m in ('boto3', 'cv2', 'video_ops.worker', " \
           "'video_ops.ops') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['video_ops.ops']"


def test_with_a_runpod_endpoint_jobs_go_there_with_the_gateways_bucket(tmp_path: Path) -> None:
    """RUNPOD_ENDPOINT_ID and RUNPOD_API_KEY: the gateway starts no worker and uses that endpoint (here a
    local endpoint whose test worker echoes the request-level s3Config it was sent)."""
    bucket = {"BUCKET_NAME": "gateway-bucket", "BUCKET_ACCESS_KEY_ID": "gateway-access",
              "BUCKET_SECRET_ACCESS_KEY": "gateway-secret-value", "BUCKET_ENDPOINT_URL": "http://127.0.0.1:9"}
    with LocalEndpoint(SLEEPY, 1, tmp_path / "endpoint.log", {"SLEEPY_LOG": str(tmp_path / "ran.txt")}) as runpod:
        base, endpoint_id = runpod.url.rsplit("/", 1)
        env = {**gateway_env(tmp_path, VIDEO_OPS_API_KEYS=KEY, RUNPOD_ENDPOINT_ID=endpoint_id,
                             RUNPOD_API_KEY="runpod-secret-value", RUNPOD_ENDPOINT_BASE_URL=base), **bucket}
        with Gateway(REPO / "handler.py", 1, tmp_path / "gateway.log", env) as gateway:
            plain = {"url_video": "https://example.com/v.mp4", "url_audio": "https://example.com/a.mp3"}
            own = {**plain, "s3_config": {"access_key": "a", "secret_key": "s", "bucket_name": "theirs"}}
            sent = call(gateway, "POST", "/video/addaudio", json=plain).json()
            kept = call(gateway, "POST", "/video/addaudio", json=own).json()
            health = call(gateway, "GET", "/health", key=None).json()
            endpoints = call(gateway, "GET", "/admin/workers/status").json()["endpoints"]
            workers = descendants(gateway.proc.pid)
        log = (tmp_path / "gateway.log").read_text()

    assert sent["s3Config"] == {"bucketName": "gateway-bucket", "accessId": "gateway-access",
                                "accessSecret": "gateway-secret-value", "endpointUrl": "http://127.0.0.1:9"}
    assert kept["s3Config"] is None  # the job's own s3_config wins, and the worker reads it from the input
    assert health["backend"] == f"runpod endpoint {endpoint_id}" and workers == []
    main = endpoints["main"]  # RunPod's GET /v2/<id>/health, as the endpoint answered it
    assert (main["backend"], main["status"], main["workers"]["idle"] + main["workers"]["running"]) == (
        f"runpod endpoint {endpoint_id}", "ok", 1)
    assert "secret-value" not in log and KEY not in log


def test_an_endpoint_that_does_not_answer_is_shown_and_the_status_is_503(tmp_path: Path, tricky: TrickyServer) -> None:
    """A RunPod endpoint that refuses the gateway's RunPod key: the workers' status says which endpoint and why."""
    backend = Backend(Client("refusing", api_key="not-valid", base_url=f"{tricky.url}/status/401"),
                      "runpod endpoint refusing")
    with serving_app(lambda _url: create_app(backend, OPERATIONS, [KEY], 60, Store(tmp_path / "gateway.sqlite"))) \
            as url:
        answer = requests.get(f"{url}/admin/workers/status", headers={"X-API-Key": KEY}, timeout=30)
        health = requests.get(f"{url}/health", timeout=30)
    status = answer.json()
    main = status["endpoints"]["main"]

    assert answer.status_code == 503 and health.status_code == 503
    assert (status["status"], status["workers"]) == ("degraded", {"idle": 0, "running": 0, "throttled": 0})
    assert (main["backend"], main["status"]) == ("runpod endpoint refusing", "unavailable")
    assert "401" in main["error"] and main["error"] == health.json()["error"] and "workers" not in main
