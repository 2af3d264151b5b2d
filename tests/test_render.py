"""render: scenes strung into one video, frame-exact, with transitions and narration, in one encode."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.helpers import leftover_workdirs, local_output, run_job
from tests.media import ffmpeg, make_audio, probe, stream, stream_duration
from tests.pictures import counted_frames, frames
from tests.sound import CHORD, ONLY_MUSIC, ONLY_SPEECH, SPEECH, loudness, short_term

SIZE = (192, 108)
FPS = 20
RED, GREEN, BLUE = (220, 30, 30), (30, 200, 30), (30, 30, 220)


@pytest.fixture(scope="module")
def scene_media(media_dir: Path) -> Path:
    folder = media_dir / "render"
    folder.mkdir(exist_ok=True)
    Image.new("RGB", (400, 300), RED).save(folder / "red.jpg", quality=95)
    Image.new("RGB", (300, 400), BLUE).save(folder / "blue.png")
    ffmpeg("-f", "lavfi", "-i", "color=c=0x1ec81e:size=160x120:rate=25", "-f", "lavfi", "-i",
           "sine=frequency=440:sample_rate=48000", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", str(folder / "green.mp4"))
    make_audio(folder / "narration.mp3", seconds=2.0)
    return folder


def job(server: str, **change: Any) -> dict[str, Any]:
    base = f"{server}/render"
    spec = {
        "operation": "render", "path": "out", "output_filename": "final.mp4",
        "width": SIZE[0], "height": SIZE[1], "frame_rate": FPS,
        "scenes": [
            {"image_url": f"{base}/red.jpg", "duration": 1.0, "motion": "zoomin"},
            {"video_url": f"{base}/green.mp4", "trim_start": 0.5, "duration": 1.0},
            {"image_url": f"{base}/blue.png", "duration": 1.0, "fit": "contain"},
        ],
        "transition": {"type": "fade", "duration": 0.2},
    }
    spec.update(change)
    return spec


def centre_colour(video: np.ndarray, index: int) -> tuple[int, ...]:
    h, w = video.shape[1:3]
    return tuple(int(v) for v in video[index, h // 2 - 4: h // 2 + 4, w // 2 - 4: w // 2 + 4].mean(axis=(0, 1)))


def near(colour: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 20) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def test_scenes_land_where_the_result_says_with_fades_between(scene_media: Path, media_server: str) -> None:
    result = run_job(job(media_server))
    path = local_output(result)
    # 3 scenes of 20 frames, overlapped twice by 4 frames.
    assert result["frames"] == counted_frames(path) == 52
    assert result["duration"] == pytest.approx(52 / FPS, abs=1e-3)
    assert [(s["start"], s["end"]) for s in result["scenes"]] == [(0.0, 1.0), (0.8, 1.8), (1.6, 2.6)]
    video = frames(path)
    assert near(centre_colour(video, 8), RED)
    assert near(centre_colour(video, 26), GREEN)
    assert near(centre_colour(video, 44), BLUE)
    # In the overlap, the picture is between the two scenes, moving from one to the other.
    reds = [centre_colour(video, i)[0] for i in range(15, 22)]
    assert reds[0] > 180 and reds[-1] < 60 and all(b <= a + 3 for a, b in itertools.pairwise(reds))
    # contain: the portrait image is padded left and right with the background.
    assert near(tuple(int(v) for v in video[44, SIZE[1] // 2, 2]), (0, 0, 0), 25)
    # No narration: the audio is silence exactly as long as the picture.
    assert stream_duration(path, "audio") == pytest.approx(52 / FPS, abs=0.03)


def test_fit_to_narration_ends_the_picture_with_the_narration(scene_media: Path, media_server: str) -> None:
    narration = {"url": f"{media_server}/render/narration.mp3"}
    result = run_job(job(media_server, narration=narration, fit_to_narration=True))
    path = local_output(result)
    narration_s = played_seconds(scene_media / "narration.mp3")  # as it plays: the MP3 header adds its padding
    assert counted_frames(path) == round(narration_s * FPS)
    assert stream_duration(path, "audio") == pytest.approx(narration_s, abs=1 / FPS)
    assert sum(s["frames"] for s in result["scenes"]) - 2 * 4 == round(narration_s * FPS)


def test_the_same_job_gives_the_same_frames(scene_media: Path, media_server: str) -> None:
    digests = []
    for run in range(2):
        path = local_output(run_job(job(media_server, output_filename=f"again{run}.mp4")))
        digests.append(hashlib.sha256(frames(path).tobytes()).hexdigest())
    assert digests[0] == digests[1]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"scenes": [{"image_url": "{base}/missing.jpg", "duration": 1}]}, "scenes[0]: download failed: HTTP 404"),
        ({"scenes": [{"image_url": "{base}/red.jpg", "duration": 1}, {"video_url": "{base}/narration.mp3"}]},
         "scenes[1]: "),
        ({"scenes": [{"image_url": "{base}/red.jpg", "duration": 1}, {"image_url": "{base}/green.mp4",
                                                                      "duration": 1}]}, "scenes[1]: "),
        ({"scenes": [{"image_url": "{base}/red.jpg", "video_url": "{base}/green.mp4", "duration": 1}]},
         "Invalid input: field 'scenes[0]': give either 'image_url' or 'video_url'."),
        ({"scenes": [{"image_url": "{base}/red.jpg", "duration": 1}, {"image_url": "{base}/red.jpg",
                                                                      "duration": 0.1}]},
         "scenes[1].duration: 0.1 s is 2 frames at 20 fps; a scene needs at least 8 (twice the transition)."),
        ({"scenes": [{"video_url": "{base}/green.mp4", "trim_start": 7}]},
         "scenes[0].trim_start: 7 s is past the clip's end"),
        ({"fit_to_narration": True}, "'fit_to_narration' needs a 'narration'"),
    ],
)
def test_bad_scenes_fail_naming_the_scene_and_leave_nothing(
    change: dict[str, Any], expected: str, scene_media: Path, media_server: str, worker_env: Path,
) -> None:
    base = f"{media_server}/render"
    spec = job(media_server, **change)
    for scene in spec["scenes"]:
        for key in ("image_url", "video_url"):
            if key in scene:
                scene[key] = scene[key].replace("{base}", base)
    result = run_job(spec)
    assert expected in result["error"], result
    assert "Traceback" not in result["error"]
    assert leftover_workdirs(worker_env) == []
    assert not (worker_env.parent / "output" / "out").exists()


# The whole narrated video the issue describes, vertical: 5 images with camera moves and one clip, faded
# into each other, fitted to a narration (speech 0-5 s and 10-15 s), music ducked under it, words boxed.
VERTICAL = (180, 320)
SCENE_COLOURS = [(30, 30, 220), (30, 200, 30), (0, 200, 200), (230, 220, 40), (128, 128, 128), (240, 240, 240)]
HIGHLIGHT = (214, 0, 0)  # caption_highlight's default box colour
WORDS = ["one", "two", "three", "four", "five", "six"]


@pytest.fixture(scope="module")
def narrated_media(media_dir: Path) -> Path:
    folder = media_dir / "render_full"
    folder.mkdir(exist_ok=True)
    for k, colour in enumerate(SCENE_COLOURS):
        if k != 2:
            Image.new("RGB", (360, 640) if k % 2 else (640, 360), colour).save(folder / f"scene{k}.png")
    ffmpeg("-f", "lavfi", "-i", "color=c=0x00c8c8:size=320x240:rate=25", "-f", "lavfi", "-i",
           "sine=frequency=3000:sample_rate=48000", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", str(folder / "scene2.mp4"))
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{SPEECH}':s=48000", "-t", "15", str(folder / "narration.wav"))
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{CHORD}':s=48000:d=20", "-ac", "2", str(folder / "music.mp3"))
    words = [{"word": w, "start": 1.0 + 0.5 * k, "end": 1.4 + 0.5 * k} for k, w in enumerate(WORDS)]
    (folder / "words.json").write_text(json.dumps({"words": words}))
    return folder


def narrated_job(server: str) -> dict[str, Any]:
    base = f"{server}/render_full"
    motions = ["zoomin", "panright", None, "zoomout", "none", "pandown"]
    scenes: list[dict[str, Any]] = []
    for k, motion in enumerate(motions):
        if motion is None:
            scenes.append({"video_url": f"{base}/scene2.mp4", "trim_start": 0.5, "duration": 2.0, "fit": "cover"})
        else:
            scenes.append({"image_url": f"{base}/scene{k}.png", "duration": 2.0, "motion": motion})
    return {
        "operation": "render", "path": "out", "output_filename": "narrated.mp4",
        "width": VERTICAL[0], "height": VERTICAL[1], "frame_rate": 10, "scenes": scenes,
        "transition": {"type": "fade", "duration": 0.5},
        "narration": {"url": f"{base}/narration.wav"}, "fit_to_narration": True,
        "music": {"url": f"{base}/music.mp3", "ducking": True},
        "captions": {"words_url": f"{base}/words.json", "highlight_mode": "box"},
    }


@pytest.fixture(scope="module")
def narrated(narrated_media: Path, media_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    with pytest.MonkeyPatch.context() as patch:
        output = tmp_path_factory.mktemp("narrated")
        patch.setenv("VIDEO_OPS_OUTPUT_DIR", str(output))
        patch.setenv("VIDEO_OPS_ENCODER", "x264")
        patch.setenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "true")
        for name in ("BUCKET_NAME", "BUCKET_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        result = run_job(narrated_job(media_server))
    return result, local_output(result)


def top_colour(video: np.ndarray, index: int) -> tuple[int, ...]:
    h, w = video.shape[1:3]
    return tuple(int(v) for v in video[index, h // 5 - 6: h // 5 + 6, w // 2 - 6: w // 2 + 6].mean(axis=(0, 1)))


def test_the_narrated_render_is_frame_exact_and_plays(narrated: tuple[dict, Path]) -> None:
    result, path = narrated
    assert result["frames"] == counted_frames(path) == 150  # the narration's 15 s at 10 fps
    assert result["duration"] == pytest.approx(15.0, abs=0.1)
    assert stream_duration(path, "audio") == pytest.approx(15.0, abs=0.1)
    info = probe(path)
    assert [s["codec_name"] for s in info["streams"]] == ["h264", "aac"]
    assert (stream(info, "video")["width"], stream(info, "video")["height"]) == VERTICAL
    assert result["words"] == 6 and result["captions"] == 1


def test_the_scenes_show_where_the_result_says(narrated: tuple[dict, Path]) -> None:
    result, path = narrated
    video = frames(path)
    scenes = result["scenes"]
    for k, (scene, colour) in enumerate(zip(scenes, SCENE_COLOURS, strict=True)):
        start, end = round(scene["start"] * 10), round(scene["end"] * 10)
        assert near(top_colour(video, (start + end) // 2), colour, 25), k
        if k + 1 < len(scenes):  # the picture changes at the next scene: before the fade, after it
            assert near(top_colour(video, end - 6), colour, 25), k
            assert near(top_colour(video, end), SCENE_COLOURS[k + 1], 25), k


def test_the_spoken_word_is_boxed_and_nothing_shows_between_captions(narrated: tuple[dict, Path]) -> None:
    _, path = narrated
    video = frames(path).astype(int)

    def boxed(index: int) -> int:
        lower = video[index, VERTICAL[1] // 2:]
        return int((np.abs(lower - np.array(HIGHLIGHT)).max(axis=-1) < 40).sum())

    assert boxed(12) > 30  # 1.2 s: "one" is being said
    assert boxed(70) == 0  # 7.0 s: a pause, no caption


def test_narration_keeps_its_level_and_the_music_ducks_under_it(narrated: tuple[dict, Path],
                                                                 narrated_media: Path) -> None:
    result, path = narrated
    assert loudness(path, ONLY_SPEECH) == pytest.approx(loudness(narrated_media / "narration.wav", ONLY_SPEECH),
                                                        abs=0.5)
    speech, pause = short_term(path, ONLY_MUSIC, 4.9), short_term(path, ONLY_MUSIC, 9.9)
    assert pause - speech >= 8
    assert result["audio_analysis"]["narration_lufs"] is not None


def played_seconds(path: Path) -> float:
    """How long the first audio stream lasts when decoded, counted in samples."""
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
                          "-ar", "48000", "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return len(raw) / 2 / 48000


def rms_db_between(path: Path, start: float, end: float) -> float:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{start}", "-to", f"{end}", "-i", str(path),
                          "-map", "0:a:0", "-ac", "1", "-f", "f32le", "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    return 20 * float(np.log10(np.sqrt(np.mean(samples**2)) + 1e-12))


def test_a_clips_own_sound_plays_while_it_is_on_screen(scene_media: Path, media_server: str) -> None:
    """No narration: the clip keeps its sound (volume 1), heard from its scene's start to the next's."""
    path = local_output(run_job(job(media_server, transition={"type": "none"}, output_filename="clipsound.mp4")))
    # Scenes: red image 0-1 s, the green clip (a 440 Hz tone) 1-2 s, blue image 2-3 s.
    assert rms_db_between(path, 0.1, 0.9) < -60
    assert rms_db_between(path, 1.1, 1.9) > -30
    assert rms_db_between(path, 2.1, 2.9) < -60
    muted = local_output(run_job(job(media_server, transition={"type": "none"}, output_filename="muted.mp4",
                                     scenes=[*job(media_server)["scenes"][:1],
                                             {**job(media_server)["scenes"][1], "volume": 0}])))
    assert rms_db_between(muted, 1.1, 1.9) < -60
