"""transcribe's files from known segment and word timings, read back with real readers: pysubs2 for SRT,
VTT and ASS, caption_highlight's own reader for the words file; and the timed-text rules its subtitle cues
follow, on words whose timings are known."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pysubs2
import pytest

from video_ops.subtitles.cues import CueRules, cues_from_words
from video_ops.subtitles.transcript import Segment, srt_text, transcript_cues, vtt_text, write_transcript
from video_ops.subtitles.words import Word, read_words

HOSTILE = "C:\\new {\\pos(0,0)} folder}\n\nsecond line --> <b>&</b>"
SEGMENTS = [
    Segment(0.0004, 1.2346, " Hello there, world.", [Word("Hello", 0.0004, 0.4996), Word("there,", 0.5, 0.9876),
                                                      Word("world.", 1.0011, 1.2346)]),
    Segment(2.0, 4.0015, HOSTILE, [Word("C:\\new", 2.0, 2.4), Word("{\\pos(0,0)}", 2.5, 3.0), Word("folder}", 3.1, 3.5),
                                   Word("-->", 3.6, 4.0015)]),
    Segment(3725.0626, 3726.9995, "An hour later", [Word("An", 3725.0626, 3725.5), Word("hour", 3725.5, 3726.0),
                                                    Word("later", 3726.1, 3726.9995)]),
]
OVERRIDE = re.compile(r"(?<!\\)\{[^{}]*\}")
KARAOKE = re.compile(r"\{\\kf?\d+\}")
MS = [(1, 1235), (2000, 4002), (3725063, 3727000)]  # on the millisecond grid, never before the words


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return write_transcript(tmp_path, SEGMENTS, transcript_cues(SEGMENTS, None, None, CueRules()), "en", 3727.5)


def test_srt_and_vtt_parse_with_the_times_to_the_millisecond(files: dict[str, Path]) -> None:
    for name in ("segments.srt", "segments.vtt"):
        subs = pysubs2.load(str(files[name]))
        assert [(event.start, event.end) for event in subs] == MS, name
        assert subs[0].plaintext == "Hello there, world."
    # the words as typed; `-->` cannot fake a timing line
    assert "\nC:\\new {\\pos(0,0)} folder} ->\n" in files["segments.srt"].read_text()
    assert "\nC:\\new {\\pos(0,0)} folder} --&gt;\n" in files["segments.vtt"].read_text()


def test_srt_text_keeps_its_lines_and_cannot_fake_a_cue() -> None:
    subs = pysubs2.SSAFile.from_string(srt_text(SEGMENTS))
    assert len(subs) == 3  # the blank line and the `-->` inside the text start no cue
    first, second = subs[1].text.split("\\N")  # pysubs2 joins an SRT cue's lines with ASS's \N
    assert first == "C:\\new {\\pos(0,0)} folder}" and second.startswith("second line -> ")
    raw = srt_text(SEGMENTS)
    assert "\n\n\n" not in raw and "second line ->" in raw


def test_vtt_escapes_its_markup() -> None:
    raw = vtt_text(SEGMENTS)
    assert raw.startswith("WEBVTT\n\n")
    assert "C:\\new {\\pos(0,0)} folder}\nsecond line --&gt; &lt;b&gt;&amp;&lt;/b&gt;\n\n" in raw


def test_karaoke_ass_draws_braces_and_backslashes_as_typed(files: dict[str, Path]) -> None:
    subs = pysubs2.load(str(files["words.ass_karaoke"]))
    assert [(event.start, event.end) for event in subs] == [(0, 1240), (2000, 4000), (3725060, 3727000)]
    hostile = subs[1].text
    # Only \k / \kf blocks are override codes: a typed `{` is written `\{`, a typed `\` cannot start a code.
    assert [block for block in OVERRIDE.findall(hostile) if not KARAOKE.fullmatch(block)] == [], hostile
    shown = KARAOKE.sub("", hostile).replace("\\{", "{").replace("\u2060", "")
    assert shown == "C:\\new {\\pos(0,0)} folder} -->"
    assert not re.search(r"\\[A-Za-z]", hostile.replace("\\k", "").replace("\\{", ""))


def test_karaoke_timing_follows_the_words_on_the_centisecond_grid(files: dict[str, Path]) -> None:
    first = pysubs2.load(str(files["words.ass_karaoke"]))[0].text
    assert first == "{\\kf50}Hello {\\kf49}there, {\\k1}{\\kf23}world."
    durations = [int(part.split("}")[0].lstrip("\\kf")) for part in first.split("{")[1:]]
    assert sum(durations) == 123  # the last word ends at 1.23 s on the grid: no drift


def test_words_file_reads_with_caption_highlights_reader(files: dict[str, Path]) -> None:
    words = read_words(files["words.json"].read_bytes(), "url_words_json")
    assert [(w.text, w.start, w.end) for w in words[:3]] == [("Hello", 0.0, 0.5), ("there,", 0.5, 0.988),
                                                             ("world.", 1.001, 1.235)]
    assert words[-1] == Word("later", 3726.1, 3727.0)
    document = json.loads(files["words.json"].read_text())
    assert document["language"] == "en" and len(document["words"]) == 10


def test_segments_file_reads_as_whisper_verbose_json(files: dict[str, Path]) -> None:
    document = json.loads(files["segments.json"].read_text())
    assert [(s["start"], s["end"]) for s in document["segments"]] == [(0.0, 1.235), (2.0, 4.002), (3725.063, 3727.0)]
    assert document["segments"][1]["text"] == "C:\\new {\\pos(0,0)} folder} second line --> <b>&</b>"
    assert len(read_words(files["segments.json"].read_bytes(), "url_words_json")) == 9  # `-->` joins "folder}"


def test_no_speech_gives_empty_files_that_still_parse(tmp_path: Path) -> None:
    files = write_transcript(tmp_path, [], [], "en", 5.0)
    for name in ("segments.srt", "segments.vtt", "words.ass_karaoke"):
        assert len(pysubs2.load(str(files[name]), format_=name.rsplit(".", 1)[-1].replace("ass_karaoke", "ass"))) == 0
    assert json.loads(files["words.json"].read_text())["words"] == []
    assert karaoke_cues(files["words.vtt_karaoke"].read_text()) == [] and files["words.lrc"].read_text() == ""


VTT_STAMP = r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})"
VTT_TIMING = re.compile(rf"^{VTT_STAMP} --> {VTT_STAMP}$")
LRC_STAMP = r"(\d{2,}):([0-5]\d)\.(\d{2})"
LRC_LINE = re.compile(rf"^\[{LRC_STAMP}\](.*)$")


def _vtt_ms(hours: str, minutes: str, seconds: str, ms: str) -> int:
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(ms)


def karaoke_cues(text: str) -> list[tuple[int, int, list[int], str]]:
    """A WebVTT file read by its rules: the header, cues of a timing line and one payload line, and in the
    payload cue timestamps strictly inside the cue and increasing; (start, end, stamps, shown text)."""
    header, *blocks = text.split("\n\n")
    assert header == "WEBVTT" and text.endswith("\n\n") and blocks[-1] == ""
    cues = []
    for block in blocks[:-1]:
        timing, payload = block.split("\n")
        times = VTT_TIMING.match(timing)
        assert times, timing
        start, end = _vtt_ms(*times.groups()[:4]), _vtt_ms(*times.groups()[4:])
        assert start < end and "-->" not in payload
        stamps = [_vtt_ms(*found) for found in re.findall(rf"<{VTT_STAMP}>", payload)]
        assert all(start < stamp < end for stamp in stamps) and stamps == sorted(set(stamps)), block
        shown = re.sub(rf"<{VTT_STAMP}>", "", payload)
        assert "<" not in shown and ">" not in shown  # any other `<` would open a tag
        cues.append((start, end, stamps, shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")))
    return cues


def lrc_lines(text: str) -> list[tuple[int, list[int], str]]:
    """An enhanced LRC file read by its rules: every line `[mm:ss.xx]` then words each after `<mm:ss.xx>`,
    the times never going back; (line time, word times, shown text), in centiseconds."""
    lines, last = [], 0
    for line in text.splitlines():
        found = LRC_LINE.match(line)
        assert found, line
        at = (int(found[1]) * 60 + int(found[2])) * 100 + int(found[3])
        stamps = [(int(m) * 60 + int(s)) * 100 + int(cs) for m, s, cs in re.findall(rf"<{LRC_STAMP}>", found[4])]
        shown = re.sub(rf" ?<{LRC_STAMP}>", " ", found[4]).strip()
        assert at >= last and stamps == sorted(stamps) and all(stamp >= at for stamp in stamps), line
        assert not set("[]<>") & set(shown), line
        lines.append((at, stamps, shown))
        last = at
    return lines


def test_karaoke_vtt_marks_every_word_inside_its_cue(files: dict[str, Path]) -> None:
    cues = karaoke_cues(files["words.vtt_karaoke"].read_text())
    assert [(start, end) for start, end, _, _ in cues] == [(0, 1235), (2000, 4002), (3725063, 3727000)]  # segments
    assert [stamps for _, _, stamps, _ in cues] == [[500, 1001], [2500, 3100, 3600], [3725500, 3726100]]
    assert [shown for _, _, _, shown in cues] == ["Hello there, world.", "C:\\new {\\pos(0,0)} folder} -->",
                                                 "An hour later"]
    assert "Hello <00:00:00.500>there, <00:00:01.001>world." in files["words.vtt_karaoke"].read_text()


def test_karaoke_vtt_joins_a_word_its_cue_cannot_time(tmp_path: Path) -> None:
    """A word starting with its cue, or at or after its end, cannot carry a stamp there: it joins the one before."""
    squeezed = [Segment(5.0, 6.0, "a b c", [Word("a", 5.0, 5.2), Word("b", 5.0, 5.5), Word("c", 6.0, 6.2)]),
                Segment(7.0, 8.0, "no words here", [])]
    files = write_transcript(tmp_path, squeezed, [], "en", 8.0)
    assert karaoke_cues(files["words.vtt_karaoke"].read_text()) == [(5000, 6000, [], "a b c"),
                                                                   (7000, 8000, [], "no words here")]


def test_lrc_times_each_word_and_clears_the_lyric_in_pauses(files: dict[str, Path]) -> None:
    lines = lrc_lines(files["words.lrc"].read_text())
    assert lines == [
        (0, [0, 50, 100, 123], "Hello there, world."), (123, [], ""),
        (200, [200, 250, 310, 360, 400], "C:\\new {\\pos(0,0)} folder} --\u203a"), (400, [], ""),
        (372506, [372506, 372550, 372610, 372700], "An hour later"), (372700, [], ""),
    ]
    assert files["words.lrc"].read_text().startswith("[00:00.00]<00:00.00>Hello <00:00.50>there, ")


def test_lrc_words_never_go_back_before_their_line(tmp_path: Path) -> None:
    early = [Segment(1.0, 2.0, "[x] y", [Word("[x]", 0.9, 1.2), Word("y", 1.1, 1.9)]),
             Segment(2.0, 3.0, "z", [Word("z", 2.0, 2.5)])]
    files = write_transcript(tmp_path, early, [], "en", 3.0)
    assert lrc_lines(files["words.lrc"].read_text()) == [(100, [100, 110, 190], "(x) y"), (200, [200, 250], "z"),
                                                        (300, [], "")]


def spoken(text: str, start: float = 0.5, per_char: float = 0.06, between: float = 0.04) -> list[Word]:
    """Words timed as steady speech: each lasts by its length, a short breath between them."""
    words, at = [], start
    for token in text.split():
        words.append(Word(token, at, round(at + 0.1 + per_char * len(token), 3)))
        at = words[-1].end + between
    return words


LONG = ("The committee met again this morning to review the proposal for the new bridge across the river "
        "while the engineers waited outside with their drawings and their models of the towers")


def test_cues_keep_to_42_characters_and_two_balanced_lines() -> None:
    cues = cues_from_words(spoken(LONG), (1920, 1080), 25, CueRules())
    assert len(cues) > 1 and all(len(cue.lines) <= 2 for cue in cues)
    assert max(len(line) for cue in cues for line in cue.lines) <= 42
    assert " ".join(" ".join(cue.lines) for cue in cues) == LONG  # every word, in order, once
    two = [cue.lines for cue in cues if len(cue.lines) == 2]
    assert two and all(abs(len(a) - len(b)) <= 12 for a, b in two), two


def test_a_frame_taller_than_wide_gets_32_characters_and_a_sound_alone_42() -> None:
    portrait = cues_from_words(spoken(LONG), (1080, 1920), 30, CueRules())
    assert max(len(line) for cue in portrait for line in cue.lines) <= 32
    assert max(len(line) for cue in portrait for line in cue.lines) > 26  # the room is used
    alone = cues_from_words(spoken(LONG), None, None, CueRules())
    assert max(len(line) for cue in alone for line in cue.lines) > 32
    narrow = cues_from_words(spoken(LONG), (1920, 1080), 25, CueRules(max_chars_per_line=20, max_lines=1))
    assert all(len(cue.lines) == 1 and len(cue.lines[0]) <= 20 for cue in narrow)


def test_lines_break_after_punctuation_and_before_conjunctions_not_inside_a_phrase() -> None:
    [comma] = cues_from_words(spoken("We looked everywhere for the keys, but nobody had seen them"), None, 25,
                              CueRules())
    assert comma.lines == ("We looked everywhere for the keys,", "but nobody had seen them")
    [conjunction] = cues_from_words(spoken("She opened the window of the kitchen because the room was hot"), None,
                                    25, CueRules())
    assert conjunction.lines == ("She opened the window of the kitchen", "because the room was hot")
    [phrase] = cues_from_words(spoken("Please bring the heavy wooden table to the garden room now"), None, 25,
                               CueRules())
    assert not phrase.lines[0].endswith((" the", " to")), phrase.lines  # an article stays with its noun


def test_a_sentence_end_and_a_pause_close_a_cue() -> None:
    words = [*spoken("Stop."), *spoken("Then we walked home", start=2.0), *spoken("in silence", start=5.0)]
    assert [cue.text for cue in cues_from_words(words, None, 25, CueRules())] == [
        "Stop.", "Then we walked home", "in silence"]


def test_a_short_cue_is_held_into_the_silence_but_not_over_the_next_word() -> None:
    words = [Word("Yes.", 1.0, 1.2), Word("No.", 1.5, 1.7), Word("Maybe.", 5.0, 5.3)]
    first, second, third = cues_from_words(words, None, None, CueRules())  # 25 fps: 2 frames are 80 ms
    assert (first.start, first.end) == (1.0, 1.42)  # held until the next word less 2 frames
    assert (second.start, second.end) == (1.5, 2.33)  # 0.83 s: the silence after it allows
    assert (third.start, third.end) == (5.0, 5.83)
    at_50 = cues_from_words(words, None, 50.0, CueRules())
    assert at_50[0].end == 1.46  # 2 frames at 50 fps: 40 ms


def test_cues_never_start_before_their_first_word_nor_end_before_their_last() -> None:
    """Words that touch: the next cue waits two frames after the one before, which keeps its last word whole."""
    words = spoken(LONG, between=0.0)
    cues = cues_from_words(words, None, 24, CueRules(max_duration_s=3))
    for cue, after in itertools.pairwise(cues):
        assert after.start - cue.end >= 2 / 24 - 0.001
    for cue in cues:
        assert cue.start >= cue.words[0].start and cue.end >= cue.words[-1].end
        assert cue.end - cue.start <= 3 + 2 / 24 and cue.end - cue.start >= 0.83 - 0.001


def test_a_long_sentence_splits_at_the_longest_duration() -> None:
    slow = spoken("one two three four five six seven eight nine ten", per_char=0.3)
    cues = cues_from_words(slow, None, 25, CueRules(max_duration_s=4))
    assert len(cues) > 2 and all(cue.words[-1].end - cue.words[0].start <= 4 for cue in cues)
