"""The gateway's webhooks: the reference's body and headers, signed, retried, to public targets only."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from tests.endpoint import Gateway, LocalEndpoint, wait_until
from tests.helpers import REPO
from tests.servers import serving
from tests.test_gateway import gateway_env
from video_ops.client import Client
from video_ops.gateway.app import create_app
from video_ops.gateway.backend import Backend
from video_ops.gateway.store import Store
from video_ops.gateway.webhooks import WebhookRefused, check_target
from video_ops.ops import OPERATIONS

KEY = "hook-key"
SECRET = "webhook-secret"
ADDAUDIO = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
            "path": "hooks"}


class Receiver(ThreadingHTTPServer):
    """Records every POST (path, headers, raw body) and answers each path with its scripted codes, then 200."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.script: dict[str, list[int]] = {}

    def url(self, path: str, *codes: int) -> str:
        self.script[path] = list(codes)
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def received(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, data) for where, headers, data in self.calls if where == path]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.calls.append((self.path, dict(self.headers), data))
        codes = self.server.script.get(self.path) or []
        self.send_response(codes.pop(0) if codes else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("hooks")
    env = gateway_env(tmp, VIDEO_OPS_API_KEYS=KEY, WEBHOOK_SECRET=SECRET, VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS="1")
    with Gateway(REPO / "handler.py", 1, tmp / "gateway.log", env) as running:
        yield running


def settled(gateway: Gateway, job_id: str, timeout: float = 60) -> dict[str, Any]:
    """The job's status once its webhook is no longer pending."""
    return wait_until(lambda: (view := gateway.status(job_id))["webhook"]["status"] != "pending" and view,
                      timeout, f"the webhook of {job_id} stayed pending", interval=0.2)


def verified(headers: dict[str, str], data: bytes) -> bool:
    """What a receiver does with WEBHOOK_SECRET (docs/gateway.md shows the same lines)."""
    expected = "sha256=" + hmac.new(SECRET.encode(), data, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Webhook-Signature", ""), expected)


def test_a_completed_job_is_posted_once_with_the_references_body_and_a_signature(
    gateway: Gateway, receiver: Receiver
) -> None:
    job = gateway.submit("addaudio", {**ADDAUDIO, "output_filename": "hooked.mp4",
                                      "webhook_url": receiver.url("/done")})
    final = settled(gateway, job)
    time.sleep(0.5)  # a second delivery would come now

    (headers, data), = receiver.received("/done")
    payload = json.loads(data)
    assert final["webhook"] == {"status": "delivered", "attempts": 1, "last_error": None}
    assert verified(headers, data)
    assert (headers["X-Webhook-JobId"], headers["X-Webhook-Status"]) == (job, "COMPLETED")
    assert headers["X-Webhook-Timestamp"] == payload["timestamp"]
    assert payload.keys() == {"jobId", "idRoteiro", "status", "operation", "result", "execution", "timestamp"}
    assert (payload["jobId"], payload["status"], payload["operation"]) == (job, "COMPLETED", "addaudio")
    assert payload["result"] == final["output"] and payload["result"]["s3_key"] == "hooks/hooked.mp4"
    assert payload["execution"]["durationMs"] == final["executionTime"]
    assert payload["execution"]["startTime"] <= payload["execution"]["endTime"] <= payload["timestamp"]


def test_a_failed_job_is_posted_with_the_workers_sentence(gateway: Gateway, receiver: Receiver) -> None:
    job = gateway.submit("addaudio", {**ADDAUDIO, "url_video": "file:samples/missing.mp4",
                                      "webhook_url": receiver.url("/bad")})
    settled(gateway, job)
    (headers, data), = receiver.received("/bad")
    payload = json.loads(data)
    assert headers["X-Webhook-Status"] == "FAILED" and "result" not in payload
    assert payload["error"] == {"code": "PROCESSING_ERROR", "message": gateway.status(job)["error"]}
    assert payload["error"]["message"].startswith("url_video: ")


def test_a_5xx_is_retried_after_1_and_5_s(gateway: Gateway, receiver: Receiver) -> None:
    job = gateway.submit("addaudio", {**ADDAUDIO, "webhook_url": receiver.url("/flaky", 500, 503)})
    final = settled(gateway, job, timeout=90)
    bodies = [data for _headers, data in receiver.received("/flaky")]
    assert final["webhook"] == {"status": "delivered", "attempts": 3, "last_error": None}
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same bytes every time, so the same signature


def test_a_4xx_is_final(gateway: Gateway, receiver: Receiver) -> None:
    job = gateway.submit("addaudio", {**ADDAUDIO, "webhook_url": receiver.url("/gone", 404)})
    final = settled(gateway, job)
    time.sleep(1.5)  # past the first retry's time
    assert final["webhook"] == {"status": "failed", "attempts": 1, "last_error": "HTTP 404"}
    assert len(receiver.received("/gone")) == 1


def test_a_cancel_is_posted_only_when_asked_for(gateway: Gateway, receiver: Receiver) -> None:
    silent = gateway.submit("addaudio", {**ADDAUDIO, "webhook_url": receiver.url("/cancel-silent")})
    told = gateway.submit("addaudio", {**ADDAUDIO, "webhook_url": receiver.url("/cancel-told"),
                                       "webhook_on_cancel": True})
    for job in (silent, told):
        requests.post(f"{gateway.url}/job/{job}/cancel", headers={"X-API-Key": KEY}, timeout=30)
    assert settled(gateway, silent)["webhook"]["status"] == "skipped"
    assert settled(gateway, told)["webhook"]["status"] == "delivered"
    (headers, _data), = receiver.received("/cancel-told")
    assert headers["X-Webhook-Status"] == "CANCELLED" and receiver.received("/cancel-silent") == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data", "resolves to the non-public address 169.254.169.254"),
        ("http://[::1]:8080/hook", "resolves to the non-public address ::1"),
        ("http://127.0.0.1:9/hook", "resolves to the non-public address 127.0.0.1"),
        ("http://10.0.0.5/hook", "resolves to the non-public address 10.0.0.5"),
        ("ftp://example.com/hook", "must be an http or https URL with a host"),
    ],
)
def test_a_private_target_is_refused_at_submit(
    url: str, reason: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    with pytest.raises(WebhookRefused, match=reason):
        asyncio.run(check_target(url))
    # At the door: a 400 naming webhook_url, and nothing reaches the backend (nothing listens on its port).
    backend = Backend(Client("none", base_url="http://127.0.0.1:9/v2"), "nowhere")
    app = create_app(backend, OPERATIONS, [], 60, Store(tmp_path / "gateway.sqlite"))
    answer = TestClient(app).post("/video/addaudio/async", json={**ADDAUDIO, "webhook_url": url})
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("webhook_url: ") and reason in answer.json()["message"]


def test_the_override_lets_private_receivers_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS", "1")
    asyncio.run(check_target("http://127.0.0.1:9/hook"))


def test_a_webhook_owed_when_the_gateway_is_killed_is_delivered_once_after_a_restart(
    receiver: Receiver, tmp_path: Path
) -> None:
    """The jobs run on an endpoint of their own (as on RunPod), so they outlive the gateway."""
    runpod_env = {**gateway_env(tmp_path / "endpoint")}
    with LocalEndpoint(REPO / "handler.py", 1, tmp_path / "endpoint.log", runpod_env) as runpod:
        base, endpoint_id = runpod.url.rsplit("/", 1)
        env = gateway_env(tmp_path, VIDEO_OPS_API_KEYS=KEY, WEBHOOK_SECRET=SECRET, VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS="1",
                          RUNPOD_ENDPOINT_ID=endpoint_id, RUNPOD_API_KEY="k", RUNPOD_ENDPOINT_BASE_URL=base)
        body = {"images": [{"id": "long", "image_url": "file:samples/sample_image.jpg", "duracao": 20}],
                "zoom_types": ["zoomin"], "width": 1280, "height": 720, "path": "restart",
                "webhook_url": receiver.url("/restart")}
        with Gateway(REPO / "handler.py", 1, tmp_path / "first.log", env) as first:
            answer = requests.post(f"{first.url}/video/img2vid/async", json=body, headers={"X-API-Key": KEY},
                                   timeout=30)
            job = answer.json()["jobId"]
            first.proc.kill()  # SIGKILL: no chance to save anything more
            first.proc.wait()
        running = runpod.client().status(job)["status"]
        with Gateway(REPO / "handler.py", 1, tmp_path / "second.log", env) as second:
            final = settled(second, job, timeout=120)
            time.sleep(1.0)  # a duplicate would come now
        log = (tmp_path / "second.log").read_text()

    (headers, data), = receiver.received("/restart")
    assert running in ("IN_QUEUE", "IN_PROGRESS")  # the gateway died before the job ended
    assert "resumed 1 webhook(s) owed by an earlier run" in log
    assert final["webhook"] == {"status": "delivered", "attempts": 1, "last_error": None}
    assert verified(headers, data) and json.loads(data)["result"]["videos"][0]["frames"] == 20 * 24
