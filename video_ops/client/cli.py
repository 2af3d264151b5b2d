"""Command line for `video_ops.client`: `python -m video_ops.client submit|status|result|...`.

JSON goes to stdout so the commands compose with jq and shell scripts; exit codes: 0 done,
1 the job failed, was cancelled, timed out or is not finished, 2 usage or API error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from video_ops.client.api import Client, JobError, VideoOpsError

EXIT_OK, EXIT_JOB, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m video_ops.client",
        description="Submit and follow video-ops jobs on a RunPod endpoint (or the local endpoint). "
        "Defaults come from RUNPOD_ENDPOINT_ID, RUNPOD_API_KEY and RUNPOD_ENDPOINT_BASE_URL.",
        epilog="Exit codes: 0 done, 1 job failed/cancelled/timed out/not finished, 2 usage or API error.",
    )
    parser.add_argument("--endpoint-id", help="RunPod endpoint id (default: $RUNPOD_ENDPOINT_ID)")
    parser.add_argument("--base-url", help="API base (default: $RUNPOD_ENDPOINT_BASE_URL or RunPod's)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def job_input(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("input", nargs="?", default="-",
                         help="JSON file ('-': stdin) with the job input, or a RunPod request {\"input\": ...}")
        sub.add_argument("--webhook", help="URL RunPod calls when the job ends")

    def job_id(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("job_id")

    def timeout(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--timeout", type=float, help="give up waiting after this many seconds")

    job_input(commands.add_parser("submit", help="queue a job, print {\"id\": ...}"))
    job_id(commands.add_parser("status", help="print the job's status JSON"))
    job_id(commands.add_parser("result", help="print the output of a finished job"))
    job_id(commands.add_parser("cancel", help="cancel a job"))
    wait = commands.add_parser("wait", help="poll until the job ends, print its output")
    job_id(wait)
    timeout(wait)
    run = commands.add_parser("run", help="submit and wait, print the output")
    job_input(run)
    timeout(run)
    commands.add_parser("health", help="print the endpoint's job and worker counts")
    return parser


def _read_request(source: str) -> dict:
    """RunPod's request body from a file or stdin: a bare job input, or `{"input": {...}, ...}` as in
    test_input.json (then its webhook, policy and s3Config are sent too)."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise VideoOpsError(f"job input is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise VideoOpsError("job input must be a JSON object")
    return value if isinstance(value.get("input"), dict) and "operation" not in value else {"input": value}


def _submit(client: Client, args: argparse.Namespace) -> str:
    request = _read_request(args.input)
    return client.submit(
        request["input"],
        webhook=args.webhook or request.get("webhook"),
        policy=request.get("policy"),
        s3_config=request.get("s3Config"),
    )


class ProgressLine:
    """A live status line on a terminal's stderr: state, stage, percent, elapsed."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.start = time.monotonic()

    def __call__(self, status: dict) -> None:
        progress = status.get("output") if status.get("status") == "IN_PROGRESS" else None
        parts = [str(status.get("status"))]
        if isinstance(progress, dict):
            if progress.get("stage"):
                parts.append(str(progress["stage"]))
            percent = progress.get("percent", progress.get("progress"))
            if isinstance(percent, int | float):
                parts.append(f"{percent:.0f}%")
        elif progress is not None:
            parts.append(str(progress))
        parts.append(f"{time.monotonic() - self.start:.0f}s")
        self.stream.write("\r\033[K" + "  ".join(parts))
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _execute(client: Client, args: argparse.Namespace) -> Any:
    """Run one command and return what goes to stdout."""
    if args.command == "submit":
        return {"id": _submit(client, args)}
    if args.command == "status":
        return client.status(args.job_id)
    if args.command == "result":
        return client.result(args.job_id)
    if args.command == "cancel":
        return client.cancel(args.job_id)
    if args.command == "health":
        return client.health()
    progress = ProgressLine(sys.stderr) if sys.stderr.isatty() else None
    try:
        if args.command == "wait":
            return client.wait(args.job_id, timeout=args.timeout, on_update=progress)
        job = _submit(client, args)
        print(f"job {job}", file=sys.stderr)
        return client.wait(job, timeout=args.timeout, on_update=progress)
    finally:
        if progress is not None:
            progress.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        client = Client(endpoint_id=args.endpoint_id, base_url=args.base_url)
        output = _execute(client, args)
    except JobError as exc:
        print(json.dumps(exc.status, indent=2))
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_JOB
    except (VideoOpsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(output, indent=2))
    return EXIT_OK
