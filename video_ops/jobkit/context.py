"""Everything one job owns while it runs: its temp folder, storage, progress and stage timings."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from video_ops.base.errors import JobError
from video_ops.base.settings import env_int, env_str
from video_ops.base.tasks import all_or_nothing
from video_ops.io.fetch import DownloadSlots, SizeCap, fetch_all
from video_ops.io.storage import Storage, StoredObject
from video_ops.jobkit.progress import ProgressReporter
from video_ops.media.encoders import Encoder, current_encoder, gpu_failure
from video_ops.media.ffmpeg import FFmpegError, run_ffmpeg, step_timeout
from video_ops.media.picture import Plan, argv

_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")
DEFAULT_MAX_OUTPUT_BYTES = 20 * 1024**3
log = logging.getLogger(__name__)


def safe_job_id(job_id: str) -> str:
    """The job id as it may appear in a file name."""
    return _SAFE_ID.sub("_", job_id)[:64] or "job"


@dataclass
class JobContext:
    job_id: str
    workdir: Path
    storage: Storage
    progress: ProgressReporter
    encoder: Encoder | None = None  # chosen on first use (`video_encoder`): a job that encodes nothing never waits
    timings: dict[str, float] = field(default_factory=dict)
    download_slots: DownloadSlots = field(default_factory=DownloadSlots.from_env)
    _running: dict[str, tuple[int, float]] = field(default_factory=dict)  # stage -> (uses now, since when)

    @classmethod
    @asynccontextmanager
    async def open(cls, job_id: str, storage: Storage, progress: ProgressReporter) -> AsyncIterator[JobContext]:
        """A fresh temp folder per job, removed however the job ends (cancelled included); owns `storage`."""
        root = env_str("VIDEO_OPS_WORKDIR") or None
        if root:
            Path(root).mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="video-ops-", dir=root))
        try:
            yield cls(job_id=job_id, workdir=workdir, storage=storage, progress=progress)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            storage.close()

    async def video_encoder(self) -> Encoder:
        """The encoder for this job's video steps: the process's choice (its GPU probe runs on a process's first
        use only, before the first job where deployed), or what an earlier step fell back to."""
        if self.encoder is None:
            self.encoder = await asyncio.to_thread(current_encoder)
        return self.encoder

    @property
    def safe_job_id(self) -> str:
        return safe_job_id(self.job_id)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Wall time of a stage, in `timings[<name>_s]`; uses that overlap (downloads running side by
        side) count once, from the first start to the last end."""
        key = f"{name}_s"
        uses, since = self._running.get(key, (0, time.monotonic()))
        self._running[key] = (uses + 1, since)
        try:
            yield
        finally:
            uses, since = self._running.pop(key)
            if uses > 1:
                self._running[key] = (uses - 1, since)
            else:
                self.timings[key] = round(self.timings.get(key, 0.0) + time.monotonic() - since, 3)

    async def download(self, urls: Mapping[str, str], caps: Mapping[str, SizeCap] | None = None) -> dict[str, Path]:
        """Every input by its field; `caps` holds tighter size limits for fields that are never big."""
        self.progress.stage("downloading", files=len(urls))
        return await self.fetch(urls, caps)

    async def fetch(self, urls: Mapping[str, str], caps: Mapping[str, SizeCap] | None = None) -> dict[str, Path]:
        """`download` without the progress report, for operations that report their own (img2vid)."""
        with self.timed("download"):
            return await fetch_all(urls, self.workdir, self.storage.read, self.download_slots, caps)

    async def ffmpeg(
        self, args: Sequence[str], *, step: str, timeout: float, duration: float | None, show_percent: bool = True,
        log_level: str = "error",
    ) -> str:
        """One FFmpeg run; with `show_percent` its percent done shows in the job's progress. Returns the stderr
        lines `run_ffmpeg` keeps: at `log_level="info"` they hold what analysis filters print at the end."""
        if show_percent:
            self.progress.stage("processing", percent=0)
        return await run_ffmpeg(
            args,
            step=step,
            timeout=timeout,
            workdir=self.workdir,
            duration=duration,
            on_progress=(lambda percent: self.progress.percent("processing", percent)) if show_percent else None,
            log_level=log_level,
        )

    async def encode(
        self,
        build: Callable[[Encoder], list[str]],
        *,
        step: str,
        timeout: float,
        duration: float | None,
        show_percent: bool = True,
    ) -> Encoder:
        """An FFmpeg run that encodes video: `build` makes the argv for an encoder; returns the encoder used.

        When the GPU fails the step with a device or session error, the step is redone without it:
        CPU decoding after an NVDEC failure, libx264 after an NVENC one; later steps of this job
        keep to the CPU, and the returned encoder says why. Any other failure is the job's real
        error and is raised as it is.
        """
        while True:
            encoder = await self.video_encoder()
            try:
                await self.ffmpeg(build(encoder), step=step, timeout=timeout, duration=duration,
                                  show_percent=show_percent)
                return encoder
            except FFmpegError as err:
                failure = gpu_failure(encoder, err.returncode, err.stderr)
                if failure is None:  # also once nothing runs on the GPU any more: the loop ends
                    raise
                log.warning("job %s: %s failed on the GPU (%s); redoing it on the CPU",
                            self.job_id, step, failure.reason())
                self.encoder = encoder.without(failure)

    async def write_video(self, plan: Plan, files: Mapping[str, Path], *, step: str) -> Encoder | None:
        """Run a picture-under-new-sound plan: a copied picture is bound by audio work and I/O, an encoded
        one goes through `encode` (GPU fallback included). Returns the encoder, or None when copied."""
        if plan.copies_video:
            await self.ffmpeg(argv(plan, dict(files), await self.video_encoder()), step=step, duration=plan.duration,
                              timeout=step_timeout(plan.duration, 3.0))
            return None
        return await self.encode(lambda encoder: argv(plan, dict(files), encoder), step=step, duration=plan.duration,
                                 timeout=step_timeout(plan.duration, 30.0))

    async def upload(self, files: Sequence[tuple[Path, str]],
                     content_type: str | Mapping[str, str] = "video/mp4") -> list[StoredObject]:
        """Upload all outputs concurrently; if one fails, the ones that landed are removed. `content_type` is
        one for all, or one per file suffix (`{".srt": "application/x-subrip", ...}`)."""
        limit = env_int("VIDEO_OPS_MAX_OUTPUT_BYTES", DEFAULT_MAX_OUTPUT_BYTES)
        for path, key in files:
            size = path.stat().st_size
            if size > limit:
                raise JobError(
                    f"The output {key.rsplit('/', 1)[-1]} is {size} bytes, over the limit of {limit} bytes "
                    "(raise it with VIDEO_OPS_MAX_OUTPUT_BYTES)."
                )
        self.progress.stage("uploading", files=len(files))
        with self.timed("upload"):
            report = self._upload_progress(len(files))
            try:
                return await all_or_nothing(
                    *(self.storage.upload(path, key, content_type if isinstance(content_type, str)
                                          else content_type[path.suffix], report) for path, key in files)
                )
            except BaseException:
                await asyncio.shield(asyncio.gather(*(self.storage.delete(key) for _, key in files)))
                raise

    def _upload_progress(self, count: int):
        def report(percent: float) -> None:
            if count == 1:
                self.progress.percent("uploading", percent)

        return report
