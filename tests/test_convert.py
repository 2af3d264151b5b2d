"""convert with real FFmpeg on generated media: every container and codec read back by ffprobe, copies by
their packets, crops, pads and blurs by their pixels, GIFs by their palette and frames, refusals by their
sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tests.frames import frames
from tests.helpers import leftover_workdirs, local_output, run_job
from tests.media import decodes_cleanly, ffmpeg, make_video, packet_hashes, probe, stream
from tests.pictures import counted_frames, mean_abs_diff
from tests.test_encoders import fake_gpu  # noqa: F401 (a fixture: this machine seen as one with NVENC)
from video_ops.base.errors import JobError
from video_ops.jobkit.contract import parse_input
from video_ops.ops import OPERATIONS

SIZE = (320, 180)
MARKS = {"red": (76, (220, 30, 30)), "green": (156, (30, 200, 30)), "blue": (236, (30, 30, 220))}  # x, colour
BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]


def _marks_source() -> str:
    """Grey with three 8 px vertical stripes at a quarter, half and three quarters of the width."""
    boxes = ",".join(f"drawbox=x={x}:y=0:w=8:h={SIZE[1]}:color=0x{r:02x}{g:02x}{b:02x}:t=fill"
                     for x, (r, g, b) in MARKS.values())
    return f"color=0x808080:size={SIZE[0]}x{SIZE[1]}:rate=25,{boxes}"


@pytest.fixture(scope="session")
def convert_media(media_dir: Path) -> Path:
    """The inputs, made once: a stripes clip (H.264 + AAC, BT.709 tags), a busy picture for blur, a phone-like
    clip turned by metadata, an odd-sized 4:4:4 clip, a clip with MP3 sound, a long and a wide one for GIF limits."""
    folder = media_dir / "convert"
    folder.mkdir(exist_ok=True)
    ffmpeg("-f", "lavfi", "-i", _marks_source(), "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
           "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *BT709, "-c:a", "aac",
           str(folder / "marks.mp4"))
    make_video(folder / "busy.mp4", seconds=1.0, audio=False, size="320x180")
    ffmpeg("-i", str(folder / "marks.mp4"), "-c", "copy", "-metadata:s:v", "rotate=90", str(folder / "phone.mp4"))
    make_video(folder / "odd.mp4", seconds=1.0, size="321x181", audio=False,
               codec=["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"])
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
           "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "libmp3lame",
           str(folder / "mp3.mkv"))
    make_video(folder / "deep.mp4", seconds=0.5, size="160x90", audio=False,
               codec=["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"])
    make_video(folder / "long.mp4", seconds=61.0, size="32x18", rate=1, audio=False)
    make_video(folder / "wide.mp4", seconds=0.5, size="1200x200", audio=False)
    return folder


def convert(media_server: str, name: str = "marks.mp4", **options: Any) -> dict[str, Any]:
    return run_job({"operation": "convert", "url_video": f"{media_server}/convert/{name}", "path": "out", **options})


def video_of(path: Path) -> dict[str, Any]:
    found = stream(probe(path), "video")
    assert found is not None
    return found


def boxes_in_order(path: Path) -> list[bytes]:
    """The top-level boxes of an MP4/QuickTime file, in file order."""
    data, at, names = path.read_bytes(), 0, []
    while at + 8 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        names.append(data[at + 4:at + 8])
        size = int.from_bytes(data[at + 8:at + 16], "big") if size == 1 else size
        if size < 8:
            break
        at += size
    return names


def first_frame(path: Path) -> np.ndarray:
    """The first frame as players show it (upright), RGB."""
    return np.asarray(frames(path, "RGB")[0]).astype(np.int16)


def near(pixel: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return bool(np.abs(pixel - np.array(colour)).max() <= tolerance)


# Containers and codecs: one of each container by default, every pair in the slow matrix ----------------------

DEFAULT_PAIRS = [("mp4", "hevc"), ("mov", "h264"), ("webm", "vp9"), ("mkv", "av1")]
SLOW_PAIRS = [("mp4", "h264"), ("mp4", "av1"), ("mov", "hevc"), ("webm", "av1"), ("mkv", "h264"), ("mkv", "hevc"),
              ("mkv", "vp9")]
SOUND = {"mp4": "aac", "mov": "aac", "webm": "opus", "mkv": "aac"}


def check_pair(media_server: str, container: str, codec: str) -> None:
    result = convert(media_server, container=container, video_codec=codec, width=160, fps=10, crf=30)
    output = local_output(result)
    video = video_of(output)
    assert output.suffix == f".{container}" and result["container"] == container
    assert (video["codec_name"], video["pix_fmt"], video["width"], video["height"]) == (codec, "yuv420p", 160, 90)
    assert video["r_frame_rate"] == "10/1" and counted_frames(output) == 20  # 2 s at 10 fps
    assert [video.get(key) for key in ("color_space", "color_primaries", "color_transfer")] == ["bt709"] * 3
    assert stream(probe(output), "audio")["codec_name"] == SOUND[container]
    if container in ("mp4", "mov"):
        boxes = boxes_in_order(output)
        assert boxes.index(b"moov") < boxes.index(b"mdat")  # faststart: playback starts before the download ends
    if codec == "hevc" and container in ("mp4", "mov"):
        assert video["codec_tag_string"] == "hvc1"
    assert result["video_stream"] == "re-encoded" and result["reencode_reason"]
    assert decodes_cleanly(output)


@pytest.mark.parametrize(("container", "codec"), DEFAULT_PAIRS)
def test_each_container_holds_its_codec_at_the_size_and_rate_asked(media_server, convert_media, container, codec):
    check_pair(media_server, container, codec)


@pytest.mark.slow
@pytest.mark.parametrize(("container", "codec"), SLOW_PAIRS)
def test_every_other_pair(media_server, convert_media, container, codec):
    check_pair(media_server, container, codec)


def test_a_container_alone_gets_its_own_codec_and_sound(media_server, convert_media):
    result = convert(media_server, container="webm")
    output = local_output(result)
    assert (video_of(output)["codec_name"], stream(probe(output), "audio")["codec_name"]) == ("vp9", "opus")
    assert result["encoder"] == "libvpx-vp9" and "encoder_fallback_reason" not in result
    assert result["audio_stream"] == "re-encoded"
    assert result["audio_reencode_reason"] == "url_video: its sound is aac; webm gets Opus or Vorbis."


# Copies ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("container", ["mp4", "mov", "mkv"])
def test_streams_are_copied_when_nothing_about_them_changes(media_server, convert_media, container):
    source = convert_media / "marks.mp4"
    result = convert(media_server, container=container, width=320)  # the size it already has
    output = local_output(result)
    assert (result["video_stream"], result["audio_stream"]) == ("copied", "copied")
    assert "reencode_reason" not in result and "encoder" not in result
    assert packet_hashes(output, "v:0") == packet_hashes(source, "v:0")
    assert packet_hashes(output, "a:0") == packet_hashes(source, "a:0")
    if container != "mkv":
        assert boxes_in_order(output).index(b"moov") < boxes_in_order(output).index(b"mdat")


def test_a_quality_asked_for_encodes_and_says_why(media_server, convert_media):
    result = convert(media_server, crf=35)
    assert result["video_stream"] == "re-encoded" and result["audio_stream"] == "copied"
    assert result["reencode_reason"] == "url_video: a crf was asked for."
    assert result["encoder"] == "libx264"
    assert packet_hashes(local_output(result), "v:0") != packet_hashes(convert_media / "marks.mp4", "v:0")


def test_sound_a_container_carries_is_copied_other_sound_is_encoded(media_server, convert_media):
    kept = convert(media_server, "mp3.mkv", container="mkv")
    assert (kept["video_stream"], kept["audio_stream"]) == ("copied", "copied")
    moved = convert(media_server, "mp3.mkv", container="mp4")
    assert (moved["video_stream"], moved["audio_stream"]) == ("copied", "re-encoded")
    assert moved["audio_reencode_reason"] == "url_video: its sound is mp3; mp4 gets AAC."
    assert stream(probe(local_output(moved)), "audio")["codec_name"] == "aac"


# The frame: crop, pad, blur, and what h264 needs -------------------------------------------------------------


@pytest.mark.parametrize(("focus_x", "mark"), [(None, "green"), (0.25, "red"), (0.75, "blue")])
def test_crop_keeps_the_centre_or_the_focus(media_server, convert_media, focus_x, mark):
    options = {"focus_x": focus_x} if focus_x is not None else {}
    result = convert(media_server, aspect="9:16", fit="crop", **options)
    frame = first_frame(local_output(result))
    assert frame.shape[:2] == (320, 180)  # 180 px, the picture's shorter side, kept
    middle = frame[160, 86:94]  # the stripe (8 px scaled by 16/9) sits on the middle column
    assert all(near(pixel, MARKS[mark][1]) for pixel in middle), middle
    others = [colour for name, (_, colour) in MARKS.items() if name != mark]
    assert not any(near(pixel, colour) for pixel in frame[160] for colour in others)


def test_pad_fills_the_bars_with_the_colour(media_server, convert_media):
    """The colour as players show a BT.709 picture, not as FFmpeg's pad makes it (BT.601: green 21 levels darker)."""
    result = convert(media_server, aspect="1:1", pad_color="#28b43c")
    frame = first_frame(local_output(result))
    assert frame.shape[:2] == (180, 180)
    picture_top = (180 - 102) // 2  # 320x180 fitted into 180 wide is 180x102 (even)
    for band in (frame[: picture_top - 2], frame[picture_top + 104:]):
        assert near(band.reshape(-1, 3).mean(axis=0), (0x28, 0xB4, 0x3C), tolerance=6)
    assert near(frame[90, 88], MARKS["green"][1])  # the picture itself, whole, in the middle


def test_blur_fills_the_bars_with_a_blurred_copy_of_the_picture(media_server, convert_media):
    result = convert(media_server, "busy.mp4", aspect="9:16", fit="blur")
    frame = first_frame(local_output(result))
    assert frame.shape[:2] == (320, 180)
    source = Image.fromarray(first_frame(convert_media / "busy.mp4").astype(np.uint8))
    cover = np.asarray(source.resize((568, 320), Image.Resampling.BILINEAR).crop((194, 0, 374, 320))).astype(np.int16)
    blurred = np.asarray(Image.fromarray(cover.astype(np.uint8)).filter(ImageFilter.GaussianBlur(24))).astype(np.int16)
    bar = slice(0, 100)  # the picture (180x102) sits at rows 108..210
    assert frame[bar].mean() > 40  # not black
    assert mean_abs_diff(frame[bar], blurred[bar]) < min(20, mean_abs_diff(frame[bar], cover[bar]) / 2)
    def steepest(image: np.ndarray) -> int:  # the largest step between neighbours: an edge, or none
        return int(np.abs(np.diff(image, axis=1)).max())

    assert steepest(frame[bar]) < 30 < 100 < steepest(cover[bar])  # the picture's edges are washed out
    assert steepest(frame[112:206]) > 100  # the picture itself stays sharp


def test_h264_is_8_bit_4_2_0_with_even_sides(media_server, convert_media):
    result = convert(media_server, "odd.mp4")
    video = video_of(local_output(result))
    assert (video["pix_fmt"], video["width"], video["height"]) == ("yuv420p", 320, 180)
    assert result["reencode_reason"] == "url_video: its pixel format yuv444p is not 8-bit 4:2:0."


def test_10_bit_stays_10_bit_but_in_h264(media_server, convert_media):
    """h264 is 8-bit for browsers; hevc (and vp9, av1) keep a 10-bit source's depth."""
    hevc = convert(media_server, "deep.mp4", container="mkv", video_codec="hevc")
    assert (video_of(local_output(hevc))["pix_fmt"], video_of(local_output(hevc))["profile"]) == ("yuv420p10le",
                                                                                                 "Main 10")
    h264 = convert(media_server, "deep.mp4", container="mkv")
    assert video_of(local_output(h264))["pix_fmt"] == "yuv420p"
    assert h264["reencode_reason"] == "url_video: its pixel format yuv420p10le is not 8-bit 4:2:0."


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_a_phone_clip_turned_by_metadata_comes_out_upright(media_server, convert_media, container):
    """MP4 keeps the copied picture's turn (players apply it); Matroska cannot, so the frames are turned."""
    result = convert(media_server, "phone.mp4", container=container)
    output = local_output(result)
    assert result["video_stream"] == ("copied" if container == "mp4" else "re-encoded")
    shown, expected = first_frame(output), first_frame(convert_media / "phone.mp4")
    assert shown.shape == expected.shape == (320, 180, 3)
    assert mean_abs_diff(shown, expected) < 4
    if container == "mkv":
        assert (video_of(output)["width"], video_of(output)["height"]) == (180, 320)
        assert not video_of(output).get("side_data_list")


# GIF ---------------------------------------------------------------------------------------------------------

GRID_332 = ({round(i * 255 / 7) for i in range(8)}, {round(i * 255 / 3) for i in range(4)})


def test_gif_is_drawn_in_a_palette_made_for_it_at_12_fps(media_server, convert_media):
    result = convert(media_server, "marks.mp4", container="gif", width=160)
    output = local_output(result)
    assert (result["encoder"], result["video_codec"], "audio_stream" in result) == ("gif", "gif", False)
    with Image.open(output) as gif:
        assert (gif.size, gif.n_frames, gif.info.get("loop")) == ((160, 90), 24, 0)  # 2 s at 12 fps, looping
        palette = gif.getpalette() or []
        colours = {tuple(palette[i:i + 3]) for i in range(0, len(palette), 3)}
        gif.seek(0)
        assert gif.convert("RGB").getcolors(256) is not None  # at most 256 colours
        shown = np.asarray(gif.convert("RGB")).astype(np.int16)
    assert len(colours) <= 256
    off_grid = [c for c in colours if c[0] not in GRID_332[0] or c[1] not in GRID_332[0] or c[2] not in GRID_332[1]]
    assert off_grid  # not FFmpeg's fixed 3-3-2 palette: palettegen chose these
    assert near(shown[45, 80], MARKS["green"][1]) and near(shown[45, 20], (128, 128, 128), 12)
    assert decodes_cleanly(output)


def test_gif_limits_are_refused_in_one_sentence(media_server, convert_media, worker_env):
    too_long = convert(media_server, "long.mp4", container="gif")
    assert too_long == {"error": "url_video: the video lasts 61.0 s; a GIF is at most 60 s (trim it first)."}
    too_wide = convert(media_server, container="gif", width=1200)
    assert too_wide == {"error": "Invalid input: field 'width': a GIF is at most 1080 px a side."}
    too_tall = convert(media_server, container="gif", width=1000, aspect="9:16")
    assert too_tall == {"error": "width: the frame would be 1000x1778; a GIF is at most 1080 px a side."}
    assert leftover_workdirs(worker_env) == []
    assert not (worker_env.parent / "output").exists()  # nothing uploaded


def test_gif_of_a_wider_picture_is_brought_within_1080_px(media_server, convert_media):
    result = convert(media_server, "wide.mp4", container="gif", fps=4)
    assert (result["width"], result["height"]) == (1080, 180)


# Bad input: one sentence naming the field ---------------------------------------------------------------------

REFUSALS = [
    ({"container": "webm", "video_codec": "h264"}, "field 'video_codec': webm carries vp9 or av1, not h264"),
    ({"container": "webm", "video_codec": "hevc"}, "field 'video_codec': webm carries vp9 or av1, not hevc"),
    ({"container": "mov", "video_codec": "av1"}, "field 'video_codec': QuickTime (mov) plays h264 or hevc, not av1"),
    ({"container": "mp4", "video_codec": "vp9"}, "field 'video_codec': vp9 in mp4 does not play in Safari; use "
                                                 "container \"webm\" for vp9, or h264, hevc or av1 in mp4"),
    ({"container": "gif", "video_codec": "h264"},
     "field 'video_codec': a GIF has its own codec; leave video_codec out"),
    ({"container": "gif", "crf": 20}, "field 'crf': a GIF has no crf: it is drawn in a palette of 256 colours"),
    ({"container": "gif", "fps": 60}, "field 'fps': a GIF plays at most 50 fps (its frame delays are in hundredths "
                                      "of a second)"),
    ({"crf": 20, "bitrate": "2M"}, "give 'crf' or 'bitrate', not both"),
    ({"crf": 55}, "field 'crf': h264 takes 0 to 51"),
    ({"crf": True}, "field 'crf': Input should be a number, not true or false"),
    ({"bitrate": "fast"}, "field 'bitrate': must be bits per second: a number, or text such as \"2500k\" or \"8M\""),
    ({"bitrate": 1000}, "field 'bitrate': must be between 50k and 200M bits per second"),
    ({"aspect": "9:16", "focus_x": 1.5, "fit": "crop"}, "field 'focus_x': Input should be less than or equal to 1"),
    ({"aspect": "9:16", "focus_x": 0.3}, "field 'focus_x': it places a crop; it needs fit \"crop\""),
    ({"aspect": "9:16", "pad_color": "#GG0000"}, "field 'pad_color': must be a colour name or #RRGGBB"),
    ({"aspect": "9:16", "fit": "blur", "pad_color": "red"}, "field 'pad_color': it colours the bars of fit \"pad\""),
    ({"fit": "blur"}, "field 'fit': there is no frame to fit the picture to; give 'aspect', or both 'width' and "
                      "'height'"),
    ({"aspect": "3:2"}, "field 'aspect': Input should be '9:16', '1:1', '4:5' or '16:9'"),
    ({"aspect": "9:16", "width": 720, "height": 1280}, "field 'aspect': give 'width' or 'height' with it, not both "
                                                       "(the other follows from it)"),
    ({"width": 641}, "field 'width': must be an even number (H.264 4:2:0 video has even sizes)"),
    ({"height": 8}, "field 'height': Input should be greater than or equal to 16"),
    ({"container": "avi"}, "field 'container': Input should be 'mp4', 'mov', 'webm', 'mkv' or 'gif'"),
]


@pytest.mark.parametrize(("options", "error"), REFUSALS, ids=["-".join(f"{k}={v}" for k, v in options.items())
                                                               for options, _ in REFUSALS])
def test_bad_input_is_refused_naming_the_field(options, error):
    with pytest.raises(JobError) as refused:
        parse_input({"operation": "convert", "url_video": "https://example.com/v.mp4", **options}, OPERATIONS)
    assert str(refused.value) == f"Invalid input: {error}."


def test_av1_frames_below_its_minimum_are_refused(media_server, convert_media):
    small = convert(media_server, "mp3.mkv", container="webm", video_codec="av1", width=96)
    assert small == {"error": "video_codec: av1 frames are at least 64 px a side; this one would be 96x54."}


def test_on_a_gpu_hevc_is_nvencs_and_falls_back_to_libx265_as_every_encode_does(request, media_server,
                                                                                   convert_media, worker_env):
    """The worker's encoder choice serves HEVC too; here hevc_nvenc fails as it does on a card without the
    driver's encoder, and the job is redone with libx265, saying why."""
    gpu = request.getfixturevalue("fake_gpu")
    result = convert(media_server, container="mkv", video_codec="hevc")
    assert result["encoder"] == "libx265"
    assert "Cannot load libcuda.so.1" in result["encoder_fallback_reason"]
    assert gpu.encoders_used()[-2:] == ["hevc_nvenc", "libx265"]
    assert video_of(local_output(result))["codec_name"] == "hevc"
    assert leftover_workdirs(worker_env) == []
