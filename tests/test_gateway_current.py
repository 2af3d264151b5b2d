"""The reference orchestrator's current routes (`/runpod/video/<operation>`, `/jobs/<id>`) with its own bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import test_gateway_webhooks as hooks
from tests.endpoint import Gateway, wait_until
from tests.test_gateway_webhooks import KEY, Receiver, verified
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
