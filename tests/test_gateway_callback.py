"""RunPod's own webhook instead of polling (`VIDEO_OPS_GATEWAY_PUBLIC_URL`), and the reference's bodies for
every current route checked against the input the worker received.

The gateway runs in this process (uvicorn on 127.0.0.1, in a thread) so the test can count its status
calls and see the callback URL it gives RunPod; the jobs run on a local endpoint with a real worker,
which records each input its worker takes (`VIDEO_OPS_LOCAL_RECORD_INPUTS`) and calls RunPod's webhook.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import test_gateway_webhooks as hooks
from tests.endpoint import Gateway, LocalEndpoint, serving_app, wait_until
from tests.helpers import REPO
from tests.test_gateway import gateway_env
from tests.test_gateway_webhooks import KEY, SECRET, Receiver, verified
from video_ops.gateway.app import create_app, hide_callback_tokens
from video_ops.gateway.backend import Backend
from video_ops.gateway.store import Store
from video_ops.ops import OPERATIONS

receiver = hooks.receiver  # the webhook tests' receiver, one for this module


class CountingBackend(Backend):
    """The real backend, noting every status call and the RunPod webhook each job was sent with."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.status_calls: list[str] = []
        self.callbacks: dict[str, str | None] = {}

    async def submit(self, job_input: dict[str, Any], webhook: str | None = None) -> str:
        job_id = await super().submit(job_input, webhook)
        self.callbacks[job_id] = webhook
        return job_id

    async def status(self, job_id: str) -> dict[str, Any]:
        self.status_calls.append(job_id)
        return await super().status(job_id)


class Served:
    def __init__(self, url: str, backend: CountingBackend, inputs: Path) -> None:
        self.url, self.backend, self.inputs = url, backend, inputs

    def post(self, path: str, body: Any = None, **headers: str) -> requests.Response:
        return requests.post(self.url + path, json=body, headers={"X-API-Key": KEY, **headers}, timeout=30)

    def job(self, job_id: str) -> dict[str, Any]:
        return requests.get(f"{self.url}/jobs/{job_id}", headers={"X-API-Key": KEY}, timeout=30).json()

    def worker_input(self, job_id: str) -> dict[str, Any]:
        """The input the worker took for this job, as the local endpoint recorded it."""
        lines = [json.loads(line) for line in self.inputs.read_text().splitlines()]
        found = [line["input"] for line in lines if line["id"] == job_id]
        assert len(found) == 1, f"{job_id} was taken {len(found)} times"
        return found[0]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("callback")
    inputs = tmp / "inputs.jsonl"
    with pytest.MonkeyPatch.context() as patch, LocalEndpoint(
        REPO / "handler.py", 1, tmp / "endpoint.log", gateway_env(tmp, VIDEO_OPS_LOCAL_RECORD_INPUTS=str(inputs))
    ) as runpod:
        patch.setenv("WEBHOOK_SECRET", SECRET)
        patch.setenv("VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS", "1")
        backend = CountingBackend(runpod.client(), "local endpoint")
        with serving_app(lambda url: create_app(backend, OPERATIONS, [KEY], 60, Store(tmp / "gateway.sqlite"),
                                                url)) as url:
            yield Served(url, backend, inputs)


def delivered(receiver: Receiver, path: str, timeout: float = 120) -> tuple[dict[str, str], dict[str, Any]]:
    """The one webhook the receiver got on `path` (a second one would come within the half second waited)."""
    wait_until(lambda: receiver.received(path), timeout, f"no webhook on {path}", interval=0.1)
    time.sleep(0.5)
    (headers, data), = receiver.received(path)
    assert verified(headers, data)
    return headers, json.loads(data)


def test_runpod_reports_the_end_and_the_gateway_never_polls(served: Served, receiver: Receiver) -> None:
    body = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
            "path": "callback", "output_filename": "told.mp4", "webhook_url": receiver.url("/told"),
            "id_roteiro": "r-1"}
    job_id = served.post("/runpod/video/addaudio", body).json()["jobId"]
    headers, payload = delivered(receiver, "/told")
    polled = list(served.backend.status_calls)

    callback = served.backend.callbacks[job_id]
    assert polled == []  # RunPod's webhook told the gateway: not one status call
    assert callback is not None and callback.startswith(f"{served.url}/runpod/callback/")
    assert job_id not in callback and len(callback.rsplit("/", 1)[1]) >= 43  # 256 random bits, not the id
    assert (headers["X-Webhook-Status"], payload["jobId"], payload["idRoteiro"]) == ("COMPLETED", job_id, "r-1")
    assert payload["result"]["s3_key"] == "callback/told.mp4" and payload["execution"]["durationMs"] > 0
    assert served.job(job_id)["webhook"] == {"status": "delivered", "attempts": 1, "last_error": None}


def test_a_callback_cannot_be_forged(served: Served, receiver: Receiver) -> None:
    long = {"images": [{"id": "slow", "image_url": "file:samples/sample_image.jpg", "duracao": 30}],
            "zoom_types": ["zoomin"], "width": 640, "height": 360, "path": "forged",
            "webhook_url": receiver.url("/forged"), "webhook_on_cancel": True}
    job_id = served.post("/runpod/video/img2vid", long).json()["jobId"]
    other = served.post("/runpod/video/addaudio", {"url_video": "file:samples/sample_video.mp4",
                                                   "url_audio": "file:samples/sample_audio.mp3"}).json()["jobId"]
    token = served.backend.callbacks[job_id].rsplit("/", 1)[1]  # type: ignore[union-attr]
    fake = {"id": job_id, "status": "COMPLETED", "output": {"video_url": "https://evil.example/x.mp4"}}

    by_id = served.post(f"/runpod/callback/{job_id}", fake)  # knowing the job id is not enough
    guessed = served.post("/runpod/callback/" + "A" * 43, fake)
    no_job_yet = served.post(f"/runpod/callback/{served.backend.callbacks[other] or 'none'}", fake)
    wrong_job = served.post(f"/runpod/callback/{token}", {**fake, "id": other})
    not_final = served.post(f"/runpod/callback/{token}", {"id": job_id, "status": "IN_PROGRESS"})
    not_json = requests.post(f"{served.url}/runpod/callback/{token}", data=b"{", timeout=30)
    waiting = served.job(job_id)

    assert [by_id.status_code, guessed.status_code, no_job_yet.status_code] == [404, 404, 404]
    assert [wrong_job.status_code, not_final.status_code, not_json.status_code] == [400, 400, 400]
    assert waiting["status"] in ("QUEUED", "PROCESSING") and waiting["webhook"]["status"] == "pending"
    assert receiver.received("/forged") == []
    # A cancel through the gateway ends it once, though the endpoint reports the cancel too.
    assert served.post(f"/jobs/{job_id}/cancel").status_code == 200
    headers, payload = delivered(receiver, "/forged", timeout=30)
    assert headers["X-Webhook-Status"] == "CANCELLED" and "result" not in payload


VIDEO, AUDIO = "file:samples/sample_video.mp4", "file:samples/sample_audio.mp3"
# The reference's REST bodies for each current route (its shapes), and the worker input its orchestrator
# sent for each: the body less `webhook_url` and `id_roteiro`, plus `operation`; caption_style mapped.
REFERENCE_BODIES = [
    ("img2vid", {"images": [{"id": "cena1", "image_url": "file:samples/sample_image.jpg", "duracao": 1.0}],
                 "path": "roteiros/1/", "id_roteiro": 1},
     {"operation": "img2vid", "images": [{"id": "cena1", "image_url": "file:samples/sample_image.jpg",
                                          "duracao": 1.0}], "path": "roteiros/1/"}),
    ("addaudio", {"url_video": VIDEO, "url_audio": AUDIO, "path": "roteiros/2/", "output_filename": "a.mp4",
                  "id_roteiro": "2"},
     {"operation": "addaudio", "url_video": VIDEO, "url_audio": AUDIO, "path": "roteiros/2/",
      "output_filename": "a.mp4"}),
    ("concatenate", {"video_urls": [{"video_url": VIDEO}, {"video_url": VIDEO}], "path": "roteiros/3/",
                     "output_filename": "c.mp4", "id_roteiro": "3"},
     {"operation": "concatenate", "video_urls": [{"video_url": VIDEO}, {"video_url": VIDEO}],
      "path": "roteiros/3/", "output_filename": "c.mp4"}),
    ("concat_video_audio", {"video_urls": [VIDEO], "audio_url": AUDIO, "normalize": True, "path": "roteiros/4/",
                            "id_roteiro": "4"},
     {"operation": "concat_video_audio", "video_urls": [VIDEO], "audio_url": AUDIO, "normalize": True,
      "path": "roteiros/4/"}),
    ("caption_style", {"url_video": VIDEO, "url_caption": "file:samples/sample_captions.srt", "type": "segments",
                       "uppercase": True, "path": "roteiros/5/", "id_roteiro": "5",
                       "style": {"font": {"name": "Arial", "size": 48, "bold": True},
                                 "position": {"alignment": "bottom_center", "marginVertical": 60}}},
     {"operation": "caption_segments", "url_video": VIDEO, "url_srt": "file:samples/sample_captions.srt",
      "path": "roteiros/5/", "style": {"font": {"name": "Arial", "size": 48, "bold": True},
                                       "position": {"alignment": "bottom_center", "marginVertical": 60},
                                       "uppercase": True}}),
    ("caption_style", {"url_video": VIDEO, "url_caption": "file:samples/sample_words.json", "type": "highlight",
                       "uppercase": False, "path": "roteiros/6/", "id_roteiro": "6",
                       "style": {"fonte": "Arial", "tamanho_fonte": 60, "fundo_cor": "#000000",
                                 "fundo_opacidade": 40, "texto_cor": "#FFFFFF", "highlight_cor": "#FFD700",
                                 "position": "bottom_center", "words_per_line": 3, "max_lines": 2}},
     {"operation": "caption_highlight", "url_video": VIDEO, "url_words_json": "file:samples/sample_words.json",
      "path": "roteiros/6/", "style": {"fonte": "Arial", "tamanho_fonte": 60, "fundo_cor": "#000000",
                                       "fundo_opacidade": 102, "texto_cor": "#FFFFFF", "highlight_cor": "#FFD700",
                                       "alignment": "bottom_center", "words_per_line": 3, "max_lines": 2,
                                       "highlight_texto_cor": "#FFFFFF", "uppercase": False}}),
    ("trilhasonora", {"url_video": VIDEO, "trilha_sonora": AUDIO, "volume_reduction_db": 12, "path": "roteiros/7/",
                      "id_roteiro": "7"},
     {"operation": "trilhasonora", "url_video": VIDEO, "trilha_sonora": AUDIO, "volume_reduction_db": 12,
      "path": "roteiros/7/"}),
]


@pytest.mark.parametrize(("route", "body", "expected"), REFERENCE_BODIES,
                         ids=[f"{route}-{number}" for number, (route, _b, _e) in enumerate(REFERENCE_BODIES)])
def test_the_worker_receives_what_the_reference_orchestrator_sent(
    served: Served, receiver: Receiver, route: str, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    path = f"/reference-{body['id_roteiro']}"
    answer = served.post(f"/runpod/video/{route}", {**body, "webhook_url": receiver.url(path)})
    job_id = answer.json()["jobId"]
    headers, payload = delivered(receiver, path)

    assert answer.status_code == 202, answer.text
    assert served.worker_input(job_id) == expected
    assert (headers["X-Webhook-Status"], payload["operation"], payload["idRoteiro"]) == (
        "COMPLETED", route, body["id_roteiro"]), payload
    assert payload["result"]["success"] is True and payload["result"] == served.job(job_id)["result"]


def test_the_access_log_never_shows_a_callback_token() -> None:
    """A logged token would let whoever reads the log report that job's end."""
    hide_callback_tokens()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "POST", "/runpod/callback/s3cr3t-token", "1.1", 200), None)
    assert all(known.filter(record) for known in logging.getLogger("uvicorn.access").filters)
    assert "s3cr3t" not in record.getMessage() and "/runpod/callback/<token>" in record.getMessage()


def test_a_job_that_ends_while_the_gateway_is_down_is_reported_once_after_a_restart(
    receiver: Receiver, tmp_path: Path
) -> None:
    """RunPod's webhook finds no gateway (it tries three times, then gives up): the restarted gateway asks
    once for each job it was waiting to hear about."""
    with LocalEndpoint(REPO / "handler.py", 1, tmp_path / "endpoint.log", gateway_env(tmp_path / "ep")) as runpod:
        base, endpoint_id = runpod.url.rsplit("/", 1)
        with socket.create_server(("127.0.0.1", 0)) as probe:
            port = probe.getsockname()[1]
        env = gateway_env(tmp_path, VIDEO_OPS_API_KEYS=KEY, WEBHOOK_SECRET=SECRET, VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS="1",
                          RUNPOD_ENDPOINT_ID=endpoint_id, RUNPOD_API_KEY="k", RUNPOD_ENDPOINT_BASE_URL=base,
                          VIDEO_OPS_GATEWAY_PUBLIC_URL=f"http://127.0.0.1:{port}")
        body = {"url_video": VIDEO, "url_audio": AUDIO, "path": "down", "webhook_url": receiver.url("/down")}

        def gateway(log: str) -> Gateway:
            started = Gateway(REPO / "handler.py", 1, tmp_path / log, env)
            started.argv[started.argv.index("--port") + 1] = str(port)
            return started

        with gateway("first.log") as first:
            job_id = first.submit("addaudio", body)
            first.proc.kill()  # SIGKILL: the job goes on without it
            first.proc.wait()
        wait_until(lambda: runpod.client().status(job_id)["status"] == "COMPLETED", 60, "the job did not end")
        wait_until(lambda: (tmp_path / "endpoint.log").read_text().count(f":{port}/... failed") == 3, 40,
                   "RunPod's webhook was not tried three times")  # so only the restarted gateway can tell
        with gateway("second.log") as second:
            headers, payload = delivered(receiver, "/down", timeout=60)
            final = second.status(job_id)
        logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()

    assert headers["X-Webhook-Status"] == "COMPLETED" and payload["result"]["s3_key"].startswith("down/")
    assert final["webhook"] == {"status": "delivered", "attempts": 1, "last_error": None}
    assert "resumed 1 webhook(s) owed by an earlier run" in logs
    assert "/runpod/callback/" not in logs.replace("/runpod/callback/<token>", "")  # no token in any log
