"""concatenate and concat_video_audio with real FFmpeg on generated clips, judged by ffprobe, pixels and sound."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.frames import frames
from tests.helpers import leftover_workdirs, local_output, run_job
from tests.media import decodes_cleanly, ffmpeg, frame_hashes, probe, stream
from video_ops.jobkit import context
from video_ops.media.encoders import forget_probes

RATE = 30
AUDIO_FRAME_S = 1024 / 48000  # one AAC frame
CLICK = "sine=frequency=1000:sample_rate={rate}:duration=0.02,volume=4,apad"  # 20 ms beep, then silence


def make_clip(path: Path, *, size: tuple[int, int], seconds: float, rate: int = RATE, audio: str | None = "48000:1",
              audio_seconds: float | None = None, pix_fmt: str = "yuv420p", rotate: int = 0, late: float = 0,
              source: str = "", preset: str = "ultrafast") -> Path:
    """A clip of a white circle on grey (or a lavfi `source`), with a click at its very start unless `audio` is None
    (`audio` is "sample rate:channels"); `rotate`: rotation metadata; `late`: the picture starts after the sound."""
    if source:
        args = ["-f", "lavfi", "-t", f"{seconds}", "-i", f"{source}=size={size[0]}x{size[1]}:rate={rate}"]
    else:
        image = path.with_suffix(".png")
        picture = Image.new("RGB", size, (40, 40, 40))
        diameter = round(min(size) * 0.6)
        left, top = (size[0] - diameter) // 2, (size[1] - diameter) // 2
        ImageDraw.Draw(picture).ellipse((left, top, left + diameter, top + diameter), fill=(255, 255, 255))
        picture.save(image)
        args = ["-loop", "1", "-framerate", str(rate), "-t", f"{seconds}", "-i", str(image)]
    if audio:
        sample_rate, channels = audio.split(":")
        args += ["-f", "lavfi", "-t", f"{audio_seconds or seconds}", "-i", CLICK.format(rate=sample_rate),
                 "-ac", channels, "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", preset, "-pix_fmt", pix_fmt, "-r", str(rate)]
    if not rotate and not late:
        ffmpeg(*args, str(path))
        return path
    plain = path.with_name(f"plain-{path.name}")
    ffmpeg(*args, str(plain))
    # Both survive only a remux.
    ffmpeg("-itsoffset", f"{late}", "-i", str(plain), "-i", str(plain), "-map", "0:v", "-map", "1:a", "-c", "copy",
           "-metadata:s:v:0", f"rotate={rotate}", str(path))
    return path


@pytest.fixture(scope="module")
def clips(media_dir: Path) -> dict[str, Path]:
    folder = media_dir / "clips"
    folder.mkdir(exist_ok=True)
    return {
        # Three clips a camera could have made one after another: same codec, size, rate, audio, B-frames.
        "same_a": make_clip(folder / "same_a.mp4", size=(320, 180), seconds=1.0, source="testsrc2", preset="veryfast"),
        "same_b": make_clip(folder / "same_b.mp4", size=(320, 180), seconds=0.6, source="smptebars", preset="veryfast"),
        "same_c": make_clip(folder / "same_c.mp4", size=(320, 180), seconds=1.0, source="rgbtestsrc",
                            preset="veryfast"),
        # Everything that trips a naive join.
        "landscape": make_clip(folder / "landscape.mp4", size=(320, 180), seconds=2.0),
        "portrait": make_clip(folder / "portrait.mp4", size=(180, 320), seconds=1.0, audio="44100:2"),
        "fps25": make_clip(folder / "fps25.mp4", size=(320, 180), seconds=1.2, rate=25, audio_seconds=1.5),
        "silent": make_clip(folder / "silent.mp4", size=(320, 180), seconds=1.0, audio=None),
        "tenbit": make_clip(folder / "tenbit.mp4", size=(320, 180), seconds=1.0, pix_fmt="yuv420p10le"),
        "rotated": make_clip(folder / "rotated.mp4", size=(320, 180), seconds=1.0, rotate=90),
        "late": make_clip(folder / "late.mp4", size=(320, 180), seconds=1.0, late=0.1),  # plays 1.1 s
        "narration.mp3": make_narration(folder / "narration.mp3", 4.0),
        "narration.wav": make_narration(folder / "narration.wav", 4.0),
        "cycles.mp3": make_narration(folder / "cycles.mp3", 3.2),
    }


def make_narration(path: Path, seconds: float) -> Path:
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-t", f"{seconds}", str(path))
    return path


@pytest.fixture
def ffmpeg_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every FFmpeg argv the job ran."""
    seen: list[list[str]] = []
    original = context.run_ffmpeg

    async def recording(args, **options):
        seen.append(list(args))
        return await original(args, **options)

    monkeypatch.setattr(context, "run_ffmpeg", recording)
    return seen


def url(media_server: str, name: str) -> str:
    return f"{media_server}/clips/{name}"


def concatenate(media_server: str, names: list[str], **options) -> dict:
    return run_job({"operation": "concatenate", "path": "out", **options,
                    "video_urls": [{"video_url": url(media_server, f"{name}.mp4")} for name in names]})


def frame_count(path: Path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames", "-of", "csv=p=0", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return int(out.strip())


def durations(path: Path) -> tuple[float, float]:
    info = probe(path)
    return float(stream(info, "video")["duration"]), float(stream(info, "audio")["duration"])


def encodes(runs: list[list[str]]) -> int:
    return sum("libx264" in args for args in runs)


def test_matching_clips_are_copied_frame_exact(media_server, clips, ffmpeg_runs, worker_env):
    names = ["same_a", "same_b", "same_c"]
    result = concatenate(media_server, names)

    out = local_output(result)
    assert result["video_stream"] == "copied"
    assert result["message"] == "3 videos concatenated and uploaded to S3 successfully"
    assert result["video_count"] == 3
    assert encodes(ffmpeg_runs) == 0 and all("copy" in args for args in ffmpeg_runs)
    assert frame_hashes(out) == [h for name in names for h in frame_hashes(clips[name])]
    assert frame_count(out) == sum(frame_count(clips[name]) for name in names) == 78
    video_s, audio_s = durations(out)
    assert video_s == pytest.approx(2.6, abs=0.001)
    assert audio_s == pytest.approx(video_s, abs=AUDIO_FRAME_S)
    assert float(stream(probe(out), "video")["start_time"]) == 0
    assert onsets(out) == pytest.approx([0.0, 1.0, 1.6], abs=1 / RATE)
    assert decodes_cleanly(out)
    assert leftover_workdirs(worker_env) == []


MIXED = ["landscape", "portrait", "fps25", "silent", "tenbit", "late", "rotated"]
MIXED_SECONDS = [2.0, 1.0, 1.2, 1.0, 1.0, 1.1, 1.0]


@pytest.fixture(scope="module")
def mixed(media_server, clips, tmp_path_factory) -> tuple[dict, Path]:
    """One job that several tests judge: it runs once, with the settings `worker_env` gives each test."""
    root = tmp_path_factory.mktemp("mixed")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"VIDEO_OPS_ENCODER": "x264", "VIDEO_OPS_DECODER": "cpu",
                            "VIDEO_OPS_WORKDIR": str(root / "work"), "VIDEO_OPS_OUTPUT_DIR": str(root / "output"),
                            "RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS": "true"}.items():
            patch.setenv(name, value)
        forget_probes()
        result = concatenate(media_server, MIXED)
    assert leftover_workdirs(root / "work") == []
    return result, local_output(result)


def test_mixed_clips_are_brought_to_the_first_clips_frame(mixed):
    result, out = mixed
    assert result["video_stream"] == "re-encoded" and result["encoder"] == "libx264"
    video = stream(probe(out), "video")
    assert (video["width"], video["height"], video["pix_fmt"]) == (320, 180, "yuv420p")
    assert video["r_frame_rate"] == "30/1" and video.get("sample_aspect_ratio", "1:1") == "1:1"
    assert abs(frame_count(out) - round(sum(MIXED_SECONDS) * RATE)) <= 1
    assert decodes_cleanly(out)


def starts() -> list[int]:
    """First frame of each clip in the output."""
    edges = [0]
    for seconds in MIXED_SECONDS:
        edges.append(edges[-1] + round(seconds * RATE))
    return edges[:-1]


def circle_box(frame: Image.Image) -> tuple[int, int]:
    """Width and height of the bright disc."""
    left, top, right, bottom = frame.point(lambda v: 255 if v > 160 else 0).getbbox()
    return right - left, bottom - top


def test_no_clip_is_stretched_and_rotation_is_honoured(mixed):
    _, out = mixed
    decoded = frames(out)
    for clip in ("landscape", "portrait", "silent", "rotated"):
        frame = decoded[starts()[MIXED.index(clip)] + 10]
        width, height = circle_box(frame)
        assert abs(width - height) <= 2, (clip, width, height)
    for clip in ("portrait", "rotated"):  # upright and pillarboxed: black bars left and right of the grey picture
        frame = decoded[starts()[MIXED.index(clip)] + 10]
        assert frame.crop((0, 0, 100, 180)).getextrema()[1] < 20, clip
        assert frame.getpixel((120, 10)) > 30, clip


def onsets(path: Path) -> list[float]:
    """Times (s) where a click starts in the output's sound."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-ac", "1",
                          "-ar", "48000", "-f", "s16le", "-"], check=True, capture_output=True).stdout
    samples = memoryview(raw).cast("h")
    found, last_loud = [], -48000
    for index, value in enumerate(samples):
        if abs(value) > 3000:
            if index - last_loud > 4800:
                found.append(index / 48000)
            last_loud = index
    return found


def test_sound_stays_in_sync_at_every_join(mixed):
    _, out = mixed
    video_s, audio_s = durations(out)
    assert audio_s == pytest.approx(video_s, abs=AUDIO_FRAME_S)
    expected = [start / RATE for clip, start in zip(MIXED, starts(), strict=True) if clip != "silent"]
    heard = onsets(out)
    assert len(heard) == len(expected), heard
    for want, got in zip(expected, heard, strict=True):
        assert got == pytest.approx(want, abs=1 / RATE), heard


def test_cover_fills_the_frame_and_the_size_is_chosen(media_server, clips):
    result = concatenate(media_server, ["landscape", "portrait"], width=128, height=128, fit="cover", frame_rate=25)
    out = local_output(result)
    video = stream(probe(out), "video")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (128, 128, "25/1")
    assert frame_count(out) == 75
    portrait = frames(out)[60]
    assert portrait.getpixel((2, 64)) > 30  # no bars: the grey picture reaches the edges


def cycle_job(media_server: str, narration: str, audio_field: str = "audio_url", **options) -> dict:
    return run_job({"operation": "concat_video_audio", "path": "out", audio_field: url(media_server, narration),
                    "video_urls": [url(media_server, "same_a.mp4"), url(media_server, "same_b.mp4")], **options})


def check_cycle(result: dict, out: Path) -> None:
    """1.0 s + 0.6 s clips under 4.0 s of narration: a, b, a, b, then 0.8 s of a."""
    assert result["total_segments"] == 5 and result["full_cycles"] == 2 and result["partial_cycle"] is True
    assert result["message"] == ("Cyclic concatenation complete: 2 full cycles + 1 partial, 5 segments, "
                                 f"sync precision: {result['duration_diff_ms']}ms")
    assert frame_count(out) == 120
    video_s, audio_s = durations(out)
    assert video_s == pytest.approx(4.0, abs=0.001)
    assert audio_s == pytest.approx(4.0, abs=0.03)
    assert result["duration_diff_ms"] < 1000 / RATE
    assert result["video_duration"] == pytest.approx(4.0, abs=0.001)
    assert decodes_cleanly(out)


def test_clips_cycle_under_mp3_narration(media_server, clips, ffmpeg_runs, worker_env):
    result = cycle_job(media_server, "narration.mp3", width=320, height=180, frame_rate=30)

    out = local_output(result)
    check_cycle(result, out)
    assert result["video_stream"] == "re-encoded"
    assert result["reencode_reason"] == "video_urls[0]: the narration ends inside it, and a cut clip is encoded."
    assert stream(probe(out), "audio")["codec_name"] == "mp3"  # carried as it is
    assert encodes(ffmpeg_runs) == 3  # a and b once each, however often they repeat, and the cut a
    assert leftover_workdirs(worker_env) == []


def test_clips_cycle_under_wav_narration(media_server, clips):
    result = cycle_job(media_server, "narration.wav", "url_audio", width=256, height=144)

    out = local_output(result)
    check_cycle(result, out)
    assert (result["width"], result["height"]) == (256, 144)
    assert stream(probe(out), "audio")["codec_name"] == "aac"


def test_whole_cycles_of_matching_clips_are_copied(media_server, clips, ffmpeg_runs):
    result = cycle_job(media_server, "cycles.mp3", width=320, height=180)

    out = local_output(result)
    assert result["video_stream"] == "copied" and encodes(ffmpeg_runs) == 0 and "reencode_reason" not in result
    assert (result["total_segments"], result["full_cycles"], result["partial_cycle"]) == (4, 2, False)
    assert result["message"].startswith("Cyclic concatenation complete: 2 full cycles, 4 segments, sync precision: ")
    assert frame_count(out) == 96
    assert frame_hashes(out) == 2 * (frame_hashes(clips["same_a"]) + frame_hashes(clips["same_b"]))


def test_a_cycle_of_too_many_segments_is_refused_before_any_encoding(media_server, clips, ffmpeg_runs, worker_env,
                                                                     monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_MAX_SEGMENTS", "4")  # the narration needs 5
    result = cycle_job(media_server, "narration.mp3", width=320, height=180)
    assert result == {"error": "audio_url: the narration's 4.000 s take more than 4 segments of these clips; use "
                               "longer clips, a shorter narration, or raise VIDEO_OPS_MAX_SEGMENTS."}
    assert encodes(ffmpeg_runs) == 0
    assert leftover_workdirs(worker_env) == []
    assert not (worker_env.parent / "output").exists()


def test_normalize_false_refuses_mismatched_clips(media_server, clips, worker_env):
    result = run_job({"operation": "concat_video_audio", "path": "out", "normalize": False,
                      "url_audio": url(media_server, "narration.mp3"),
                      "video_urls": [url(media_server, "landscape.mp4"), url(media_server, "portrait.mp4")]})
    assert result == {"error": "video_urls[1]: its size is 180x320, not 320x180 as in the first clip; with normalize "
                               "false the clips must already match (set normalize to true to bring them to one "
                               "size and frame rate)."}
    assert leftover_workdirs(worker_env) == []
    assert not (worker_env.parent / "output").exists()
