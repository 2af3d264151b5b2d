"""Frames read from an FFmpeg decoder's stdout, one raw frame at a time, for code that composes frames.

The reader runs in the frame feed's thread, so this is a plain (not asyncio) subprocess; like every
FFmpeg of the worker it has its own process group and is killed, with anything it started, when
the reader closes it: a cancelled job leaves no decoder behind. The pipe holds a frame or two, so
the decoder runs just ahead of the reader and never fills memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from video_ops.base.errors import JobError
from video_ops.media.ffmpeg import summarize_stderr


class DecodedFrames:
    """`ffmpeg <args>` writing raw frames of `frame_bytes` each to stdout; `frame(i)` reads them in order."""

    def __init__(self, args: Sequence[str], frame_bytes: int, workdir: Path) -> None:
        self.frame_bytes = frame_bytes
        self.workdir = workdir
        self._stderr = tempfile.TemporaryFile(dir=workdir)  # noqa: SIM115 (lives as long as the decoder)
        self._next = 0
        self._last: bytes | None = None
        self._process = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", *args, "pipe:1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, start_new_session=True,
        )

    def frame(self, index: int) -> bytes:
        """Frame `index`; a stream that ends early repeats its last frame (a clip a frame short of its
        scene must not stop the video), and one that gives no frame at all is an error."""
        while self._next <= index:
            data = self._read()
            if data is None:
                if self._last is None:
                    raise JobError(self._failure())
                break
            self._last = data
            self._next += 1
        assert self._last is not None
        return self._last

    def close(self) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self._process.stdout.close()  # type: ignore[union-attr]
        self._process.wait()
        self._stderr.close()

    def _read(self) -> bytes | None:
        stdout = self._process.stdout
        assert stdout is not None
        data = stdout.read(self.frame_bytes)
        return data if len(data) == self.frame_bytes else None

    def _failure(self) -> str:
        self._process.wait()
        self._stderr.seek(0)
        return "could not decode the video: " + summarize_stderr(self._stderr.read().decode("utf-8", "replace"),
                                                                self.workdir)
