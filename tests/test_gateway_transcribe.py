"""transcribe through the gateway and a real worker process: the reference's synchronous
`POST /runpod/audio/transcribe`, and the asynchronous routes every operation has, with webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests import test_gateway_webhooks as hooks
from tests.endpoint import Gateway, wait_until
from tests.helpers import REPO
from tests.test_gateway import gateway_env
from tests.test_gateway_current import ended
from tests.test_gateway_webhooks import KEY, SECRET, Receiver, verified
from tests.test_transcript_formats import karaoke_cues, lrc_lines

receiver = hooks.receiver
BODY = {"audio_url": "file:samples/sample_audio.mp3", "path": "roteiros/9/audio", "model": "tiny",
        "enable_vad": False}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, whisper_folder: Path) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("transcribe-gateway")
    env = gateway_env(tmp, VIDEO_OPS_API_KEYS=KEY, WEBHOOK_SECRET=SECRET, VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS="1",
                      VIDEO_OPS_WHISPER_MODELS=str(whisper_folder), HF_HUB_OFFLINE="1")
    with Gateway(REPO / "handler.py", 1, tmp / "gateway.log", env) as running:
        yield running


def post(gateway: Gateway, path: str, body: dict) -> requests.Response:
    return requests.post(gateway.url + path, json=body, headers={"X-API-Key": KEY}, timeout=120)


def test_the_references_sync_route_answers_with_the_files(gateway: Gateway) -> None:
    answer = post(gateway, "/runpod/audio/transcribe", BODY)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body.keys() >= {"jobId", "message", "language", "transcription", "files", "stats", "duration", "timings",
                           "code", "job_id", "execution"}
    assert (body["code"], body["job_id"]) == (200, body["jobId"])
    assert body["files"]["segments"].keys() == {"srt", "vtt", "json"}
    assert body["files"]["words"].keys() == {"ass_karaoke", "json", "vtt_karaoke", "lrc"}
    assert body["files"]["words"]["json"].endswith("/roteiros/9/audio/words.json")
    words = requests.get(body["files"]["words"]["json"], timeout=30).json()["words"]
    assert len(words) <= body["stats"]["words"]
    assert (body["stats"]["model"], body["stats"]["device"]) == ("tiny", "cpu")
    assert answer.headers["X-Job-Id"] == body["jobId"]


def test_a_body_the_worker_refuses_is_a_400_in_the_references_error_shape(gateway: Gateway) -> None:
    answer = post(gateway, "/runpod/audio/transcribe", {**BODY, "language": "xx"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "Invalid input"
    assert answer.json()["message"].startswith("Invalid input: field 'language': unknown language code 'xx'")


def test_a_failed_transcription_is_a_500_naming_the_model(gateway: Gateway) -> None:
    answer = post(gateway, "/runpod/audio/transcribe", {**BODY, "model": "medium"})
    assert answer.status_code == 500
    body = answer.json()
    assert (body["error"], body["status"], body["job_id"]) == ("Transcription failed", "FAILED", body["jobId"])
    assert body["execution"].keys() == {"startTime", "endTime", "durationMs", "durationSeconds"}
    assert body["message"] == ("model: the Whisper model 'medium' is not in the models folder "
                               "(VIDEO_OPS_WHISPER_MODELS) and could not be downloaded.")


def test_the_whisper_route_is_the_same_operation_with_the_base_model_by_default(gateway: Gateway) -> None:
    """The reference's /runpod/audio/transcribe-whisper: without `model` it asks for `base` (not in the tests'
    models folder: a 500 naming it); with one, the whole shape, word-timed WebVTT and LRC filled."""
    default = post(gateway, "/runpod/audio/transcribe-whisper", {"audio_url": BODY["audio_url"], "path": "w"})
    answer = post(gateway, "/runpod/audio/transcribe-whisper", BODY)

    assert default.status_code == 500 and "'base'" in default.json()["message"]
    assert answer.status_code == 200, answer.text
    body = answer.json()
    execution = body["execution"]
    assert (body["code"], body["job_id"], body["stats"]["model"]) == (200, body["jobId"], "tiny")
    assert execution["durationMs"] > 0 and execution["durationSeconds"] == round(execution["durationMs"] / 1000, 3)
    assert execution["startTime"] < execution["endTime"] and execution["endTime"].endswith("Z")
    words = body["files"]["words"]
    cues = karaoke_cues(requests.get(words["vtt_karaoke"], timeout=30).text)
    lines = lrc_lines(requests.get(words["lrc"], timeout=30).text)
    assert len(cues) == body["stats"]["segments"] and [shown for _, _, shown in lines if shown]
    assert words["lrc"].endswith("/roteiros/9/audio/words.lrc")


def test_the_async_routes_run_it_with_a_webhook(gateway: Gateway, receiver: Receiver) -> None:
    queued = post(gateway, "/runpod/video/transcribe", {**BODY, "webhook_url": receiver.url("/heard"),
                                                        "id_roteiro": 9})
    assert queued.status_code == 202
    (headers, data), = wait_until(lambda: receiver.received("/heard"), 60, "no webhook came")
    payload = json.loads(data)
    assert verified(headers, data) and payload["operation"] == "transcribe" and payload["idRoteiro"] == 9
    assert payload["result"]["files"]["words"]["json"].endswith("/words.json")

    job_id = gateway.submit("transcribe", BODY)
    result = wait_until(lambda: (r := requests.get(f"{gateway.url}/video/job/{job_id}/result",
                                                   headers={"X-API-Key": KEY}, timeout=30)).status_code != 202 and r,
                        60, "the async job did not end", interval=0.2)
    assert result.status_code == 200 and result.json()["result"]["stats"]["words"] >= 0


def test_caption_style_hears_the_videos_own_speech_in_place_of_url_caption(gateway: Gateway) -> None:
    body = {"url_video": "file:samples/sample_video.mp4", "type": "segments", "path": "roteiros/9/legendas",
            "transcribe": {"model": "tiny", "enable_vad": False, "beam_size": 1}}
    queued = post(gateway, "/runpod/video/caption_style", body)
    assert queued.status_code == 202, queued.text
    done = ended(gateway, queued.json()["jobId"])
    assert (done["status"], done["operation"]) == ("COMPLETED", "caption_style"), done
    result = done["result"]
    assert result["message"] == "Caption segments added and uploaded to S3 successfully"
    assert result["s3_key"].startswith("roteiros/9/legendas/") and result["cues"] >= 1
    assert (result["transcription"]["model"], result["transcription"]["words"] >= 1) == ("tiny", True)

    both = post(gateway, "/runpod/video/caption_style", {**body, "url_caption": "file:samples/sample_captions.srt"})
    assert both.status_code == 400
    assert both.json()["message"] == ("Invalid input: give the captions as 'url_caption' (the SRT or words file) or "
                                      "have them heard in the video's own speech with 'transcribe' (one of them).")
    bad = post(gateway, "/runpod/video/caption_style", {**body, "transcribe": {"model": "tiny", "language": "xx"}})
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("Invalid input: field 'transcribe.language': unknown language code 'xx'")
