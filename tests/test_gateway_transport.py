"""The gateway's calls to its backend (aiohttp on the event loop) against a scripted server on 127.0.0.1: the
client's retry rule and error sentences, with nothing really waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers import serving
from tests.test_client import Reply, ScriptedServer
from video_ops.client import Client, ClientError
from video_ops.gateway.backend import Backend, UnknownJob

RUNNING = {"id": "j1", "status": "IN_PROGRESS"}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with serving(ScriptedServer()) as running:
        yield running


class Pauses(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def call(backend: Backend, method: str, *args: Any) -> Any:
    async def once() -> Any:
        try:
            return await getattr(backend, method)(*args)
        finally:
            await backend.close()

    return asyncio.run(once())


def backend_of(url: str, pauses: Pauses, **client_options: Any) -> Backend:
    backend = Backend(Client("ep", base_url=url, **client_options), "test")
    backend.transport._sleep = pauses
    return backend


def test_status_is_retried_through_5xx_with_growing_jittered_pauses(server: ScriptedServer) -> None:
    server.script(Reply(503), Reply(500, "oops"), Reply(502), RUNNING)
    pauses = Pauses()

    assert call(backend_of(server.url, pauses), "status", "j1") == RUNNING
    assert [request["path"] for request in server.requests] == ["/v2/ep/status/j1"] * 4
    assert len(pauses) == 3
    for attempt, paused in enumerate(pauses):
        assert 0.5 * 2**attempt * 0.5 <= paused <= 0.5 * 2**attempt


def test_a_429_is_retried_after_its_retry_after(server: ScriptedServer) -> None:
    server.script(Reply(429, {"error": "slow down"}, {"Retry-After": "7"}), RUNNING)
    pauses = Pauses()

    assert call(backend_of(server.url, pauses), "status", "j1") == RUNNING
    assert pauses == [7]


def test_a_submit_is_not_retried_after_a_5xx_and_says_why(server: ScriptedServer) -> None:
    server.script(Reply(500, {"error": "internal"}))
    pauses = Pauses()

    with pytest.raises(ClientError) as caught:
        call(backend_of(server.url, pauses), "submit", {"operation": "addaudio"})

    assert (caught.value.status_code, caught.value.message) == (500, "internal")
    assert len(server.requests) == 1
    assert pauses == []


def test_status_gives_up_after_the_clients_retries(server: ScriptedServer) -> None:
    server.script(*[Reply(503, {"error": "busy"})] * 3)
    pauses = Pauses()

    with pytest.raises(ClientError) as caught:
        call(backend_of(server.url, pauses, retries=2), "status", "j1")

    assert (caught.value.status_code, caught.value.message) == (503, "busy")
    assert len(server.requests) == 3


def test_an_unknown_job_is_unknown_and_a_crafted_id_never_leaves(server: ScriptedServer) -> None:
    server.script(Reply(404, {"error": "job not found"}))
    backend = backend_of(server.url, Pauses())

    with pytest.raises(UnknownJob):
        call(backend, "status", "gone")
    with pytest.raises(UnknownJob):
        call(backend, "cancel", "../health")
    assert [request["path"] for request in server.requests] == ["/v2/ep/status/gone"]


def test_the_key_and_the_request_body_are_runpods(server: ScriptedServer) -> None:
    server.script({"id": "j9", "status": "IN_QUEUE"})
    backend = Backend(Client("ep", api_key="secret-key", base_url=server.url), "test", {"bucketName": "b"})

    assert call(backend, "submit", {"operation": "addaudio"}, "https://example.com/hook") == "j9"
    (request,) = server.requests
    assert request["headers"]["Authorization"] == "Bearer secret-key"
    assert request["body"] == (b'{"input": {"operation": "addaudio"}, "webhook": "https://example.com/hook", '
                               b'"s3Config": {"bucketName": "b"}}')


def test_an_empty_answer_is_one_sentence(server: ScriptedServer) -> None:
    server.script(Reply(200, None))
    with pytest.raises(ClientError) as caught:
        call(backend_of(server.url, Pauses()), "health")
    assert caught.value.message == f"GET {server.url}/ep/health answered non-JSON"


def test_a_refused_connection_is_retried_even_for_a_submit_then_named() -> None:
    pauses = Pauses()
    with pytest.raises(ClientError, match=r"^POST http://127\.0\.0\.1:9/v2/ep/run failed: "):
        call(backend_of("http://127.0.0.1:9/v2", pauses, retries=2), "submit", {"operation": "addaudio"})
    assert len(pauses) == 2  # nothing was sent, so repeating it was safe


def test_the_environments_proxy_is_used_as_requests_would(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url.removesuffix("/v2"))
    server.script(RUNNING)

    assert call(backend_of("http://runpod.example/v2", Pauses()), "status", "j1") == RUNNING
    assert [request["path"] for request in server.requests] == ["http://runpod.example/v2/ep/status/j1"]
