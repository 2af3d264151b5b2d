"""Uploads that are cancelled or lose their bucket midway: nothing half-made stays in the bucket."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tests.helpers import new_bucket, s3_client
from video_ops.base.errors import JobError
from video_ops.io.storage import S3Storage, resolve_bucket

PART = 5 * 1024 * 1024


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    """Four multipart parts of incompressible bytes."""
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(4 * PART))
    return path


def storage_for(settings: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> S3Storage:
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VIDEO_OPS_MULTIPART_CHUNK_BYTES", str(PART))
    storage = S3Storage(resolve_bucket(None, None))
    return storage


def test_cancel_mid_upload_aborts_the_multipart_upload(s3_server, big_file, monkeypatch):
    settings = new_bucket(s3_server)
    storage = storage_for(settings, monkeypatch)

    async def cancel_after_first_bytes() -> None:
        started = asyncio.Event()
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(storage.upload(big_file, "out/big.mp4", "video/mp4",
                                                    lambda _: loop.call_soon_threadsafe(started.set)))
        await asyncio.wait_for(started.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_after_first_bytes())
    client = s3_client(settings)
    assert client.list_objects_v2(Bucket=settings["BUCKET_NAME"]).get("KeyCount") == 0
    assert client.list_multipart_uploads(Bucket=settings["BUCKET_NAME"]).get("Uploads", []) == []
    storage.close()


def test_bucket_stopping_mid_upload_fails_naming_the_host(big_file, monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    settings = new_bucket(f"http://{host}:{port}")
    monkeypatch.setenv("VIDEO_OPS_S3_ATTEMPTS", "2")
    storage = storage_for(settings, monkeypatch)
    stopped = threading.Event()

    def stop_server_once(_percent: float) -> None:
        if not stopped.is_set():
            stopped.set()
            threading.Thread(target=server.stop, daemon=True).start()

    try:
        with pytest.raises(JobError) as caught:
            asyncio.run(storage.upload(big_file, "out/big.mp4", "video/mp4", stop_server_once))
    finally:
        storage.close()
        if not stopped.is_set():
            server.stop()
    assert str(caught.value).startswith(f"Upload to bucket '{settings['BUCKET_NAME']}' at {host}:{port} failed: ")
