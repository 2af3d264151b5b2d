"""The same jobs written the way a moviepy 2.x user would write them (only run when moviepy is installed).

`python -m bench.moviepy_jobs addaudio VIDEO AUDIO OUT`
`python -m bench.moviepy_jobs caption VIDEO SRT FONT_FILE OUT`
`python -m bench.moviepy_jobs img2vid OUT_FOLDER SECONDS FPS IMAGE...` (writes out_1.mp4, out_2.mp4...)

moviepy's own defaults are kept (libx264 at its default preset); only the audio codec is set to AAC,
which MP4 players expect. FFMPEG_BINARY in the environment points moviepy at the same FFmpeg as the
other runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, TextClip, VideoFileClip
from moviepy.video.tools.subtitles import SubtitlesClip


def addaudio(video: str, audio: str, out: str) -> None:
    clip = VideoFileClip(video)
    clip.with_audio(AudioFileClip(audio).with_duration(clip.duration)).write_videofile(
        out, audio_codec="aac", logger=None)


def caption(video: str, srt: str, font: str, out: str) -> None:
    clip = VideoFileClip(video)

    def text(line: str) -> TextClip:
        return TextClip(font=font, text=line, font_size=round(clip.h / 20), color="white", stroke_color="black",
                        stroke_width=2, method="caption", size=(round(clip.w * 0.9), None))

    subtitles = SubtitlesClip(srt, make_textclip=text, encoding="utf-8").with_position(("center", 0.8),
                                                                                      relative=True)
    CompositeVideoClip([clip, subtitles]).write_videofile(out, audio_codec="aac", logger=None)


def img2vid(folder: str, seconds: str, fps: str, *images: str) -> None:
    for number, image in enumerate(images, start=1):
        ImageClip(image, duration=float(seconds)).write_videofile(
            str(Path(folder) / f"out_{number}.mp4"), fps=int(fps), logger=None)


if __name__ == "__main__":
    job, *args = sys.argv[1:]
    {"addaudio": addaudio, "caption": caption, "img2vid": img2vid}[job](*args)
