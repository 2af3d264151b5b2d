"""Where results go: an S3-compatible bucket (boto3), or a local folder when no bucket is configured."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from pydantic import SecretStr

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.base.settings import env_bool, env_float, env_int, env_str, is_deployed
from video_ops.io.local_results import local_output_dir

if TYPE_CHECKING:
    from video_ops.io.fetch import DownloadLimits

ProgressCallback = Callable[[float], None]
DEFAULT_MULTIPART_BYTES = 64 * 1024 * 1024


class S3Config(StrictModel):
    """The per-job bucket the reference orchestrator sends as `input.s3_config`."""

    endpoint_url: str | None = None
    access_key: SecretStr
    secret_key: SecretStr
    bucket_name: str
    region: str | None = None


@dataclass(frozen=True)
class StoredObject:
    key: str
    url: str
    size_bytes: int


class Storage(Protocol):
    async def upload(self, local: Path, key: str, content_type: str, on_progress: ProgressCallback) -> StoredObject: ...

    async def delete(self, key: str) -> None: ...

    async def read(self, bucket: str, key: str, dest: Path, field: str, limits: DownloadLimits) -> None: ...

    def close(self) -> None:
        """Release connections: a long-lived worker must not accumulate one pool per job."""


@dataclass(frozen=True)
class BucketSettings:
    """Credentials stay out of repr so they never reach a log line."""

    bucket: str
    endpoint_url: str | None
    region: str | None
    source: str
    access_key: str | None = None
    secret_key: str | None = None

    def __repr__(self) -> str:
        return f"BucketSettings(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r}, source={self.source!r})"

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint_url).netloc if self.endpoint_url else "s3.amazonaws.com"


def resolve_bucket(input_config: S3Config | None, request_config: Any) -> BucketSettings | None:
    """First match wins: `input.s3_config`, RunPod's request-level `s3Config`, then the environment."""
    if input_config is not None:
        return BucketSettings(
            bucket=input_config.bucket_name,
            endpoint_url=input_config.endpoint_url or None,
            region=input_config.region or None,
            access_key=input_config.access_key.get_secret_value(),
            secret_key=input_config.secret_key.get_secret_value(),
            source="input.s3_config",
        )
    if request_config:
        return _from_request(request_config)
    return _from_environment()


def _from_request(config: Any) -> BucketSettings:
    if not isinstance(config, dict):
        raise JobError("Invalid s3Config: it must be an object with endpointUrl, accessId, accessSecret, bucketName.")
    missing = [name for name in ("accessId", "accessSecret", "bucketName") if not config.get(name)]
    if missing:
        raise JobError(f"Invalid s3Config: missing {', '.join(missing)}.")
    return BucketSettings(
        bucket=str(config["bucketName"]),
        endpoint_url=config.get("endpointUrl") or None,
        region=config.get("region") or None,
        access_key=str(config["accessId"]),
        secret_key=str(config["accessSecret"]),
        source="s3Config",
    )


def _from_environment() -> BucketSettings | None:
    bucket = env_str("BUCKET_NAME")
    endpoint = env_str("BUCKET_ENDPOINT_URL") or None
    if not bucket:
        if endpoint:
            raise JobError("Storage is misconfigured: BUCKET_ENDPOINT_URL is set but BUCKET_NAME is not.")
        return None
    return BucketSettings(
        bucket=bucket,
        endpoint_url=endpoint,
        region=env_str("BUCKET_REGION") or None,
        access_key=env_str("BUCKET_ACCESS_KEY_ID") or None,
        secret_key=env_str("BUCKET_SECRET_ACCESS_KEY") or None,
        source="environment",
    )


def open_storage(input_config: S3Config | None, request_config: Any, *, uploads: bool = True) -> Storage:
    """A bucket when one is configured; else the local folder, which a deployed worker refuses unless
    VIDEO_OPS_LOCAL_OUTPUT=1 (the RunPod Hub's smoke tests, which have no bucket to give it) or the
    operation uploads nothing (`probe`: the bucket would only serve its s3:// URLs)."""
    settings = resolve_bucket(input_config, request_config)
    if settings is not None:
        return S3Storage(settings)
    if uploads and is_deployed() and not env_bool("VIDEO_OPS_LOCAL_OUTPUT"):
        raise JobError(
            "No bucket is configured: send input.s3_config or s3Config, or set BUCKET_NAME and its credentials."
        )
    return LocalStorage(local_output_dir(), env_str("VIDEO_OPS_OUTPUT_URL") or None)


class S3Storage:
    def __init__(self, settings: BucketSettings) -> None:
        self.settings = settings
        self._client = _make_client(settings)

    def close(self) -> None:
        self._client.close()

    async def upload(self, local: Path, key: str, content_type: str, on_progress: ProgressCallback) -> StoredObject:
        """Upload in a thread; a cancelled job stops the transfer and removes whatever landed."""
        stop = threading.Event()
        task = asyncio.ensure_future(
            asyncio.to_thread(self._upload_blocking, local, key, content_type, stop, on_progress)
        )
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            stop.set()
            with contextlib.suppress(BaseException):
                await task
            await self.delete(key)
            raise
        return StoredObject(key=key, url=self._url_for(key), size_bytes=local.stat().st_size)

    def _upload_blocking(
        self, local: Path, key: str, content_type: str, stop: threading.Event, on_progress: ProgressCallback
    ) -> None:
        from boto3.exceptions import S3UploadFailedError
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError

        total = max(local.stat().st_size, 1)
        sent = 0
        lock = threading.Lock()

        def progress(chunk: int) -> None:
            nonlocal sent
            if stop.is_set():
                raise _UploadStopped
            with lock:
                sent += chunk
                on_progress(min(100.0, sent * 100 / total))

        part = max(env_int("VIDEO_OPS_MULTIPART_CHUNK_BYTES", DEFAULT_MULTIPART_BYTES), 5 * 1024 * 1024)
        transfer = TransferConfig(multipart_threshold=part, multipart_chunksize=part)
        try:
            self._client.upload_file(
                str(local), self.settings.bucket, key,
                ExtraArgs={"ContentType": content_type}, Config=transfer, Callback=progress,
            )
        except (S3UploadFailedError, ClientError, BotoCoreError) as err:
            raise JobError(
                f"Upload to bucket {self.settings.bucket!r} at {self.settings.host} failed: {_boto_reason(err)}."
            ) from None

    async def delete(self, key: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._client.delete_object, Bucket=self.settings.bucket, Key=key)

    async def read(self, bucket: str, key: str, dest: Path, field: str, limits: DownloadLimits) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = await asyncio.to_thread(self._client.head_object, Bucket=bucket, Key=key)
            size = int(head.get("ContentLength", 0))
            if size > limits.max_bytes:
                raise JobError(limits.refusal(field, size))
            await asyncio.to_thread(self._client.download_file, bucket, key, str(dest))
        except (ClientError, BotoCoreError) as err:
            raise JobError(
                f"{field}: could not read s3://{bucket}/{key} from {self.settings.host}: {_boto_reason(err)}."
            ) from None

    def _url_for(self, key: str) -> str:
        public = env_str("BUCKET_PUBLIC_URL")
        if public:
            return public.rstrip("/") + "/" + quote(key)
        return self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.settings.bucket, "Key": key},
            ExpiresIn=env_int("BUCKET_URL_EXPIRES", 604800),
        )


class _UploadStopped(Exception):
    """Raised from the transfer callback to abort an upload whose job was cancelled."""


_SESSION: Any = None
_SESSION_LOCK = threading.Lock()


def _make_client(settings: BucketSettings) -> Any:
    """A client per job (its own credentials and connections), made from one boto3 session per process: a
    fresh session reads S3's service description again, 85-350 ms of every job measured on 2 cores; a
    client from a warm one takes 5 ms. Sessions are not thread-safe, hence the lock."""
    global _SESSION
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        retries={"max_attempts": env_int("VIDEO_OPS_S3_ATTEMPTS", 5), "mode": "standard"},
        connect_timeout=10,
        read_timeout=env_float("VIDEO_OPS_S3_READ_TIMEOUT_S", 60.0),
        s3={"addressing_style": "path"} if settings.endpoint_url else {},
    )
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = boto3.session.Session()
        return _SESSION.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            aws_access_key_id=settings.access_key,
            aws_secret_access_key=settings.secret_key,
            region_name=settings.region or "us-east-1",
            config=config,
        )


def _boto_reason(err: Exception) -> str:
    """A short reason without request ids, paths or credentials."""
    text = str(err)
    code = re.search(r"An error occurred \(([^)]+)\)", text)
    if code:
        name = code.group(1)
        if name.isdigit() and int(name) >= 500:
            return f"the bucket answered HTTP {name} on every attempt"
        return _ERROR_CODES.get(name, name)
    if "timeout" in text.lower() or "timed out" in text.lower():
        return "the bucket's endpoint did not answer in time"
    if "connect" in text.lower():
        return "the bucket's endpoint could not be reached"
    return err.__class__.__name__


_ERROR_CODES = {
    "NoSuchBucket": "the bucket does not exist",
    "AccessDenied": "access denied (check the credentials and the bucket policy)",
    "InvalidAccessKeyId": "the access key is not valid",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "NoSuchKey": "not found",
    "404": "not found",
    "403": "access denied",
}


class LocalStorage:
    """For runs without a cloud account: results land under a folder and come back as file:// URLs,
    or as links under `base_url` when something serves the folder (the local endpoint does)."""

    def __init__(self, root: Path, base_url: str | None = None) -> None:
        self.root = root
        self.base_url = base_url

    def close(self) -> None:
        return None

    async def upload(self, local: Path, key: str, content_type: str, on_progress: ProgressCallback) -> StoredObject:
        dest = self.root / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        size = local.stat().st_size
        # Written beside, then renamed over: a job reading the old file (a local input is linked, not copied)
        # keeps reading it whole.
        partial = dest.with_name(f".{dest.name}.{os.urandom(6).hex()}.partial")
        try:
            await asyncio.to_thread(shutil.copyfile, local, partial)
            partial.replace(dest)
        finally:
            partial.unlink(missing_ok=True)
        on_progress(100.0)
        url = f"{self.base_url.rstrip('/')}/{quote(key)}" if self.base_url else dest.resolve().as_uri()
        return StoredObject(key=key, url=url, size_bytes=size)

    async def delete(self, key: str) -> None:
        with contextlib.suppress(OSError):
            (self.root / key).unlink()

    async def read(self, bucket: str, key: str, dest: Path, field: str, limits: DownloadLimits) -> None:
        raise JobError(f"{field}: s3:// URLs need a bucket's credentials, and none are configured.")
