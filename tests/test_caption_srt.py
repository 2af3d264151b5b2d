"""caption without FFmpeg: SRT files as users have them, cue timing fixes, markup, styles, fonts, input errors."""

from __future__ import annotations

import codecs
import re

import pysubs2
import pytest

from video_ops.base.errors import JobError
from video_ops.jobkit.contract import parse_input
from video_ops.ops import OPERATIONS
from video_ops.subtitles.ass import write_script
from video_ops.subtitles.charset import alphabet_score, decode
from video_ops.subtitles.colours import Rgba, parse_colour
from video_ops.subtitles.fonts import choose, installed
from video_ops.subtitles.markup import to_ass_text
from video_ops.subtitles.srt import Cue, read_srt
from video_ops.subtitles.style import PRESETS, Look, parse_force_style, resolve
from video_ops.subtitles.timeline import fit

PT = "Olá, a ação começa; você não vê?"
SRT = f"1\n00:00:01,000 --> 00:00:02,500\n{PT}\n\n2\n00:00:03,000 --> 00:00:04,000\nSegunda linha\ncom quebra\n"


def cues_of(data: bytes) -> list[Cue]:
    return read_srt(decode(data, "url_srt").text, "url_srt").cues


def expected() -> list[tuple[int, int, str]]:
    return [(1000, 2500, PT), (3000, 4000, "Segunda linha\\Ncom quebra")]


def summary(cues: list[Cue]) -> list[tuple[int, int, str]]:
    return [(c.start_ms, c.end_ms, c.text) for c in cues]


# --- the SRT corpus: one file per quirk, written byte by byte -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding", "guessed"),
    [
        (SRT.encode("utf-8"), "utf-8", False),
        (codecs.BOM_UTF8 + SRT.encode("utf-8"), "utf-8-sig", False),
        (codecs.BOM_UTF16_LE + SRT.encode("utf-16-le"), "utf-16", False),
        (codecs.BOM_UTF16_BE + SRT.encode("utf-16-be"), "utf-16", False),
        (SRT.encode("cp1252"), "cp1252", True),
        (SRT.encode("latin-1"), "cp1252", True),  # the same bytes for these letters
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "cp1252", "latin1"],
)
def test_every_common_encoding_gives_the_same_cues(data, encoding, guessed):
    decoded = decode(data, "url_srt")
    assert (decoded.encoding, decoded.guessed) == (encoding, guessed)
    assert summary(read_srt(decoded.text, "url_srt").cues) == expected()
    assert "\ufeff" not in decoded.text


def test_short_cp1252_file_is_not_mistaken_for_another_code_page():
    # charset-normalizer alone calls this cp1250 or Big5 and garbles the accents
    data = "1\n00:00:01,000 --> 00:00:02,000\nação, você, não\n".encode("cp1252")
    assert cues_of(data)[0].text == "ação, você, não"


def test_windows_1252_quotes_and_dashes_survive():
    text = "1\n00:00:01,000 --> 00:00:02,000\n“Olá” – disse ele… ¿qué? ¡sí! 5€\n"
    assert cues_of(text.encode("cp1252"))[0].text == "“Olá” – disse ele… ¿qué? ¡sí! 5€"


def test_cyrillic_code_page_is_not_read_as_western():
    text = "1\n00:00:01,000 --> 00:00:02,000\nПривет, как дела? Всё хорошо, спасибо.\n"
    decoded = decode(text.encode("cp1251"), "url_srt")
    assert decoded.encoding == "cp1251"
    assert read_srt(decoded.text, "url_srt").cues[0].text == "Привет, как дела? Всё хорошо, спасибо."


@pytest.mark.parametrize(
    ("text", "western"),
    [
        ("A ação começa; você não vê?", True),
        ("¿Qué pasó, señor? Mañana será.", True),
        ("Über die Straße", True),
        ("Ïðèâåò, êàê äåëà?", False),  # Cyrillic bytes read as Windows-1252
        ("Za¿ó³æ gêœl¹ jaŸñ", False),  # Polish bytes read as Windows-1252
    ],
)
def test_western_plausibility(text, western):
    assert (alphabet_score(text) >= 0.9) is western


def test_utf16_without_bom_is_recognised():
    assert summary(cues_of(SRT.encode("utf-16-le"))) == expected()


def test_a_bom_that_lies_is_an_error():
    with pytest.raises(JobError, match="UTF-8 byte-order mark but is not UTF-8"):
        decode(codecs.BOM_UTF8 + SRT.encode("cp1252"), "url_srt")


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_any_line_ending(newline):
    assert summary(cues_of(SRT.replace("\n", newline).encode())) == expected()


def test_dot_before_milliseconds_and_short_fractions():
    data = b"1\n00:00:01.000 --> 00:00:02.5\nOne\n\n2\n0:0:3,25 --> 00:00:04,000\nTwo\n"
    assert summary(cues_of(data)) == [(1000, 2500, "One"), (3250, 4000, "Two")]


def test_sloppy_arrows_are_read():
    data = b"1\n00:00:01,000 -> 00:00:02,000\nOne\n\n2\n00:00:03,000-->00:00:04,000\nTwo\n"
    assert summary(cues_of(data)) == [(1000, 2000, "One"), (3000, 4000, "Two")]


def test_missing_and_wrong_cue_numbers():
    data = (b"00:00:01,000 --> 00:00:02,000\nOne\n\n"
            b"7\n00:00:03,000 --> 00:00:04,000\nTwo\n\n"
            b"7\n00:00:05,000 --> 00:00:06,000\nThree\n")
    assert summary(cues_of(data)) == [(1000, 2000, "One"), (3000, 4000, "Two"), (5000, 6000, "Three")]


def test_missing_blank_lines_between_cues():
    data = (b"1\n00:00:01,000 --> 00:00:02,000\nOne\n"
            b"2\n00:00:03,000 --> 00:00:04,000\nTwo\n"
            b"00:00:05,000 --> 00:00:06,000\nThree")
    assert summary(cues_of(data)) == [(1000, 2000, "One"), (3000, 4000, "Two"), (5000, 6000, "Three")]


def test_tags_are_kept_for_the_markup_step():
    data = b'1\n00:00:01,000 --> 00:00:02,000\n<i>It</i> <b>is</b> <u>so</u> <font color="#ff0000">red</font>\n'
    cue = cues_of(data)[0]
    assert cue.text == '<i>It</i> <b>is</b> <u>so</u> <font color="#ff0000">red</font>'
    assert to_ass_text(cue.text) == "{\\i1}It{\\i0} {\\b1}is{\\b0} {\\u1}so{\\u0} {\\c&H0000FF&}red{\\c}"


def test_cue_lines_know_their_line_numbers():
    assert [c.line for c in cues_of(SRT.encode())] == [2, 6]


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", codecs.BOM_UTF8])
def test_empty_file_is_an_error(data):
    with pytest.raises(JobError, match="url_srt: the subtitle file is empty"):
        cues_of(data)


def test_file_without_cues_names_its_first_bad_line():
    with pytest.raises(JobError, match=r"url_srt: no subtitle cue found; line 3 is neither .*'<html>'"):
        cues_of(b"1\n\n<html>\n<body>not subtitles</body>\n")


@pytest.mark.parametrize("timing", ["00:00:01.000.5 --> 00:00:02", "00:00:01,000 -->", "12 --> 13"])
def test_a_file_whose_only_timing_cannot_be_read_is_an_error_naming_it(timing):
    with pytest.raises(JobError, match=f"url_srt: no cue can be read; line 2 looks like a cue timing but cannot be "
                                       f"read: {re.escape(repr(timing))}"):
        cues_of(f"1\n{timing}\nbroken\n".encode())


# --- fitting cues to the video ----------------------------------------------------------------------------------


def cue(start: float, end: float, text: str = "x", line: int = 1) -> Cue:
    return Cue(start_ms=int(start * 1000), end_ms=int(end * 1000), text=text, line=line)


def test_overlapping_cues_are_shortened_so_one_shows_at_a_time():
    timeline = fit([cue(1, 3, "a", 2), cue(2.5, 4, "b", 6), cue(5, 6, "c", 10)], 10, "url_srt")
    assert summary(timeline.cues) == [(1000, 2500, "a"), (2500, 4000, "b"), (5000, 6000, "c")]
    assert timeline.warnings == ["url_srt: 1 cue overlapped the next cue and was shortened (or merged when both "
                                 "start together) (first at line 2)."]


def test_cues_starting_together_are_merged():
    timeline = fit([cue(1, 2, "a", 2), cue(1, 3, "b", 6)], 10, "url_srt")
    assert summary(timeline.cues) == [(1000, 3000, "a\\Nb")]


def test_out_of_order_cues_are_sorted():
    timeline = fit([cue(5, 6, "late", 2), cue(1, 2, "early", 6)], 10, "url_srt")
    assert [c.text for c in timeline.cues] == ["early", "late"]
    assert timeline.warnings == []


def test_cues_past_the_end_are_cut_or_dropped():
    timeline = fit([cue(1, 2, line=2), cue(9, 12, line=6), cue(11, 12, line=10), cue(13, 14, line=14)], 10, "url_srt")
    assert summary(timeline.cues) == [(1000, 2000, "x"), (9000, 10000, "x")]
    assert timeline.warnings == [
        "url_srt: 2 cues started after the video's end (10.00 s) and were dropped (first at line 10).",
        "url_srt: 1 cue ran past the video's end (10.00 s) and was cut there (first at line 6).",
    ]


def test_backwards_and_empty_cues_are_skipped():
    timeline = fit([cue(2, 1, line=2), cue(3, 4, "", line=6), cue(5, 6, line=10)], 10, "url_srt")
    assert summary(timeline.cues) == [(5000, 6000, "x")]
    assert timeline.warnings == ["url_srt: 1 cue ended before it started and was skipped (first at line 2)."]


def test_subtitles_of_another_video_are_an_error():
    with pytest.raises(JobError, match=r"every cue starts after the video ends \(10.00 s\)"):
        fit([cue(20, 21), cue(30, 31)], 10, "url_srt")


# --- cue text -> ASS text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("srt", "ass"),
    [
        ("{\\pos(0,0)}top left?", "\\{\\\u2060pos(0,0)}top left?"),
        ("C:\\new\\folder \\h \\{", "C:\\\u2060new\\\u2060folder \\\u2060h \\\u2060\\{"),
        ("a, b: c; [d] 'e' \"f\"", "a, b: c; [d] 'e' \"f\""),
        ("line one\\Nline two", "line one\\Nline two"),
        ("{\\an8}on top", "{\\an8}on top"),
        ("not {\\an8} here", "not \\{\\\u2060an8} here"),
        ("<FONT COLOR=Yellow>y</FONT> <font color='#00ff00'>g<font color=blue>b</font>g</font>",
         "{\\c&H00FFFF&}y{\\c} {\\c&H00FF00&}g{\\c&HFF0000&}b{\\c&H00FF00&}g{\\c}"),
        ("<font face=Arial>same</font> <font color=nonsense>same</font>", "same{\\c} same{\\c}"),
        ("a <3 b > c <span>d</span>", "a <3 b > c <span>d</span>"),
    ],
)
def test_cue_text_is_shown_as_typed_apart_from_srt_tags(srt, ass):
    assert to_ass_text(srt) == ass


def test_uppercase_leaves_codes_alone():
    assert to_ass_text("{\\an8}<i>ação</i>\\Nnão", uppercase=True) == "{\\an8}{\\i1}AÇÃO{\\i0}\\NNÃO"


# --- colours, force_style and the style object ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rgba"),
    [
        ("#FF8000", Rgba(255, 128, 0, 0)),
        ("#ff800080", Rgba(255, 128, 0, 127)),  # CSS alpha 0x80 = half opaque = ASS transparency 0x7F
        ("&H8000FF00", Rgba(0, 255, 0, 128)),
        ("&H0000FF&", Rgba(255, 0, 0, 0)),
    ],
)
def test_colour_formats(text, rgba):
    assert parse_colour(text) == rgba


@pytest.mark.parametrize("text", ["red", "#FFF", "&HZZ0000", "#FF8000'", "rgb(1,2,3)"])
def test_bad_colours_are_errors(text):
    with pytest.raises(ValueError, match="is not a colour"):
        parse_colour(text)


def test_force_style_reads_on_ffmpegs_288_line_canvas():
    changes = parse_force_style("FontName=DejaVu Sans, fontsize=24,PrimaryColour=&H0000FFFF,OutlineColor=&H00000000&,"
                                "Bold=0,BorderStyle=3,Outline=2,Shadow=0,Alignment=8,MarginV=20,")
    assert changes == {"font": "DejaVu Sans", "size": 90.0, "primary": Rgba(255, 255, 0, 0),
                       "outline_colour": Rgba(0, 0, 0, 0), "bold": False, "border_style": 3, "outline": 7.5,
                       "shadow": 0.0, "alignment": 8, "margin_v": 75.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Fontsize=20:original_size=10x10", "Fontsize: must be a number"),
        ("Fontsize=20'", "Fontsize: must be a number"),
        ("Fontname=x',filename=/etc/passwd", "unknown key 'filename'"),
        ("Alignment=2[out];[in]null", "Alignment: must be one of 1, 2"),
        ("Fontsize=9999", "Fontsize: must be between 1 and 200"),
        ("Bold=yes", "Bold: must be 0, 1 or -1"),
        ("Style.Fontsize=20", "unknown key 'Style.Fontsize'; accepted keys: Fontname"),
        ("PrimaryColour=&HGG", "PrimaryColour: '&HGG' is not a colour"),
        ("Encoding=1", "unknown key 'Encoding'"),
        ("just text", "'just text' is not of the form Key=Value"),
    ],
)
def test_force_style_rejects_anything_unknown(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_force_style(text)


def caption_input(**fields):
    raw = {"operation": "caption", "url_video": "http://x/v.mp4", "url_srt": "http://x/s.srt", **fields}
    return parse_input(raw, OPERATIONS)[1]


def test_style_object_maps_onto_ass_terms_and_wins_over_force_style():
    job = caption_input(preset="vertical", force_style="Fontsize=24,MarginV=10,Shadow=1",
                        style={"font": {"size": 70, "italic": True}, "colors": {"primary": "#FFFF00"},
                               "position": {"alignment": 8, "marginHorizontal": 20}, "uppercase": True})
    look = resolve(job.preset, job.force_style, job.style)
    assert look == Look(font="Roboto Black", size=70, italic=True, primary=Rgba(255, 255, 0), outline=4, shadow=3.75,
                        alignment=8, margin_v=37.5, margin_l=20, margin_r=20, uppercase=True)


def test_box_background_paints_the_box():
    job = caption_input(style={"border": {"style": "box", "width": 10},
                               "colors": {"background": "#00000080", "outline": "#FF0000"}})
    look = resolve(job.preset, job.force_style, job.style)
    assert (look.border_style, look.outline) == (3, 10)
    assert look.outline_colour == look.back_colour == Rgba(0, 0, 0, 127)  # a box has no text outline


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"style": {"position": {"alignment": 10}}}, "field 'style.position.alignment': Input should be less"),
        ({"style": {"colors": {"primary": "blue"}}}, "field 'style.colors.primary': 'blue' is not a colour"),
        ({"style": {"font": {"sise": 20}}}, "unknown field 'style.font.sise' (did you mean 'size'?)"),
        ({"style": {"font": {"size": -3}}}, "field 'style.font.size': Input should be greater than 0"),
        ({"force_style": "Fontsize=abc"}, "field 'force_style': Fontsize: must be a number"),
        ({"force_style": 12}, "field 'force_style': must be a string"),
        ({"preset": "tiktok"}, "field 'preset': Input should be 'default', 'vertical' or 'boxed'"),
    ],
)
def test_bad_style_input_names_the_field(fields, message):
    with pytest.raises(JobError) as caught:
        caption_input(**fields)
    assert message in str(caught.value)


def test_presets_use_installed_fonts():
    for look in PRESETS.values():
        assert choose(look.font, "preset") == (look.font, None)


# --- fonts ------------------------------------------------------------------------------------------------------


def test_font_names_match_installed_families_case_insensitively():
    assert choose("dejavu sans", "style.font.name") == ("DejaVu Sans", None)


def test_arial_becomes_its_metric_twin_with_a_warning():
    family, warning = choose("Arial", "force_style")
    assert family == "Liberation Sans"
    assert warning == ("force_style: font 'Arial' is not installed; "
                       "its metric-compatible twin 'Liberation Sans' was used.")


@pytest.mark.parametrize("name", ["Comic Sans MS", "Noto Sans:fontsdir=/", "DejaVu Sans'", "Roboto,Arial"])
def test_unknown_font_lists_the_available_ones(name):
    with pytest.raises(JobError) as caught:
        choose(name, "style.font.name")
    message = str(caught.value)
    assert message.startswith(f"Invalid input: field 'style.font.name': unknown font {name!r}; available: ")
    for family in ("DejaVu Sans", "Noto Sans", "Roboto", "Open Sans", "Bebas Neue", "Liberation Sans"):
        assert family in message
    assert "families for other scripts" in message
    assert len(message) < 1500


def test_installed_fonts_cover_the_scripts_captions_need():
    families = installed().by_key
    for family in ("noto sans arabic", "noto sans hebrew", "dejavu sans"):
        assert family in families


# --- the ASS script ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1080, 1920), (1280, 720)])
def test_script_is_drawn_on_the_frame_size_with_lengths_scaled_by_height(tmp_path, width, height):
    path = tmp_path / "captions.ass"
    write_script(path, [cue(1, 2, "{\\x} <i>ação</i>")], PRESETS["default"], width, height)
    script = pysubs2.load(str(path))
    assert (script.info["PlayResX"], script.info["PlayResY"]) == (str(width), str(height))
    style = next(iter(script.styles.values()))
    k = height / 1080
    assert style.fontsize == pytest.approx(54 * k, abs=0.01)
    assert style.outline == pytest.approx(3 * k, abs=0.01)
    assert style.marginv == round(60 * k)
    assert style.encoding == -1  # libass picks each line's direction, so Arabic and Hebrew read right to left
    assert script.events[0].text == "\\{\\\u2060x} {\\i1}ação{\\i0}"
