"""addaudio with real FFmpeg on generated media, checked by ffprobe."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import leftover_workdirs, local_output, run_job
from tests.media import decodes_cleanly, make_audio, make_video, packet_hashes, probe, stream, stream_duration

FRAME = 1 / 25


@pytest.fixture(scope="module")
def inputs(media_dir: Path) -> dict[str, Path]:
    """Videos and audio tracks of several kinds, next to the served media."""
    made = {
        "short_mp3": make_audio(media_dir / "short.mp3", seconds=1.0, frequency=600),
        "long_mp3": make_audio(media_dir / "long.mp3", seconds=3.5, frequency=700),
        "wav": make_audio(media_dir / "tone.wav", seconds=1.5, frequency=500),
        "m4a": make_audio(media_dir / "tone.m4a", seconds=2.5, frequency=550, codec=["-c:a", "aac"]),
        "hevc": make_video(media_dir / "hevc.mp4", seconds=2.0, codec=["-c:v", "libx265", "-preset", "ultrafast",
                                                                        "-pix_fmt", "yuv420p", "-x265-params",
                                                                        "log-level=error"]),
        "mpeg4": make_video(media_dir / "old.avi", seconds=2.0, size="321x241", codec=["-c:v", "mpeg4"],
                            audio=False),
    }
    return made


def job(media_server: str, video: str, audio: str, **options) -> dict:
    return {
        "operation": "addaudio",
        "url_video": f"{media_server}/{video}",
        "url_audio": f"{media_server}/{audio}",
        "path": "videos/output",
        **options,
    }


@pytest.mark.parametrize("mode", ["replace", "mix"])
@pytest.mark.parametrize(
    ("audio", "fit"),
    [
        ("short.mp3", "video"),  # shorter audio is padded with silence
        ("long.mp3", "video"),  # longer audio is cut
        ("short.mp3", "shortest"),
        ("long.mp3", "shortest"),
        ("long.mp3", "audio"),  # the picture is slowed down to last as long as the audio
        ("short.mp3", "audio"),  # ... or sped up
    ],
)
def test_output_lasts_as_the_fit_says(media_server, media_dir, inputs, worker_env, mode, audio, fit):
    video_s = stream_duration(media_dir / "video.mp4", "video")
    audio_s = stream_duration(media_dir / audio, "audio")
    expected = {"video": video_s, "audio": audio_s, "shortest": min(video_s, audio_s)}[fit]
    frame = FRAME * (audio_s / video_s if fit == "audio" else 1.0)  # a retimed picture has longer frames

    result = run_job(job(media_server, "video.mp4", audio, mode=mode, fit=fit))

    out = local_output(result)
    assert stream_duration(out, "audio") == pytest.approx(expected, abs=0.03)
    assert stream_duration(out, "video") == pytest.approx(expected, abs=frame + 0.001)
    assert result["duration"] == pytest.approx(expected, abs=frame + 0.001)
    info = probe(out)
    assert stream(info, "audio")["codec_name"] == "aac"
    assert (result["width"], result["height"]) == (320, 240)
    assert result["size_bytes"] == out.stat().st_size
    assert decodes_cleanly(out)
    assert leftover_workdirs(worker_env) == []


def test_video_stream_is_copied_not_reencoded(media_server, inputs, media_dir):
    result = run_job(job(media_server, "video.mp4", "tone.wav"))
    out = local_output(result)
    assert result["video_stream"] == "copied"
    assert packet_hashes(out) == packet_hashes(media_dir / "video.mp4")
    assert stream_duration(out, "audio") == pytest.approx(2.0, abs=0.05)


def test_hevc_is_copied_with_a_player_friendly_tag(media_server, inputs, media_dir):
    out = local_output(run_job(job(media_server, "hevc.mp4", "tone.m4a")))
    video = stream(probe(out), "video")
    assert (video["codec_name"], video["codec_tag_string"]) == ("hevc", "hvc1")
    assert packet_hashes(out) == packet_hashes(media_dir / "hevc.mp4")


def test_other_codecs_are_reencoded_to_h264_yuv420p_even_size(media_server, inputs):
    result = run_job(job(media_server, "old.avi", "tone.m4a"))
    out = local_output(result)
    video = stream(probe(out), "video")
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    assert (video["width"], video["height"]) == (320, 240)
    assert result["video_stream"] == "re-encoded"
    assert result["encoder"] == "libx264"
    assert decodes_cleanly(out)


@pytest.mark.parametrize("mode", ["replace", "mix"])
def test_video_without_audio_works_in_both_modes(media_server, inputs, mode):
    out = local_output(run_job(job(media_server, "silent.mp4", "tone.mp3", mode=mode)))
    assert stream_duration(out, "audio") == pytest.approx(2.0, abs=0.05)
    assert stream_duration(out, "video") == pytest.approx(2.0, abs=FRAME)


def volume_db(path: Path) -> float:
    """Mean volume of the first audio stream, by FFmpeg's volumedetect."""
    import subprocess

    err = subprocess.run(["ffmpeg", "-nostdin", "-i", str(path), "-map", "0:a:0", "-af", "volumedetect", "-f", "null",
                          "-"], capture_output=True, text=True).stderr
    line = next(line for line in err.splitlines() if "mean_volume" in line)
    return float(line.split("mean_volume:")[1].split("dB")[0])


def test_mix_keeps_both_tracks_at_full_level(media_server, inputs, media_dir):
    """No hidden -6 dB: mixing two tones is louder than either alone, not quieter."""
    mixed = local_output(run_job(job(media_server, "video.mp4", "long.mp3", mode="mix", output_filename="m.mp4")))
    replaced = local_output(run_job(job(media_server, "video.mp4", "long.mp3", output_filename="r.mp4")))
    assert volume_db(mixed) > volume_db(replaced) + 1.0
    assert volume_db(mixed) > volume_db(media_dir / "video.mp4") + 1.0


def test_volumes_scale_linearly(media_server, inputs):
    full = local_output(run_job(job(media_server, "silent.mp4", "long.mp3", output_filename="full.mp4")))
    half = local_output(run_job(job(media_server, "silent.mp4", "long.mp3", audio_volume=0.5,
                                    output_filename="half.mp4")))
    assert volume_db(full) - volume_db(half) == pytest.approx(6.02, abs=0.5)


def test_default_filename_uses_the_job_id(media_server, inputs):
    result = run_job(job(media_server, "video.mp4", "tone.mp3"), job_id="abc-123")
    assert result["filename"] == "addaudio_abc-123.mp4"
    assert result["s3_key"] == "videos/output/addaudio_abc-123.mp4"
    assert set(result["timings"]) == {"download_s", "process_s", "upload_s", "total_s"}
