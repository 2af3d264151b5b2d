"""transcribe for real: FFmpeg decodes the sound, faster-whisper runs a random-weight Whisper made by the
tests (no weights can be downloaded here), the five files land in a real S3 (moto) and chain into
caption_highlight. The text is noise; the structure, the cache, the device and the files are real."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pysubs2
import pytest
import requests

from tests.helpers import leftover_workdirs, run_job, stored_keys
from tests.media import ffmpeg, make_video, probe, stream
from tests.pictures import frames
from tests.test_transcript_formats import karaoke_cues, lrc_lines
from video_ops.ops.transcribe import NO_SPEECH
from video_ops.speech.models import ensure_model, forget_models
from video_ops.subtitles.words import read_words

FILES = {"segments": ("srt", "vtt", "json"), "words": ("ass_karaoke", "json", "vtt_karaoke", "lrc")}
BACKDROP = "0x203040"  # dark: the captions' white text stands out
HEARD = {"model": "tiny", "enable_vad": False, "beam_size": 1}
PER_LOAD = ("model_loaded_now", "model_load_s", "decode_s")  # what differs between two jobs hearing the same sound
KEYS = {"out/segments.srt", "out/segments.vtt", "out/segments.json", "out/words.json", "out/words_karaoke.ass",
        "out/words_karaoke.vtt", "out/words.lrc"}


@pytest.fixture(scope="module")
def speech(media_dir: Path) -> Path:
    """Noisy sound the random model hears words in (with VAD off), a silence, and a video to caption."""
    folder = media_dir / "speech"
    folder.mkdir()
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:d=6", "-f", "lavfi", "-i", "anoisesrc=d=6:a=0.3:seed=7",
           "-filter_complex", "amix=inputs=2", str(folder / "babble.mp3"))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "4", str(folder / "silence.wav"))
    make_video(folder / "picture.mp4", seconds=6.0, size="320x180", rate=10, source="color", audio=False)
    picture = ["-f", "lavfi", "-i", f"color=c={BACKDROP}:size=320x180:rate=10", "-t", "3", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg("-i", str(folder / "babble.mp3"), *picture, str(folder / "talking.mp4"))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", *picture, str(folder / "quiet.mp4"))
    return folder


def transcribe(media_server: str, audio: str = "speech/babble.mp3", **options) -> dict:
    job = {"operation": "transcribe", "audio_url": f"{media_server}/{audio}", "path": "out", "model": "tiny",
           "enable_vad": False, **options}
    return run_job(job)


def fetch(url: str) -> bytes:
    """An output's bytes, from the bucket or from the local output folder (no bucket configured)."""
    if url.startswith("file://"):
        return Path(url[len("file://"):]).read_bytes()
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.content


def test_transcribe_uploads_seven_files_and_answers_in_the_references_shape(media_server, speech, whisper_models,
                                                                            bucket, worker_env):
    result = transcribe(media_server)
    assert result["success"] is True, result
    assert set(stored_keys(bucket)) == KEYS
    stats = result["stats"]
    assert (stats["model"], stats["device"], stats["compute_type"]) == ("tiny", "cpu", "int8")
    assert stats["words"] >= 1 and stats["segments"] >= 1
    assert len(result["language"]) in (2, 3) and 0 < result["language_probability"] <= 1
    assert result["duration"] == pytest.approx(6.0, abs=0.05)
    assert {kind: set(urls) for kind, urls in result["files"].items()} == {k: set(v) for k, v in FILES.items()}
    files = result["files"]
    words = read_words(fetch(files["words"]["json"]), "url_words_json")
    assert len(words) <= stats["words"]  # punctuation-only tokens join the word before them
    srt = pysubs2.SSAFile.from_string(fetch(files["segments"]["srt"]).decode())
    assert len(srt) == stats["cues"] >= stats["segments"]  # cues for reading, cut from Whisper's segments
    assert " ".join(event.plaintext.replace("\n", " ") for event in srt).split() == result["transcription"].split()
    assert len(pysubs2.SSAFile.from_string(fetch(files["segments"]["vtt"]).decode())) == stats["cues"]
    assert "\\kf" in fetch(files["words"]["ass_karaoke"]).decode()
    assert len(karaoke_cues(fetch(files["words"]["vtt_karaoke"]).decode())) == stats["segments"]
    lyrics = [shown for _, _, shown in lrc_lines(fetch(files["words"]["lrc"]).decode()) if shown]
    assert len(lyrics) == stats["segments"] and " ".join(lyrics).split() == result["transcription"].split()
    assert len(json.loads(fetch(files["segments"]["json"]))["segments"]) == stats["segments"]
    assert {"audio_s", "model_s", "transcribe_s", "write_s", "upload_s"} <= set(result["timings"])
    assert leftover_workdirs(worker_env) == []


def test_the_model_loads_once_per_process(media_server, speech, whisper_models):
    forget_models()
    first, second = transcribe(media_server), transcribe(media_server)
    assert first["stats"]["model_loaded_now"] is True and first["stats"]["model_load_s"] > 0
    assert second["stats"]["model_loaded_now"] is False and second["stats"]["model_load_s"] == 0
    assert second["timings"]["model_s"] < min(0.05, first["timings"]["model_s"])
    assert second["transcription"] == first["transcription"]  # the same model, the same decoding


def test_its_words_file_burns_with_caption_highlight(media_server, speech, whisper_models, bucket):
    heard = transcribe(media_server)
    burned = run_job({"operation": "caption_highlight", "url_video": f"{media_server}/speech/picture.mp4",
                      "url_words_json": heard["files"]["words"]["json"], "path": "out",
                      "output_filename": "captioned.mp4"})
    assert burned["success"] is True, burned
    assert burned["words"] == len(read_words(fetch(heard["files"]["words"]["json"]), "url_words_json"))
    assert burned["captions"] >= 1


def test_a_video_with_sound_is_accepted_as_url_video_in_a_given_language(media_server, speech, whisper_models):
    result = run_job({"operation": "transcribe", "url_video": f"{media_server}/video.mp4", "model": "tiny",
                      "language": "PT-br", "output_formats": ["srt"]})
    assert result["success"] is True, result
    assert result["language"] == "pt" and result["language_probability"] == 1  # given, not detected
    assert result["duration"] == pytest.approx(2.0, abs=0.05)
    assert result["files"]["segments"]["srt"] and not any(result["files"]["words"].values())


def test_silence_is_a_clear_empty_result(media_server, speech, whisper_models):
    result = run_job({"operation": "transcribe", "audio_url": f"{media_server}/speech/silence.wav",
                      "model": "tiny"})
    assert result["success"] is True, result
    assert result["warnings"] == [NO_SPEECH]
    assert (result["stats"]["segments"], result["stats"]["words"], result["transcription"]) == (0, 0, "")


def test_a_model_that_cannot_be_had_fails_naming_it_and_uploads_nothing(media_server, speech, whisper_models,
                                                                      bucket):
    result = transcribe(media_server, model="small")
    assert result == {"error": "model: the Whisper model 'small' is not in the models folder "
                               "(VIDEO_OPS_WHISPER_MODELS) and could not be downloaded."}
    assert stored_keys(bucket) == []
    assert not (whisper_models / "small" / "model.bin").exists()


def test_a_video_without_sound_fails_naming_the_field(media_server, whisper_models, bucket):
    result = transcribe(media_server, audio="silent.mp4")
    assert result == {"error": "audio_url: the file has no audio stream (found: video)."}
    assert stored_keys(bucket) == []


def narrated_render(media_server: str, narration: str, change: dict | None = None, **captions) -> dict:
    return run_job({"operation": "render", "path": "out", "output_filename": "narrated.mp4", "width": 320,
                    "height": 180, "frame_rate": 10, "fit_to_narration": True,
                    "scenes": [{"video_url": f"{media_server}/speech/picture.mp4"}],
                    "narration": {"url": f"{media_server}/{narration}"},
                    "captions": {"from_narration": True, "model": "tiny", "highlight_mode": "box", **captions},
                    **(change or {})})


def test_render_captions_its_narration_in_the_same_job(media_server, speech, whisper_models):
    heard = transcribe(media_server)  # what a separate transcribe job finds in the same sound
    result = narrated_render(media_server, "speech/babble.mp3", enable_vad=False)
    assert result["success"] is True, result
    assert result["transcription"]["words"] == heard["stats"]["words"]
    assert result["transcription"]["text"] == heard["transcription"]
    assert result["words"] == len(read_words(fetch(heard["files"]["words"]["json"]), "url_words_json"))
    assert result["captions"] >= 1 and result["duration"] == pytest.approx(6.0, abs=0.1)
    assert "transcribe_s" in result["timings"]


def test_a_part_of_a_render_captioned_from_its_narration_hears_it(media_server, speech, whisper_models):
    """A split never sends one (each part would transcribe the whole narration again), but a part sent by hand,
    whose timeline does not depend on the narration, still downloads it to caption its frames."""
    part = {"fit_to_narration": False, "part": {"start_frame": 0, "end_frame": 20, "index": 0}}
    result = narrated_render(media_server, "speech/babble.mp3", part, enable_vad=False)
    assert result.get("success") and result["frames"] == 20, result


def test_render_from_a_silent_narration_fails_clearly(media_server, speech, whisper_models, bucket):
    result = narrated_render(media_server, "speech/silence.wav")
    assert result == {"error": "captions.from_narration: no speech was found in the narration, so there are no "
                               "words to caption."}
    assert stored_keys(bucket) == []


def heard_caption(media_server: str, operation: str, video: str = "speech/talking.mp4", **change) -> dict:
    return run_job({"operation": operation, "url_video": f"{media_server}/{video}", "path": "out",
                    "output_filename": f"{operation}.mp4", "transcribe": HEARD, **change})


def test_the_caption_operations_draw_what_transcribe_writes_for_the_videos_own_speech(media_server, speech,
                                                                                       whisper_models, bucket,
                                                                                       worker_env):
    heard = transcribe(media_server, "speech/talking.mp4", beam_size=1, output_formats=["srt", "json"])
    cues = pysubs2.SSAFile.from_string(fetch(heard["files"]["segments"]["srt"]).decode())
    words = read_words(fetch(heard["files"]["words"]["json"]), "url_words_json")
    assert len(cues) >= 1 and words

    captioned = heard_caption(media_server, "caption")
    assert captioned["success"] is True, captioned
    assert captioned["cues"] == len(cues)  # transcribe's segments.srt, cue for cue
    cues_made = heard["stats"].pop("cues")  # transcribe's count of its subtitle cues: the caption's own `cues` here
    assert captioned["cues"] == cues_made
    expected = {"language": heard["language"], "text": heard["transcription"], **heard["stats"]}
    assert {k: v for k, v in captioned["transcription"].items() if k not in PER_LOAD} == {
        k: v for k, v in expected.items() if k not in PER_LOAD}
    assert captioned["transcription"].keys() == expected.keys()  # render's `transcription`, key for key
    assert {"audio_s", "model_s", "transcribe_s", "process_s"} <= set(captioned["timings"])
    video = Path(worker_env.parent / "captioned.mp4")
    video.write_bytes(fetch(captioned["video_url"]))
    assert stream(probe(video), "audio") is not None and captioned["duration"] == pytest.approx(3.0, abs=0.05)
    first = cues[0]
    middle = min((first.start + first.end) / 2000, captioned["duration"] - 0.1)  # a cue may be held past the end
    shown = frames(video, "gray")[int(middle * 10)]
    drawn = np.abs(shown.astype(int) - int(shown[0, 0, 0])) > 60
    assert drawn.sum() > 20, drawn.sum()  # the backdrop is one shade: what differs is the first cue's text

    highlighted = heard_caption(media_server, "caption_highlight")
    assert highlighted["success"] is True, highlighted
    assert highlighted["words"] == len(words) and highlighted["captions"] >= 1  # transcribe's words.json, word for word
    assert highlighted["transcription"]["text"] == heard["transcription"]
    # Only the outputs were stored: what was heard for the captions stays in the job's folder.
    assert set(stored_keys(bucket)) == {"out/segments.srt", "out/segments.json", "out/words.json", "out/caption.mp4",
                                        "out/caption_highlight.mp4"}
    assert leftover_workdirs(worker_env) == []


def test_a_video_whose_sound_has_no_speech_fails_naming_it(media_server, speech, whisper_models, bucket):
    result = heard_caption(media_server, "caption_segments", "speech/quiet.mp4", transcribe={"model": "tiny"})
    assert result == {"error": "url_video: no speech was found in the video's sound, so there are no words to "
                               "caption."}
    assert stored_keys(bucket) == []


def test_large_v3_turbo_is_turbo_under_its_full_name_in_one_folder(whisper_folder, tmp_path, monkeypatch):
    (tmp_path / "turbo").symlink_to(whisper_folder / "tiny", target_is_directory=True)
    monkeypatch.setenv("VIDEO_OPS_WHISPER_MODELS", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert ensure_model("large-v3-turbo") == tmp_path / "turbo"  # found, not downloaded again


def test_translation_reaches_the_model(media_server, whisper_models):
    def heard(**task: str) -> dict:
        return run_job({"operation": "transcribe", "url_video": f"{media_server}/video.mp4", "model": "tiny",
                        "enable_vad": False, "output_formats": ["srt"], **task})

    translated, transcribed = heard(task="translate"), heard()
    assert translated["success"] is True and translated["stats"]["task"] == "translate", translated
    assert translated["transcription"] != transcribed["transcription"]  # the model was given the translate token
