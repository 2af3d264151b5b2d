"""Big img2vid batches as parallel jobs with `start_index`, answered as one job.

Above `VIDEO_OPS_SPLIT_IMAGES` images (20) an img2vid job becomes parts of that many images
(`video_ops.client.split`). The caller sees one id (`split-...`, its parts kept in the store): its
status merges the parts', a cancel cancels every part, and when one part ends badly the others are
cancelled too.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from video_ops.client import Client
from video_ops.client.api import PENDING
from video_ops.client.split import Part, merge, pending_parts, plan
from video_ops.gateway.backend import Backend, UnknownJob
from video_ops.gateway.store import Store

PREFIX = "split-"


class SplittingBackend(Backend):
    """A backend that sends big img2vid jobs as parts; every other job goes through unchanged."""

    def __init__(self, client: Client, kind: str, store: Store, images_per_part: int,
                 s3_config: dict[str, str] | None = None) -> None:
        super().__init__(client, kind, s3_config)
        self.store = store
        self.images_per_part = images_per_part

    def splits(self, job_input: dict[str, Any]) -> bool:
        images = job_input.get("images") if job_input.get("operation") == "img2vid" else None
        return isinstance(images, list) and len(images) > self.images_per_part

    async def submit(self, job_input: dict[str, Any], webhook: str | None = None) -> str:
        if not self.splits(job_input):
            return await super().submit(job_input, webhook)
        parts: list[Part] = []
        try:
            for part_input, offset, count in plan(job_input, self.images_per_part):
                parts.append((await super().submit(part_input), offset, count))
        except BaseException:
            await self._cancel_parts([part for part, _, _ in parts])
            raise
        job_id = PREFIX + str(uuid.uuid4())
        self.store.add_split(job_id, parts)
        return job_id

    async def status(self, job_id: str) -> dict[str, Any]:
        parts = self._parts(job_id)
        if parts is None:
            return await super().status(job_id)
        statuses = list(await asyncio.gather(*(super(SplittingBackend, self).status(part) for part, _, _ in parts)))
        merged = merge(job_id, parts, statuses)
        if merged["status"] not in PENDING:  # one part ended badly: the others stop too
            await self._cancel_parts(pending_parts(parts, statuses))
        return merged

    async def cancel(self, job_id: str) -> dict[str, Any]:
        parts = self._parts(job_id)
        if parts is None:
            return await super().cancel(job_id)
        await self._cancel_parts([part for part, _, _ in parts])
        return await self.status(job_id)

    def _parts(self, job_id: str) -> list[Part] | None:
        if not job_id.startswith(PREFIX):
            return None
        parts = self.store.split(job_id)
        if parts is None:
            raise UnknownJob(job_id)
        return parts

    async def _cancel_parts(self, parts: list[str]) -> None:
        await asyncio.gather(*(super(SplittingBackend, self).cancel(part) for part in parts), return_exceptions=True)
