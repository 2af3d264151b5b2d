"""The gateway under a burst: N concurrent async submits, each followed by its own poller until it ends.

Every job must complete (none lost), and status polls must answer in under 50 ms at the 95th
percentile while the jobs run. Each poller asks the gateway and, right after, the local endpoint's
RunPod status route directly (the same-run baseline: what a caller of RunPod's API sees), so the
gateway's own cost is the difference between the two under the same load.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from video_ops.gateway.store import Store

from .workloads import REPO, bench_env

KEY = "bench-key"
P95_TARGET_MS = 50.0
LISTED_JOBS = 10_000
POLL_EVERY_S = 0.5  # every poller, 4x more often than the guide's first 2 s: a harder load than its clients
JOB_TIMEOUT_S = 600.0
READY = "gateway ready: "
BACKEND = re.compile(r"jobs run on the local endpoint (http://\S+)")


def addaudio_job(n: int) -> dict[str, Any]:
    """The bundled sample (4 s, 640x360, picture copied): a real job that keeps a worker busy ~0.5 s."""
    return {"url_video": f"file:{REPO}/samples/sample_video.mp4", "url_audio": f"file:{REPO}/samples/sample_audio.mp3",
            "path": "gateway-bench", "output_filename": f"job_{n:03d}.mp4"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = [value * 1000 for value in seconds]
    return {"count": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 0.95), 2),
            "max_ms": round(max(ms), 2)}


class RunningGateway:
    """`python -m video_ops.gateway` on a free port, its stderr in a file, stopped on exit."""

    def __init__(self, folder: Path, workers: int, **extra_env: str) -> None:
        env = {key: value for key, value in bench_env().items() if key not in ("RUNPOD_ENDPOINT_ID", "RUNPOD_API_KEY")}
        env.update(VIDEO_OPS_API_KEYS=KEY, VIDEO_OPS_OUTPUT_DIR=str(folder / "output"),
                   VIDEO_OPS_GATEWAY_DB=str(folder / "gateway.sqlite"),
                   VIDEO_OPS_LOCAL_QUEUE_DB=str(folder / "local-queue.sqlite"))
        env.update(extra_env)
        self.log = folder / "gateway.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "video_ops.gateway", "--port", "0", "--workers",
                                          str(workers)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log,
                                         text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith(READY):
            self.stop()
            raise RuntimeError(f"the gateway did not start: {self.log.read_text()[-2000:]}")
        self.url = line[len(READY):].strip()
        found = BACKEND.search(self.log.read_text())
        if found is None:
            self.stop()
            raise RuntimeError("the gateway did not name its local endpoint")
        self.backend = found.group(1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def follow(gateway: RunningGateway, job_id: str, gateway_polls: list[float], direct_polls: list[float]) -> str:
    """Poll one job through the gateway and directly until it ends; its final status."""
    session = requests.Session()
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status = session.get(f"{gateway.url}/video/job/{job_id}", headers={"X-API-Key": KEY}, timeout=30).json()
        gateway_polls.append(time.perf_counter() - started)
        started = time.perf_counter()
        session.get(f"{gateway.backend}/status/{job_id}", timeout=30).raise_for_status()
        direct_polls.append(time.perf_counter() - started)
        if status["status"] not in ("IN_QUEUE", "IN_PROGRESS"):
            return status["status"]
        time.sleep(POLL_EVERY_S)
    return "LOST"


def submit(gateway: RunningGateway, n: int, submits: list[float]) -> str:
    started = time.perf_counter()
    answer = requests.post(f"{gateway.url}/video/addaudio/async", json=addaudio_job(n), headers={"X-API-Key": KEY},
                           timeout=30)
    submits.append(time.perf_counter() - started)
    answer.raise_for_status()
    return answer.json()["jobId"]


def run(jobs: int, workers: int, database: str | None = None) -> dict[str, Any]:
    """Submit `jobs` at once, follow each, and report what the callers saw; the job records in `database`
    (a postgresql:// URL), else in the gateway's SQLite file."""
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as scratch:
        extra = {"VIDEO_OPS_GATEWAY_DB": database} if database else {}
        gateway = RunningGateway(Path(scratch), workers, **extra)
        try:
            submits: list[float] = []
            gateway_polls: list[float] = []
            direct_polls: list[float] = []
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
                ids = list(pool.map(lambda n: submit(gateway, n, submits), range(jobs)))
                finals = list(pool.map(lambda job: follow(gateway, job, gateway_polls, direct_polls), ids))
            wall_s = time.monotonic() - started
            outputs = len(list((Path(scratch) / "output" / "gateway-bench").glob("job_*.mp4")))
        finally:
            gateway.stop()
    completed = finals.count("COMPLETED")
    poll = latency_summary(gateway_polls)
    return {
        "database": "postgresql" if database else "sqlite",
        "jobs": jobs, "workers": workers, "poll_every_s": POLL_EVERY_S, "wall_s": round(wall_s, 1),
        "distinct_job_ids": len(set(ids)), "completed": completed, "outputs_written": outputs,
        "not_completed": {state: finals.count(state) for state in set(finals) if state != "COMPLETED"},
        "submit": latency_summary(submits), "status_via_gateway": poll, "status_direct": latency_summary(direct_polls),
        "target": {"p95_ms": P95_TARGET_MS, "met": completed == jobs == outputs and poll["p95_ms"] < P95_TARGET_MS},
    }


def fill(database: str | Path, count: int) -> None:
    """`count` job records, a second apart, in the three states a listing mostly shows."""
    store = Store(database)
    start = time.time() - count
    for n in range(count):
        store.clock = lambda n=n: start + n
        job_id = f"bench-{n:06d}"
        store.add(job_id, ("addaudio", "caption", "img2vid")[n % 3], f"script-{n % 100}", addaudio_job(n), None,
                  None, 30)
        if n % 4:
            final = {"id": job_id, "status": "COMPLETED" if n % 4 != 3 else "FAILED",
                     "output": {"video_url": f"https://cdn.example.com/{job_id}.mp4"}, "error": "failed"}
            store.end(job_id, final, None, None, "bench", 30)
    store.close()


def listing(database: str | Path, count: int = LISTED_JOBS, rounds: int = 40) -> dict[str, Any]:
    """The first page of GET /jobs over `count` stored jobs, through a running gateway: unfiltered and filtered."""
    fill(database, count)
    with tempfile.TemporaryDirectory(prefix="gateway-listing-") as scratch:
        gateway = RunningGateway(Path(scratch), 1, VIDEO_OPS_GATEWAY_DB=str(database))
        try:
            session = requests.Session()
            timings: dict[str, list[float]] = {}
            for name, query in (("first_page", ""), ("status_failed", "status=FAILED"),
                                ("id_roteiro", "id_roteiro=script-42"), ("page_100", None)):
                if query is None:  # a deep page: the cursor of the 99th page
                    cursor = ""
                    for _ in range(99):
                        cursor = session.get(f"{gateway.url}/jobs?limit=50{cursor}", headers={"X-API-Key": KEY},
                                             timeout=30).json()["nextCursor"]
                        cursor = f"&cursor={cursor}"
                    query = cursor.lstrip("&")
                timings[name] = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    answer = session.get(f"{gateway.url}/jobs?limit=50&{query}", headers={"X-API-Key": KEY}, timeout=30)
                    timings[name].append(time.perf_counter() - started)
                    answer.raise_for_status()
        finally:
            gateway.stop()
    summary = {name: latency_summary(values) for name, values in timings.items()}
    return {"stored_jobs": count, "page_size": 50, **summary,
            "target": {"p95_ms": P95_TARGET_MS, "met": summary["first_page"]["p95_ms"] < P95_TARGET_MS}}


def databases(jobs: int, workers: int) -> dict[str, Any]:
    """The burst with its records in PostgreSQL, and the listing on both databases (a throwaway PostgreSQL
    cluster, as the tests start one)."""
    from tests.services import postgres_cluster

    with postgres_cluster() as cluster, tempfile.TemporaryDirectory(prefix="gateway-db-") as scratch:
        return {"burst_postgresql": run(jobs, workers, cluster.database()),
                "listing_sqlite": listing(Path(scratch) / "listing.sqlite"),
                "listing_postgresql": listing(cluster.database())}


def batch_wall_s(images: int, workers: int, split_size: int) -> float:
    """Seconds from submit to COMPLETED for one still img2vid batch of the bundled image, 1 s a clip at 640x360."""
    with tempfile.TemporaryDirectory(prefix="gateway-split-") as scratch:
        gateway = RunningGateway(Path(scratch), workers, VIDEO_OPS_SPLIT_IMAGES=str(split_size))
        try:
            body = {"images": [{"id": f"i{n}", "image_url": f"file:{REPO}/samples/sample_image.jpg", "duracao": 1}
                               for n in range(images)], "width": 640, "height": 360, "path": "split-bench"}
            started = time.monotonic()
            job = requests.post(f"{gateway.url}/video/img2vid/async", json=body, headers={"X-API-Key": KEY},
                                timeout=30).json()["jobId"]
            while True:
                state = requests.get(f"{gateway.url}/video/job/{job}", headers={"X-API-Key": KEY},
                                     timeout=30).json()["status"]
                if state not in ("IN_QUEUE", "IN_PROGRESS"):
                    break
                time.sleep(0.1)
            wall = time.monotonic() - started
        finally:
            gateway.stop()
    if state != "COMPLETED":
        raise RuntimeError(f"the {images}-image batch ended {state}")
    return wall


def split_comparison(images: int, workers: int, split_size: int) -> dict[str, Any]:
    """The same batch unsplit (one job) and split into parts on `workers` workers."""
    whole = batch_wall_s(images, workers, split_size=images)
    split = batch_wall_s(images, workers, split_size=split_size)
    return {"images": images, "workers": workers, "split_size": split_size, "parts": -(-images // split_size),
            "unsplit_wall_s": round(whole, 2), "split_wall_s": round(split, 2), "speedup": round(whole / split, 2)}


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.gateway [JOBS] [WORKERS] [--databases]`: the burst alone (SQLite), printed as JSON; with
    --databases also the burst on PostgreSQL and the listing of 10,000 jobs on both."""
    args = argv if argv is not None else sys.argv[1:]
    numbers = [int(arg) for arg in args if arg.isdigit()]
    jobs, workers = (numbers[0] if numbers else 50), (numbers[1] if len(numbers) > 1 else 2)
    result = run(jobs, workers)
    if "--databases" in args:
        result["databases"] = databases(jobs, workers)
    print(json.dumps(result, indent=2))
    met = [result["target"]["met"]] + [part["target"]["met"] for part in result.get("databases", {}).values()]
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
