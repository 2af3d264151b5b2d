"""Sources for the trim, cut and split tests, made with FFmpeg, each the kind of file users send.

Every picture is a moving test pattern (consecutive frames differ: SSIM ~0.9 between neighbours at this
size, so a frame off by one is seen) with a white flash on the first frame at or after 0.48 s into each
second, and the sound is stereo: a continuous 440 Hz sine on the left (a cut's click shows as a jump
larger than the sine's own) and a 1 kHz beep on the right from 0.48 s into each second (sync is read from
the pairs).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.media import ffmpeg

FLASH_AT = 0.48  # seconds into each second
BEEP_S = 0.04
SINE_HZ = 440
AMPLITUDE = 0.5
RATE = 25
# The first frame at or after FLASH_AT in each second, at 25 or 30 fps.
_FLASH = f"drawbox=c=white:t=fill:enable='between(mod(t\\,1)\\,{FLASH_AT}\\,{FLASH_AT + 0.03})'"
_SOUND = (f"aevalsrc={AMPLITUDE}*sin(2*PI*{SINE_HZ}*t)|"
          f"{AMPLITUDE}*sin(2*PI*1000*t)*between(mod(t\\,1)\\,{FLASH_AT}\\,{FLASH_AT + BEEP_S}):s=48000:c=stereo")
X264_GOP = ["-g", "50", "-keyint_min", "50", "-sc_threshold", "0"]  # 2-s GOPs, x264's default B-pyramid
AAC = ["-c:a", "aac", "-b:a", "128k"]


def _pattern(size: str, rate: int = RATE) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate},{_FLASH}", "-f", "lavfi", "-i", _SOUND]


def h264(path: Path, seconds: float = 8.0) -> None:
    """x264 at its defaults (3 B-frames, normal pyramid), 2-s closed GOPs, AAC."""
    ffmpeg(*_pattern("256x144"), "-t", str(seconds), "-c:v", "libx264", *X264_GOP, "-pix_fmt", "yuv420p",
           *AAC, str(path))


def hevc(path: Path, seconds: float = 6.0) -> None:
    """libx265 8-bit, closed 2-s GOPs with 3 B-frames."""
    ffmpeg(*_pattern("256x144"), "-t", str(seconds), "-c:v", "libx265", "-preset", "fast", "-x265-params",
           "keyint=50:min-keyint=50:scenecut=0:open-gop=0:bframes=3:log-level=error", "-pix_fmt", "yuv420p",
           "-tag:v", "hvc1", *AAC, str(path))


def hevc10(path: Path, seconds: float = 3.0) -> None:
    """10-bit HEVC: no 8-bit frames to join, so a cut encodes it whole."""
    ffmpeg(*_pattern("192x108"), "-t", str(seconds), "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
           "keyint=25:log-level=error", "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1", *AAC, str(path))


def phone(path: Path, seconds: float = 6.0) -> None:
    """A phone's portrait clip: landscape pixels with 90 degrees of rotation metadata, a variable frame rate
    (every fourth frame 11 ms late, as a phone's clock jitters), B-frames, 2-s GOPs, AAC, 90 kHz ticks."""
    base = path.with_name("phone-base.mp4")
    ffmpeg(*_pattern("192x108", 30), "-t", str(seconds), "-c:v", "libx264", "-g", "60", "-keyint_min", "60",
           "-sc_threshold", "0", "-pix_fmt", "yuv420p", *AAC, "-video_track_timescale", "90000", str(base))
    ffmpeg("-i", str(base), "-c", "copy", "-bsf:v", "setts=pts=PTS+990*eq(mod(PTS/3000\\,4)\\,1)",
           "-metadata:s:v:0", "rotate=90", str(path))
    base.unlink()


def later_picture(path: Path, seconds: float = 6.0) -> None:
    """A QuickTime file whose picture starts 0.3 s after its sound (an empty edit first), 1-s GOPs."""
    base = path.with_name("later-base.mp4")
    ffmpeg(*_pattern("192x108"), "-t", str(seconds), "-c:v", "libx264", "-g", "25", "-keyint_min", "25",
           "-sc_threshold", "0", "-pix_fmt", "yuv420p", *AAC, str(base))
    ffmpeg("-i", str(base), "-itsoffset", "0.3", "-i", str(base), "-map", "1:v", "-map", "0:a", "-c", "copy",
           str(path))
    base.unlink()


def edit_list(path: Path, seconds: float = 6.0) -> None:
    """An MP4 cut by its edit list: 0.3 s hidden at its start, their packets kept (1-s GOPs)."""
    base = path.with_name("edit-base.mp4")
    ffmpeg(*_pattern("192x108"), "-t", str(seconds), "-c:v", "libx264", "-g", "25", "-keyint_min", "25",
           "-sc_threshold", "0", "-pix_fmt", "yuv420p", *AAC, str(base))
    ffmpeg("-ss", "0.3", "-i", str(base), "-c", "copy", str(path))
    base.unlink()


def pcm_mov(path: Path, seconds: float = 6.0) -> None:
    """H.264 with 16-bit PCM sound in QuickTime, as cameras write it."""
    ffmpeg(*_pattern("192x108"), "-t", str(seconds), "-c:v", "libx264", *X264_GOP, "-pix_fmt", "yuv420p",
           "-c:a", "pcm_s16le", str(path))


def vp9(path: Path, seconds: float = 3.0) -> None:
    """VP9 and Opus in WebM: not smart-cut, encoded whole with the reason."""
    ffmpeg(*_pattern("192x108"), "-t", str(seconds), "-c:v", "libvpx-vp9", "-deadline", "realtime",
           "-cpu-used", "8", "-g", "25", "-b:v", "400k", "-c:a", "libopus", str(path))


def audio(path: Path, seconds: float = 4.0) -> None:
    """The pattern's sound alone (mp3, wav or m4a by the file's extension)."""
    codec = {".mp3": ["-c:a", "libmp3lame", "-q:a", "2"], ".wav": ["-c:a", "pcm_s16le"], ".m4a": AAC}[path.suffix]
    ffmpeg("-f", "lavfi", "-i", _SOUND, "-t", str(seconds), *codec, str(path))


MAKERS: dict[str, Callable[[Path], None]] = {
    "h264.mp4": h264, "hevc.mp4": hevc, "hevc10.mp4": hevc10, "phone.mp4": phone, "later.mov": later_picture,
    "edit-list.mp4": edit_list, "pcm.mov": pcm_mov, "vp9.webm": vp9, "tone.mp3": audio, "tone.wav": audio,
    "tone.m4a": audio,
}


class Sources:
    """The sources above, each made the first time a test asks for it, in a folder the media server serves."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.url = folder, url
        folder.mkdir(exist_ok=True)

    def path(self, name: str) -> Path:
        target = self.folder / name
        if not target.exists():
            partial = self.folder / f"making-{name}"
            MAKERS[name](partial)
            shutil.move(partial, target)
        return target

    def link(self, name: str) -> str:
        self.path(name)
        return f"{self.url}/{name}"

    def add(self, source: Path) -> str:
        """A file made elsewhere (a sample, a recording), served beside the others."""
        shutil.copyfile(source, self.folder / source.name)
        return f"{self.url}/{source.name}"

