"""caption_segments with real FFmpeg: the reference's styled captions, checked against its own ASS recipe."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.frames import changed, frames
from tests.helpers import leftover_workdirs, local_output, run_job
from tests.media import make_video

RATE = 10
IN_CUE = 5  # frames 2..8 show the first cue
# The reference worker's script: a 1920x1080 canvas whatever the video, Arial 36 bold, outline 3, bottom 20.
REFERENCE_ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Default,Arial,{size},&H00FFFFFF,&H000000FF,&H00000000,&H00000000,-1,0,0,0,100,100,0,0,1,3,0,2,20,20,20,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.20,0:00:00.90,Default,,0,0,0,,{text}
"""


@pytest.fixture(scope="module")
def clips(media_dir: Path) -> Path:
    folder = media_dir / "segments"
    folder.mkdir()
    make_video(folder / "wide.mp4", seconds=1.0, size="640x360", rate=RATE, source="color")
    make_video(folder / "tall.mp4", seconds=1.0, size="360x640", rate=RATE, source="color", audio=False)
    return folder


def write_srt(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(f"1\n00:00:00,200 --> 00:00:00,900\n{text}\n")
    return name


def segments(media_server: str, video: str, srt: str, **options) -> dict:
    job = {"operation": "caption_segments", "url_video": f"{media_server}/segments/{video}",
           "url_srt": f"{media_server}/segments/{srt}", "path": "videos/output", **options}
    return run_job(job)


def ink_box(video: Path, frame: int = IN_CUE) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of what the captions changed on the black clip."""
    shown = frames(video)
    box = changed(shown[0], shown[frame], threshold=40).getbbox()
    assert box is not None, "no caption drawn"
    return box


def reference_render(folder: Path, video: str, text: str, size: int = 36) -> Path:
    script, out = folder / f"reference-{video}.ass", folder / f"reference-{video}"
    script.write_text(REFERENCE_ASS.replace("{size}", str(size)).replace("{text}", text))
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(folder / video), "-vf",
                    f"ass={script.name}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    out.name], check=True, cwd=folder)
    return out


@pytest.mark.parametrize("video", ["wide.mp4", "tall.mp4"])
def test_sizes_match_the_reference_recipe_on_both_orientations(media_server, clips, video):
    srt = write_srt(clips, "hello.srt", "Hello World")
    ours = ink_box(local_output(segments(media_server, video, srt, output_filename=video,
                                         style={"font": {"size": 72}})))
    theirs = ink_box(reference_render(clips, video, "Hello World", size=72))
    # the same box of ink, to the pixel: same text height and width, same distance from the bottom
    assert ours == pytest.approx(theirs, abs=2)


def test_the_reference_job_as_sent(media_server, clips, worker_env):
    style = {"font": {"name": "Arial", "size": 36, "bold": True}, "colors": {"primary": "#FFFFFF",
             "outline": "#000000"}, "border": {"style": 1, "width": 3},
             "position": {"alignment": 2, "marginVertical": 20}, "uppercase": False}
    srt = write_srt(clips, "ref.srt", "Hello there")
    result = segments(media_server, "wide.mp4", srt, output_filename="segments.mp4", style=style)
    assert result["success"] is True
    assert result["message"] == "Caption segments added and uploaded to S3 successfully"
    assert (result["filename"], result["s3_key"]) == ("segments.mp4", "videos/output/segments.mp4")
    assert (result["cues"], result["width"], result["height"]) == (1, 640, 360)
    assert result["duration"] == pytest.approx(1.0, abs=0.1)
    assert result["warnings"] == ["style.font.name: font 'Arial' is not installed; its metric-compatible twin "
                                  "'Liberation Sans' was used."]
    assert {"encoder", "size_bytes", "timings"} <= set(result)
    assert leftover_workdirs(worker_env) == []


def test_a_sentence_end_breaks_the_line(media_server, clips):
    one = ink_box(local_output(segments(media_server, "wide.mp4", write_srt(clips, "one.srt", "Dr. Who came, Mr. X"),
                                        output_filename="one.mp4", style={"font": {"size": 60}})))
    two = ink_box(local_output(segments(media_server, "wide.mp4", write_srt(clips, "two.srt", "Dr. Who came. Mr. X"),
                                        output_filename="two.mp4", style={"font": {"size": 60}})))
    assert (two[3] - two[1]) > 1.6 * (one[3] - one[1])  # two lines, not one
    assert (two[2] - two[0]) < 0.8 * (one[2] - one[0])


def test_uppercase_touches_the_text_not_the_codes(media_server, clips):
    srt = write_srt(clips, "codes.srt", "{\\an8}<font color=\"#00ff00\">go</font>")
    video = local_output(segments(media_server, "wide.mp4", srt, output_filename="upper.mp4",
                                  style={"font": {"size": 90}, "uppercase": True}))
    left, top, right, bottom = ink_box(video)
    assert bottom < 180  # {\an8} still moves the cue to the top
    rgb = np.asarray(frames(video, mode="RGB")[IN_CUE])[top:bottom, left:right].astype(int)
    assert ((rgb[..., 1] > 150) & (rgb[..., 0] < 100)).sum() > 100  # green, as the tag says
    lower = ink_box(local_output(segments(media_server, "wide.mp4", write_srt(clips, "lower.srt", "{\\an8}go"),
                                          output_filename="lower.mp4", style={"font": {"size": 90}})))
    assert (bottom - top) > 1.1 * (lower[3] - lower[1]) or (right - left) > 1.1 * (lower[2] - lower[0])  # GO


def test_border_style_3_draws_a_box(media_server, clips):
    srt = write_srt(clips, "box.srt", "Boxed")
    style = {"font": {"size": 60}, "colors": {"outline": "#0000FF"}, "border": {"style": 3, "width": 8}}
    video = local_output(segments(media_server, "wide.mp4", srt, output_filename="box.mp4", style=style))
    rgb = np.asarray(frames(video, mode="RGB")[IN_CUE]).astype(int)
    assert ((rgb[..., 2] > 150) & (rgb[..., 0] < 80)).sum() > 1000  # a solid blue box, not a thin outline
