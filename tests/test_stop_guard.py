"""Every stop frees the worker's slot (video_ops/stop_guard.py), at the scaler and end to end.

The scaler-level races run on both the SDK's own JobScaler and the guarded one: the bare one shows the
hole (and this file says so the day an SDK release closes it), the guarded one must not have it.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from runpod.serverless.modules import rp_scale
from runpod.serverless.modules.worker_state import JobsProgress

from tests.endpoint import SLEEPY, Gateway, LocalEndpoint, wait_until, worker_with_a_bucket
from tests.helpers import REPO, leftover_workdirs, stored_keys
from tests.test_gateway import gateway_env
from tests.test_gateway_split import ended
from video_ops.client import Client, JobCancelled
from video_ops.stop_guard import GUARDED_SDK_VERSION, SlotGuardedScaler, install_stop_guard

BARE = rp_scale.JobScaler
SCALERS = pytest.mark.parametrize("scaler_class", [BARE, SlotGuardedScaler], ids=["bare-sdk", "guarded"])


@pytest.fixture(autouse=True)
def no_jobs_in_progress() -> Iterator[None]:
    """The SDK's job tracker is a process-wide singleton."""
    JobsProgress().clear()
    yield
    JobsProgress().clear()


def new_scaler(scaler_class: type[rp_scale.JobScaler], ran: list[str]) -> rp_scale.JobScaler:
    async def jobs_handler(session: Any, config: dict, job: dict) -> None:
        ran.append(job["id"])
        await asyncio.sleep(0.05)

    scaler = scaler_class({})
    scaler.jobs_handler = jobs_handler
    return scaler


async def take(scaler: rp_scale.JobScaler, job_id: str) -> dict:
    """What `get_jobs` does with a job it was given."""
    job = {"id": job_id, "input": {}}
    await scaler.jobs_queue.put(job)
    scaler.job_progress.add(job)
    return job


@SCALERS
def test_a_stop_before_the_jobs_first_step_frees_its_slot(scaler_class: type[rp_scale.JobScaler]) -> None:
    ran: list[str] = []

    async def race() -> tuple[int, bool]:
        scaler = new_scaler(scaler_class, ran)
        await take(scaler, "early")
        job = await scaler.jobs_queue.get()  # as run_jobs makes the job's task...
        scaler.jobs_tasks[job["id"]] = asyncio.create_task(scaler.handle_job(None, job))
        await scaler.stop_job("early")  # ...and the stop channel cancels it before its first step
        await asyncio.sleep(0.2)
        return scaler.current_occupancy(), "early" in scaler.jobs_tasks

    occupancy, still_tracked = asyncio.run(race())

    assert ran == []
    if scaler_class is BARE:
        assert (occupancy, still_tracked) == (1, True), "the SDK frees this slot now: recheck the guard"
    else:
        assert (occupancy, still_tracked) == (0, False)


@SCALERS
def test_a_stop_while_the_job_waits_in_the_workers_queue_keeps_it_from_running(
        scaler_class: type[rp_scale.JobScaler]) -> None:
    ran: list[str] = []

    async def race() -> int:
        scaler = new_scaler(scaler_class, ran)
        await take(scaler, "queued")
        await scaler.stop_job("queued")  # before run_jobs has taken it from the queue
        runner = asyncio.create_task(scaler.run_jobs(None))
        await asyncio.sleep(0.3)
        await take(scaler, "next")
        await asyncio.sleep(0.3)
        scaler.kill_worker()
        await runner
        return scaler.current_occupancy()

    occupancy = asyncio.run(race())

    if scaler_class is BARE:
        assert ran == ["queued", "next"], "the SDK keeps a stopped queued job from running now: recheck the guard"
    else:
        assert ran == ["next"]
    assert occupancy == 0


def test_a_stop_for_a_job_the_worker_never_had_is_ignored() -> None:
    async def stop() -> tuple[bool, int]:
        scaler = new_scaler(SlotGuardedScaler, [])
        return await scaler.stop_job("unknown"), scaler.current_occupancy()

    assert asyncio.run(stop()) == (False, 0)


def test_a_job_that_ignores_its_stop_past_the_grace_wedges_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEO_OPS_STOP_GRACE_S", "0.3")

    async def stubborn(session: Any, config: dict, job: dict) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(30)  # ignores its first stop; the test's own cancel ends it

    async def scenario() -> tuple[str | None, str | None]:
        scaler = SlotGuardedScaler({})
        scaler.jobs_handler = stubborn
        await take(scaler, "stubborn")
        runner = asyncio.create_task(scaler.run_jobs(None))
        await asyncio.sleep(0.2)
        await scaler.stop_job("stubborn")
        soon = scaler.wedged(time.monotonic())
        await asyncio.sleep(0.4)
        late = scaler.wedged(time.monotonic())
        scaler.jobs_tasks["stubborn"].cancel()
        scaler.kill_worker()
        await runner
        return soon, late

    soon, late = asyncio.run(scenario())

    assert soon is None
    assert late == "job stubborn was told to stop 0.4 s ago and has not ended"


def test_a_slot_held_with_no_handler_past_the_grace_wedges_the_worker() -> None:
    async def scenario() -> list[str | None]:
        scaler = SlotGuardedScaler({})
        scaler.job_progress.add({"id": "lost", "input": {}})  # a slot no task will ever free
        now = time.monotonic()
        return [scaler.wedged(now), scaler.wedged(now + 29), scaler.wedged(now + 31)]

    assert asyncio.run(scenario()) == [None, None, "job lost has held a slot for 31.0 s with no handler running for it"]


def test_the_guard_refuses_an_sdk_version_it_was_not_checked_against(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rp_scale, "JobScaler", BARE)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "1.13.0")
    with pytest.raises(SystemExit) as refused:
        install_stop_guard()
    assert str(refused.value) == (
        f"video-ops: the worker's stop guard (video_ops/stop_guard.py) was written for runpod {GUARDED_SDK_VERSION}, "
        "and this is runpod 1.13.0; check it against this version and update GUARDED_SDK_VERSION before starting "
        "the worker.")
    assert rp_scale.JobScaler is BARE


def test_a_bad_grace_setting_is_refused_at_start_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rp_scale, "JobScaler", BARE)
    monkeypatch.setenv("VIDEO_OPS_STOP_GRACE_S", "soon")
    with pytest.raises(SystemExit) as refused:
        install_stop_guard()
    assert str(refused.value) == "video-ops: Environment variable VIDEO_OPS_STOP_GRACE_S must be a number, got 'soon'."


def test_the_pinned_sdk_is_the_one_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rp_scale, "JobScaler", BARE)
    install_stop_guard()
    assert rp_scale.JobScaler is SlotGuardedScaler


# --- end to end: `python handler.py` behind the local endpoint ---------------------------------------------

# Seconds of work, far longer than the 300 ms within which every stop comes (a 3 s still was done in 260 ms).
SLOW = {"operation": "img2vid", "images": [{"id": "slow", "image_url": "file:samples/sample_image.jpg",
                                            "duracao": 20}], "zoom_types": ["zoomin"], "width": 640, "height": 360}
QUICK = {**SLOW, "images": [{"id": "quick", "image_url": "file:samples/sample_image.jpg", "duracao": 1}],
         "zoom_types": ["none"], "width": 160, "height": 90}


@pytest.fixture(scope="module")
def deployment(s3_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalEndpoint, dict]]:
    with worker_with_a_bucket(s3_server, tmp_path_factory.mktemp("stops"), VIDEO_OPS_ALLOW_FILE_URLS="1") as running:
        yield running


def taken(client: Client, job: str) -> None:
    """Returns as soon as a worker has taken `job` (within a few ms)."""
    wait_until(lambda: client.status(job)["status"] != "IN_QUEUE", 60, "no worker took the job", interval=0.002)


def assert_the_worker_goes_on(endpoint: LocalEndpoint, client: Client, path: str) -> None:
    """Every slot is free again: one more job completes within 10 s."""
    started = time.monotonic()
    output = client.wait(client.submit({**QUICK, "path": path}), timeout=10)
    assert output["success"] and time.monotonic() - started < 10
    wait_until(lambda: not leftover_workdirs(Path(endpoint.env["VIDEO_OPS_WORKDIR"])), 5, "a temp folder was left")


def test_30_jobs_cancelled_from_0_to_300_ms_after_the_take_all_end_and_the_worker_goes_on(
        deployment: tuple[LocalEndpoint, dict]) -> None:
    endpoint, settings = deployment
    client = endpoint.client()
    for k in range(30):
        job = client.submit({**SLOW, "path": f"cancelled/{k}"})
        taken(client, job)
        time.sleep(0.3 * k / 29)
        assert client.cancel(job)["status"] == "CANCELLED"
        with pytest.raises(JobCancelled):
            client.wait(job, timeout=10)

    assert_the_worker_goes_on(endpoint, client, "after-cancels")
    assert not [key for key in stored_keys(settings) if key.startswith("cancelled/")]
    assert "Started." in endpoint.log.read_text()


def idle(endpoint_url: str) -> bool:
    """The endpoint's one worker is waiting for work (a wedged worker never asks again)."""
    return requests.get(f"{endpoint_url}/health", timeout=30).json()["workers"]["idle"] == 1


def test_a_cancel_right_after_submit_never_runs_the_job(deployment: tuple[LocalEndpoint, dict]) -> None:
    """The idle worker takes the job at once, so most of these cancels meet the job in the worker's own queue."""
    endpoint, settings = deployment
    client = endpoint.client()
    jobs = []
    for k in range(5):
        wait_until(lambda: idle(endpoint.url), 10, "the worker did not ask for work again")
        jobs.append(job := client.submit({**SLOW, "path": f"at-once/{k}"}))
        assert client.cancel(job)["status"] == "CANCELLED"

    assert_the_worker_goes_on(endpoint, client, "after-at-once")
    assert not [key for key in stored_keys(settings) if key.startswith("at-once/")]
    assert not [job for job in jobs if f"{job} | Started." in endpoint.log.read_text()]


def test_a_cancel_through_the_gateway_right_after_submit_frees_the_worker(tmp_path: Path) -> None:
    body = {key: value for key, value in SLOW.items() if key != "operation"}
    env = gateway_env(tmp_path, VIDEO_OPS_API_KEYS="stop-key")
    with Gateway(REPO / "handler.py", 1, tmp_path / "gateway.log", env) as gateway:
        for k in range(5):
            job = gateway.submit("img2vid", {**body, "path": f"gateway-cancelled/{k}"})
            cancel = requests.post(f"{gateway.url}/job/{job}/cancel", headers={"X-API-Key": gateway.key}, timeout=30)
            assert cancel.status_code == 200, cancel.text
        started = time.monotonic()
        done = ended(gateway, gateway.submit("img2vid", {**body, "path": "gateway-after"}), timeout=10)

    assert done["status"] == "COMPLETED" and time.monotonic() - started < 10, done
    assert done["output"]["videos"][0]["filename"] == "video_1.mp4"
    assert not (tmp_path / "output" / "gateway-cancelled").exists()


def test_a_worker_whose_job_ignores_its_stop_says_why_and_exits_for_a_fresh_one(tmp_path: Path) -> None:
    env = {"SLEEPY_LOG": str(tmp_path / "ran.txt"), "VIDEO_OPS_STOP_GRACE_S": "1"}
    with LocalEndpoint(SLEEPY, 1, tmp_path / "endpoint.log", env) as endpoint:
        client = endpoint.client()
        (worker,) = endpoint.worker_pids()
        job = client.submit({"steps": 100, "step_s": 0.1, "ignore_stop": True})
        ran = Path(env["SLEEPY_LOG"])
        wait_until(lambda: ran.exists() and job in ran.read_text(), 30, "the job never started", interval=0.01)
        client.cancel(job)
        wait_until(lambda: worker not in endpoint.worker_pids(), 10, "the wedged worker never exited")
        output = client.wait(client.submit({"steps": 1, "step_s": 0.1}), timeout=30)

    log = endpoint.log.read_text()
    assert re.search(rf"job {job} was told to stop 1\.\d s ago and has not ended; the worker exits so that the "
                     r"platform starts a fresh one\.", log)
    assert "local-worker-1 exited with code 1; starting another" in log
    assert output["slept"] == 1
