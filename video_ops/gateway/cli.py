"""`python -m video_ops.gateway`: pick the backend, check the keys, serve the API with uvicorn."""

from __future__ import annotations

import argparse
import copy
import ipaddress
import os
import socket
import sys
from pathlib import Path

import uvicorn

from video_ops.base.errors import JobError
from video_ops.base.settings import env_float, env_int, env_str
from video_ops.client import Client
from video_ops.gateway.app import create_app
from video_ops.gateway.database import is_postgres, printable
from video_ops.gateway.local import EmbeddedEndpoint
from video_ops.gateway.split import SplittingBackend
from video_ops.gateway.store import Store
from video_ops.gateway.watcher import LEASE_S, RETENTION_DAYS
from video_ops.io.storage import resolve_bucket
from video_ops.local_endpoint.server import check_worker_arguments, server_parser
from video_ops.ops import OPERATIONS

READY = "gateway ready: "
CPU_ENDPOINT = "VIDEO_OPS_CPU_ENDPOINT_ID"  # a CPU RunPod endpoint of the same image, for the /vps/... routes
SYNC_CAP_S = 900.0  # the guide's 15 minutes
STOP_GRACE_S = 5
SPLIT_IMAGES = 20  # img2vid jobs with more images are sent as parts of this many
SPLIT_RENDER_SECONDS = 120  # renders with a longer timeline are sent as parts of about this length (0: never)
# uvicorn's logging with the access log moved to stderr: stdout carries only the ready line (as the local
# endpoint's does), so a parent that reads that line and no more never blocks the server on a full pipe.
LOGGING = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
LOGGING["handlers"]["access"]["stream"] = "ext://sys.stderr"


DESCRIPTION = (
    "The reference guide's REST API. With RUNPOD_ENDPOINT_ID and RUNPOD_API_KEY set, jobs go to "
    "that RunPod endpoint; with neither, a local endpoint with --workers worker processes runs them (results "
    "in $VIDEO_OPS_OUTPUT_DIR, served over HTTP, when no bucket is set). Callers send X-API-Key, one of "
    "$VIDEO_OPS_API_KEYS (comma-separated; $X_API_KEY also read); with no key set, only loopback is served."
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = server_parser("python -m video_ops.gateway", DESCRIPTION, port=3000)  # the guide's port
    args = parser.parse_args(argv)
    if not os.environ.get("RUNPOD_ENDPOINT_ID"):  # the local endpoint will run
        check_worker_arguments(parser, args)
    return args


def api_keys() -> list[str]:
    """The accepted keys: VIDEO_OPS_API_KEYS and the reference's X_API_KEY, comma-separated."""
    raw = ",".join(os.environ.get(name, "") for name in ("VIDEO_OPS_API_KEYS", "X_API_KEY"))
    return [key.strip() for key in raw.split(",") if key.strip()]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bucket_config() -> dict[str, str] | None:
    """The gateway's bucket (BUCKET_* here) as RunPod's request-level s3Config, for jobs that name none."""
    settings = resolve_bucket(None, None)
    if settings is None:
        return None
    config = {"bucketName": settings.bucket, "accessId": settings.access_key or "",
              "accessSecret": settings.secret_key or "", "endpointUrl": settings.endpoint_url or "",
              "region": settings.region or ""}
    return {key: value for key, value in config.items() if value}


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    keys = api_keys()
    if not keys and not is_loopback(args.host):
        print(f"gateway: no API key is set (VIDEO_OPS_API_KEYS); refusing to listen on {args.host}, "
              "which is not a loopback address", file=sys.stderr)
        return 2
    endpoint_id, runpod_key = os.environ.get("RUNPOD_ENDPOINT_ID"), os.environ.get("RUNPOD_API_KEY")
    cpu_id = os.environ.get(CPU_ENDPOINT, "").strip()
    if (endpoint_id and not runpod_key) or (runpod_key and not endpoint_id and not cpu_id):
        print("gateway: set both RUNPOD_ENDPOINT_ID and RUNPOD_API_KEY (RunPod), or neither (local endpoint)",
              file=sys.stderr)
        return 2
    if cpu_id and not runpod_key:
        print(f"gateway: {CPU_ENDPOINT} needs RUNPOD_API_KEY too", file=sys.stderr)
        return 2
    try:
        sync_cap_s = env_float("VIDEO_OPS_SYNC_TIMEOUT_S", SYNC_CAP_S)
        s3_config = bucket_config() if endpoint_id else None  # a local endpoint's workers read BUCKET_* themselves
        env_float("VIDEO_OPS_GATEWAY_LEASE_S", LEASE_S)
        env_float("VIDEO_OPS_JOB_RETENTION_DAYS", RETENTION_DAYS)
        env_int("VIDEO_OPS_SPLIT_IMAGES", SPLIT_IMAGES)
        env_float("VIDEO_OPS_SPLIT_RENDER_SECONDS", SPLIT_RENDER_SECONDS, zero_allowed=True)
    except JobError as err:
        print(f"gateway: {err}", file=sys.stderr)
        return 2
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.create_server((args.host, args.port), family=family)  # the port is ours before any worker starts
    if endpoint_id:
        return _serve(listener, Client(), f"runpod endpoint {endpoint_id}", s3_config, keys, sync_cap_s)
    return _serve_local(listener, args, keys, sync_cap_s)


def local_queue() -> Path:
    """Where the embedded local endpoint keeps its queue for the next start: VIDEO_OPS_LOCAL_QUEUE_DB, else
    local-queue.sqlite beside the gateway's SQLite file (in the working folder with PostgreSQL)."""
    target = database()
    folder = target.parent if isinstance(target, Path) else Path()
    return Path(env_str("VIDEO_OPS_LOCAL_QUEUE_DB", str(folder / "local-queue.sqlite")))


def _serve_local(listener: socket.socket, args: argparse.Namespace, keys: list[str], sync_cap_s: float) -> int:
    """Start the local endpoint and its workers, serve, and stop them all on the way out."""

    def serve(api_url: str) -> int:
        print(f"gateway: jobs run on the local endpoint {api_url}/local, {args.workers} worker(s)", file=sys.stderr)
        return _serve(listener, Client("local", base_url=api_url), "local endpoint", None, keys, sync_cap_s)

    return EmbeddedEndpoint(args.workers, args.handler, local_queue()).run(serve)


def database() -> str | Path:
    """VIDEO_OPS_GATEWAY_DB: a SQLite file (default ./gateway.sqlite) or a postgresql:// URL."""
    target = env_str("VIDEO_OPS_GATEWAY_DB", "gateway.sqlite")
    return target if is_postgres(target) else Path(target)


def _serve(listener: socket.socket, client: Client, kind: str, s3_config: dict[str, str] | None,
           keys: list[str], sync_cap_s: float) -> int:
    target = database()
    store = Store(target)
    print(f"gateway: job records in {printable(target)}", file=sys.stderr)
    def backend(client: Client, kind: str, s3_config: dict[str, str] | None) -> SplittingBackend:
        return SplittingBackend(client, kind, store, env_int("VIDEO_OPS_SPLIT_IMAGES", SPLIT_IMAGES), s3_config,
                                env_float("VIDEO_OPS_SPLIT_RENDER_SECONDS", SPLIT_RENDER_SECONDS, zero_allowed=True))

    cpu_id = os.environ.get(CPU_ENDPOINT, "").strip()
    cpu = backend(Client(cpu_id), f"runpod CPU endpoint {cpu_id}", bucket_config()) if cpu_id else None
    if cpu is not None:
        print(f"gateway: jobs of the /vps/... routes run on the RunPod CPU endpoint {cpu_id}", file=sys.stderr)
    public_url = os.environ.get("VIDEO_OPS_GATEWAY_PUBLIC_URL", "").strip() or None
    app = create_app(backend(client, kind, s3_config), OPERATIONS, keys, sync_cap_s, store, public_url,
                     env_float("VIDEO_OPS_GATEWAY_LEASE_S", LEASE_S),
                     env_float("VIDEO_OPS_JOB_RETENTION_DAYS", RETENTION_DAYS), cpu)
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"{READY}http://{shown}:{port}", flush=True)
    # Stopping waits at most a few seconds for requests in flight (a sync call may wait for minutes), so the
    # local endpoint's workers are always stopped after it.
    config = uvicorn.Config(app, log_level="info", log_config=LOGGING, timeout_graceful_shutdown=STOP_GRACE_S)
    uvicorn.Server(config).run(sockets=[listener])
    return 0
