"""Big img2vid batches and long renders as parallel jobs, answered as one job.

Above `VIDEO_OPS_SPLIT_IMAGES` images (20) an img2vid job becomes parts of that many images
(`video_ops.client.split`); a render longer than `VIDEO_OPS_SPLIT_RENDER_SECONDS` (120) becomes a
plan, parts of about that length and a join (`video_ops.client.render_split`), submitted as each
status call finds the previous ones done. The caller sees one id (`split-...`, its state kept in the
store): its status merges the parts', a cancel cancels every part, and when one part ends badly the
others are cancelled too.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from video_ops.client import Client
from video_ops.client.api import PENDING
from video_ops.client.render_split import RenderSplit, worth_splitting
from video_ops.client.split import Part, merge, pending_parts, plan
from video_ops.gateway.backend import Backend, UnknownJob
from video_ops.gateway.store import Store

PREFIX = "split-"
DRIVE_INTERVAL_S = 1.0


class SplittingBackend(Backend):
    """A backend that sends big img2vid jobs as parts; every other job goes through unchanged."""

    def __init__(self, client: Client, kind: str, store: Store, images_per_part: int,
                 s3_config: dict[str, str] | None = None, render_seconds: float = 0.0) -> None:
        super().__init__(client, kind, s3_config)
        self.store = store
        self.images_per_part = images_per_part
        self.render_seconds = render_seconds
        self._render_steps = asyncio.Lock()  # one status call at a time submits a split render's next jobs
        self._drivers: set[asyncio.Task] = set()

    def splits(self, job_input: dict[str, Any]) -> bool:
        return self._splits_batch(job_input) or worth_splitting(job_input, self.render_seconds)

    def _splits_batch(self, job_input: dict[str, Any]) -> bool:
        images = job_input.get("images") if job_input.get("operation") == "img2vid" else None
        return isinstance(images, list) and len(images) > self.images_per_part

    async def submit(self, job_input: dict[str, Any], webhook: str | None = None) -> str:
        if worth_splitting(job_input, self.render_seconds):
            name = str(uuid.uuid4())
            split = RenderSplit.start(job_input, self.render_seconds, name)
            split.plan_id = await super().submit(split.plan_input())
            self.store.save_render_split(PREFIX + name, vars(split))
            driver = asyncio.create_task(self._drive(PREFIX + name))
            self._drivers.add(driver)
            driver.add_done_callback(self._drivers.discard)
            return PREFIX + name
        if not self._splits_batch(job_input):
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
        state = self._render_state(job_id)
        if state is not None:
            return await self._render_status(job_id)
        parts = self._parts(job_id)
        if parts is None:
            return await super().status(job_id)
        statuses = list(await asyncio.gather(*(super(SplittingBackend, self).status(part) for part, _, _ in parts)))
        merged = merge(job_id, parts, statuses)
        if merged["status"] not in PENDING:  # one part ended badly: the others stop too
            await self._cancel_parts(pending_parts(parts, statuses))
        return merged

    async def cancel(self, job_id: str) -> dict[str, Any]:
        state = self._render_state(job_id)
        if state is not None:
            async with self._render_steps:
                split = RenderSplit(**state)
                split.cancelled = True
                self.store.save_render_split(job_id, vars(split))
            await self._cancel_parts(split.current())
            return await self.status(job_id)
        parts = self._parts(job_id)
        if parts is None:
            return await super().cancel(job_id)
        await self._cancel_parts([part for part, _, _ in parts])
        return await self.status(job_id)

    async def _drive(self, job_id: str) -> None:
        """Move a split render on (parts after the plan, the join after the parts) whether or not anyone
        asks for its status; after a gateway restart, status calls move it on."""
        while (await self._render_status(job_id))["status"] in PENDING:
            await asyncio.sleep(DRIVE_INTERVAL_S)

    async def _render_status(self, job_id: str) -> dict[str, Any]:
        async with self._render_steps:
            split = RenderSplit(**(self.store.render_split(job_id) or {}))
            current = split.current()
            statuses = list(await asyncio.gather(*(super(SplittingBackend, self).status(job) for job in current)))
            view, inputs = split.step(job_id, statuses)
            if inputs:
                split.submitted(inputs, [await super(SplittingBackend, self).submit(one) for one in inputs])
            self.store.save_render_split(job_id, vars(split))
        if view["status"] not in PENDING:  # one part ended badly: the others stop too
            await self._cancel_parts([job for job, status in zip(current, statuses, strict=True)
                                      if status.get("status") in PENDING])
        return view

    def _render_state(self, job_id: str) -> dict[str, Any] | None:
        """A split render's state; None for any other job (asked of the database only for split ids)."""
        return self.store.render_split(job_id) if job_id.startswith(PREFIX) else None

    def _parts(self, job_id: str) -> list[Part] | None:
        if not job_id.startswith(PREFIX):
            return None
        parts = self.store.split(job_id)
        if parts is None:
            raise UnknownJob(job_id)
        return parts

    async def _cancel_parts(self, parts: list[str]) -> None:
        await asyncio.gather(*(super(SplittingBackend, self).cancel(part) for part in parts), return_exceptions=True)
