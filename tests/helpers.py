"""Helpers the tests share: driving the handler, reading the bucket, checking what was left behind."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import boto3

REPO = Path(__file__).resolve().parent.parent


def s3_client(settings: dict[str, str]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=settings["BUCKET_ENDPOINT_URL"],
        aws_access_key_id=settings["BUCKET_ACCESS_KEY_ID"],
        aws_secret_access_key=settings["BUCKET_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


def new_bucket(s3_server: str) -> dict[str, str]:
    """A fresh bucket on the moto server, as the `BUCKET_*` settings a deployed worker reads."""
    settings = {
        "BUCKET_ENDPOINT_URL": s3_server,
        "BUCKET_ACCESS_KEY_ID": "testing-access",
        "BUCKET_SECRET_ACCESS_KEY": "testing-secret",
        "BUCKET_NAME": f"test-{os.urandom(4).hex()}",
        "BUCKET_REGION": "us-east-1",
    }
    s3_client(settings).create_bucket(Bucket=settings["BUCKET_NAME"])
    return settings


def stored_keys(settings: dict[str, str]) -> list[str]:
    listing = s3_client(settings).list_objects_v2(Bucket=settings["BUCKET_NAME"])
    return [item["Key"] for item in listing.get("Contents", [])]


def run_job(job_input: dict[str, Any], job_id: str = "test-job", **extra: Any) -> dict[str, Any]:
    """Drive the handler the way the SDK does, in this process."""
    from video_ops.worker import handle_job

    return asyncio.run(handle_job({"id": job_id, "input": job_input, **extra}))


def local_output(result: dict[str, Any]) -> Path:
    """The file (a video, or a sound file) a successful job wrote to the local output folder (no bucket configured)."""
    assert result.get("success"), result
    url = result["audio_url"] if "audio_url" in result else result["video_url"]
    assert url.startswith("file://")
    return Path(url[len("file://"):])


def leftover_workdirs(workdir: Path) -> list[Path]:
    return list(workdir.iterdir()) if workdir.exists() else []
