"""Run coroutines together so that one failure stops the rest: no orphan FFmpeg, download or upload."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def all_or_nothing(*awaitables: Awaitable[T]) -> list[T]:
    """Like `asyncio.gather`, but the first failure (or our own cancellation) cancels and awaits the others.
    Nothing to run gives nothing back, as `gather` does (`asyncio.wait` refuses an empty set)."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    if not tasks:
        return []
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            if task in done and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
