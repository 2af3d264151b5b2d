"""Big img2vid batches as parallel jobs with `start_index`, answered as one job.

Above `VIDEO_OPS_SPLIT_IMAGES` images (20) an img2vid job becomes parts of that many images, each with
the `start_index` that gives its clips the names a single job would (`video_1.mp4` ... `video_N.mp4`).
The caller sees one id (`split-...`): its status merges the parts' (summed progress, `videos` in input
order), a cancel cancels every part, and the first part to fail fails the whole, its error naming the
image by its place in the whole batch, while the other parts are cancelled.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from video_ops.client import Client
from video_ops.client.api import PENDING, decode_error
from video_ops.gateway.backend import Backend, UnknownJob
from video_ops.gateway.store import Store

PREFIX = "split-"
ENDED_BADLY = ("FAILED", "TIMED_OUT", "CANCELLED")
IMAGE_PLACE = re.compile(r"images\[(\d+)\]")


class SplittingBackend(Backend):
    """A backend that sends big img2vid jobs as parts; every other job goes through unchanged."""

    def __init__(self, client: Client, kind: str, store: Store, images_per_part: int,
                 s3_config: dict[str, str] | None = None) -> None:
        super().__init__(client, kind, s3_config)
        self.store = store
        self.images_per_part = images_per_part

    async def submit(self, job_input: dict[str, Any]) -> str:
        images = job_input.get("images") if job_input.get("operation") == "img2vid" else None
        if not isinstance(images, list) or len(images) <= self.images_per_part:
            return await super().submit(job_input)
        first = job_input.get("start_index", 0)
        parts: list[tuple[str, int, int]] = []  # (part id, offset of its first image, its image count)
        try:
            for offset in range(0, len(images), self.images_per_part):
                chunk = images[offset : offset + self.images_per_part]
                part = await super().submit({**job_input, "images": chunk, "start_index": first + offset})
                parts.append((part, offset, len(chunk)))
        except BaseException:
            await asyncio.gather(*(super(SplittingBackend, self).cancel(part) for part, _, _ in parts),
                                 return_exceptions=True)
            raise
        job_id = PREFIX + str(uuid.uuid4())
        self.store.add_split(job_id, parts)
        return job_id

    async def status(self, job_id: str) -> dict[str, Any]:
        parts = self._parts(job_id)
        if parts is None:
            return await super().status(job_id)
        statuses = await asyncio.gather(*(super(SplittingBackend, self).status(part) for part, _, _ in parts))
        merged = merge(job_id, parts, list(statuses))
        if merged["status"] not in PENDING:  # one part ended badly: the others stop too
            await self._cancel_parts([part for (part, _, _), status in zip(parts, statuses, strict=True)
                                      if status.get("status") in PENDING])
        return merged

    async def cancel(self, job_id: str) -> dict[str, Any]:
        parts = self._parts(job_id)
        if parts is None:
            return await super().cancel(job_id)
        await self._cancel_parts([part for part, _, _ in parts])
        return await self.status(job_id)

    def _parts(self, job_id: str) -> list[tuple[str, int, int]] | None:
        if not job_id.startswith(PREFIX):
            return None
        parts = self.store.split(job_id)
        if parts is None:
            raise UnknownJob(job_id)
        return parts

    async def _cancel_parts(self, parts: list[str]) -> None:
        await asyncio.gather(*(super(SplittingBackend, self).cancel(part) for part in parts), return_exceptions=True)


def in_whole_batch(error: str, offset: int) -> str:
    """A part's error with the image it names (`images[3]`) numbered as in the whole batch."""
    return IMAGE_PLACE.sub(lambda found: f"images[{int(found.group(1)) + offset}]", error, count=1)


def merge(job_id: str, parts: list[tuple[str, int, int]], statuses: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts' statuses as one RunPod status."""
    states = [status.get("status") for status in statuses]
    started = [status["delayTime"] for status in statuses if "delayTime" in status]
    view: dict[str, Any] = {"id": job_id, "delayTime": min(started) if started else 0}
    running = [status["executionTime"] for status in statuses if "executionTime" in status]
    if running:
        view["executionTime"] = max(running)
    for state in ENDED_BADLY:
        if state in states:
            index = states.index(state)
            bad = statuses[index]
            view["status"] = state
            if "error" in bad:
                view["error"] = in_whole_batch(decode_error(bad["error"]), parts[index][1])
            return view
    outputs = [status.get("output") if isinstance(status.get("output"), dict) else {} for status in statuses]
    total = sum(count for _, _, count in parts)
    if all(state == "COMPLETED" for state in states):
        videos = [video for output in outputs for video in output.get("videos", [])]
        view["status"] = "COMPLETED"
        view["output"] = {**outputs[0], "total": total, "processed": len(videos), "videos": videos}
        return view
    processed = sum(output.get("processed", 0) for output in outputs)
    view["status"] = "IN_PROGRESS" if any(state != "IN_QUEUE" for state in states) else "IN_QUEUE"
    if view["status"] == "IN_PROGRESS":
        view["output"] = {"stage": "processing", "processed": processed, "total": total, "parts": len(parts)}
    return view
