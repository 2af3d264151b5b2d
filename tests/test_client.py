"""The client against a scripted HTTP server on 127.0.0.1, with a fake clock: nothing really waits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from video_ops.client import (
    Client,
    ClientError,
    JobCancelled,
    JobFailed,
    JobNotReady,
    JobTimedOut,
    JobTimeout,
    VideoOpsError,
)
from video_ops.client.cli import main as cli


@dataclass
class Reply:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0


class ScriptedServer(ThreadingHTTPServer):
    """Answers each request with the next scripted reply and records what it was asked."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.replies: list[Reply] = []
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v2"

    def script(self, *replies: Reply | dict) -> None:
        self.replies.extend(r if isinstance(r, Reply) else Reply(body=r) for r in replies)


class _ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": raw}
        )
        reply = self.server.replies.pop(0)
        time.sleep(reply.delay_s)
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(server: ScriptedServer, fake: FakeTime) -> Client:
    return Client("ep", api_key="key", base_url=server.url, clock=fake.clock, sleep=fake.sleep)


def running(percent: float | None = None) -> dict:
    status = {"id": "j1", "status": "IN_PROGRESS", "delayTime": 5, "executionTime": 10}
    return status if percent is None else {**status, "output": {"stage": "encode", "percent": percent}}


DONE = {"id": "j1", "status": "COMPLETED", "delayTime": 5, "executionTime": 900, "output": {"video_url": "u"}}


def test_wait_polls_with_the_guides_backoff(client: Client, server: ScriptedServer, fake: FakeTime) -> None:
    server.script(*[running(10)] * 3, running(50), *[running(50)] * 3, DONE)
    updates: list[dict] = []

    assert client.wait("j1", on_update=updates.append) == {"video_url": "u"}

    assert fake.sleeps == [2, 3, 4.5, 6.75, 8, 8, 8]
    outputs = [update.get("output") for update in updates]
    assert outputs == [running(10)["output"], running(50)["output"], DONE["output"]]
    assert all(r["path"] == "/v2/ep/status/j1" for r in server.requests)


def test_wait_gives_up_at_its_timeout_and_says_the_job_runs_on(
    client: Client, server: ScriptedServer, fake: FakeTime
) -> None:
    server.script(*[running()] * 5)

    with pytest.raises(JobTimeout) as caught:
        client.wait("j1", timeout=10)

    assert fake.sleeps == [2, 3, 4.5, 0.5]  # the last sleep ends at the deadline, then one more look
    assert caught.value.status["status"] == "IN_PROGRESS"
    assert caught.value.job_id == "j1"


def test_429_honours_retry_after(client: Client, server: ScriptedServer, fake: FakeTime) -> None:
    server.script(Reply(429, {"error": "slow down"}, {"Retry-After": "7"}), running())

    assert client.status("j1")["status"] == "IN_PROGRESS"
    assert fake.sleeps == [7]


def test_5xx_is_retried_with_growing_jittered_backoff_for_status(
    client: Client, server: ScriptedServer, fake: FakeTime
) -> None:
    server.script(Reply(503), Reply(500, "oops"), Reply(502), DONE)

    assert client.status("j1") == DONE
    assert len(fake.sleeps) == 3
    for attempt, slept in enumerate(fake.sleeps):
        assert 0.5 * 2**attempt * 0.5 <= slept <= 0.5 * 2**attempt


def test_status_gives_up_after_its_retries(client: Client, server: ScriptedServer, fake: FakeTime) -> None:
    server.script(*[Reply(503, {"error": "busy"})] * 5)

    with pytest.raises(ClientError) as caught:
        client.status("j1")

    assert caught.value.status_code == 503
    assert caught.value.message == "busy"
    assert len(server.requests) == 5


def test_submit_is_not_retried_after_a_5xx(client: Client, server: ScriptedServer, fake: FakeTime) -> None:
    server.script(Reply(500, {"error": "internal"}))

    with pytest.raises(ClientError) as caught:
        client.submit({"operation": "addaudio"})

    assert caught.value.status_code == 500
    assert len(server.requests) == 1
    assert fake.sleeps == []


def test_submit_is_not_retried_after_a_read_timeout(server: ScriptedServer, fake: FakeTime) -> None:
    client = Client("ep", base_url=server.url, timeout=(2, 0.2), clock=fake.clock, sleep=fake.sleep)
    server.script(Reply(200, {"id": "j1"}, delay_s=0.5))

    with pytest.raises(ClientError) as caught:
        client.submit({"operation": "addaudio"})

    assert caught.value.status_code is None
    assert len(server.requests) == 1


def test_submit_is_retried_when_the_connection_is_refused(fake: FakeTime) -> None:
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Client("ep", base_url=f"http://127.0.0.1:{port}/v2", clock=fake.clock, sleep=fake.sleep)

    with pytest.raises(ClientError, match="refused") as caught:
        client.submit({"operation": "addaudio"})

    assert caught.value.status_code is None
    assert len(fake.sleeps) == client.retries


def test_api_errors_carry_status_code_and_runpods_message(client: Client, server: ScriptedServer) -> None:
    server.script(Reply(404, {"error": "job j9 not found"}), Reply(401), Reply(400, "bad input"))

    with pytest.raises(ClientError) as missing:
        client.status("j9")
    with pytest.raises(ClientError) as unauthorized:
        client.health()
    with pytest.raises(ClientError) as bad:
        client.submit({})

    assert (missing.value.status_code, missing.value.message) == (404, "job j9 not found")
    assert (unauthorized.value.status_code, unauthorized.value.message) == (401, "Unauthorized")
    assert (bad.value.status_code, bad.value.message) == (400, "bad input")
    assert isinstance(bad.value, VideoOpsError)


def test_a_raised_exceptions_json_string_error_is_decoded(client: Client, server: ScriptedServer) -> None:
    raised = {"error_type": "<class 'RuntimeError'>", "error_message": "boom", "error_traceback": "Traceback"}
    server.script(
        {"id": "j1", "status": "FAILED", "error": json.dumps(raised)}, {"id": "j1", "status": "FAILED"}
    )

    with pytest.raises(JobFailed) as caught:
        client.result("j1")
    with pytest.raises(JobFailed, match="without an error message"):
        client.result("j1")

    assert caught.value.error == "boom"
    assert json.loads(caught.value.status["error"])["error_traceback"] == "Traceback"


def test_result_raises_for_each_unfinished_state(client: Client, server: ScriptedServer) -> None:
    server.script(
        {"id": "j1", "status": "IN_QUEUE"},
        running(40),
        {"id": "j1", "status": "FAILED", "error": "url_video: 404 Not Found"},
        {"id": "j1", "status": "CANCELLED"},
        {"id": "j1", "status": "TIMED_OUT"},
        DONE,
    )

    with pytest.raises(JobNotReady) as queued:
        client.result("j1")
    with pytest.raises(JobNotReady) as progressing:
        client.result("j1")
    with pytest.raises(JobFailed, match="url_video: 404 Not Found"):
        client.result("j1")
    with pytest.raises(JobCancelled):
        client.result("j1")
    with pytest.raises(JobTimedOut):
        client.result("j1")

    assert queued.value.progress is None
    assert progressing.value.status["status"] == "IN_PROGRESS"
    assert progressing.value.progress == {"stage": "encode", "percent": 40}
    assert client.result("j1") == {"video_url": "u"}


def test_submit_sends_runpods_request_body(client: Client, server: ScriptedServer) -> None:
    server.script({"id": "j1", "status": "IN_QUEUE"})

    job = client.submit({"a": 1}, webhook="http://hook", s3_config={"bucketName": "b"})

    sent = server.requests[0]
    assert job == "j1"
    assert (sent["method"], sent["path"]) == ("POST", "/v2/ep/run")
    assert sent["headers"]["Authorization"] == "Bearer key"
    body = json.loads(sent["body"])
    assert body == {"input": {"a": 1}, "webhook": "http://hook", "s3Config": {"bucketName": "b"}}


def test_typed_helpers_name_the_wire_fields_and_omit_what_is_not_given(
    client: Client, server: ScriptedServer
) -> None:
    server.script(*[{"id": "j1"}] * 7)

    client.addaudio("http://v", "http://a", "videos/output", output_filename="x.mp4", audio_volume=0.5)
    client.caption("http://v", "http://s", "videos/output", preset="fast", custom=1)
    client.img2vid([{"id": "i", "image_url": "http://i", "duracao": 3}], "out", start_index=4)
    client.transcribe("http://n.mp3", "audio/9", language="pt", enable_vad=False, task="translate",
                      max_chars_per_line=32)
    client.silence("http://v", min_silence_s=0.3)
    client.remove_silence("http://v", "cuts", padding_s=0.2, output_filename="x.mp4")
    client.caption_segments("http://v", path="out", transcribe={"model": "small", "language": "pt"})

    sent = [json.loads(r["body"])["input"] for r in server.requests]
    assert sent == [
        {
            "operation": "addaudio",
            "url_video": "http://v",
            "url_audio": "http://a",
            "path": "videos/output",
            "output_filename": "x.mp4",
            "audio_volume": 0.5,
        },
        {
            "operation": "caption",
            "url_video": "http://v",
            "url_srt": "http://s",
            "path": "videos/output",
            "preset": "fast",
            "custom": 1,
        },
        {
            "operation": "img2vid",
            "images": [{"id": "i", "image_url": "http://i", "duracao": 3}],
            "path": "out",
            "start_index": 4,
        },
        {"operation": "transcribe", "audio_url": "http://n.mp3", "path": "audio/9", "language": "pt",
         "task": "translate", "max_chars_per_line": 32, "enable_vad": False},
        {"operation": "silence", "url_video": "http://v", "min_silence_s": 0.3},
        {"operation": "remove_silence", "url_video": "http://v", "path": "cuts", "padding_s": 0.2,
         "output_filename": "x.mp4"},
        {"operation": "caption_segments", "url_video": "http://v", "path": "out",
         "transcribe": {"model": "small", "language": "pt"}},
    ]


def test_run_sync_keeps_polling_when_runpod_answers_before_the_job_ends(
    client: Client, server: ScriptedServer, fake: FakeTime
) -> None:
    server.script({"id": "sync-1", "status": "IN_PROGRESS"}, running(), DONE)

    assert client.run_sync({"a": 1}, wait_s=1.5) == {"video_url": "u"}

    assert server.requests[0]["path"] == "/v2/ep/runsync?wait=1500"
    assert [r["path"] for r in server.requests[1:]] == ["/v2/ep/status/sync-1"] * 2


def test_run_sync_raises_for_a_failed_job(client: Client, server: ScriptedServer) -> None:
    server.script({"id": "sync-1", "status": "FAILED", "error": "bad url"})

    with pytest.raises(JobFailed, match="bad url"):
        client.run_sync({"a": 1})


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNPOD_ENDPOINT_ID", "abc")
    monkeypatch.setenv("RUNPOD_API_KEY", "secret")
    monkeypatch.delenv("RUNPOD_ENDPOINT_BASE_URL", raising=False)

    client = Client()

    assert client.url == "https://api.runpod.ai/v2/abc"
    assert client.session.headers["Authorization"] == "Bearer secret"
    monkeypatch.delenv("RUNPOD_ENDPOINT_ID")
    with pytest.raises(VideoOpsError, match="RUNPOD_ENDPOINT_ID"):
        Client()


def test_importing_the_client_loads_only_requests_and_the_standard_library() -> None:
    def top_level_modules(statement: str) -> set[str]:
        code = f"import json, sys; {statement}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        return set(json.loads(out))

    # Whatever requests brings (urllib3, idna, ...) and the standard library; nothing of the worker's.
    extra = top_level_modules("import video_ops.client") - top_level_modules("import requests") - {"video_ops"}
    assert extra - set(sys.stdlib_module_names) == set()


@pytest.fixture
def cli_env(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("RUNPOD_ENDPOINT_BASE_URL", server.url)
    monkeypatch.setenv("RUNPOD_ENDPOINT_ID", "ep")
    return server


def test_cli_prints_json_and_exits_by_outcome(
    cli_env: ScriptedServer, capsys: pytest.CaptureFixture, tmp_path
) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text('{"operation": "addaudio"}')
    cli_env.script(
        {"id": "j1", "status": "IN_QUEUE"},
        DONE,
        {"id": "j1", "status": "FAILED", "error": "bad url"},
        Reply(404, {"error": "job j9 not found"}),
    )

    assert cli(["submit", str(job_file)]) == 0
    assert json.loads(capsys.readouterr().out) == {"id": "j1"}
    assert cli(["result", "j1"]) == 0
    assert json.loads(capsys.readouterr().out) == {"video_url": "u"}
    assert cli(["result", "j1"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "bad url"
    assert cli(["status", "j9"]) == 2
    assert "job j9 not found" in capsys.readouterr().err
    assert json.loads(cli_env.requests[0]["body"]) == {"input": {"operation": "addaudio"}}


def test_cli_sends_a_whole_runpod_request_file_as_is(cli_env: ScriptedServer, tmp_path) -> None:
    request = {"input": {"operation": "addaudio"}, "webhook": "http://hook", "policy": {"executionTimeout": 9}}
    job_file = tmp_path / "test_input.json"
    job_file.write_text(json.dumps(request))
    cli_env.script({"id": "j1", "status": "IN_QUEUE"})

    assert cli(["submit", str(job_file)]) == 0
    assert json.loads(cli_env.requests[0]["body"]) == request


def test_cli_runs_as_a_module_reading_stdin(cli_env: ScriptedServer) -> None:
    cli_env.script({"id": "j1", "status": "IN_QUEUE"})

    done = subprocess.run(
        [sys.executable, "-m", "video_ops.client", "submit"],
        input='{"operation": "caption"}',
        capture_output=True,
        text=True,
        env=os.environ,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"id": "j1"}
