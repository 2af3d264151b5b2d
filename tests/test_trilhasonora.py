"""trilhasonora with real FFmpeg: tone bursts as speech, a chord as music, checked by ear-like measures.

The narration is a 2 kHz tone and the music a chord below 200 Hz, so a steep low-pass hears only
the music and a steep high-pass only the narration: levels are read per track from the mixed output.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import leftover_workdirs, local_output, run_job, s3_client
from tests.media import ffmpeg, probe, stream, stream_duration
from tests.sound import CHORD, ONLY_MUSIC, ONLY_SPEECH, SPEECH, loudness, short_term, true_peak
from video_ops.media.audio import SAMPLE_RATE, MusicBed

NARRATED_S = 15.0
FRAME = 0.1  # the test videos run at 10 fps


@pytest.fixture(scope="module")
def media(media_dir: Path) -> Path:
    """Narrated and silent videos and music files, next to the served media."""
    picture = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10"]
    h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    ffmpeg(*picture, "-f", "lavfi", "-i", f"aevalsrc='{SPEECH}':s=48000", "-t", str(NARRATED_S), *h264,
           "-c:a", "aac", "-b:a", "128k", str(media_dir / "narrated.mp4"))
    ffmpeg(*picture, "-t", "10", *h264, str(media_dir / "mute10.mp4"))
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{CHORD}':s=48000:d=3", "-c:a", "flac", str(media_dir / "chord3.flac"))
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{CHORD}':s=48000:d=20", "-ac", "2", str(media_dir / "chord20.mp3"))
    ffmpeg(*picture, "-f", "lavfi", "-i", "aevalsrc='0.95*sin(2*PI*1000*t)':s=48000", "-t", "4", *h264,
           "-c:a", "aac", "-b:a", "192k", str(media_dir / "loud.mp4"))
    ffmpeg("-f", "lavfi", "-i", "aevalsrc='0.5*sin(2*PI*220*t)+0.45*sin(2*PI*330*t)':s=48000:d=4",
           str(media_dir / "loud_chord.wav"))
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{SPEECH}':s=48000:d=4", "-c:a", "libmp3lame", "-q:a", "2",
           str(media_dir / "narration4.mp3"))
    return media_dir


def trilha(media_server: str, video: str, music: str, **options) -> dict:
    return {"operation": "trilhasonora", "url_video": f"{media_server}/{video}",
            "trilha_sonora": f"{media_server}/{music}", "path": "videos/output", **options}


def samples(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
                          "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def rms_db(signal: np.ndarray) -> float:
    return 20 * float(np.log10(np.sqrt(np.mean(signal.astype(np.float64) ** 2)) + 1e-12))


def framemd5(path: Path) -> list[str]:
    """Per-frame hashes of the video stream as stored: equal lists mean a bit-identical picture."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if not line.startswith("#")]


def music_change_db(out: Path, music: Path, seconds: float) -> float:
    """How much louder (dB) the music is in the output than in its file, heard through the low-pass."""
    return loudness(out, ONLY_MUSIC) - loudness(music, f"aformat=channel_layouts=mono,{ONLY_MUSIC}", seconds)


def test_picture_is_copied_bit_for_bit_and_lasts_as_the_video(media_server, media, worker_env):
    result = run_job(trilha(media_server, "narrated.mp4", "chord20.mp3", output_filename="t.mp4"))
    out = local_output(result)
    assert framemd5(out) == framemd5(media / "narrated.mp4")
    assert stream_duration(out, "video") == pytest.approx(NARRATED_S, abs=0.001)
    assert stream_duration(out, "audio") == pytest.approx(NARRATED_S, abs=0.03)
    assert stream(probe(out), "audio")["codec_name"] == "aac"
    assert result["message"].startswith("Trilha sonora added")
    assert (result["video_duration"], result["loops_applied"]) == (NARRATED_S, 0)
    assert result["trilha_duration"] == pytest.approx(20.0, abs=0.05)  # an MP3's length is an estimate
    assert (result["video_stream"], result["encoder"], result["gpu_accelerated"]) == ("copied", "copy", False)
    assert set(result["audio_analysis"]) == {"narration_lufs", "music_lufs", "music_lufs_after", "target_offset_lu",
                                             "offset_lu"}
    assert set(result["timings"]) == {"download_s", "analysis_s", "process_s", "upload_s", "total_s"}
    assert leftover_workdirs(worker_env) == []


def test_narration_keeps_its_level_under_muted_music(media_server, media):
    """The reference's amix lowered the narration by 6 dB; here, with the music 40 dB down, it is as it was."""
    out = local_output(run_job(trilha(media_server, "narrated.mp4", "chord20.mp3", volume_reduction_db=40)))
    assert loudness(out) == pytest.approx(loudness(media / "narrated.mp4"), abs=0.5)


def test_automatic_level_puts_the_music_the_offset_below_the_narration(media_server, media):
    result = run_job(trilha(media_server, "narrated.mp4", "chord20.mp3", fade_in_s=0, fade_out_s=0))
    out = local_output(result)
    narration = loudness(media / "narrated.mp4")
    music_after = (loudness(media / "chord20.mp3", "aformat=channel_layouts=mono", NARRATED_S)
                   + music_change_db(out, media / "chord20.mp3", NARRATED_S))
    assert music_after == pytest.approx(narration - 20, abs=1.0)
    assert loudness(out, ONLY_SPEECH) == pytest.approx(loudness(media / "narrated.mp4", ONLY_SPEECH), abs=0.5)
    analysis = result["audio_analysis"]
    assert analysis["narration_lufs"] == pytest.approx(narration, abs=0.3)
    assert analysis["offset_lu"] == pytest.approx(20, abs=0.1)
    assert result["volume_reduction_db"] == pytest.approx(analysis["music_lufs"] - analysis["music_lufs_after"])


def test_manual_reduction_lowers_the_music_by_exactly_that(media_server, media):
    result = run_job(trilha(media_server, "narrated.mp4", "chord20.mp3", volume_reduction_db=12, fade_in_s=0,
                            fade_out_s=0))
    assert music_change_db(local_output(result), media / "chord20.mp3", NARRATED_S) == pytest.approx(-12, abs=0.5)
    assert result["volume_reduction_db"] == 12


@pytest.mark.parametrize("ducking", [True, False])
def test_ducking_dips_the_music_under_speech_only(media_server, media, ducking):
    out = local_output(run_job(trilha(media_server, "narrated.mp4", "chord20.mp3", volume_reduction_db=6,
                                      ducking=ducking, output_filename=f"duck_{ducking}.mp4")))
    speech, pause, speech_again = (short_term(out, ONLY_MUSIC, at) for at in (4.9, 9.9, 14.9))
    if ducking:
        assert pause - speech >= 8
        assert pause - speech_again >= 8
    else:
        assert abs(pause - speech) < 1


def test_music_loops_without_clicks_and_fades_in_and_out(media_server, media):
    """3 s of music under 10 s of a video without sound: it becomes the only track, seams crossfaded."""
    result = run_job(trilha(media_server, "mute10.mp4", "chord3.flac", volume_reduction_db=0))
    out = local_output(result)
    assert result["loops_applied"] == 4
    assert stream_duration(out, "audio") == pytest.approx(10.0, abs=0.03)
    assert stream_duration(out, "video") == pytest.approx(10.0, abs=FRAME)
    heard, music = samples(out), samples(media / "chord3.flac")
    own_largest = float(np.max(np.abs(np.diff(music))))
    assert float(np.max(np.abs(np.diff(heard)))) <= own_largest * 1.1 + 0.002  # a hard cut jumps by ~0.4
    second = SAMPLE_RATE
    steady = rms_db(heard[int(1.5 * second):int(2.5 * second)])
    assert rms_db(heard[:second // 20]) < steady - 20
    assert rms_db(heard[-second // 20:]) < steady - 20
    assert rms_db(heard[int(8.5 * second):int(8.6 * second)]) < steady - 3  # halfway through the 2 s fade-out


def test_sum_never_goes_above_minus_1_dbtp(media_server, media):
    """Speech and music both near full scale, the music not lowered: the sum would peak at +5 dBFS."""
    out = local_output(run_job(trilha(media_server, "loud.mp4", "loud_chord.wav", volume_reduction_db=0)))
    assert true_peak(out) <= -1.0


def test_the_reference_orchestrators_input_as_sent(media_server, media, bucket, worker_env):
    job = {
        "operation": "trilhasonora",
        "url_video": f"{media_server}/narrated.mp4",
        "trilha_sonora": f"{media_server}/chord3.flac",
        "path": "videos/output/",
        "output_filename": "video_com_trilha.mp4",
        "volume_reduction_db": 15,
        "s3_config": {"endpoint_url": bucket["BUCKET_ENDPOINT_URL"], "access_key": bucket["BUCKET_ACCESS_KEY_ID"],
                      "secret_key": bucket["BUCKET_SECRET_ACCESS_KEY"], "bucket_name": bucket["BUCKET_NAME"],
                      "region": "us-east-1"},
    }
    result = run_job(job)
    assert result["success"], result
    assert {"success", "message", "video_url", "filename", "s3_key", "video_duration", "trilha_duration",
            "loops_applied", "volume_reduction_db", "gpu_accelerated", "encoder"} <= set(result)
    assert result["s3_key"] == "videos/output/video_com_trilha.mp4"
    head = s3_client(bucket).head_object(Bucket=bucket["BUCKET_NAME"], Key=result["s3_key"])
    assert head["ContentLength"] == result["size_bytes"]
    assert (result["volume_reduction_db"], result["loops_applied"]) == (15, 6)
    assert leftover_workdirs(worker_env) == []


def test_under_a_sound_file_it_writes_a_sound_file_with_the_narration_kept(media_server, media, worker_env):
    """No picture in: the same bed under the sound, a sound file out (MP3, or the format the name asks)."""
    job = trilha(media_server, "narration4.mp3", "chord3.flac", output_filename="com_trilha", music_offset_lu=30,
                 fade_in_s=0, fade_out_s=0)
    job["audio_url"] = job.pop("url_video")
    result = run_job(job)
    out = local_output(result)
    assert [s["codec_type"] for s in probe(out)["streams"]] == ["audio"]
    assert (stream(probe(out), "audio")["codec_name"], result["filename"]) == ("mp3", "com_trilha.mp3")
    assert stream_duration(out, "audio") == pytest.approx(4.0, abs=0.06) and result["audio_duration"] == pytest.approx(
        4.0, abs=0.06)
    assert loudness(out, ONLY_SPEECH) == pytest.approx(loudness(media / "narration4.mp3", ONLY_SPEECH), abs=0.5)
    assert music_change_db(out, media / "chord3.flac", 3.0) == pytest.approx(-result["volume_reduction_db"], abs=0.7)
    assert result["audio_analysis"]["offset_lu"] == pytest.approx(30, abs=0.1) and result["loops_applied"] == 1
    wav = run_job({**job, "output_filename": "x.wav"})
    assert stream(probe(local_output(wav)), "audio")["codec_name"] == "pcm_s16le"
    refused = run_job({**job, "output_filename": "x.mp4"})
    assert "output_filename" in refused["error"] and leftover_workdirs(worker_env) == []


def test_url_music_is_the_music_too(media_server, media):
    job = trilha(media_server, "mute10.mp4", "chord3.flac")
    job["url_music"] = job.pop("trilha_sonora")
    assert run_job(job)["trilha_duration"] == 3.0


def test_the_music_bed_needs_no_job(media, tmp_path):
    """The graph functions are plain text builders: FFmpeg runs them with no job around (as `render` will)."""
    bed = MusicBed(length_s=7.0, source_s=3.0, layout="mono", volume=0.5, fade_in_s=0.5, fade_out_s=0.5)
    out = tmp_path / "bed.wav"
    ffmpeg("-i", str(media / "chord3.flac"), "-filter_complex", bed.graph("0:a", "bed"), "-map", "[bed]", str(out))
    assert bed.loops == 2
    assert stream_duration(out, "audio") == pytest.approx(7.0, abs=0.001)


def test_addaudio_mix_ducks_and_levels_by_the_same_graph(media_server, media):
    out = local_output(run_job({"operation": "addaudio", "url_video": f"{media_server}/narrated.mp4",
                                "url_audio": f"{media_server}/chord20.mp3", "path": "videos/output", "mode": "mix",
                                "ducking": True, "music_offset_lu": 14}))
    speech, pause = (short_term(out, ONLY_MUSIC, at) for at in (4.9, 9.9))
    assert pause - speech >= 8
    assert loudness(out, ONLY_SPEECH) == pytest.approx(loudness(media / "narrated.mp4", ONLY_SPEECH), abs=0.5)
