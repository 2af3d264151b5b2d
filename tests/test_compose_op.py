"""compose: the ten worked examples of docs/compose.md run as written, the sandbox's bounds hold (bytes,
time, where FFmpeg reads and writes), outputs reach the bucket with their metadata, and encoders are chosen
as in every operation."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.helpers import REPO, leftover_workdirs, local_output, run_job, stored_keys
from tests.media import packet_hashes, probe, stream, stream_duration
from video_ops.media.encoders import NVENC, X264, Encoder
from video_ops.media.ffmpeg_options import DEMUXERS
from video_ops.media.filter_policy import RULES
from video_ops.ops import compose

EXAMPLES = re.findall(r"^### (\d+)\. (.+?)\n.*?```json\n(.*?)```", (REPO / "docs" / "compose.md").read_text(),
                      re.DOTALL | re.MULTILINE)
assert len(EXAMPLES) == 10


@pytest.fixture(scope="module")
def compose_media(media_dir: Path) -> Path:
    Image.new("RGB", (40, 40), (230, 20, 20)).save(media_dir / "logo.png")
    shutil.copyfile(media_dir / "silent.mp4", media_dir / "clip.mp4")
    (media_dir / "hello.srt").write_text("1\n00:00:00,000 --> 00:00:02,000\nHELLO HELLO\n")
    return media_dir


def job(text: str, server: str) -> dict[str, Any]:
    return json.loads(text.replace("https://example.com", server))


def frame(path: Path, at: float) -> Image.Image:
    """The picture shown at `at` seconds, as RGB."""
    info = stream(probe(path), "video")
    assert info is not None
    size = (int(info["width"]), int(info["height"]))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return Image.frombytes("RGB", size, raw)


def check_example(number: int, output: Path, media: Path) -> None:
    """What each example promises, read back from its output."""
    video = stream(probe(output), "video")
    assert video is not None
    size = (video["width"], video["height"])
    seconds = stream_duration(output, "video")
    expected = {1: (2.0, (320, 240)), 2: (2.0, (320, 240)), 3: (1.0, (320, 240)), 4: (2.0, (640, 240)),
                5: (1.5, (320, 540)), 6: (2.0, (320, 240)), 7: (2.0, (320, 240)), 8: (4.0, (320, 240)),
                9: (2.0, (320, 240)), 10: (3.5, (320, 240))}[number]
    assert seconds == pytest.approx(expected[0], abs=0.1)
    assert size == expected[1]
    if number in (3, 8, 10):
        assert stream_duration(output, "audio") == pytest.approx(expected[0], abs=0.1)
    if number == 1:
        red, green, _ = frame(output, 1.0).getpixel((270, 50))
        assert red > 180 and green < 80  # the logo, top right
    if number == 6:
        assert packet_hashes(output) == packet_hashes(media / "video.mp4")  # the picture copied
    if number == 9:
        first, last = frame(output, 0.0), frame(media / "video.mp4", 1.96)
        assert sum(abs(a - b) for a, b in zip(first.tobytes(), last.tobytes(), strict=True)) / len(first.tobytes()) < 6
    if number == 10:
        assert max(frame(output, 0.7).getextrema()[0]) > 200  # white words on black
        assert frame(output, 0.2).getpixel((5, 5)) < (20, 20, 20)


@pytest.mark.parametrize(("number", "title", "text"), EXAMPLES, ids=[title for _, title, _ in EXAMPLES])
def test_the_worked_example_runs_as_documented(number: str, title: str, text: str, compose_media, media_server,
                                              worker_env) -> None:
    result = run_job(job(text, media_server))
    check_example(int(number), local_output(result), compose_media)
    assert result["encoder"] == ("copy" if number == "6" else "libx264")
    assert leftover_workdirs(worker_env) == []


def test_the_docs_list_every_allowed_filter() -> None:
    listed = (REPO / "docs" / "compose.md").read_text()
    assert [name for name in RULES if f"`{name}`" not in listed] == []


def test_outputs_reach_the_bucket_with_their_metadata(compose_media, media_server, bucket) -> None:
    result = run_job({
        "operation": "compose", "path": "out", "metadata": True,
        "inputs": [{"url": f"{media_server}/video.mp4", "options": {"ss": "0.5", "t": 1}}],
        "filter_complex": "[0:v]split[a][b];[b]scale=160:-2[small];[0:a]asplit[s1][s2]",
        "outputs": [{"filename": "big.mp4", "maps": ["[a]", "[s1]"], "options": {"c:v": "hevc", "crf": 30}},
                    {"filename": "small.webm", "maps": ["[small]", "[s2]"]},
                    {"filename": "sound.m4a", "maps": ["0:a"], "options": {"b:a": "96k"}}]})
    assert sorted(stored_keys(bucket)) == ["out/big.mp4", "out/small.webm", "out/sound.m4a"]
    big, small, sound = result["outputs"]
    assert (result["filename"], result["s3_key"], result["encoder"]) == ("big.mp4", "out/big.mp4", "libx265")
    assert big["metadata"]["streams"][0]["codec"] == "hevc" and big["duration"] == pytest.approx(1.0, abs=0.05)
    assert (small["encoder"], small["width"], small["height"]) == ("libvpx-vp9", 160, 120)
    assert [s["codec"] for s in small["metadata"]["streams"]] == ["vp9", "opus"]
    assert "encoder" not in sound and [s["codec"] for s in sound["metadata"]["streams"]] == ["aac"]
    assert sound["metadata"]["bit_rate"] < 130_000


def test_ffmpeg_reads_only_the_downloads_and_writes_only_the_job_folder(compose_media, media_server, ffmpeg_runs,
                                                                      worker_env) -> None:
    result = run_job({"operation": "compose", "path": "out",
                      "inputs": [{"url": f"{media_server}/video.mp4"}, {"url": f"{media_server}/logo.png"}],
                      "filter_complex": "[0:v][1:v]overlay[v]",
                      "outputs": [{"filename": "a.mp4", "maps": ["[v]"]}]})
    assert result["success"]
    argv, = ffmpeg_runs
    files = [argv[n + 1] for n, arg in enumerate(argv) if arg == "-i"]
    assert all(argv[n - 4:n] == ["-protocol_whitelist", "file,pipe", "-format_whitelist", ",".join(DEMUXERS)]
               for n, arg in enumerate(argv) if arg == "-i")
    written = argv[-1]
    assert all(path.startswith(f"file:{worker_env}/") for path in [*files, written])
    assert argv[argv.index("-fs") + 1] == str(compose.DEFAULT_MAX_BYTES)
    assert "-threads" not in argv  # FFmpeg's own choice, from the cores the worker may use


def test_outputs_over_the_byte_cap_are_refused(compose_media, media_server, bucket, monkeypatch, worker_env) -> None:
    monkeypatch.setenv("VIDEO_OPS_COMPOSE_MAX_BYTES", "20000")
    result = run_job({"operation": "compose", "path": "out", "inputs": [{"url": f"{media_server}/video.mp4"}],
                      "outputs": [{"filename": "a.mp4", "options": {"c:v": "libx264", "crf": 0}}]})
    assert result == {"error": "outputs: the outputs reached VIDEO_OPS_COMPOSE_MAX_BYTES (20000 bytes) and were "
                               "stopped; raise the setting or write less."}
    assert stored_keys(bucket) == [] and leftover_workdirs(worker_env) == []


def test_an_endless_graph_is_stopped_at_the_step_limit(compose_media, media_server, monkeypatch, worker_env) -> None:
    monkeypatch.setattr(compose, "step_timeout", lambda seconds, budget: 1.5)
    result = run_job({"operation": "compose", "path": "out",
                      "inputs": [{"url": f"{media_server}/video.mp4", "options": {"stream_loop": -1}}],
                      "outputs": [{"filename": "a.mp4", "maps": ["0:v"]}]})
    assert result == {"error": "Running the filter graph took longer than 2 s and was stopped."}
    assert leftover_workdirs(worker_env) == []


def test_subtitles_are_drawn_from_the_job_s_own_file(compose_media, media_server) -> None:
    def picture(graph: str) -> Image.Image:
        result = run_job({"operation": "compose", "path": "out",
                          "inputs": [{"url": f"{media_server}/video.mp4"}, {"url": f"{media_server}/hello.srt"}],
                          "filter_complex": graph, "outputs": [{"filename": "s.mp4", "maps": ["[v]"]}]})
        return frame(local_output(result), 1.0).crop((0, 180, 320, 240))

    plain, captioned = picture("[0:v]null[v]"), picture("[0:v]subtitles=1:force_style='Fontsize=30'[v]")
    changed = sum(abs(a - b) > 60 for a, b in zip(plain.tobytes(), captioned.tobytes(), strict=True))
    assert changed > 500  # the words, across the bottom


def test_a_playlist_naming_another_file_is_not_read(compose_media, media_server, worker_env) -> None:
    """An HLS playlist (served as .mp4) naming a file elsewhere on the worker, another job's output say."""
    (compose_media / "playlist.mp4").write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n"
                                                f"{compose_media / 'video.mp4'}\n#EXT-X-ENDLIST\n")
    result = run_job({"operation": "compose", "path": "out", "inputs": [{"url": f"{media_server}/playlist.mp4"}],
                      "outputs": [{"filename": "a.mp4"}]})
    assert result == {"error": "inputs[0].url: the file is an HLS playlist, which names other files to read; "
                               "send the media file itself."}
    assert leftover_workdirs(worker_env) == []


@pytest.mark.parametrize(("options", "muxer", "encoder", "expected"), [
    ({"c:v": "h264"}, "mp4", Encoder(NVENC), ["-c:v", "h264_nvenc", "-cq", "23"]),
    ({"c:v": "hevc", "crf": "28"}, "mkv", Encoder(NVENC), ["-c:v", "hevc_nvenc", "-cq", "28"]),
    ({}, "mp4", Encoder(X264), ["-c:v", "libx264", "-crf", "21", "-c:a", "aac"]),
    ({"c:v": "libx264", "crf": "18"}, "mp4", Encoder(NVENC), ["-c:v", "libx264", "-c:a", "aac"]),
    ({"vn": None}, "mp4", Encoder(NVENC), ["-c:a", "aac"]),
])
def test_h264_and_hevc_are_the_worker_s_encoder_unless_one_is_named(options, muxer, encoder, expected) -> None:
    args = compose.output_codec_args(options, {"mkv": "matroska"}.get(muxer, muxer), encoder)
    assert all(" ".join(expected[n:n + 2]) in " ".join(args) for n in range(0, len(expected), 2)), args
    assert ("-crf" in args) == ("-crf" in expected)


def test_a_phone_video_under_a_logo_at_every_default_plays_upright_with_its_sound(compose_media, phone_clip,
                                                                                 media_server) -> None:
    """The input users send most: a phone's clip (turned by metadata, variable rate, B-frames, sound starting
    after the picture) under a logo, with no output option given."""
    result = run_job({"operation": "compose", "path": "out",
                      "inputs": [{"url": f"{media_server}/{phone_clip.name}"}, {"url": f"{media_server}/logo.png"}],
                      "filter_complex": "[0:v][1:v]overlay=W-w-8:8[v]",
                      "outputs": [{"filename": "phone.mp4", "maps": ["[v]", "0:a"]}]})
    output = local_output(result)
    video, sound = stream(probe(output), "video"), stream(probe(output), "audio")
    assert video is not None and sound is not None
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 240, 320)  # upright, as players show it
    assert stream_duration(output, "video") == pytest.approx(stream_duration(phone_clip, "video"), abs=0.05)
    red, green, _ = frame(output, 0.5).getpixel((240 - 8 - 20, 8 + 20))
    assert red > 180 and green < 80  # the logo, top right of the upright picture
