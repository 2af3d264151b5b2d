"""probe: a file described as ffprobe reads it (and as generated), from one ffprobe run and nothing uploaded;
HDR metadata from a libx265 PQ clip's SEI, chapters and languages from files made with ffmetadata, the
loudness of a -23 LUFS tone, keyframe times."""

from __future__ import annotations

import asyncio
import json
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_job, stored_keys
from tests.media import ffmpeg, probe
from video_ops.io import storage
from video_ops.media import hdr

CHAPTERS = ";FFMETADATA1\ntitle=Probe test\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Opening\n" \
           "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Ending\n"
MASTERING = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)"
MINUS_23_DBFS = 10 ** (-23 / 20)  # a 1 kHz sine of this peak in both channels reads -23 LUFS (EBU Tech 3341)


@pytest.fixture(scope="module")
def probe_media(media_dir: Path) -> Path:
    """A video with two tagged sound tracks and chapters, as MP4 and Matroska; an HDR10 clip; a -23 LUFS tone."""
    folder = media_dir / "probe"
    folder.mkdir(exist_ok=True)
    (folder / "chapters.txt").write_text(CHAPTERS)
    for suffix in ("mp4", "mkv"):
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30000/1001", "-f", "lavfi", "-i",
               "sine=frequency=440:sample_rate=48000", "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100",
               "-i", str(folder / "chapters.txt"), "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map_metadata", "3",
               "-map_chapters", "3", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               "-c:a", "aac", "-ac:a:0", "2", "-ac:a:1", "1", "-metadata:s:a:0", "language=por",
               "-metadata:s:a:0", "title=Narração", "-metadata:s:a:1", "language=eng", str(folder / f"tagged.{suffix}"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "3", "-c:v", "libx265", "-pix_fmt",
           "yuv420p10le", "-x265-params", f"log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:"
           f"master-display={MASTERING}:max-cll=1000,400", "-color_primaries", "bt2020", "-color_trc", "smpte2084",
           "-colorspace", "bt2020nc", str(folder / "hdr10.mp4"))
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc={MINUS_23_DBFS:.7f}*sin(2*PI*1000*t):s=48000:c=stereo", "-t", "4",
           "-c:a", "pcm_s16le", str(folder / "minus23.wav"))
    return folder


def probe_job(server: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"operation": "probe", "url": f"{server}/{name}", **fields}


def reduced(text: str) -> str:
    value = Fraction(text)
    return f"{value.numerator}/{value.denominator}"


@pytest.fixture
def programs_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The programs the job starts (ffprobe, ffmpeg), in order."""
    started: list[str] = []
    original = asyncio.create_subprocess_exec

    async def counted(program: str, *args: Any, **kwargs: Any) -> Any:
        started.append(program)
        return await original(program, *args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", counted)
    return started


@pytest.mark.parametrize("suffix", ["mp4", "mkv"])
def test_probe_describes_what_ffprobe_reads_from_one_run(suffix, probe_media, media_server, bucket, programs_run):
    name = f"probe/tagged.{suffix}"
    result = run_job(probe_job(media_server, name))

    assert result["success"] is True, result
    assert programs_run == ["ffprobe"]  # no decode check, no GPU probe, nothing else
    assert stored_keys(bucket) == []
    truth = probe(probe_media / f"tagged.{suffix}")
    fmt = truth["format"]
    assert result["format_name"] == fmt["format_name"]
    assert result["container"] == {"mp4": "MP4", "mkv": "Matroska/WebM"}[suffix]
    assert result["duration"] == pytest.approx(float(fmt["duration"]))
    assert (result["size_bytes"], result["bit_rate"]) == (int(fmt["size"]), int(fmt["bit_rate"]))
    assert result["tags"]["title"] == "Probe test"
    assert [s["codec"] for s in result["streams"]] == [s["codec_name"] for s in truth["streams"]]  # MP4: + chapters
    video, first, second = result["streams"][:3]
    raw_video = truth["streams"][0]
    assert (video["type"], video["codec"], video["profile"]) == ("video", "h264", raw_video["profile"])
    assert (video["width"], video["height"], video["pix_fmt"]) == (320, 240, "yuv420p")
    assert video["frame_rate"] == reduced(raw_video["avg_frame_rate"]) == "30000/1001"
    assert (video["rotation"], video["display_width"], video["display_height"]) == (0, 320, 240)
    assert video["hdr"] is None and video["bit_depth"] == 8
    assert (first["codec"], first["sample_rate"], first["channels"]) == ("aac", 48000, 2)
    assert (first["language"], first["title"]) == ("por", truth["streams"][1]["tags"].get("title"))
    assert first["title"] == ("Narração" if suffix == "mkv" else None)  # FFmpeg's MP4 muxer drops track titles
    assert (second["sample_rate"], second["channels"], second["language"]) == (44100, 1, "eng")
    assert [(c["start"], c["end"], c["title"]) for c in result["chapters"]] == [(0.0, 1.5, "Opening"),
                                                                                  (1.5, 3.0, "Ending")]


def test_a_phone_clip_reads_rotated_with_its_rate_as_a_fraction_and_its_keyframes(phone_clip, media_server):
    result = run_job(probe_job(media_server, phone_clip.name, keyframes=True))

    assert result["success"] is True, result
    video = result["streams"][0]
    raw = probe(phone_clip)["streams"][0]
    assert video["rotation"] == raw["side_data_list"][0]["rotation"] % 360 == 90
    assert (video["width"], video["height"], video["display_width"], video["display_height"]) == (320, 240, 240, 320)
    assert video["frame_rate"] == reduced(raw["avg_frame_rate"]) and video["r_frame_rate"] == "50/1"  # variable
    listing = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                              "packet=pts_time,flags", "-of", "csv=p=0", str(phone_clip)],
                             check=True, capture_output=True, text=True).stdout
    keys = sorted(float(line.split(",")[0]) for line in listing.split() if "K" in line.split(",")[1])
    assert result["keyframes"] == keys == [0.0, 0.48, 0.88, 1.12]


def test_hdr10_metadata_is_read_from_the_bitstream(probe_media, media_server):
    result = run_job(probe_job(media_server, "probe/hdr10.mp4"))

    assert result["success"] is True, result
    video = result["streams"][0]
    assert (video["codec"], video["profile"], video["pix_fmt"], video["bit_depth"]) == (
        "hevc", "Main 10", "yuv420p10le", 10)
    assert video["color"] == {"range": "tv", "space": "bt2020nc", "transfer": "smpte2084", "primaries": "bt2020"}
    frames = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_frames", "-read_intervals", "%+#1", "-of", "json",
         str(probe_media / "hdr10.mp4")], check=True, capture_output=True, text=True).stdout)["frames"]
    decoded = hdr.from_side_data(frames[0]["side_data_list"])  # what FFmpeg's decoder attaches to the frame
    assert video["hdr"] == {"format": "PQ", "transfer": "smpte2084", **decoded}
    assert video["hdr"]["mastering_display"] == {
        "red": [0.68, 0.32], "green": [0.265, 0.69], "blue": [0.15, 0.06], "white_point": [0.3127, 0.329],
        "min_luminance": 0.005, "max_luminance": 1000.0}
    assert video["hdr"]["content_light_level"] == {"max_cll": 1000, "max_fall": 400}


def test_the_loudness_of_a_minus_23_lufs_tone(probe_media, media_server):
    result = run_job(probe_job(media_server, "probe/minus23.wav", loudness=True))

    assert result["success"] is True, result
    measured = result["loudness"]
    assert measured["stream"] == 0
    assert measured["integrated_lufs"] == pytest.approx(-23.0, abs=0.5)
    assert measured["true_peak_dbtp"] == pytest.approx(-23.0, abs=0.5)
    assert measured["range_lu"] == pytest.approx(0.0, abs=0.5)


def test_passes_asked_of_a_missing_stream_say_so(media_server):
    result = run_job(probe_job(media_server, "silent.mp4", loudness=True))
    assert (result["loudness"], result["warnings"]) == (
        None, ["loudness: the file has no audio stream, so it has no loudness."])
    result = run_job(probe_job(media_server, "tone.mp3", keyframes=True))
    assert (result["keyframes"], result["warnings"]) == (
        None, ["keyframes: the file has no video stream, so it has no keyframes."])


def test_a_deployed_worker_without_a_bucket_still_probes(media_server, monkeypatch):
    """Nothing is stored, so the bucket a deployed worker needs for other operations is not asked for."""
    monkeypatch.setattr(storage, "is_deployed", lambda: True)
    result = run_job(probe_job(media_server, "video.mp4"))
    assert result["success"] is True, result
    assert run_job({"operation": "trim", "url_video": f"{media_server}/video.mp4"})["error"].startswith(
        "No bucket is configured")
