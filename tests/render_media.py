"""A narrated render's media, made with FFmpeg's test sources: textured images, a clip with a tone of its own,
a narration of tone bursts (tests/sound.py's SPEECH) and a chord as music."""

from __future__ import annotations

from pathlib import Path

from tests.media import ffmpeg
from tests.pictures import quadrants
from tests.sound import CHORD, SPEECH


def render_media(folder: Path, image_sizes: list[tuple[int, int]], clip: str, clip_seconds: float,
                 narration_seconds: float, music_seconds: float) -> Path:
    """`scene<k>.png` in each of `image_sizes`, `clip.mp4` (testsrc2 of `clip`: `WxH:rate=R`), `narration.wav`
    and `music.mp3` in `folder`."""
    folder.mkdir(exist_ok=True)
    for k, (width, height) in enumerate(image_sizes):
        quadrants(width, height).save(folder / f"scene{k}.png")
    size, _, rate = clip.partition(":")
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:{rate}", "-f", "lavfi", "-i",
           "sine=frequency=3000:sample_rate=48000", "-t", f"{clip_seconds}", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(folder / "clip.mp4"))
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{SPEECH}':s=48000", "-t", f"{narration_seconds}",
           str(folder / "narration.wav"))
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{CHORD}':s=48000:d={music_seconds}", "-ac", "2",
           str(folder / "music.mp3"))
    return folder
