"""SRT files as real users have them: legacy code pages of many languages, timing lines players read
although the format forbids them, and cues placed apart by `{\\anN}`."""

from __future__ import annotations

import pytest

from video_ops.base.errors import JobError
from video_ops.subtitles.ass import write_script
from video_ops.subtitles.charset import decode
from video_ops.subtitles.markup import to_ass_text
from video_ops.subtitles.srt import read_srt
from video_ops.subtitles.style import resolve
from video_ops.subtitles.timeline import fit

# Real sentences of each language, as subtitles say them.
SENTENCES = {
    "serbian-croatian": ("cp1250", ["Čekaj, šta će đak reći na to?", "Žao mi je, ne znam ništa o tome.",
                                    "Možeš li mi pomoći sutra ujutru?"]),
    "czech": ("cp1250", ["Příliš žluťoučký kůň úpěl ďábelské ódy.", "Děkuji, že jste přišli tak brzy."]),
    "polish": ("cp1250", ["Dziękuję bardzo, to było naprawdę świetne.", "Zażółć gęślą jaźń, proszę pani."]),
    "hungarian": ("cp1250", ["Köszönöm szépen, nagyon örülök, hogy itt vagy.", "Árvíztűrő tükörfúrógép."]),
    "slovak": ("cp1250", ["Kŕdeľ šťastných ďatľov učí pri ústí Váhu mĺkveho koňa.", "Ďakujem, uvidíme sa zajtra."]),
    "slovenian": ("cp1250", ["Hvala, da si prišel.", "Čez pet minut grem v šolo, počakaj me še malo."]),
    "romanian": ("cp1250", ["Mulţumesc frumos, ne vedem mâine la şcoală.", "Îţi mulţumesc pentru tot."]),
    "polish-iso": ("iso8859_2", ["Dziękuję bardzo, to było naprawdę świetne.", "Zażółć gęślą jaźń, proszę pani."]),
    "czech-iso": ("iso8859_2", ["Příliš žluťoučký kůň úpěl ďábelské ódy.", "Děkuji, že jste přišli tak brzy."]),
    "russian": ("cp1251", ["Привет, как дела?", "Всё хорошо, спасибо. Мы идём домой."]),
    "serbian-cyrillic": ("cp1251", ["Добро јутро, како си?", "Хвала, добро сам. Видимо се љубави."]),
    "greek": ("cp1253", ["Καλημέρα, τι κάνεις;", "Ευχαριστώ, είμαι καλά. Θα τα πούμε αύριο."]),
    "turkish": ("cp1254", ["Teşekkür ederim, yarın görüşürüz.", "Çok güzel bir gün, değil mi?"]),
    "lithuanian": ("cp1257", ["Ačiū, labai gražu.", "Šiandien eisime į mokyklą su draugais."]),
    "latvian": ("cp1257", ["Šodien ir ļoti skaista diena.", "Paldies, ka atnāci uz mūsu mājām."]),
    "portuguese": ("cp1252", ["Olá, a ação começa; você não vê?", "Não, obrigado. Até amanhã!"]),
}


def srt(lines: list[str]) -> str:
    return "".join(f"{n}\n00:00:0{n},000 --> 00:00:0{n},900\n{line}\n\n" for n, line in enumerate(lines, 1))


@pytest.mark.parametrize("language", list(SENTENCES))
def test_legacy_code_pages_decode_to_the_original_text(language):
    encoding, lines = SENTENCES[language]
    decoded = decode(srt(lines).encode(encoding), "url_srt")
    assert decoded.guessed
    assert [cue.text for cue in read_srt(decoded.text, "url_srt").cues] == lines, decoded.encoding


def test_a_central_european_file_is_not_read_as_western():
    """The file that started it: Serbian in Windows-1250 came out with `Ð` and `æ`."""
    decoded = decode(srt(SENTENCES["serbian-croatian"][1]).encode("cp1250"), "url_srt")
    assert decoded.encoding == "cp1250"
    assert not set("ÐðæÈ") & set(decoded.text)


# --- timing lines ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cues", "warning"),
    [
        ("1\n00:00:013,567 --> 00:00:015,000\nHello\n\n2\n00:00:16,000 --> 00:00:17,000\nBye\n",
         [(13567, 15000, "Hello"), (16000, 17000, "Bye")],
         "url_srt: line 2's timing '00:00:013,567 --> 00:00:015,000' is not standard SRT; it was read as players "
         "read it (00:00:13,567 --> 00:00:15,000)."),
        ("1\n00:00:01 --> 00:00:10\nOne\n\n2\n00:11,500 --> 00:12,000\nTwo\n\n3\n00:00:13,000 --> 00:00:14\nThree\n",
         [(1000, 10000, "One"), (11500, 12000, "Two"), (13000, 14000, "Three")],
         "url_srt: line 2's timing '00:00:01 --> 00:00:10' is not standard SRT; it was read as players read it "
         "(00:00:01,000 --> 00:00:10,000); 2 more such timing lines were read so."),
        ("1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:03,000 --> 4\nlost\nlines\n\n"
         "3\n00:00:05,000 --> 00:00:06,000\nalso fine\n",
         [(1000, 2000, "fine"), (5000, 6000, "also fine")],  # `lost` joins no other cue
         "url_srt: line 6's timing '00:00:03,000 --> 4' cannot be read (expected hours:minutes:seconds,milliseconds, "
         "like 00:00:01,000 --> 00:00:04,000); its cue was skipped."),
    ],
    ids=["three-digit-seconds", "no-milliseconds-or-hours", "unreadable"],
)
def test_timing_lines_are_read_as_players_read_them(text, cues, warning):
    subtitles = read_srt(text, "url_srt")
    assert [(c.start_ms, c.end_ms, c.text) for c in subtitles.cues] == cues
    assert subtitles.warnings == [warning]


def test_standard_timings_give_no_warning():
    text = "1\n00:00:01,000 --> 00:00:02,000 X1:40 X2:600 Y1:20 Y2:50\nOne\n\n2\n0:0:3.5 -> 00:00:04,000\nTwo\n"
    subtitles = read_srt(text, "url_srt")
    assert [(c.start_ms, c.end_ms) for c in subtitles.cues] == [(1000, 2000), (3500, 4000)]
    assert subtitles.warnings == []


def test_a_file_with_no_readable_timing_fails():
    with pytest.raises(JobError, match="url_srt: no cue can be read; line 2 looks like a cue timing"):
        read_srt("1\n00:00:01,000 -->\nx\n\n2\n99 --> 100\ny\n", "url_srt")


# --- positions --------------------------------------------------------------------------------------------------


def test_cues_starting_together_in_different_places_keep_their_places():
    text = "1\n00:00:01,000 --> 00:00:03,000\n{\\an8}Speaker at the top\n\n2\n00:00:01,000 --> 00:00:02,000\nBottom\n"
    timeline = fit(read_srt(text, "url_srt").cues, 10, "url_srt")
    assert [(c.start_ms, c.end_ms, to_ass_text(c.text)) for c in timeline.cues] == [
        (1000, 3000, "{\\an8}Speaker at the top"), (1000, 2000, "Bottom")]
    assert timeline.warnings == []


def test_cues_starting_together_in_one_place_merge_without_printing_the_tag():
    text = "1\n00:00:01,000 --> 00:00:02,000\n{\\an8}One\n\n2\n00:00:01,000 --> 00:00:03,000\n{\\an8}Two\n"
    merged, = fit(read_srt(text, "url_srt").cues, 10, "url_srt").cues
    assert (merged.start_ms, merged.end_ms, to_ass_text(merged.text)) == (1000, 3000, "{\\an8}One\\NTwo")


def test_overlaps_are_fixed_within_each_place_only():
    cues = read_srt("1\n00:00:01,000 --> 00:00:05,000\n{\\an8}Sign\n\n2\n00:00:02,000 --> 00:00:03,000\nA\n\n"
                    "3\n00:00:02,500 --> 00:00:04,000\nB\n", "url_srt").cues
    timeline = fit(cues, 10, "url_srt")
    assert [(c.start_ms, c.end_ms, c.text) for c in timeline.cues] == [
        (1000, 5000, "{\\an8}Sign"), (2000, 2500, "A"), (2500, 4000, "B")]


@pytest.mark.parametrize(("srt_text", "ass"), [("<i>{\\an8}top</i>", "{\\an8}{\\i1}top{\\i0}"),
                                               ("  {\\an7}corner", "{\\an7}corner")])
def test_a_leading_position_tag_is_never_printed(srt_text, ass):
    assert to_ass_text(srt_text) == ass


def test_the_script_places_each_cue_where_its_tag_says(tmp_path):
    text = "1\n00:00:01,000 --> 00:00:03,000\n{\\an8}Top\n\n2\n00:00:01,000 --> 00:00:03,000\nBottom\n"
    script = tmp_path / "captions.ass"
    write_script(script, fit(read_srt(text, "url_srt").cues, 10, "url_srt").cues, resolve("default", None, None),
                 640, 360)
    events = [line for line in script.read_text().splitlines() if line.startswith("Dialogue:")]
    assert [event.rsplit(",", 1)[-1] for event in events] == ["{\\an8}Top", "Bottom"]
