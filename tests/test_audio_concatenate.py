"""audio_concatenate on sounds made here with FFmpeg: the joined length is the inputs' sum to the millisecond
(MP3s, with their encoder's delay and padding, included), a tone cut in pieces joins back without a jump,
crossfades and silences last what was asked, and any mix of rates, channels and media joins."""

from __future__ import annotations

import itertools
import shutil
from typing import Any

import numpy as np
import pytest

from tests.helpers import local_output, run_job
from tests.media import ffmpeg, probe, stream
from tests.sound import loudness
from tests.sound_media import CODECS, CUTS, TONE_RATE, TONE_STEP, has_magic, length_s, played_s, samples
from video_ops.media.probe import Stream
from video_ops.media.sound_files import FORMATS, Decoded, Join, SoundSpec, reading


def concatenate(server: str, names: list[str], *, objects: bool = False, **change: Any) -> dict[str, Any]:
    """`objects`: each URL as `{"audio_url": URL}`, as the reference sends them."""
    urls = [{"audio_url": f"{server}/{name}"} if objects else f"{server}/{name}" for name in names]
    return run_job({"operation": "audio_concatenate", "audio_urls": urls, "path": "out", **change})


def pieces(kind: str) -> list[str]:
    return [f"sounds/piece_{number}.{kind}" for number in range(len(CUTS) - 1)]


@pytest.mark.parametrize("kinds", [("wav", "wav", "wav"), ("wav", "flac", "wav")],
                         ids=["alike, read one after another", "unlike, each its own input"])
def test_lossless_pieces_of_a_tone_join_back_into_the_tone_sample_for_sample(kinds, media_server, sound_media,
                                                                           ffmpeg_runs):
    names = [f"sounds/piece_{number}.{kind}" for number, kind in enumerate(kinds)]
    result = concatenate(media_server, names, format="wav")
    listed = len(set(kinds)) == 1  # alike: one input, the list; else one input per file
    assert [args.count("-i") for args in ffmpeg_runs] == [1 if listed else len(kinds)]
    joined, tone = samples(local_output(result)), samples(sound_media.tone)
    assert joined.shape == tone.shape
    assert np.array_equal(joined, tone)
    assert result["duration"] == result["total_duration"] == pytest.approx(CUTS[-1] / TONE_RATE, abs=1e-6)


def test_a_list_of_files_alike_reads_any_path(tmp_path, sound_media):
    folder = tmp_path / "it's a folder"
    folder.mkdir()
    inputs = []
    for number, piece in enumerate(sound_media.pieces_wav):
        path = folder / f"piece '{number}' .wav"
        shutil.copyfile(piece, path)
        inputs.append(Decoded(path, Stream(0, "audio", "pcm_s16le", sample_rate=TONE_RATE, channels=1)))
    spec = SoundSpec(FORMATS["wav"], TONE_RATE, 1)
    args, graph = reading(inputs, spec, Join(), tmp_path / "sounds.ffconcat")
    assert args.count("-i") == 1 and "concat" in args
    ffmpeg(*args, "-filter_complex", graph, "-map", "[joined]", *spec.encode_args(), str(tmp_path / "out.wav"))
    assert np.array_equal(samples(tmp_path / "out.wav"), samples(sound_media.tone))


def test_mp3_pieces_join_to_their_decoded_samples_end_to_end_without_a_click(media_server, sound_media):
    result = concatenate(media_server, pieces("mp3"), objects=True, format="wav")
    decoded = [samples(piece)[:, 0] for piece in sound_media.pieces_mp3]
    assert [len(piece) for piece in decoded] == [end - start for start, end in itertools.pairwise(CUTS)]
    joined = samples(local_output(result))[:, 0]
    assert joined == pytest.approx(np.concatenate(decoded), abs=1 / 32768)  # nothing added, dropped or moved
    joins = np.cumsum([len(piece) for piece in decoded])[:-1]
    assert np.max(np.abs(joined[joins] - joined[joins - 1])) < 1.5 * TONE_STEP
    assert result["duration"] == pytest.approx(CUTS[-1] / TONE_RATE, abs=1e-6)
    assert (result["audio_count"], result["filename"], result["audio_stream"]) == (3, "audio_concatenated.wav",
                                                                                   "re-encoded")


@pytest.mark.parametrize("fmt", sorted(CODECS))
def test_each_format_is_its_codec_in_its_file_and_as_long_as_the_inputs(fmt, media_server, sound_media):
    result = concatenate(media_server, pieces("mp3")[:2], format=fmt)
    output = local_output(result)
    assert stream(probe(output), "audio")["codec_name"] == CODECS[fmt]
    assert has_magic(output, fmt)
    assert output.name == f"audio_concatenated.{fmt}"
    assert length_s(output) == pytest.approx(CUTS[2] / TONE_RATE, abs=0.001)
    assert result["duration"] == pytest.approx(CUTS[2] / TONE_RATE, abs=0.0005)


def test_crossfades_overlap_by_the_time_asked(media_server, sound_media):
    result = concatenate(media_server, pieces("wav"), format="wav", crossfade_s=0.25)
    expected = (CUTS[-1] - 2 * round(0.25 * TONE_RATE)) / TONE_RATE
    assert played_s(local_output(result)) == pytest.approx(expected, abs=0.0005)
    assert result["duration"] == pytest.approx(expected, abs=0.0005)


def test_silence_between_lasts_the_time_asked_and_is_silent(media_server, sound_media):
    result = concatenate(media_server, pieces("wav"), format="wav", silence_between_s=0.2)
    gap = round(0.2 * TONE_RATE)
    joined = samples(local_output(result))[:, 0]
    assert len(joined) == CUTS[-1] + 2 * gap
    for number, cut in enumerate(CUTS[1:-1]):
        start = cut + number * gap
        assert np.max(np.abs(joined[start:start + gap])) == 0
        assert np.max(np.abs(joined[start + gap:start + gap + 50])) > 0.05  # the next piece starts right after


def test_sounds_of_any_rate_channels_and_media_join_at_the_richest(media_server, media_dir, sound_media):
    names = ["tone.mp3", "sounds/stereo_48k.wav", "video.mp4"]  # 44.1 kHz mono, 48 kHz stereo, a video's AAC
    result = concatenate(media_server, names, format="m4a")
    output = local_output(result)
    found = stream(probe(output), "audio")
    assert (int(found["sample_rate"]), found["channels"]) == (48000, 2)
    assert (result["sample_rate"], result["channels"]) == (48000, 2)
    total = sum(length_s(path) for path in (media_dir / "tone.mp3", sound_media.stereo_48k, media_dir / "video.mp4"))
    assert length_s(output) == pytest.approx(total, abs=0.001)
    assert result["duration"] == pytest.approx(total, abs=0.0005)


def test_the_loudness_asked_within_half_a_lu_the_length_kept(media_server, sound_media):
    result = concatenate(media_server, [*pieces("mp3"), "tone.mp3"], format="flac", loudness_lufs=-18)
    output = local_output(result)
    assert loudness(output) == pytest.approx(-18, abs=0.5)
    assert result["loudness_lufs"] == -18 and result["gain_db"] > 0
    assert played_s(output) == pytest.approx(result["duration"], abs=0.0005)


def test_the_same_url_twice_is_fetched_once_and_played_twice(media_server, sound_media):
    result = concatenate(media_server, ["sounds/piece_0.wav", "sounds/piece_0.wav"], format="wav")
    assert len(samples(local_output(result))) == 2 * CUTS[1]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(CODECS))
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_many_short_inputs_in_every_format_and_layout(fmt, channels, media_server, sound_media):
    if fmt == "mp3" and channels > 2:
        pytest.skip("mp3 holds 1 or 2 channels")
    names = [name for _ in range(20) for name in (*pieces("mp3"), "sounds/stereo_48k.wav")]
    result = concatenate(media_server, names, format=fmt, channels=channels)
    output = local_output(result)
    assert stream(probe(output), "audio")["channels"] == channels
    total = 20 * (sum(played_s(piece) for piece in sound_media.pieces_mp3) + played_s(sound_media.stereo_48k))
    assert length_s(output) == pytest.approx(total, abs=0.001)


@pytest.mark.slow
def test_five_hundred_inputs_the_limit_each_its_own_input_join_to_the_sample(media_server, sound_media, ffmpeg_runs):
    result = concatenate(media_server, ["sounds/piece_0.wav", "sounds/piece_0.flac"] * 250, format="wav")
    assert result["audio_count"] == 500 and [args.count("-i") for args in ffmpeg_runs] == [500]
    assert len(samples(local_output(result))) == 500 * CUTS[1]
