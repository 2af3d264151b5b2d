"""The local endpoint's queue kept in a journal: what a restart runs again, and what it never writes."""

from __future__ import annotations

from pathlib import Path

from video_ops.local_endpoint.jobqueue import NO_SECRETS, RAN_TWICE, LocalQueue
from video_ops.local_endpoint.journal import Journal


def started(path: Path) -> LocalQueue:
    """The queue as a new start of the endpoint finds it, with one worker."""
    queue = LocalQueue(journal=Journal(path))
    queue.add_pod("worker-1")
    return queue


def taken(queue: LocalQueue) -> str:
    work = queue.take("worker-1", 0)
    assert work is not None
    return work["id"]


def test_after_a_kill_the_running_job_runs_again_first_once_then_fails(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite"
    queue = started(path)
    running = queue.submit({"input": {"n": 1}})["id"]
    waiting = queue.submit({"input": {"n": 2}})["id"]
    assert taken(queue) == running

    again = started(path)  # the process was killed: nothing more was written
    assert again.status(running)["status"] == "IN_QUEUE" and taken(again) == running
    third = started(path)  # killed once more while the same job ran

    assert third.status(running) == {**third.status(running), "status": "FAILED", "error": RAN_TWICE}
    assert taken(third) == waiting


def test_a_stop_keeps_its_running_job_for_the_next_start_without_using_its_rerun(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite"
    queue = started(path)
    running = queue.submit({"input": {"n": 1}})["id"]
    assert taken(queue) == running
    queue.suspend()  # SIGTERM: the endpoint stops the job itself
    assert queue.take("worker-1", 0) is None  # and hands nothing out any more

    after_stop = started(path)
    assert taken(after_stop) == running
    after_kill = started(path)  # its one rerun after a kill is still there
    assert taken(after_kill) == running


def test_bucket_credentials_are_never_written_and_such_a_job_fails_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite"
    queue = started(path)
    own = queue.submit({"input": {"s3_config": {"access_key": "AKIA-NOT-WRITTEN", "secret_key": "s3cr3t-value"}}})
    runpods = queue.submit({"input": {}, "s3Config": {"accessId": "id", "accessSecret": "other-s3cr3t"}})

    again = started(path)
    written = b"".join(file.read_bytes() for file in tmp_path.iterdir())
    assert b"s3cr3t" not in written and b"AKIA-NOT-WRITTEN" not in written
    assert [again.status(job["id"])["error"] for job in (own, runpods)] == [NO_SECRETS, NO_SECRETS]
    assert again.take("worker-1", 0) is None
