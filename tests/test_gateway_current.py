"""The reference orchestrator's current routes (`/runpod/video/<operation>`, `/jobs/<id>`) with its own bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import test_gateway_webhooks as hooks
from tests.endpoint import Gateway, LocalEndpoint, wait_until
from tests.helpers import REPO
from tests.media import probe, stream_duration
from tests.test_gateway import gateway_env
from tests.test_gateway_webhooks import KEY, Receiver, verified
from video_ops.client import Client
from video_ops.gateway.caption_style import to_worker_input
from video_ops.gateway.intake import Refusal

# The webhook tests' gateway (a key, WEBHOOK_SECRET, private receivers allowed) and receiver, one each here.
gateway = hooks.gateway
receiver = hooks.receiver


def post(gateway: Gateway, path: str, body: Any = None) -> requests.Response:
    return requests.post(gateway.url + path, json=body, headers={"X-API-Key": KEY}, timeout=30)


def job(gateway: Gateway, job_id: str) -> requests.Response:
    return requests.get(f"{gateway.url}/jobs/{job_id}", headers={"X-API-Key": KEY}, timeout=30)


def ended(gateway: Gateway, job_id: str) -> dict[str, Any]:
    return wait_until(lambda: (view := job(gateway, job_id).json())["status"] not in ("QUEUED", "PROCESSING") and view,
                      120, f"job {job_id} did not end", interval=0.2)


def test_a_reference_addaudio_body_is_queued_tracked_and_reported_by_webhook(
    gateway: Gateway, receiver: Receiver
) -> None:
    # The reference's REST body: the operation's fields, webhook_url and id_roteiro.
    body = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
            "path": "roteiros/42", "output_filename": "narrado.mp4", "mode": "mix",
            "webhook_url": receiver.url("/current"), "id_roteiro": "roteiro-42"}
    answer = post(gateway, "/runpod/video/addaudio", body)
    queued = answer.json()
    done = ended(gateway, queued["jobId"])
    wait_until(lambda: receiver.received("/current"), 30, "no webhook came")

    assert answer.status_code == 202
    assert queued.keys() == {"jobId", "status", "idRoteiro", "message", "estimatedTime", "queuePosition",
                             "statusUrl", "createdAt"}
    assert (queued["status"], queued["idRoteiro"], queued["message"]) == ("QUEUED", "roteiro-42",
                                                                         "Job queued successfully")
    assert queued["statusUrl"] == f"/jobs/{queued['jobId']}" and isinstance(queued["queuePosition"], int)
    assert done.keys() >= {"jobId", "status", "operation", "idRoteiro", "result", "error", "createdAt",
                           "submittedAt", "completedAt", "webhook"}
    assert (done["status"], done["operation"], done["idRoteiro"], done["error"]) == (
        "COMPLETED", "addaudio", "roteiro-42", None)
    assert done["result"]["s3_key"] == "roteiros/42/narrado.mp4" and done["createdAt"] <= done["completedAt"]
    (headers, data), = receiver.received("/current")
    payload = json.loads(data)
    assert verified(headers, data) and payload["idRoteiro"] == "roteiro-42" and payload["operation"] == "addaudio"
    assert payload["result"] == done["result"]


def test_a_reference_img2vid_body_runs(gateway: Gateway) -> None:
    body = {"images": [{"id": "cena1", "image_url": "file:samples/sample_image.jpg", "duracao": 1.5},
                       {"id": "cena2", "image_url": "file:samples/sample_image.jpg", "duracao": 2.0}],
            "path": "roteiros/7", "id_roteiro": 7}
    queued = post(gateway, "/runpod/video/img2vid", body).json()
    done = ended(gateway, queued["jobId"])
    assert queued["idRoteiro"] == 7 and done["idRoteiro"] == 7 and "webhook" not in done
    assert [(clip["id"], clip["duration"]) for clip in done["result"]["videos"]] == [("cena1", 1.5), ("cena2", 2.0)]


def test_unknown_fields_are_a_400_naming_them_and_queue_nothing(gateway: Gateway) -> None:
    health = requests.get(gateway.url + "/health", timeout=30).json()["jobs"]
    answer = post(gateway, "/runpod/video/addaudio", {"url_video": "x", "url_audio": "y", "volume": 2})
    assert answer.status_code == 400
    assert answer.json()["message"] == "Invalid input: unknown field 'volume' (did you mean 'audio_volume'?)."
    assert requests.get(gateway.url + "/health", timeout=30).json()["jobs"] == health


def test_a_cancelled_queued_job_never_runs_and_a_finished_one_cannot_be_cancelled(gateway: Gateway) -> None:
    long = {"images": [{"id": "a", "image_url": "file:samples/sample_image.jpg", "duracao": 20}],
            "zoom_types": ["zoomin"], "width": 1280, "height": 720, "path": "busy"}
    short = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
             "path": "never", "output_filename": "never.mp4"}
    busy = post(gateway, "/runpod/video/img2vid", long).json()["jobId"]
    queued = post(gateway, "/runpod/video/addaudio", short).json()["jobId"]  # behind it: one worker
    cancelled = post(gateway, f"/jobs/{queued}/cancel")
    post(gateway, f"/jobs/{busy}/cancel")
    again = post(gateway, f"/jobs/{queued}/cancel")

    assert cancelled.status_code == 200 and cancelled.json() == {"message": "Job cancelled successfully",
                                                                 "jobId": queued}
    assert again.status_code == 400 and "CANCELLED" in again.json()["message"]
    view = job(gateway, queued).json()
    assert (view["status"], view["result"], view["error"]) == ("CANCELLED", None, "The job was cancelled.")
    assert not (Path(gateway.env["VIDEO_OPS_OUTPUT_DIR"]) / "never").exists()


def test_unknown_jobs_and_operations_are_404(gateway: Gateway) -> None:
    assert job(gateway, "no-such-job").status_code == 404
    assert post(gateway, "/jobs/no-such-job/cancel").status_code == 404
    refused = post(gateway, "/runpod/video/karaoke", {"video_urls": []})
    assert refused.status_code == 404 and refused.json()["message"].startswith("Unknown operation 'karaoke'")


def test_caption_style_maps_the_reference_bodies_as_its_orchestrator_did() -> None:
    segments = {"url_video": "v.mp4", "url_caption": "c.srt", "type": "segments", "uppercase": True,
                "path": "p", "output_filename": "o.mp4",
                "style": {"font": {"name": "Arial", "size": 40}, "position": {"alignment": "top_center"}}}
    assert to_worker_input(segments) == ("caption_segments", {
        "url_video": "v.mp4", "url_srt": "c.srt", "path": "p", "output_filename": "o.mp4",
        "style": {"font": {"name": "Arial", "size": 40}, "position": {"alignment": "top_center"}, "uppercase": True}})
    highlight = {"url_video": "v.mp4", "url_caption": "w.json", "type": "highlight", "uppercase": False,
                 "style": {"fonte": "Arial Black", "tamanho_fonte": 64, "fundo_cor": "#000000", "fundo_opacidade": 50,
                           "texto_cor": "#FFFFFF", "highlight_cor": "#D60000", "position": "bottom_center",
                           "words_per_line": 3}}
    assert to_worker_input(highlight) == ("caption_highlight", {
        "url_video": "v.mp4", "url_words_json": "w.json",
        "style": {"fonte": "Arial Black", "tamanho_fonte": 64, "fundo_cor": "#000000", "fundo_opacidade": 128,
                  "texto_cor": "#FFFFFF", "highlight_cor": "#D60000", "words_per_line": 3, "alignment": "bottom_center",
                  "highlight_texto_cor": "#FFFFFF", "uppercase": False}})
    assert to_worker_input({**highlight, "url_caption": "cues.SRT"})[1]["url_srt"] == "cues.SRT"
    heard = {"url_video": "v.mp4", "type": "highlight", "transcribe": {"model": "small", "language": "pt"}}
    assert to_worker_input(heard) == ("caption_highlight", {"url_video": "v.mp4", "style": {},
                                                            "transcribe": {"model": "small", "language": "pt"}})
    with pytest.raises(Refusal) as neither:
        to_worker_input({"url_video": "v.mp4", "type": "segments"})
    assert neither.value.message == ("Invalid input: give the captions as 'url_caption' (the SRT or words file) or "
                                     "have them heard in the video's own speech with 'transcribe' (one of them).")


def test_caption_style_jobs_run_as_the_workers_caption_operations(gateway: Gateway) -> None:
    common = {"url_video": "file:samples/sample_video.mp4", "path": "roteiros/9", "id_roteiro": "r9"}
    segments = post(gateway, "/runpod/video/caption_style",
                    {**common, "type": "segments", "url_caption": "file:samples/sample_captions.srt",
                     "uppercase": True, "style": {"position": {"alignment": "top_center"}}}).json()
    highlight = post(gateway, "/runpod/video/caption_style",
                     {**common, "type": "highlight", "url_caption": "file:samples/sample_words.json",
                      "style": {"texto_cor": "#FFFF00", "fundo_opacidade": 60, "position": "middle_center"}}).json()
    done = [ended(gateway, queued["jobId"]) for queued in (segments, highlight)]
    assert [view["status"] for view in done] == ["COMPLETED", "COMPLETED"], done
    assert [view["operation"] for view in done] == ["caption_style", "caption_style"]
    assert [view["result"]["message"] for view in done] == [
        "Caption segments added and uploaded to S3 successfully",
        "Caption highlight added and uploaded to S3 successfully",
    ]


def test_caption_style_refuses_what_the_reference_did_not_know(gateway: Gateway) -> None:
    body = {"url_video": "file:samples/sample_video.mp4", "url_caption": "file:samples/sample_words.json",
            "type": "highlight", "style": {"fonte": "Arial", "sombra": 3}}
    answer = post(gateway, "/runpod/video/caption_style", body)
    assert answer.status_code == 400
    assert answer.json()["message"] == "Invalid input: unknown field 'style.sombra' for caption_style."
    answer = post(gateway, "/runpod/video/caption_style", {**body, "type": "karaoke", "style": {}})
    assert answer.json()["message"] == "Invalid input: field 'type' must be 'segments' or 'highlight'."


# The reference's bodies of its /vps/ routes: its guide's img2vid and addaudio bodies, its concatenate and
# caption_style bodies, each with the webhook_url its current routes take.
def vps_bodies(media: str) -> dict[str, dict[str, Any]]:
    """`media`: where the tests' short media are served (video.mp4 lasts 2 s, tone.mp3 3 s)."""
    return {
        "img2vid": {"images": [{"id": "img1", "image_url": "file:samples/sample_image.jpg", "duracao": 1.0},
                               {"id": "img2", "image_url": "file:samples/sample_image.jpg", "duracao": 0.5}],
                    "path": "videos/output"},
        "addaudio": {"url_video": f"{media}/video.mp4", "url_audio": f"{media}/tone.mp3", "path": "videos/output",
                     "output_filename": "video_with_audio.mp4"},
        "concatenate": {"video_urls": [{"video_url": f"{media}/video.mp4"}, {"video_url": f"{media}/video.mp4"}],
                        "path": "videos/output", "output_filename": "joined.mp4"},
        "caption_style": {"url_video": f"{media}/video.mp4", "url_caption": "file:samples/sample_captions.srt",
                          "type": "segments", "uppercase": False, "path": "videos/output",
                          "output_filename": "captioned.mp4", "style": {"position": {"alignment": "bottom_center"}}},
    }


SOUND = "file:samples/sample_audio.mp3"  # 5.04 s
QUEUED_KEYS = {"jobId", "status", "idRoteiro", "message", "estimatedTime", "queuePosition", "statusUrl", "createdAt"}


def output_file(runner: LocalEndpoint, result: dict[str, Any]) -> Path:
    """Where the endpoint that ran the job wrote its output (no bucket: its output folder)."""
    path = Path(runner.env["VIDEO_OPS_OUTPUT_DIR"]) / result["s3_key"]
    assert path.is_file(), result
    return path


def test_the_vps_video_routes_queue_the_reference_bodies(gateway: Gateway, receiver: Receiver,
                                                         media_server: str) -> None:
    bodies = vps_bodies(media_server)
    answers = {name: post(gateway, f"/vps/video/{name}",
                          {**body, "webhook_url": receiver.url(f"/vps-{name}"), "id_roteiro": f"r-{name}"})
               for name, body in bodies.items()}
    done = {name: ended(gateway, answer.json()["jobId"]) for name, answer in answers.items()}
    wait_until(lambda: all(receiver.received(f"/vps-{name}") for name in bodies), 30, "a webhook did not come")

    assert {name: (answer.status_code, answer.json().keys()) for name, answer in answers.items()} == {
        name: (202, QUEUED_KEYS) for name in bodies}
    assert {name: (view["status"], view["operation"], view["idRoteiro"]) for name, view in done.items()} == {
        name: ("COMPLETED", name, f"r-{name}") for name in bodies}
    assert [clip["duration"] for clip in done["img2vid"]["result"]["videos"]] == [1.0, 0.5]
    joined = output_file(gateway, done["concatenate"]["result"])
    assert done["concatenate"]["result"]["video_count"] == 2
    assert stream_duration(joined, "video") == pytest.approx(4.0, abs=0.05)
    assert done["addaudio"]["result"]["s3_key"] == "videos/output/video_with_audio.mp4"
    assert done["caption_style"]["result"]["message"] == "Caption segments added and uploaded to S3 successfully"
    (headers, data), = receiver.received("/vps-addaudio")
    assert verified(headers, data) and json.loads(data)["result"] == done["addaudio"]["result"]


def test_vps_audio_concatenate_answers_when_the_file_is_written(gateway: Gateway, media_server: str) -> None:
    tone = f"{media_server}/tone.mp3"
    body = {"audio_urls": [{"audio_url": tone}, {"audio_url": tone}], "path": "roteiros/3/audio"}
    answer = post(gateway, "/vps/audio/concatenate", body)
    assert answer.status_code == 200, answer.text
    joined = answer.json()
    assert joined.keys() >= {"success", "audio_url", "filename", "s3_key", "audio_count", "total_duration",
                             "processing_time_ms", "message"}
    assert (joined["success"], joined["filename"], joined["s3_key"], joined["audio_count"]) == (
        True, "audio_concatenated.mp3", "roteiros/3/audio/audio_concatenated.mp3", 2)
    assert joined["message"] == "2 audio files concatenated and uploaded to S3 successfully"
    assert joined["total_duration"] == pytest.approx(6.0, abs=0.06) and joined["processing_time_ms"] > 0
    assert stream_duration(output_file(gateway, joined), "audio") == pytest.approx(6.0, abs=0.06)
    assert answer.headers["X-Job-Id"]


def test_vps_audio_trilhasonora_lays_music_under_a_sound_file(gateway: Gateway, media_server: str) -> None:
    body = {"audio_url": f"{media_server}/tone.mp3", "trilha_sonora": SOUND, "path": "roteiros/3/audio",
            "db_offset": 12}
    answer = post(gateway, "/vps/audio/trilhasonora", body)
    assert answer.status_code == 200, answer.text
    mixed = answer.json()
    assert mixed.keys() >= {"success", "audio_url", "filename", "s3_key", "audio_duration", "trilha_duration",
                            "loops_applied", "volume_reduction_db", "processing_time_ms", "message"}
    assert (mixed["success"], mixed["filename"], mixed["loops_applied"]) == (True, "audio_with_trilha.mp3", 0)
    assert mixed["audio_analysis"]["target_offset_lu"] == 12 and mixed["message"].startswith("Trilha sonora added")
    out = output_file(gateway, mixed)
    assert [found["codec_name"] for found in probe(out)["streams"]] == ["mp3"]
    assert stream_duration(out, "audio") == pytest.approx(3.0, abs=0.06)


def test_vps_audio_refusals_and_failures_in_the_references_shapes(gateway: Gateway) -> None:
    health = requests.get(gateway.url + "/health", timeout=30).json()["jobs"]
    missing = post(gateway, "/vps/audio/concatenate", {"path": "x"})
    too_far = post(gateway, "/vps/audio/trilhasonora", {"audio_url": SOUND, "trilha_sonora": SOUND, "db_offset": 80})
    assert requests.get(gateway.url + "/health", timeout=30).json()["jobs"] == health  # nothing was queued
    failed = post(gateway, "/vps/audio/concatenate", {"audio_urls": [{"audio_url": SOUND},
                                                                     {"audio_url": "file:samples/none.mp3"}]})

    assert missing.status_code == 400 and missing.json() == {
        "success": False, "error": "Validation error", "message": "Invalid input: missing required field 'audio_urls'."}
    assert too_far.status_code == 400 and too_far.json()["message"].startswith(
        "Invalid input: field 'db_offset' must be a number from 0 to 50")
    assert failed.status_code == 500 and failed.json().keys() == {"success", "error", "message", "processing_time_ms"}
    assert failed.json()["success"] is False and failed.json()["message"].startswith("audio_urls[1]:")


@pytest.fixture(scope="module")
def cpu_gateway(gateway: Gateway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Client]]:
    """A gateway over its own local endpoint whose CPU endpoint is the module gateway's local endpoint (a real
    worker, writing to that gateway's output folder). Yields it and a client of the CPU endpoint."""
    found = re.search(r"jobs run on the local endpoint (\S+)/(\S+),", gateway.log.read_text())
    assert found, "the module gateway did not say where its local endpoint is"
    base, endpoint_id = found.groups()
    tmp = tmp_path_factory.mktemp("cpu-backend")
    env = gateway_env(tmp, VIDEO_OPS_API_KEYS=KEY, RUNPOD_API_KEY="k", RUNPOD_ENDPOINT_BASE_URL=base,
                      VIDEO_OPS_CPU_ENDPOINT_ID=endpoint_id)
    with Gateway(REPO / "handler.py", 1, tmp / "gateway.log", env) as running:
        yield running, Client(endpoint_id, base_url=base)


def test_with_a_cpu_endpoint_the_vps_jobs_run_there_and_are_followed_there(
    cpu_gateway: tuple[Gateway, Client], gateway: Gateway
) -> None:
    cpu_side, cpu = cpu_gateway
    long = {"images": [{"id": "a", "image_url": "file:samples/sample_image.jpg", "duracao": 20}],
            "zoom_types": ["zoomin"], "width": 1280, "height": 720, "path": "busy"}
    busy = post(cpu_side, "/vps/video/img2vid", long).json()["jobId"]
    wait_until(lambda: job(cpu_side, busy).json()["status"] == "PROCESSING", 30, "the CPU job did not start")
    cancelled = post(cpu_side, f"/jobs/{busy}/cancel")
    joined = post(cpu_side, "/vps/audio/concatenate", {"audio_urls": [{"audio_url": SOUND}, {"audio_url": SOUND}]})
    on_main = ended(cpu_side, post(cpu_side, "/runpod/video/img2vid", {**long, "images": [
        {"id": "b", "image_url": "file:samples/sample_image.jpg", "duracao": 0.5}], "zoom_types": []}).json()["jobId"])

    assert cancelled.status_code == 200 and job(cpu_side, busy).json()["status"] == "CANCELLED"
    assert cpu.status(busy)["status"] == "CANCELLED"  # the CPU endpoint held it
    assert joined.status_code == 200, joined.text  # the sync route waited on the CPU endpoint
    output_file(gateway, joined.json())
    output_file(cpu_side, on_main["result"]["videos"][0])  # the other routes' jobs ran on the main endpoint
    workers = requests.get(cpu_side.url + "/admin/workers/status", headers={"X-API-Key": KEY}, timeout=30)
    assert workers.status_code == 200 and set(workers.json()["endpoints"]) == {"main", "cpu"}, workers.text


def test_the_openapi_document_lists_the_reference_routes_with_their_bodies(gateway: Gateway) -> None:
    paths = requests.get(gateway.url + "/openapi.json", timeout=30).json()["paths"]
    for path in ("/vps/video/img2vid", "/vps/video/addaudio", "/vps/video/concatenate", "/vps/audio/concatenate",
                 "/vps/audio/trilhasonora", "/runpod/audio/transcribe", "/runpod/audio/transcribe-whisper"):
        assert paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"], path
    assert "/vps/video/caption_style" in paths
    trilha = paths["/vps/audio/trilhasonora"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert trilha["properties"]["db_offset"]["default"] == 30 and trilha["required"] == ["audio_url", "trilha_sonora"]
