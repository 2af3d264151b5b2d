"""The local endpoint's HTTP server (RunPod's REST API and the worker protocol) and its worker pool."""

from __future__ import annotations

import argparse
import contextlib
import json
import mimetypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from video_ops.base.lifetime import end_with_parent, parent_named_in
from video_ops.io.local_results import local_output_dir, output_file
from video_ops.local_endpoint.jobqueue import LocalQueue
from video_ops.local_endpoint.journal import Journal

READY = "local endpoint ready: "  # then the API base for clients, on stdout
GATEWAY_PID = "VIDEO_OPS_GATEWAY_PID"  # set by a gateway that runs this endpoint as its child
OUTPUT_ROUTE = "output"  # without a bucket, results are served at /output/<object key>: links that open
TAKE_POLL_S = 5.0  # how long job-take holds a worker's request open when the queue is empty
STOP_POLL_S = 30.0  # the stop channel's long-poll; the SDK gives up on it after 90 s
RUNSYNC_WAIT_MS = 90_000  # RunPod's default for /runsync, and its maximum below
RUNSYNC_MAX_WAIT_MS = 300_000
STOP_GRACE_S = 5.0  # for workers to drop cancelled jobs and exit before they are killed
RESTART_DELAY_S = 1.0
SIGNAL_POLL_S = 0.1  # how soon a stop signal reaches the stop event
# Workers (and their FFmpeg) run at a lower priority: FFmpeg takes every core it can, and the server that answers
# callers (and a gateway on the same machine) would wait behind it for a time slice. It changes nothing while
# the CPU is otherwise idle.
WORKER_NICENESS = 10
IDLE_CONNECTION_S = 120.0  # a kept connection idle this long is closed, and its thread ends
RECORDING = threading.Lock()  # one line per job, never interleaved
WEBHOOK_RETRY_DELAYS_S = (10.0, 10.0)  # RunPod's: two more tries, 10 s apart, after a non-200


class Handler(BaseHTTPRequestHandler):
    """Routes `/v2/<endpoint id>/...` (public API), `/internal/...` (worker protocol) and `/output/...`
    (the results kept locally when no bucket is configured)."""

    server: EndpointServer
    # Keep-alive: a caller polling every job (a gateway, a client) reuses its connections instead of opening
    # one per call. Without Nagle a reply's headers and body leave at once; with it, a kept connection waited
    # for the caller's delayed ACK (40 ms) between the two.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = IDLE_CONNECTION_S

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: workers poll constantly; their own logs say what happens."""

    def _route(self, method: str) -> None:
        # Read every body whole, used or not: on a kept connection unread bytes would be taken for the next request.
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            self.close_connection = True
            return self._send(HTTPStatus.BAD_REQUEST, {"error": "Content-Length is not a number"})
        self.raw_body = self.rfile.read(int(length))
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        try:
            if len(parts) >= 3 and parts[0] == "v2":
                self._public(method, parts[2], parts[3] if len(parts) > 3 else None, query)
            elif len(parts) == 3 and parts[0] == "internal":
                self._internal(parts[1], parts[2], query)
            elif method == "GET" and parts[0] == OUTPUT_ROUTE:
                self._output(url.path.partition(f"/{OUTPUT_ROUTE}/")[2])
            else:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no route {method} {url.path}"})
        except ValueError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

    def _public(self, method: str, route: str, job_id: str | None, query: dict) -> None:
        queue = self.server.queue
        if method == "POST" and route in ("run", "runsync") and job_id is None:
            request = self._body()
            if not isinstance(request, dict) or not isinstance(request.get("input"), dict):
                raise ValueError('the body must be a JSON object with an "input" object')
            known = ("input", "webhook", "policy", "s3Config")
            fields = {key: request[key] for key in known if key in request}
            view = queue.submit(fields, sync=route == "runsync")
            if route == "run":
                return self._send(HTTPStatus.OK, {"id": view["id"], "status": view["status"]})
            wait_ms = min(int(query.get("wait", RUNSYNC_WAIT_MS)), RUNSYNC_MAX_WAIT_MS)
            return self._send(HTTPStatus.OK, queue.wait_final(view["id"], wait_ms / 1000))
        if route == "health" and method == "GET" and job_id is None:
            return self._send(HTTPStatus.OK, queue.health())
        if route == "purge-queue" and method == "POST" and job_id is None:
            return self._send(HTTPStatus.OK, queue.purge())
        actions = {"status": queue.status, "cancel": queue.cancel, "retry": queue.retry}
        if route in actions and job_id and (method == "POST" or route == "status"):
            view = actions[route](job_id)
            if view is None:
                return self._send(HTTPStatus.NOT_FOUND, {"error": f"job {job_id} not found"})
            return self._send(HTTPStatus.OK, view)
        self._send(HTTPStatus.NOT_FOUND, {"error": f"no route {method} {route}"})

    def _internal(self, channel: str, pod_id: str, query: dict) -> None:
        queue = self.server.queue
        if channel == "job-take":
            work = queue.take(pod_id, TAKE_POLL_S)
            if work is not None and self.server.inputs_file:
                record_input(self.server.inputs_file, work)
            return self._send_or_nothing(work)
        if channel == "job-stop":
            stops = queue.stops(pod_id, STOP_POLL_S)
            return self._send_or_nothing({"jobsToStop": stops} if stops else None)
        if channel == "job-done":
            report = self._body()  # labelled form-urlencoded by the SDK, but JSON
            if not isinstance(report, dict):
                raise ValueError("a job-done body must be a JSON object")
            queue.report(pod_id, query.get("job_id", ""), report)
            return self._send(HTTPStatus.OK, {})
        if channel == "ping":
            return self._send(HTTPStatus.OK, {})
        self._send(HTTPStatus.NOT_FOUND, {"error": f"no internal route {channel}"})

    def _output(self, url_path: str) -> None:
        """Stream one result file; anything not a file inside the output folder is a 404."""
        found = output_file(self.server.output_dir, url_path)
        if found is None:
            return self._send(HTTPStatus.NOT_FOUND, {"error": "no such output"})
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", mimetypes.guess_type(found.name)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(found.stat().st_size))
        self.end_headers()
        with found.open("rb") as source:
            shutil.copyfileobj(source, self.wfile)

    def _body(self) -> Any:
        try:
            return json.loads(self.raw_body or b"null")
        except ValueError as exc:
            raise ValueError(f"the body is not JSON: {exc}") from exc

    def _send_or_nothing(self, body: dict | None) -> None:
        """200 with the body, or 204 when the long-poll found nothing."""
        self._send(HTTPStatus.OK if body else HTTPStatus.NO_CONTENT, body)

    def _send(self, status: HTTPStatus, body: Any = None) -> None:
        """A JSON response; `None` means no body (204)."""
        self.send_response(status)
        if body is None:
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class EndpointServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of callers (a gateway's pollers) would see connections
    # dropped and retried by TCP after 1, 3, 7... seconds.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], queue: LocalQueue, output_dir: Path) -> None:
        super().__init__(address, Handler)
        self.queue = queue
        self.output_dir = output_dir
        self.inputs_file = os.environ.get("VIDEO_OPS_LOCAL_RECORD_INPUTS", "").strip()  # development only


def post_webhook(url: str, status: dict) -> None:
    """POST a final status to the job's webhook, in the background, as RunPod does: the body is the job's
    status JSON (what GET /status answers), and anything but a 200 is tried again twice, 10 s apart."""

    def send() -> None:
        target = urlsplit(url)._replace(path="/...", query="").geturl()  # its path may hold a token
        for attempt in range(1 + len(WEBHOOK_RETRY_DELAYS_S)):
            request = urllib.request.Request(
                url, json.dumps(status).encode(), {"Content-Type": "application/json"}, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    if answer.status == HTTPStatus.OK:
                        return
                    problem = f"HTTP {answer.status}"
            except OSError as exc:
                problem = str(exc)
            print(f"local endpoint: webhook {target} failed: {problem}", file=sys.stderr)
            if attempt < len(WEBHOOK_RETRY_DELAYS_S):
                time.sleep(WEBHOOK_RETRY_DELAYS_S[attempt])

    threading.Thread(target=send, daemon=True).start()


def record_input(path: str, work: dict) -> None:
    """FOR DEVELOPMENT ONLY: append a job's input, as the worker received it, to the JSON-lines file that
    VIDEO_OPS_LOCAL_RECORD_INPUTS names, so tests can compare it with what a caller meant to send. A
    request-level `s3_config` is shown by its keys only: the file must not hold bucket secrets."""
    job_input = dict(work["input"])
    if isinstance(job_input.get("s3_config"), dict):
        job_input["s3_config"] = dict.fromkeys(job_input["s3_config"], "[redacted]")
    with RECORDING, open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps({"id": work["id"], "input": job_input}) + "\n")


class WorkerPool:
    """N `python <handler>` processes in RunPod's deployed mode, restarted when they die."""

    def __init__(
        self, queue: LocalQueue, handler: str, count: int, internal_url: str, extra_env: dict[str, str]
    ) -> None:
        self.queue = queue
        self.handler = handler
        self.count = count
        self.internal_url = internal_url
        self.extra_env = extra_env
        self.procs: dict[str, subprocess.Popen] = {}
        self.early_exit: str | None = None  # set when a worker dies before the endpoint is ready
        self.ready = False
        self.stopping = False
        self._spawned = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        for _ in range(self.count):
            self._spawn()

    def _env(self, pod_id: str) -> dict[str, str]:
        internal = self.internal_url
        return {
            **os.environ,
            **self.extra_env,
            "RUNPOD_POD_ID": pod_id,
            "VIDEO_OPS_LOCAL_ENDPOINT_PID": str(os.getpid()),  # the worker ends with this process
            # The SDK substitutes $ID and $RUNPOD_POD_ID, appends "&job_in_progress=..." to the job-take
            # URL (hence its query string) and "&isStream=..." to the job-done URL, and derives the stop
            # channel by replacing /job-take/ with /job-stop/.
            "RUNPOD_WEBHOOK_GET_JOB": f"{internal}/job-take/$ID?endpoint=local",
            "RUNPOD_WEBHOOK_POST_OUTPUT": f"{internal}/job-done/$RUNPOD_POD_ID?job_id=$ID",
            "RUNPOD_WEBHOOK_PING": f"{internal}/ping/$RUNPOD_POD_ID",
            "RUNPOD_AI_API_KEY": "local-endpoint",  # the heartbeat only runs with a key set
            "RUNPOD_LOG_LEVEL": os.environ.get("RUNPOD_LOG_LEVEL", "INFO"),  # the SDK's default is DEBUG
            # The SDK's start-up fitness checks probe the internet and the GPU; they are for RunPod hosts.
            "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true",
            "RUNPOD_SKIP_GPU_CHECK": "true",
        }

    def _spawn(self) -> None:
        with self._lock:
            if self.stopping:
                return
            self._spawned += 1
            pod_id = f"local-worker-{self._spawned}"
            self.queue.add_pod(pod_id)
            # Own session: Ctrl-C reaches only the endpoint, and a kill reaches the worker's children.
            self.procs[pod_id] = proc = subprocess.Popen(
                ["nice", "-n", str(WORKER_NICENESS), sys.executable, "-u", self.handler],
                env=self._env(pod_id),
                stdin=subprocess.DEVNULL,
                stdout=sys.stderr,
                start_new_session=True,
            )
        threading.Thread(target=self._watch, args=(pod_id, proc), daemon=True).start()

    def _watch(self, pod_id: str, proc: subprocess.Popen) -> None:
        returncode = proc.wait()
        _kill_group(proc, signal.SIGKILL)  # its heartbeat process and anything else it left
        with self._lock:
            self.procs.pop(pod_id, None)
            restart = self.ready and not self.stopping
            if not self.ready and not self.stopping:
                self.early_exit = f"worker {pod_id} exited with code {returncode} before taking a job"
        self.queue.pod_died(pod_id, returncode)
        if restart:
            print(f"local endpoint: {pod_id} exited with code {returncode}; starting another", file=sys.stderr)
            time.sleep(RESTART_DELAY_S)
            self._spawn()

    def wait_ready(self, stop: threading.Event) -> bool:
        """Block until every worker has asked for work once; False if one died first or we were stopped."""
        while not stop.wait(0.1):
            with self._lock:
                if self.early_exit:
                    return False
                if self.queue.all_polled():
                    self.ready = True
                    return True
        return False

    def stop(self) -> None:
        """Cancel running jobs so handlers clean up (FFmpeg, temp files), then SIGTERM, then SIGKILL."""
        with self._lock:
            self.stopping = True
        deadline = time.monotonic() + STOP_GRACE_S
        if self.queue.journal is not None:
            self.queue.suspend()  # queued and running jobs are taken up by the next start
        else:
            self.queue.cancel_all()
        self.queue.wait_idle(STOP_GRACE_S)
        with self._lock:
            procs = list(self.procs.values())
        for proc in procs:
            _kill_group(proc, signal.SIGTERM, group=False)
        self.queue.close()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
            _kill_group(proc, signal.SIGKILL)
            proc.wait()


def _kill_group(proc: subprocess.Popen, sig: signal.Signals, group: bool = True) -> None:
    try:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


DESCRIPTION = (
    "FOR DEVELOPMENT ONLY. A local stand-in for a RunPod serverless endpoint: RunPod's REST "
    "API at http://HOST:PORT/v2/<any endpoint id>/ (run, runsync, status, cancel, retry, health, "
    "purge-queue), driving real worker processes started as `python -u HANDLER` in the SDK's deployed "
    "mode. The Authorization header is accepted but not checked. Workers inherit this environment "
    "(bucket settings etc.); their logs go to stderr. Jobs live in memory: stopping the endpoint (Ctrl-C) "
    "cancels queued and running jobs, unless VIDEO_OPS_LOCAL_QUEUE_DB=FILE keeps them in that SQLite file for the "
    "next start (queued jobs run, running ones run again once). "
    "VIDEO_OPS_LOCAL_RECORD_INPUTS=FILE appends every job's input, as a worker "
    "took it, to FILE (JSON lines). Without a bucket, results stay in $VIDEO_OPS_OUTPUT_DIR (./output) and "
    "are served at http://HOST:PORT/output/<key>. No security: keep it on 127.0.0.1."
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = server_parser("python -m video_ops.local_endpoint", DESCRIPTION, port=8000)
    args = parser.parse_args(argv)
    check_worker_arguments(parser, args)
    return args


def server_parser(prog: str, description: str, port: int) -> argparse.ArgumentParser:
    """A command line with --host, --port, --workers and --handler: this command's, and those of commands
    that start a local endpoint."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=port, help=f"port (default {port}; 0 picks a free one)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes, one job each (default 1)")
    parser.add_argument("--handler", default="handler.py", help="worker entry point (default ./handler.py)")
    return parser


def check_worker_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not Path(args.handler).is_file():
        parser.error(f"handler {args.handler} not found (run from the project folder or pass --handler)")
    if args.workers < 1:
        parser.error("--workers must be at least 1")


class LocalEndpoint:
    """The server, its queue and its worker pool, started and stopped together.

    Without a bucket the workers keep results in the output folder (VIDEO_OPS_LOCAL_OUTPUT) and link
    them under this server's /output/, so a result's `video_url` opens in a browser.
    """

    def __init__(self, host: str, port: int, workers: int, handler: str, journal: Path | None = None) -> None:
        self.queue = LocalQueue(on_final=post_webhook, journal=Journal(journal) if journal else None)
        output_dir = local_output_dir().resolve()
        self.server = EndpointServer((host, port), self.queue, output_dir)
        connect_host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        self.base_url = f"http://{connect_host}:{self.server.server_address[1]}"
        worker_env = {
            "VIDEO_OPS_LOCAL_OUTPUT": os.environ.get("VIDEO_OPS_LOCAL_OUTPUT", "1"),
            "VIDEO_OPS_OUTPUT_DIR": str(output_dir),
            "VIDEO_OPS_OUTPUT_URL": f"{self.base_url}/{OUTPUT_ROUTE}",
        }
        self.pool = WorkerPool(self.queue, handler, workers, f"{self.base_url}/internal", worker_env)

    @property
    def api_url(self) -> str:
        """RunPod's API base for clients (`RUNPOD_ENDPOINT_BASE_URL`); any endpoint id works below it."""
        return f"{self.base_url}/v2"

    def start(self, stop: threading.Event) -> bool:
        """Serve and start the workers; True once all of them asked for work, False if one died or `stop` was set."""
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.pool.start()
        return self.pool.wait_ready(stop)

    def run(self, label: str, serve: Callable[[threading.Event], int]) -> int:
        """Start, call `serve` once every worker is up, and stop everything however it ends.

        SIGINT and SIGTERM set the stop event that `start` and `serve` watch; `label` begins the message
        about a worker that died at start-up. A signal handler runs in the main thread between two bytecodes,
        even inside `Event.set` or `Event.wait` holding the event's lock, or inside itself: had it set the
        event, it could have waited for that lock for ever (a stopped endpoint that never stopped). So the
        handler only notes the signal; the main thread joins the thread that does the work and sets the
        event for it.
        """
        stop = threading.Event()
        signalled: list[int] = []  # appending takes no lock
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda number, _: signalled.append(number))
        outcome: list[int] = []
        work = threading.Thread(target=lambda: outcome.append(self._run(label, serve, stop)), name="endpoint")
        work.start()
        while work.is_alive():
            work.join(SIGNAL_POLL_S)
            if signalled and not stop.is_set():
                stop.set()
        return outcome[0] if outcome else 1  # an exception in the work thread was printed by the thread

    def _run(self, label: str, serve: Callable[[threading.Event], int], stop: threading.Event) -> int:
        try:
            if not self.start(stop):
                if self.pool.early_exit:
                    print(f"{label}: {self.pool.early_exit}; see its log above", file=sys.stderr)
                return 1 if self.pool.early_exit else 0
            return serve(stop)
        finally:
            stop.set()
            self.close()

    def sweep_until(self, stop: threading.Event) -> None:
        """Time jobs out and forget old results, once a second, until `stop` is set."""
        while not stop.wait(1.0):
            self.queue.sweep()

    def close(self) -> None:
        self.pool.stop()
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    gateway = parent_named_in(GATEWAY_PID)
    # A gateway's endpoint stops (its SIGTERM handling: workers stopped, the queue kept) when the gateway ends,
    # SIGKILL included; until `run` handles SIGTERM, it simply ends, before any worker started.
    if gateway is not None and not end_with_parent(gateway, signal.SIGTERM):
        return 0
    journal = os.environ.get("VIDEO_OPS_LOCAL_QUEUE_DB", "").strip()
    endpoint = LocalEndpoint(args.host, args.port, args.workers, args.handler, Path(journal) if journal else None)

    def serve(stop: threading.Event) -> int:
        print(f"{READY}{endpoint.api_url}/local", flush=True)
        hint = f"export RUNPOD_ENDPOINT_BASE_URL={endpoint.api_url} RUNPOD_ENDPOINT_ID=local"
        print(f"local endpoint: {hint}", file=sys.stderr)
        endpoint.sweep_until(stop)
        return 0

    return endpoint.run("local endpoint", serve)
