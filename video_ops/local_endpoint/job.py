"""One job as RunPod tracks it: its request, its state and times, and the status JSON built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PENDING = ("IN_QUEUE", "IN_PROGRESS")


@dataclass
class Job:
    """One request as RunPod tracks it."""

    id: str
    request: dict  # the /run body: input, s3Config, webhook, policy
    keep_s: float
    submitted: float
    status: str = "IN_QUEUE"
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    result: dict = field(default_factory=dict)  # "output" (progress while running) and/or "error"
    reruns: int = 0  # times it was found running after a restart, and run again
    secrets: bool = False  # read back from a journal, which kept it without its bucket credentials

    @property
    def execution_timeout_s(self) -> float | None:
        timeout_ms = (self.request.get("policy") or {}).get("executionTimeout")
        return timeout_ms / 1000 if timeout_ms else None

    def view(self, now: float) -> dict:
        """RunPod's status JSON."""
        started = self.started or self.finished or now
        view: dict[str, Any] = {"id": self.id, "status": self.status}
        view["delayTime"] = round((started - self.submitted) * 1000)
        if self.started is not None:
            view["executionTime"] = round(((self.finished or now) - self.started) * 1000)
            view["workerId"] = self.worker
        return {**view, **self.result}

    def work(self) -> dict:
        """What a worker's job-take receives."""
        work = {"id": self.id, "input": self.request["input"]}
        if self.request.get("s3Config"):
            work["s3Config"] = self.request["s3Config"]
        return work
