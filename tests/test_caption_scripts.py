"""Captions in the scripts users write, judged in the pixels: each is drawn with real glyphs, not the
empty box of a missing one; characters no font has are named in a warning; `{\\an8}` cues keep their place."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.frames import changed, count, frames
from tests.helpers import local_output, run_job
from tests.media import make_video
from video_ops.subtitles.fonts import missing_glyphs

RATE = 10
MISSING = "\ue000\ue001"  # private use: no font has them, so libass draws its missing-glyph boxes
# Two characters each, like the box cue, so a box rendering would cover the same place.
SCRIPTS = {
    "Chinese": "你好", "Japanese": "こん", "Korean": "안녕", "Thai": "สว", "Hebrew": "של", "Arabic": "مر",
    "Devanagari": "नम", "emoji": "😀👍", "missing": MISSING, "missing again": "\ue002\ue003",
}
POSITIONED = len(SCRIPTS)  # then a cue at the top and one at the bottom, at the same time


def stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"00:00:{ms // 1000:02d},{ms % 1000:03d}"


def window(index: int) -> tuple[float, float]:
    """Cue `index` shows from 0.4 * index + 0.05 s for 0.3 s: frame 4 * index + 2 is in it, 4 * index is not."""
    return 0.4 * index + 0.05, 0.4 * index + 0.35


@pytest.fixture(scope="module")
def rendered(media_dir: Path, media_server: str, tmp_path_factory) -> tuple[dict, list[Image.Image]]:
    folder = media_dir / "scripts"
    folder.mkdir()
    make_video(folder / "black.mp4", seconds=0.4 * POSITIONED + 0.4, size="480x270", rate=RATE, audio=False,
               source="color")
    cues = [(*window(index), text) for index, text in enumerate(SCRIPTS.values())]
    cues += [(*window(POSITIONED), "{\\an8}Top"), (*window(POSITIONED), "Bottom")]
    srt = "".join(f"{n}\n{stamp(start)} --> {stamp(end)}\n{text}\n\n" for n, (start, end, text) in enumerate(cues, 1))
    (folder / "scripts.srt").write_text(srt, encoding="utf-8")
    root = tmp_path_factory.mktemp("scripts")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIDEO_OPS_WORKDIR", str(root / "work"))
        patch.setenv("VIDEO_OPS_OUTPUT_DIR", str(root / "output"))
        patch.setenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "true")
        result = run_job({"operation": "caption", "url_video": f"{media_server}/scripts/black.mp4",
                          "url_srt": f"{media_server}/scripts/scripts.srt", "force_style": "Fontsize=40"})
    return result, frames(local_output(result))


def shown(frames_: list[Image.Image], index: int) -> Image.Image:
    return frames_[4 * index + 2]


def ink(frames_: list[Image.Image], index: int) -> int:
    """Pixels the cue drew: against the blank frame just before it."""
    return count(changed(shown(frames_, index), frames_[4 * index]))


@pytest.mark.parametrize("script", [name for name in SCRIPTS if not name.startswith("missing")])
def test_each_script_is_drawn_with_glyphs_not_boxes(rendered, script):
    _, video = rendered
    index, box = list(SCRIPTS).index(script), list(SCRIPTS).index("missing")
    assert ink(video, index) > 200, f"{script}: nothing drawn"
    assert count(changed(shown(video, index), shown(video, box))) > 200, f"{script} looks like the missing-glyph boxes"


def test_the_box_comparison_recognises_boxes(rendered):
    """Two other missing characters draw the same boxes: the comparison above can tell."""
    _, video = rendered
    first, second = list(SCRIPTS).index("missing"), list(SCRIPTS).index("missing again")
    assert ink(video, first) > 200
    assert count(changed(shown(video, first), shown(video, second))) < 20


def test_only_the_characters_no_font_has_are_warned_about(rendered):
    result, _ = rendered
    glyph_warnings = [w for w in result["warnings"] if "no installed font" in w]
    assert glyph_warnings == [
        "url_srt: no installed font has the private-use or unassigned characters of 2 cues (first at line 34: "
        "'\\ue000\\ue001'); they show as empty boxes (give a font_url with them)."
    ]


def test_cues_at_the_same_time_keep_their_own_places(rendered):
    _, video = rendered
    drawn = changed(shown(video, POSITIONED), video[4 * POSITIONED])
    width, height = drawn.size
    top = count(drawn.crop((0, 0, width, height // 3)))
    bottom = count(drawn.crop((0, 2 * height // 3, width, height)))
    middle = count(drawn.crop((0, height // 3, width, 2 * height // 3)))
    assert top > 100 and bottom > 100 and middle == 0


def test_a_jobs_own_font_file_is_read_for_its_characters(tmp_path):
    """The job's font folder is read too (here a copy of an installed font: the private-use character
    stays missing, the Portuguese ones are found)."""
    font = subprocess.run(["fc-match", "--format", "%{file}", "DejaVu Sans"], capture_output=True, text=True,
                          check=True).stdout
    (tmp_path / "fonts").mkdir()
    shutil.copy(font, tmp_path / "fonts" / "custom.ttf")
    assert missing_glyphs([(3, "ação \ue000")], tmp_path / "fonts", "url_srt") == [
        "url_srt: no installed font has the private-use or unassigned characters of 1 cue (first at line 3: "
        "'\\ue000'); they show as empty boxes (give a font_url with them)."
    ]
