"""caption with real FFmpeg: where the text lands in the pixels, fonts, audio, duration, and hostile input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.frames import changed, count, frames, overlap
from tests.helpers import leftover_workdirs, local_output, run_job, s3_client
from tests.media import decodes_cleanly, ffmpeg, make_video, packet_hashes, probe, stream, stream_duration
from video_ops.media.encoders import Encoder
from video_ops.media.ffmpeg import filter_value
from video_ops.media.probe import MediaInfo, Stream
from video_ops.ops.caption import argv, plan

RATE = 10  # frames per second of the test clips: frame n shows t = n / RATE
# Two cues: frame 6 is in the middle of the first, frame 10 falls between them.
CUES = [(0.3, 0.9, "Legenda de teste"), (1.1, 1.7, "Segunda")]
IN_CUE, BETWEEN = 6, 10
HEBREW = "שלום, עולם!"  # the punctuation goes left only if the line reads right to left
LRO, PDF = "\u202d", "\u202c"  # force left-to-right display of the enclosed characters


@pytest.fixture(scope="module")
def clips(media_dir: Path) -> Path:
    """Short, small clips next to the served media: landscape, vertical, a black one, and odd ones."""
    folder = media_dir / "caption"
    folder.mkdir()
    make_video(folder / "landscape.mp4", seconds=2.0, size="320x180", rate=RATE)
    make_video(folder / "vertical.mp4", seconds=2.0, size="180x320", rate=RATE)
    make_video(folder / "black.mp4", seconds=2.0, size="320x180", rate=RATE, audio=False, source="color")
    make_video(folder / "odd.mp4", seconds=1.0, size="321x181", rate=RATE, audio=False)
    # A phone's upright video: stored landscape, with a display matrix that turns it by 90 degrees.
    ffmpeg("-i", str(folder / "landscape.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90",
           str(folder / "rotated.mp4"))
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={RATE}", "-f", "lavfi", "-i", "sine=sample_rate=48000",
           "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le",
           str(folder / "pcm.mov"))
    (folder / "page.html").write_text("<html>\n<body>not subtitles</body>\n</html>\n")
    return folder


def write_srt(folder: Path, name: str, cues: list[tuple[float, float, str]], encoding: str = "utf-8") -> str:
    """An SRT file in the served folder; returns its URL path."""
    def stamp(seconds: float) -> str:
        ms = round(seconds * 1000)
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    blocks = [f"{n}\r\n{stamp(start)} --> {stamp(end)}\r\n{text}\r\n" for n, (start, end, text) in enumerate(cues, 1)]
    (folder / name).write_bytes("\r\n".join(blocks).encode(encoding))
    return f"caption/{name}"


def caption(media_server: str, video: str, srt: str, job_id: str = "cap", **options) -> dict:
    job = {"operation": "caption", "url_video": f"{media_server}/caption/{video}",
           "url_srt": f"{media_server}/{srt}", "path": "videos/output", **options}
    return run_job(job, job_id=job_id)


def size(n: float) -> dict:
    return {"font": {"size": n}}


@pytest.mark.parametrize(("video", "width", "height"), [("landscape.mp4", 320, 180), ("vertical.mp4", 180, 320)])
def test_text_appears_in_the_subtitle_area_only_while_a_cue_lasts(media_server, clips, worker_env, video, width,
                                                                   height):
    srt = write_srt(clips, "two.srt", CUES)
    result = caption(media_server, video, srt, style=size(110))
    out = local_output(result)
    source, burned = frames(clips / video), frames(out)
    assert len(burned) == len(source) == 2 * RATE

    text = changed(source[IN_CUE], burned[IN_CUE])
    assert count(text) > 150
    left, top, right, _ = text.getbbox()
    assert top > height * 0.55  # bottom-centre: the default alignment
    assert abs((left + right) / 2 - width / 2) < width * 0.1
    assert count(changed(source[BETWEEN], burned[BETWEEN])) == 0
    assert count(changed(source[0], burned[0])) == 0

    assert result["cues"] == 2
    assert (result["width"], result["height"]) == (width, height)
    assert result["duration"] == pytest.approx(2.0, abs=1 / RATE)
    assert result["size_bytes"] == out.stat().st_size
    assert result["encoder"] == "libx264"
    assert result["warnings"] == []
    assert leftover_workdirs(worker_env) == []


def test_alignment_moves_the_text(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    source = frames(clips / "landscape.mp4")[IN_CUE]
    boxes = {}
    for alignment in (8, 2):
        result = caption(media_server, "landscape.mp4", srt, output_filename=f"a{alignment}.mp4",
                         style={"font": {"size": 110}, "position": {"alignment": alignment}})
        boxes[alignment] = changed(source, frames(local_output(result))[IN_CUE]).getbbox()
    assert boxes[8][3] < 90 < boxes[2][1]  # top text ends above the middle; bottom text starts below it


def test_a_bigger_font_changes_more_pixels(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    source = frames(clips / "landscape.mp4")[IN_CUE]
    inked = {}
    for points in (60, 120):
        result = caption(media_server, "landscape.mp4", srt, output_filename=f"s{points}.mp4", style=size(points))
        inked[points] = count(changed(source, frames(local_output(result))[IN_CUE]))
    assert inked[120] > 2.5 * inked[60]


def test_colours_show_in_the_pixels(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    style = {"font": {"size": 160}, "colors": {"primary": "#FF0000", "background": "#00FF00"},
             "border": {"style": "box", "width": 20}}
    burned = frames(local_output(caption(media_server, "black.mp4", srt, style=style)), mode="RGB")

    def pixels(frame, want):
        rgb = frame.tobytes()
        return sum(1 for i in range(0, len(rgb), 3) if want(rgb[i], rgb[i + 1], rgb[i + 2]))

    red = lambda r, g, b: r > 150 and g < 90 and b < 90  # noqa: E731
    green = lambda r, g, b: g > 150 and r < 90 and b < 90  # noqa: E731
    assert pixels(burned[IN_CUE], red) > 100
    assert pixels(burned[IN_CUE], green) > 1000
    assert pixels(burned[BETWEEN], red) == pixels(burned[BETWEEN], green) == 0


def ink(burned, black, frame: int):
    return changed(black[frame], burned[frame])


def contains_the_plain_letters(accented, plain) -> bool:
    """Glyphs, not boxes: the accented text covers the unaccented one and adds marks to it."""
    shared = overlap(accented, plain)
    return shared >= 0.85 * count(plain) and count(accented) - shared >= 0.03 * count(plain)


@pytest.mark.parametrize("font", ["Noto Sans", "Roboto Black", "Open Sans", "Bebas Neue", "DejaVu Sans"])
def test_portuguese_accents_render_as_glyphs(media_server, clips, font):
    boxes = "\U0010fffd"  # a code point no font covers: drawn as an empty box (or nothing)
    cues = [(0.0, 0.4, "ação, você, não"), (0.4, 0.8, "acao, voce, nao"),
            (0.8, 1.2, f"a{boxes}{boxes}o, vo{boxes}{boxes}, n{boxes}{boxes}o")]
    srt = write_srt(clips, "accents.srt", cues)
    result = caption(media_server, "black.mp4", srt, output_filename="accents.mp4",
                     style={"font": {"name": font, "size": 150}})
    burned, black = frames(local_output(result)), frames(clips / "black.mp4")
    accented, plain, tofu = ink(burned, black, 2), ink(burned, black, 6), ink(burned, black, 10)
    assert contains_the_plain_letters(accented, plain)
    assert not contains_the_plain_letters(tofu, plain)  # the check does tell boxes from glyphs


def test_right_to_left_text_reads_right_to_left(media_server, clips):
    reversed_letters = HEBREW[::-1]
    cues = [(0.0, 0.4, HEBREW), (0.4, 0.8, f"{LRO}{reversed_letters}{PDF}"), (0.8, 1.2, reversed_letters)]
    srt = write_srt(clips, "hebrew.srt", cues)
    burned = frames(local_output(caption(media_server, "black.mp4", srt, style=size(150))))
    black = frames(clips / "black.mp4")
    logical, drawn_reversed, naive = ink(burned, black, 2), ink(burned, black, 6), ink(burned, black, 10)
    # The logical text looks exactly like its letters laid out right to left by hand...
    assert count(logical) > 300
    assert count(changed(logical, drawn_reversed)) < 0.02 * count(logical)
    # ...and not like the letters left in typing order.
    assert count(changed(logical, naive)) > 0.3 * count(logical)


def test_audio_is_copied_bit_exact_and_the_duration_kept(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    out = local_output(caption(media_server, "landscape.mp4", srt))
    source = clips / "landscape.mp4"
    assert packet_hashes(out, "a:0") == packet_hashes(source, "a:0")
    assert stream_duration(out, "video") == pytest.approx(stream_duration(source, "video"), abs=1 / RATE)
    video = stream(probe(out), "video")
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    head = out.read_bytes()[:65536]
    assert 0 <= head.find(b"moov") < head.find(b"mdat")  # faststart: the index comes first
    assert decodes_cleanly(out)


def test_hostile_srt_text_is_drawn_as_text(media_server, clips):
    hostile = "'quote'; a:b, [x] \\ {\\pos(0,0)}{\\fs300}\r\nnext=line [in]null[out]"
    srt = write_srt(clips, "hostile.srt", [(0.3, 0.9, hostile)])
    result = caption(media_server, "black.mp4", srt, style=size(60))
    text = ink(frames(local_output(result)), frames(clips / "black.mp4"), IN_CUE)
    left, top, right, bottom = text.getbbox()
    assert top > 90  # {\pos(0,0)} did not move it to the top-left corner
    assert bottom - top < 60  # {\fs300} did not blow it up: two lines of small text
    assert right - left > 110  # the codes are there as visible characters (the line is 126 pixels wide)


def test_filter_syntax_in_the_temp_folder_path_is_escaped(media_server, clips, monkeypatch, tmp_path):
    monkeypatch.setenv("VIDEO_OPS_WORKDIR", str(tmp_path / "it's a:b,c;[d]\\e"))
    srt = write_srt(clips, "two.srt", CUES)
    result = caption(media_server, "landscape.mp4", srt, style=size(110))
    burned, source = frames(local_output(result)), frames(clips / "landscape.mp4")
    assert count(changed(source[IN_CUE], burned[IN_CUE])) > 150


@pytest.mark.parametrize(
    "force_style",
    ["Fontname=Noto Sans:fontsdir=/etc", "Fontsize=20,Alignment=2[out];[in]null", "MarginV=1',filename=/etc/passwd"],
)
def test_hostile_force_style_is_refused_before_anything_runs(media_server, clips, force_style):
    result = caption(media_server, "missing.mp4", "caption/missing.srt", force_style=force_style)
    assert result["error"].startswith("Invalid input: ")
    assert "force_style" in result["error"]


def renamed_font(folder: Path) -> str:
    """Roboto Black under a family name no installed font has, so only the downloaded file can draw it."""
    installed = subprocess.run(["fc-match", "--format", "%{file}", "Roboto Black"], capture_output=True, text=True,
                               check=True).stdout
    original = Path(installed).read_bytes()
    renamed = original.replace(b"Roboto", b"Rubato").replace("Roboto".encode("utf-16-be"), "Rubato".encode("utf-16-be"))
    (folder / "rubato.ttf").write_bytes(renamed)
    return "caption/rubato.ttf"


def test_font_url_draws_with_the_downloaded_font(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    font = renamed_font(clips)
    drawn = {}
    for name, options in {"url": {"font_url": f"{media_server}/{font}"},
                          "same": {"style": {"font": {"name": "Roboto Black"}}},
                          "other": {"style": {"font": {"name": "Noto Sans"}}}}.items():
        options.setdefault("style", {}).setdefault("font", {})["size"] = 110
        result = caption(media_server, "black.mp4", srt, output_filename=f"{name}.mp4", **options)
        drawn[name] = frames(local_output(result))[IN_CUE]
    assert count(changed(drawn["url"], drawn["same"])) < 20
    assert count(changed(drawn["url"], drawn["other"])) > 200


def test_font_url_must_be_a_font_and_alone(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    result = caption(media_server, "landscape.mp4", srt, font_url=f"{media_server}/caption/page.html")
    assert result == {"error": "font_url: the file is not a TrueType or OpenType font (.ttf, .otf or .ttc)."}
    result = caption(media_server, "landscape.mp4", srt, font_url=f"{media_server}/caption/page.html",
                     style={"font": {"name": "Roboto"}})
    assert result["error"] == "Invalid input: give either font_url or a font name (style.font.name), not both."


def test_a_phone_video_is_captioned_upright(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    result = caption(media_server, "rotated.mp4", srt, style=size(110))
    assert (result["width"], result["height"]) == (180, 320)
    upright, source = frames(local_output(result)), frames(clips / "rotated.mp4")  # FFmpeg decodes it upright
    top = changed(source[IN_CUE], upright[IN_CUE]).getbbox()[1]
    assert top > 320 * 0.55  # at the bottom of the upright picture


def test_odd_sizes_are_cropped_to_even(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    out = local_output(caption(media_server, "odd.mp4", srt))
    video = stream(probe(out), "video")
    assert (video["width"], video["height"], video["pix_fmt"]) == (320, 180, "yuv420p")


def test_audio_mp4_cannot_hold_is_reencoded_with_a_warning(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    result = caption(media_server, "pcm.mov", srt)
    assert stream(probe(local_output(result)), "audio")["codec_name"] == "aac"
    assert "url_video: its pcm_s16le audio cannot be copied into MP4 and was re-encoded to AAC." in result["warnings"]


def test_video_without_audio_stays_silent(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    assert stream(probe(local_output(caption(media_server, "black.mp4", srt))), "audio") is None


def test_cp1252_file_renders_like_utf8_and_says_it_guessed(media_server, clips):
    cues = [(0.3, 0.9, "Ação! Você não vê?")]
    drawn, warnings = {}, {}
    for encoding in ("utf-8", "cp1252"):
        srt = write_srt(clips, f"{encoding}.srt", cues, encoding=encoding)
        result = caption(media_server, "black.mp4", srt, output_filename=f"{encoding}.mp4", style=size(110))
        drawn[encoding], warnings[encoding] = frames(local_output(result))[IN_CUE], result["warnings"]
    assert count(changed(drawn["utf-8"], drawn["cp1252"])) == 0
    assert warnings == {"utf-8": [],
                        "cp1252": ["url_srt: the file is not UTF-8; its characters were read as cp1252 (a guess)."]}


def test_quirks_are_reported_as_warnings(media_server, clips):
    srt = write_srt(clips, "quirky.srt", [(0.2, 1.0, "one"), (0.8, 1.5, "two"), (1.6, 2.5, "three"), (3, 4, "four")])
    result = caption(media_server, "landscape.mp4", srt)
    assert result["cues"] == 3
    assert result["warnings"] == [
        "url_srt: 1 cue started after the video's end (2.00 s) and was dropped (first at line 14).",
        "url_srt: 1 cue ran past the video's end (2.00 s) and was cut there (first at line 10).",
        "url_srt: 1 cue overlapped the next cue and was shortened (or merged when both start together) "
        "(first at line 2).",
    ]


@pytest.mark.parametrize(
    ("srt", "error"),
    [
        ("empty", "url_srt: the subtitle file is empty."),
        ("page", "url_srt: no subtitle cue found; line 1 is neither a cue number nor a timing like "
                 "00:00:01,000 --> 00:00:04,000: '<html>'."),
    ],
)
def test_unusable_subtitle_files_fail_clearly(media_server, clips, worker_env, srt, error):
    (clips / "empty.srt").write_bytes(b"\xef\xbb\xbf\r\n")
    result = caption(media_server, "landscape.mp4", "caption/" + {"empty": "empty.srt", "page": "page.html"}[srt])
    assert result == {"error": error}
    assert leftover_workdirs(worker_env) == []


def test_unknown_font_fails_before_downloading(media_server):
    result = caption(media_server, "missing.mp4", "caption/missing.srt", style={"font": {"name": "Comic Sans MS"}})
    assert result["error"].startswith(
        "Invalid input: field 'style.font.name': unknown font 'Comic Sans MS'; available: ")


def test_a_subtitle_file_as_the_video_fails_naming_the_field(media_server, clips):
    srt = write_srt(clips, "two.srt", CUES)
    result = caption(media_server, "two.srt", srt)
    assert result == {"error": "url_video: the file has no video stream (found: subtitle)."}
    assert caption(media_server, "page.html", srt)["error"].startswith(
        "url_video: the file is not a media file FFmpeg can read")


def test_upload_to_the_bucket_under_the_default_name(media_server, clips, bucket):
    srt = write_srt(clips, "two.srt", CUES)
    result = caption(media_server, "landscape.mp4", srt, job_id="job-42")
    assert (result["filename"], result["s3_key"]) == ("caption_job-42.mp4", "videos/output/caption_job-42.mp4")
    head = s3_client(bucket).head_object(Bucket=bucket["BUCKET_NAME"], Key=result["s3_key"])
    assert head["ContentLength"] == result["size_bytes"] > 0
    assert set(result["timings"]) == {"download_s", "process_s", "upload_s", "total_s"}


def test_filter_paths_are_escaped_for_both_parsers():
    assert filter_value("/jobs/it's a:b,c;[d]\\e") == "/jobs/it\\\\\\'s a\\\\:b\\,c\\;\\[d\\]\\\\\\\\e"


def test_the_ffmpeg_command_is_data():
    info = MediaInfo(format_name="mov", duration=2.0, size_bytes=1, streams=(
        Stream(index=0, codec_type="audio", codec_name="aac"),
        Stream(index=1, codec_type="video", codec_name="h264", width=1921, height=1080, rotation=0),
    ))
    recipe = plan(Path("/w/url_video"), info, Path("/w"), Path("/w/fonts"))
    assert argv(recipe, Encoder("libx264")) == [
        "-i", "/w/url_video", "-map", "0:1", "-map", "0:0", "-c:a", "copy",
        "-vf", "crop=1920:1080:0:0,ass=filename=/w/captions.ass:fontsdir=/w/fonts",
        *Encoder("libx264").video_args(), "-movflags", "+faststart", "/w/output.mp4",
    ]
