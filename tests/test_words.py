"""Word timings read from every shape transcription tools write, fitted, grouped; sentence breaks for SRT cues."""

from __future__ import annotations

import json

import pytest

from video_ops.base.errors import JobError
from video_ops.subtitles.grouping import group
from video_ops.subtitles.markup import break_after_sentences, to_ass_text
from video_ops.subtitles.srt import Cue
from video_ops.subtitles.words import Word, fit_words, read_words, words_from_cues

WORDS = [Word("Hello", 0.0, 0.4), Word("big", 0.5, 0.8), Word("world.", 0.9, 1.5)]


def shapes() -> dict[str, object]:
    """The same three words in each shape the worker reads."""
    plain = [{"word": w.text, "start": w.start, "end": w.end} for w in WORDS]
    whisper = [{"word": " " + w.text, "start": w.start, "end": w.end, "probability": 0.9} for w in WORDS]
    return {
        "reference": {"words": plain},
        "list": plain,
        "verbose_json segments": {"text": "Hello big world.", "segments": [
            {"id": 0, "start": 0.0, "end": 0.8, "text": " Hello big", "words": whisper[:2]},
            {"id": 1, "start": 0.9, "end": 1.5, "text": " world.", "words": whisper[2:]}]},
        "verbose_json words": {"task": "transcribe", "text": "Hello big world.", "words": whisper},
        "whisperx": {"segments": [{"start": 0.0, "end": 1.5, "text": "Hello big world."}], "word_segments": [
            {"word": "Hello", "start": 0.0, "end": 0.4, "score": 0.9}, {"word": "big", "start": 0.5, "end": 0.8},
            {"word": "world.", "start": 0.9, "end": 1.5}]},
    }


@pytest.mark.parametrize("shape", list(shapes()))
def test_every_shape_gives_the_same_words(shape):
    assert read_words(json.dumps(shapes()[shape]).encode(), "url_words_json") == WORDS


def test_whisperx_words_without_times_are_interpolated_between_their_neighbours():
    data = {"word_segments": [{"word": "It", "start": 1.0, "end": 1.2}, {"word": "costs"},
                              {"word": "$5"}, {"word": "today", "start": 2.0, "end": 2.4}]}
    words = read_words(json.dumps(data).encode(), "url_words_json")
    assert [(w.text, round(w.start, 3), round(w.end, 3)) for w in words] == [
        ("It", 1.0, 1.2), ("costs", 1.2, 1.6), ("$5", 1.6, 2.0), ("today", 2.0, 2.4)]


def test_whisper_tokens_are_stripped_and_punctuation_joins_the_word_before():
    data = [{"word": "  Hi", "start": 0, "end": 0.3}, {"word": " ,", "start": 0.3, "end": 0.35},
            {"word": " there ", "start": 0.4, "end": 0.7}, {"word": "?", "start": 0.7, "end": 0.8},
            {"word": "   ", "start": 0.8, "end": 0.9}]
    words = read_words(json.dumps(data).encode(), "url_words_json")
    assert words == [Word("Hi,", 0, 0.35), Word("there?", 0.4, 0.8)]


@pytest.mark.parametrize(("document", "error"), [
    ({"words": []}, "url_words_json: the file holds no words; expected "),
    ({"transcript": "hi"}, "url_words_json: expected "),
    ("words", "url_words_json: expected "),
    ([{"word": "a", "start": 2, "end": 1}], "url_words_json: [0] ends (1 s) before it starts (2 s)."),
    ({"words": [{"word": "a", "start": -1, "end": 1}]},
     "url_words_json: words[0].start must be a finite number of seconds, 0 or more (got -1)."),
    ({"segments": [{"words": [{"word": "a", "start": "x", "end": 1}]}]},
     "url_words_json: segments[0].words[0].start must be a number of seconds."),
    ([{"start": 0, "end": 1}], 'url_words_json: [0] has no "word" text.'),
    ([{"word": "a"}], "url_words_json: no word has both a start and an end time."),
])
def test_bad_words_files_fail_naming_the_word(document, error):
    with pytest.raises(JobError) as caught:
        read_words(json.dumps(document).encode(), "url_words_json")
    assert str(caught.value).startswith(error)


def test_nan_and_non_json_are_refused():
    with pytest.raises(JobError, match=r"words\[0\]\.end must be a finite number"):
        read_words(b'{"words": [{"word": "a", "start": 0, "end": NaN}]}', "url_words_json")
    with pytest.raises(JobError, match="not valid UTF-8 JSON"):
        read_words(b"\x89PNG\r\n", "url_words_json")


def test_fitting_sorts_trims_and_cuts_with_warnings():
    words = [Word("b", 1.0, 1.6), Word("a", 0.0, 1.2), Word("c", 1.5, 3.0), Word("d", 3.5, 4.0)]
    fitted = fit_words(words, 2.0, "url_words_json")
    assert fitted.words == [Word("a", 0.0, 1.0), Word("b", 1.0, 1.5), Word("c", 1.5, 2.0)]
    assert fitted.warnings == [
        "url_words_json: the words were not in time order and were sorted.",
        "url_words_json: words past the video's end (2.00 s) were cut there (1 dropped).",
        "url_words_json: 2 words overlapped the next and were trimmed to end where it starts.",
    ]
    with pytest.raises(JobError, match="every word starts after the video ends"):
        fit_words([Word("late", 5, 6)], 2.0, "url_words_json")


def test_srt_cue_time_is_spread_over_its_words_by_length():
    words = words_from_cues([Cue(1000, 2000, "<i>ab</i> abcd\\Nabcd", 1)])
    assert [(w.text, round(w.start, 3), round(w.end, 3)) for w in words] == [
        ("ab", 1.0, 1.2), ("abcd", 1.2, 1.6), ("abcd", 1.6, 2.0)]


def test_grouping_follows_the_reference():
    timed = [Word(f"w{n}", n * 0.5, n * 0.5 + 0.4) for n in range(9)]
    timed[5] = Word("end.", 2.5, 2.9)
    captions = group(timed, words_per_line=4, max_lines=2)
    assert [[[w.text for w in line] for line in c.lines] for c in captions] == [
        [["w0", "w1", "w2", "w3"], ["w4", "end."]], [["w6", "w7", "w8"]]]
    slow = [Word(f"s{n}", n * 2.0, n * 2.0 + 1) for n in range(4)]  # a line lasts at most 5 s
    assert [len(line) for line in group(slow, 4, 9)[0].lines] == [3, 1]


@pytest.mark.parametrize(("text", "broken"), [
    ("One. Two", "One.\\NTwo"),
    ("Wait... what. Yes", "Wait... what.\\NYes"),
    ("Mr. Smith and Dr. Who met Sr. Silva. Then", "Mr. Smith and Dr. Who met Sr. Silva.\\NThen"),
    ("J. R. R. Tolkien wrote. It", "J. R. R. Tolkien wrote.\\NIt"),
    ("End.", "End."),
])
def test_a_line_break_follows_each_sentence_end(text, broken):
    assert break_after_sentences(text) == broken


def test_uppercase_changes_text_only_never_codes():
    assert to_ass_text("{\\an8}<font color=\"#ff0000\">olá</font> {x}", uppercase=True) == \
        "{\\an8}{\\c&H0000FF&}OLÁ{\\c} \\{X}"


def test_a_words_file_with_too_many_words_is_refused(monkeypatch):
    monkeypatch.setattr("video_ops.subtitles.words.MAX_WORDS", 2)
    with pytest.raises(JobError, match=r"^url_words_json: the file holds 3 words; at most 2 are accepted\.$"):
        read_words(json.dumps(shapes()["list"]).encode(), "url_words_json")
