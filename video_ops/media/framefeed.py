"""Frames made in Python, streamed to FFmpeg over loopback TCP, one frame at a time.

FFmpeg runs with stdin closed (see `video_ops.media.ffmpeg`), and a clip can be hours of raw frames, far
too much for a temp file. So FFmpeg reads `tcp://127.0.0.1:<port>` instead: every connection gets
the frames from the first, which also serves an encoder retry (a second FFmpeg run after an NVENC
failure) without any bookkeeping. Frames are made in a worker thread (OpenCV releases the GIL), at
the pace FFmpeg reads them, so memory stays at a frame or two.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

FrameMaker = Callable[[int], bytes | memoryview]


@asynccontextmanager
async def frame_feed(count: int, make_frame: FrameMaker) -> AsyncIterator[str]:
    """Yield an FFmpeg input URL that delivers frames 0..count-1, then the end of the stream.

    A frame that could not be made is raised here when the block ends (FFmpeg then has seen a
    short stream, so its output must not be used).
    """
    failures: list[BaseException] = []
    connections: set[asyncio.Task] = set()

    async def serve(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            connections.add(task)
        try:
            for index in range(count):
                writer.write(await asyncio.to_thread(make_frame, index))
                await writer.drain()
        except (ConnectionError, OSError):
            pass  # the reader went away: FFmpeg failed or was stopped, and says so itself
        except Exception as err:
            failures.append(err)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            connections.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        yield f"tcp://127.0.0.1:{port}"
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()
    if failures:
        raise failures[0]
