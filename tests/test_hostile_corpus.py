"""Every job of the hostile corpus fails with its exact error; the worker then still does a good job."""

from __future__ import annotations

import json
import shutil
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.helpers import REPO, leftover_workdirs, run_job
from tests.hostile_jobs import CORPUS, Hostile, addaudio
from tests.media import make_video, zero_length_mp4
from video_ops.ops import OPERATIONS

assert len(CORPUS) >= 60
RECORDINGS = REPO / "tests" / "recordings"
RAN: set[str] = set()  # the rows this process has already sent to the worker


def bomb_png(path: Path, side: int = 60000) -> None:
    """A 60000x60000 PNG of a few hundred KB: decoding it would need gigabytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" + bytes(side // 8)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def hostile_media(media_dir: Path) -> Path:
    Image.new("RGB", (32, 18), (200, 30, 30)).save(media_dir / "tiny.png")
    Image.new("RGB", (64, 36), (20, 130, 30)).save(media_dir / "photo.jpg", quality=90)
    jpeg = (media_dir / "photo.jpg").read_bytes()
    (media_dir / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (media_dir / "empty.mp4").write_bytes(b"")
    with wave.open(str(media_dir / "zero.wav"), "wb") as silence:  # a valid WAV of 0 samples
        silence.setnchannels(1), silence.setsampwidth(2), silence.setframerate(48000)
    whole = (media_dir / "video.mp4").read_bytes()
    (media_dir / "truncated.mp4").write_bytes(whole[: len(whole) // 3])
    bomb_png(media_dir / "bomb.png")
    for name in ("mjpeg-undecodable.mov", "hevc-no-parameter-sets.ts"):  # tests/recordings/README.md
        shutil.copyfile(RECORDINGS / name, media_dir / name)
    # Lists naming a file elsewhere on the worker (another job's output, say), served under media names.
    elsewhere = media_dir / "video.mp4"
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{elsewhere}\n"
    (media_dir / "playlist.mp4").write_text(playlist + "#EXT-X-ENDLIST\n")
    (media_dir / "playlist.mp3").write_text(playlist)
    (media_dir / "list.mp4").write_text(f"ffconcat version 1.0\nfile '{elsewhere}'\n")
    (media_dir / "metadata.mp4").write_text(";FFMETADATA1\ntitle=not a picture\n")  # read by ffmetadata
    (media_dir / "manifest.mp4").write_text(
        '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" minBufferTime="PT1S" '
        'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" mediaPresentationDuration="PT2S"><Period>'
        f'<AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000"><BaseURL>{elsewhere}</BaseURL>'
        '</Representation></AdaptationSet></Period></MPD>\n')
    (media_dir / "cues.srt").write_text("1\n00:00:00,500 --> 00:00:01,500\nHello\n")
    (media_dir / "empty.srt").write_text("")
    (media_dir / "garbage.srt").write_bytes(whole[:3000])
    (media_dir / "notimes.srt").write_text("1\nHello there\n\n2\nnothing\n")
    (media_dir / "badtimes.srt").write_text("1\n00:00:01,000 -->\nHello\n")
    zero_length_mp4(media_dir / "zero.mp4")
    make_video(media_dir / "minute.mp4", seconds=61.0, size="32x18", rate=1, audio=False)  # past a GIF's 60 s
    (media_dir / "nowords.json").write_text('{"words": []}')
    (media_dir / "backwards.json").write_text('{"words": [{"word": "hi", "start": 1.5, "end": 0.5}]}')
    (media_dir / "negative.json").write_text('{"words": [{"word": "hi", "start": -2, "end": 0.5}]}')
    (media_dir / "nan.json").write_text('{"segments": [{"words": [{"word": "hi", "start": 0, "end": NaN}]}]}')
    (media_dir / "transcript.json").write_text('{"text": "hi there", "language": "en"}')
    with (media_dir / "huge.json").open("wb") as huge:  # 200 MB, sparse on disk
        huge.write(b'{"words": [')
        huge.truncate(200 * 1024 * 1024)
    with (media_dir / "huge.srt").open("wb") as huge:  # 200 MB, sparse on disk
        huge.write(b"1\n00:00:00,000 --> 00:00:01,000\n")
        huge.truncate(200 * 1024 * 1024)
    return media_dir


def fill(value: Any, server: str) -> Any:
    """Put the media server's URL where the corpus says `{server}`, the operations for `{operations}`."""
    text = json.dumps(value).replace("{server}", server).replace("{operations}", ", ".join(sorted(OPERATIONS)))
    return json.loads(text)


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_hostile_job_fails_clearly(case: Hostile, media_server, hostile_media, worker_env, monkeypatch):
    if case.guarded:
        monkeypatch.delenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS")
    result = run_job(fill(case.input, media_server), **case.request)
    expected = fill(case.error, media_server)
    assert set(result) == {"error"}
    if case.prefix:
        assert result["error"].startswith(expected), result["error"]
    else:
        assert result["error"] == expected
    assert leftover_workdirs(worker_env) == []
    RAN.add(case.name)


def test_the_worker_still_serves_after_the_corpus(media_server, hostile_media, worker_env):
    """After every row (those the test above did not run in this process are sent now), a good job still works."""
    for case in CORPUS:
        if case.name not in RAN:
            run_job(fill(case.input, media_server), **case.request)
    result = run_job(fill(addaudio(), media_server))
    assert result["success"] is True
    assert leftover_workdirs(worker_env) == []
