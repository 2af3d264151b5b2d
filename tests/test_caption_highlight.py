"""caption_highlight with real FFmpeg: which word is highlighted, where, in which look, read from the pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import leftover_workdirs, local_output, run_job, s3_client, stored_keys
from tests.media import make_video
from tests.pictures import frames

RATE = 10  # frame n shows t = n / RATE
# One caption of one line (4 words), a gap, then a second caption.
WORDS = [("I", 0.2, 0.6), ("wonderful", 0.6, 1.6), ("big", 1.6, 2.0), ("day", 2.0, 2.4),
         ("again", 2.8, 3.4), ("now", 3.4, 3.8)]
IN_FIRST, IN_SECOND, BETWEEN = 4, 18, 26  # frames inside word 0, inside word 2, between the captions
FILL_20, FILL_80 = 8, 14  # 20 % and 80 % through "wonderful"
STYLE = {"tamanho_fonte": 110, "padding_horizontal": 20, "padding_vertical": 20, "max_lines": 1}
RED, YELLOW, WHITE = (214, 0, 0), (255, 255, 0), (255, 255, 255)


def words_json(words=WORDS) -> dict:
    return {"words": [{"word": w, "start": s, "end": e} for w, s, e in words]}


@pytest.fixture(scope="module")
def clips(media_dir: Path) -> Path:
    folder = media_dir / "highlight"
    folder.mkdir()
    make_video(folder / "wide.mp4", seconds=4.0, size="640x360", rate=RATE, source="color")
    make_video(folder / "hd_wide.mp4", seconds=0.4, size="1920x1080", rate=5, source="color", audio=False)
    make_video(folder / "hd_tall.mp4", seconds=0.4, size="1080x1920", rate=5, source="color", audio=False)
    (folder / "words.json").write_text(json.dumps(words_json()))
    return folder


def highlight(media_server: str, video: str = "wide.mp4", words: str = "words.json", job_id: str = "hl",
              **options) -> dict:
    job = {"operation": "caption_highlight", "url_video": f"{media_server}/highlight/{video}",
           "url_words_json": f"{media_server}/highlight/{words}", "path": "videos/output", "style": STYLE,
           **options}
    if "url_srt" in options:
        del job["url_words_json"]
    return run_job(job, job_id=job_id)


_RENDERED: dict[str, np.ndarray] = {}


def rendered(media_server: str, highlight_mode: str) -> np.ndarray:
    """The decoded frames of the words clip in one mode, rendered once per test run."""
    if highlight_mode not in _RENDERED:
        result = highlight(media_server, output_filename=f"{highlight_mode}.mp4", highlight_mode=highlight_mode)
        _RENDERED[highlight_mode] = frames(local_output(result))
    return _RENDERED[highlight_mode]


def near(frame: np.ndarray, colour: tuple[int, int, int], reach: int = 60) -> np.ndarray:
    """A mask of the pixels within `reach` of `colour` (each channel)."""
    return (np.abs(frame.astype(np.int16) - np.array(colour)) < reach).all(axis=-1)


def columns(mask: np.ndarray) -> tuple[int, int]:
    xs = np.nonzero(mask.any(axis=0))[0]
    assert xs.size, "nothing of that colour in the frame"
    return int(xs[0]), int(xs[-1])


def top_edge_filled(mask: np.ndarray) -> float:
    """The share of the mask's width that is set 2 pixels below its top: near 1 for a box."""
    ys, xs = np.nonzero(mask)
    return float(mask[ys.min() + 2, xs.min():xs.max() + 1].mean())


def text(frame: np.ndarray) -> np.ndarray:
    """Glyph pixels of resting (white) and highlighted (yellow) words: bright in red and green."""
    return (frame[..., 0] > 170) & (frame[..., 1] > 170)


@pytest.fixture
def box_frames(media_server, clips) -> np.ndarray:
    return rendered(media_server, highlight_mode="box")


def word_spans(frame: np.ndarray) -> list[tuple[int, int]]:
    """The column spans of the words on screen: runs of glyph columns, split where a gap is wider than 5 px
    (letters of one word are closer; a space at this size is about 9 px)."""
    xs = np.nonzero(text(frame).any(axis=0))[0]
    breaks = np.nonzero(np.diff(xs) > 5)[0]
    return [(int(xs[a]), int(xs[b])) for a, b in zip([0, *(breaks + 1)], [*breaks, len(xs) - 1], strict=True)]


def test_the_box_is_behind_the_spoken_word_only_and_nothing_shows_between_captions(box_frames):
    spans = word_spans(box_frames[IN_FIRST])
    assert len(spans) == 4  # I wonderful big day
    for frame, spoken in ((IN_FIRST, 0), (FILL_80, 1), (IN_SECOND, 2)):
        red = near(box_frames[frame], RED)
        left, right = columns(red)
        word_left, word_right = spans[spoken]
        assert left < word_left and word_right < right  # the box is around word k...
        assert word_left - left < 12 and right - word_right < 12  # ...and only around it
        for other, (other_left, other_right) in enumerate(spans):
            if other != spoken:  # ...not around word k - 1 or any other
                assert not red[:, other_left:other_right + 1].any(), (frame, other)
        # the spoken word's letters are in the highlighted-text colour, on the box
        assert near(box_frames[frame], YELLOW)[:, word_left:word_right + 1].sum() > 20
    assert box_frames[BETWEEN].max() < 40  # nothing drawn between the captions: the black clip, untouched
    assert box_frames[0].max() < 40


def test_modes_look_as_they_say(media_server, clips, box_frames):
    looks = {mode: rendered(media_server, highlight_mode=mode) for mode in ("outline", "color", "karaoke", "pop")}
    looks["box"] = box_frames
    reds = {mode: int(near(video[IN_SECOND], RED).sum()) for mode, video in looks.items()}
    yellows = {mode: int(near(video[IN_SECOND], YELLOW).sum()) for mode, video in looks.items()}
    # box: a filled shape with a straight top edge; outline: a ring that follows the letters
    assert top_edge_filled(near(looks["box"][IN_SECOND], RED)) > 0.7
    assert reds["outline"] > 100 and top_edge_filled(near(looks["outline"][IN_SECOND], RED)) < 0.6
    assert reds["color"] == reds["pop"] == 0
    assert yellows["color"] > 50
    # pop: the spoken word is drawn bigger for a moment (frame 17 is 100 ms into "big"), then settles
    assert near(looks["pop"][17], YELLOW).sum() > 1.15 * near(looks["color"][17], YELLOW).sum()
    assert near(looks["pop"][IN_SECOND + 1], YELLOW).sum() == pytest.approx(yellows["color"], rel=0.1)  # settled
    # karaoke: the fill goes left to right through the word over its duration
    early, late = near(looks["karaoke"][FILL_20], YELLOW), near(looks["karaoke"][FILL_80], YELLOW)
    assert 0 < early.sum() < 0.6 * late.sum()
    assert columns(early)[0] == pytest.approx(columns(late)[0], abs=3)
    assert columns(early)[1] < columns(late)[1]


@pytest.mark.parametrize("mode", ["color", "pop"])
def test_resting_words_never_move(media_server, clips, mode):
    video = rendered(media_server, highlight_mode=mode)
    moments = [IN_FIRST, FILL_20, FILL_80, IN_SECOND, 22]  # each word of the first caption in turn
    still = text(video[IN_FIRST])
    for n in moments[1:]:
        now = text(video[n])
        active = near(video[n], YELLOW)
        left, right = columns(active)
        resting = np.ones(still.shape, bool)
        resting[:, max(left - 12, 0):right + 13] = False  # away from the spoken word (and pop's growth)
        first_active = columns(near(video[IN_FIRST], YELLOW))
        resting[:, max(first_active[0] - 12, 0):first_active[1] + 13] = False
        differs = (still ^ now) & resting
        assert differs.sum() < 0.02 * (still & resting).sum(), f"frame {n}"


def test_text_height_is_the_same_share_of_the_frame_on_vertical_and_horizontal(media_server, clips):
    heights = {}
    for video in ("hd_wide.mp4", "hd_tall.mp4"):
        words = [("Hello", 0.0, 0.2), ("big", 0.2, 0.4)]
        (clips / "short.json").write_text(json.dumps(words_json(words)))
        out = frames(local_output(highlight(media_server, video, "short.json", output_filename=video,
                                            highlight_mode="color", style={"tamanho_fonte": 72})))
        rows = np.nonzero(text(out[0]).any(axis=1))[0]
        heights[video] = (rows[-1] - rows[0] + 1) / out.shape[1]
    assert heights["hd_tall.mp4"] == pytest.approx(heights["hd_wide.mp4"], rel=0.05)


def whisper_shapes() -> dict[str, object]:
    plain = words_json()["words"]
    spaced = [{**w, "word": " " + w["word"]} for w in plain]
    untimed = [dict(w) for w in plain]
    del untimed[2]["start"], untimed[2]["end"]  # WhisperX leaves some words untimed: the gap is shared
    return {
        "list.json": plain,
        "segments.json": {"text": "...", "segments": [{"words": spaced[:4]}, {"words": spaced[4:]}]},
        "whisper_words.json": {"task": "transcribe", "words": spaced},
        "whisperx.json": {"segments": [], "word_segments": untimed},
    }


def test_every_words_shape_gives_the_same_frames(media_server, clips):
    reference = rendered(media_server, highlight_mode="karaoke")  # karaoke: the word ends show too
    for name, document in whisper_shapes().items():
        (clips / name).write_text(json.dumps(document))
        result = highlight(media_server, words=name, output_filename=name + ".mp4",
                           highlight_mode="karaoke")
        assert np.abs(frames(local_output(result)).astype(np.int16) - reference).max() <= 2, name


def test_an_srt_gives_words_spread_over_each_cue(media_server, clips):
    (clips / "cues.srt").write_text("1\n00:00:00,200 --> 00:00:02,400\nI wonderful big day\n")
    result = highlight(media_server, url_srt=f"{media_server}/highlight/cues.srt", highlight_mode="box",
                       output_filename="srt.mp4")
    assert (result["words"], result["captions"]) == (4, 1)
    video = frames(local_output(result))
    # "wonderful" holds 9 of the 16 letters: spoken from 0.2 + 2.2 * 1/16 s to 0.2 + 2.2 * 10/16 s
    assert near(video[6], RED).any() and not near(video[6], RED)[:, :columns(near(video[3], RED))[1] + 1].any()


def test_the_reference_job_as_sent(media_server, clips, bucket, worker_env):
    style = {"fonte": "Arial Black", "tamanho_fonte": 72, "fundo_cor_r": 0, "fundo_cor_g": 0, "fundo_cor_b": 0,
             "fundo_opacidade": 128, "fundo_arredondado": True, "texto_cor_r": 255, "texto_cor_g": 255,
             "texto_cor_b": 255, "highlight_texto_cor_r": 255, "highlight_texto_cor_g": 255,
             "highlight_texto_cor_b": 0, "highlight_cor_r": 214, "highlight_cor_g": 0, "highlight_cor_b": 0,
             "highlight_borda": 12, "padding_horizontal": 40, "padding_vertical": 80, "words_per_line": 4,
             "max_lines": 2, "alignment": 2, "uppercase": False}
    job = {"operation": "caption_highlight", "url_video": f"{media_server}/highlight/wide.mp4",
           "url_words_json": f"{media_server}/highlight/words.json", "path": "videos/output/",
           "output_filename": "hl.mp4", "style": style,
           "s3_config": {"endpoint_url": bucket["BUCKET_ENDPOINT_URL"], "access_key": bucket["BUCKET_ACCESS_KEY_ID"],
                         "secret_key": bucket["BUCKET_SECRET_ACCESS_KEY"], "bucket_name": bucket["BUCKET_NAME"],
                         "region": "us-east-1"}}
    result = run_job(job)
    assert result["success"] is True
    assert result["message"] == "Caption highlight added and uploaded to S3 successfully"
    assert (result["filename"], result["s3_key"]) == ("hl.mp4", "videos/output/hl.mp4")
    assert result["video_url"].startswith(bucket["BUCKET_ENDPOINT_URL"])
    assert (result["words"], result["captions"], result["width"], result["height"]) == (6, 1, 640, 360)
    assert result["duration"] == pytest.approx(4.0, abs=0.1)
    assert result["warnings"] == ["style.fonte: font 'Arial Black' is not installed; the similar 'Roboto Black' "
                                  "was used."]
    assert {"encoder", "size_bytes", "timings"} <= set(result)
    assert stored_keys(bucket) == ["videos/output/hl.mp4"]
    body = s3_client(bucket).get_object(Bucket=bucket["BUCKET_NAME"], Key="videos/output/hl.mp4")["Body"].read()
    assert len(body) == result["size_bytes"]
    assert leftover_workdirs(worker_env) == []


def test_hex_colours_and_the_structured_style_are_accepted(media_server, clips):
    style = {"font": {"name": "DejaVu Sans", "size": 110}, "highlight_cor": "#00C800", "padding_vertical": 20,
             "colors": {"background": "#00000000"}}
    video = frames(local_output(highlight(media_server, style=style, output_filename="hex.mp4")))
    assert near(video[IN_SECOND], (0, 200, 0)).sum() > 100
    assert near(video[IN_SECOND], RED).sum() == 0


def test_words_past_the_end_out_of_order_and_overlapping_are_fixed_with_warnings(media_server, clips):
    messy = [("late", 3.9, 4.6), ("again", 2.8, 3.5), ("I", 0.2, 0.6), ("now", 3.4, 3.8), ("gone", 4.5, 5.0)]
    (clips / "messy.json").write_text(json.dumps(words_json(messy)))
    result = highlight(media_server, words="messy.json", output_filename="messy.mp4")
    assert result["warnings"][1:] == [
        "url_words_json: the words were not in time order and were sorted.",
        "url_words_json: words past the video's end (4.00 s) were cut there (1 dropped).",
        "url_words_json: 1 word overlapped the next and was trimmed to end where it starts.",
    ]
    assert result["words"] == 4


def test_braces_and_backslashes_are_drawn_as_text(media_server, clips):
    hostile = [("{\\pos(0,0)}", 0.2, 1.0), ("{\\fs300}x\\N", 1.0, 2.0)]
    (clips / "hostile.json").write_text(json.dumps(words_json(hostile)))
    video = frames(local_output(highlight(media_server, words="hostile.json", output_filename="braces.mp4",
                                          highlight_mode="color", style={"tamanho_fonte": 60})))
    ink = text(video[5])
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    assert rows[0] > 200  # not moved to the top-left corner
    assert rows[-1] - rows[0] < 40  # not blown up to size 300, one line
    assert cols[-1] - cols[0] > 120  # the codes are visible characters (156 pixels of them)
