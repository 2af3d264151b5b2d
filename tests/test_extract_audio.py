"""extract_audio on media made here with FFmpeg: each format's file, the stream copied when it already is what
was asked (the same packets), the rate, channels and bitrate asked, and a loudness within 0.5 LU."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import local_output, run_job
from tests.media import packet_hashes, probe, stream
from tests.sound import loudness
from tests.sound_media import CODECS, has_magic, length_s, played_s

CONTAINERS = {"mp3": "mp3", "m4a": "mov,mp4,m4a,3gp,3g2,mj2", "wav": "wav", "opus": "ogg", "flac": "flac"}


def extract(server: str, name: str = "video.mp4", **change: Any) -> dict[str, Any]:
    return run_job({"operation": "extract_audio", "url_video": f"{server}/{name}", "path": "out", **change})


@pytest.mark.parametrize("fmt", sorted(CODECS))
def test_each_format_is_its_codec_in_its_container_and_plays_as_long_as_the_source(fmt, media_server, media_dir):
    result = extract(media_server, format=fmt)
    output = local_output(result)
    info = probe(output)
    assert (stream(info, "audio")["codec_name"], info["format"]["format_name"]) == (CODECS[fmt], CONTAINERS[fmt])
    assert stream(info, "video") is None
    assert has_magic(output, fmt)
    assert output.suffix == f".{fmt}" and result["filename"] == f"extract_audio_test-job.{fmt}"
    assert result["duration"] == pytest.approx(length_s(output), abs=0.001)
    assert result["duration"] == pytest.approx(length_s(media_dir / "video.mp4"), abs=0.001)  # AAC's padding left out
    assert result["audio_stream"] == ("copied" if fmt == "m4a" else "re-encoded")  # the video's sound is AAC


def test_aac_is_copied_into_m4a_packet_for_packet(media_server, media_dir):
    result = extract(media_server, format="m4a", channels=1, sample_rate=48000)
    assert result["audio_stream"] == "copied" and "reencode_reason" not in result
    assert packet_hashes(local_output(result), "a:0") == packet_hashes(media_dir / "video.mp4", "a:0")


def test_an_mp3_at_the_bitrate_asked_is_copied(media_server, media_dir):
    result = extract(media_server, "tone.mp3", bitrate="64k")
    assert result["audio_stream"] == "copied"
    assert packet_hashes(local_output(result), "a:0") == packet_hashes(media_dir / "tone.mp3", "a:0")


@pytest.mark.parametrize(("change", "reason"), [
    ({"bitrate": 128}, "url_video: its sound is 64 kb/s, not the 128 kb/s asked."),
    ({"sample_rate": 22050}, "url_video: its sound is 44100 Hz, not the 22050 Hz asked."),
    ({"channels": 2}, "url_video: its sound has 1 channel, not the 2 asked."),
    ({"format": "flac"}, "url_video: its sound is mp3, not FLAC."),
    ({"loudness_lufs": -20}, "loudness_lufs: the level is brought to -20 LUFS."),
])
def test_anything_else_is_re_encoded_and_the_result_says_why(change, reason, media_server, media_dir):
    result = extract(media_server, "tone.mp3", **change)
    assert (result["audio_stream"], result["reencode_reason"]) == ("re-encoded", reason)
    assert packet_hashes(local_output(result), "a:0") != packet_hashes(media_dir / "tone.mp3", "a:0")


def test_the_rate_channels_and_bitrate_asked(media_server, sound_media):
    result = extract(media_server, "sounds/noise.wav", format="m4a", sample_rate=22050, channels=1, bitrate=96)
    found = stream(probe(local_output(result)), "audio")
    assert (int(found["sample_rate"]), found["channels"]) == (22050, 1)
    assert int(found["bit_rate"]) == pytest.approx(96000, rel=0.15)
    assert {key: result[key] for key in ("format", "sample_rate", "channels", "bitrate")} == {
        "format": "m4a", "sample_rate": 22050, "channels": 1, "bitrate": 96}
    mp3 = stream(probe(local_output(extract(media_server, bitrate=64, channels=2))), "audio")
    assert (int(mp3["bit_rate"]), mp3["channels"]) == (64000, 2)


@pytest.mark.parametrize("target", [-16.0, -30.0])
def test_the_loudness_asked_within_half_a_lu_and_the_length_kept(target, media_server, media_dir):
    result = extract(media_server, "tone.mp3", format="wav", loudness_lufs=target)
    output = local_output(result)
    assert loudness(output) == pytest.approx(target, abs=0.5)
    assert result["gain_db"] == pytest.approx(target - loudness(media_dir / "tone.mp3"), abs=0.2)
    assert played_s(output) == pytest.approx(played_s(media_dir / "tone.mp3"), abs=0.001)


def test_a_file_name_of_another_format_is_refused_before_any_work(media_server):
    result = extract(media_server, format="wav", output_filename="sound.mp3")
    assert result == {"error": "Invalid input: field 'output_filename' must end with .wav, the format this operation "
                               "writes."}
