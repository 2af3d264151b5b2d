"""The bench's own inputs, made with FFmpeg: nothing is downloaded, so anyone can reproduce a run.

Files are made once per scale in the work folder and reused by later runs (a file is written under a
temp name and renamed, so an interrupted run never leaves half a file to be reused).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SMOOTHNESS_IMAGE = "dots.png"


@dataclass(frozen=True)
class Scale:
    """How big the inputs are: `full` is what docs/benchmarks.md reports, `quick` only proves the bench runs."""

    name: str
    width: int
    height: int
    video_fps: int
    seconds: float  # of the video and of the MP3
    images: int
    image_seconds: float
    image_fps: int
    cues: int
    edit_seconds: float = 600.0  # the editing bench's source (bench/editing.py)

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def image_frames(self) -> int:
        return round(self.image_seconds * self.image_fps)

    def scaled(self, pixels_at_1080p: float) -> float:
        """A length in pixels at 1920x1080, at this scale's width."""
        return pixels_at_1080p * self.width / 1920


FULL = Scale("full", 1920, 1080, 30, 60.0, images=10, image_seconds=3.0, image_fps=24, cues=30)
QUICK = Scale("quick", 320, 180, 30, 2.0, images=2, image_seconds=1.0, image_fps=24, cues=3, edit_seconds=12.0)


@dataclass(frozen=True)
class Media:
    folder: Path
    video: Path  # H.264 + AAC
    audio: Path  # MP3
    images: list[Path]  # JPEG
    srt: Path
    dots: Path  # soft dots on grey, for tracking camera moves


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def make_media(root: Path, scale: Scale) -> Media:
    folder = root / f"media-{scale.name}"
    folder.mkdir(parents=True, exist_ok=True)
    media = Media(
        folder=folder,
        video=folder / "video.mp4",
        audio=folder / "audio.mp3",
        images=[folder / f"image_{n + 1:02d}.jpg" for n in range(scale.images)],
        srt=folder / "captions.srt",
        dots=folder / SMOOTHNESS_IMAGE,
    )
    once(media.video, lambda out: _video(out, scale))
    once(media.audio, lambda out: _audio(out, scale))
    for number, image in enumerate(media.images):
        once(image, lambda out, n=number: _image(out, scale, n))
    once(media.srt, lambda out: out.write_text(srt_text(scale.cues, scale.seconds), encoding="utf-8"))
    once(media.dots, lambda out: _dots(out, scale))
    return media


def once(path: Path, make: Callable[[Path], object]) -> None:
    """`make(partial)` writes the file under a temp name, renamed when done; skipped when the file exists."""
    if path.exists():
        return
    partial = path.with_name(f"partial-{path.name}")
    make(partial)
    partial.rename(path)


def _video(out: Path, scale: Scale) -> None:
    """A moving test pattern with light film grain (a flat synthetic picture would flatter the encoders),
    a tone on the audio, encoded as a camera or an editor would deliver it."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={scale.size}:rate={scale.video_fps},noise=alls=5:allf=t",
           "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
           "-t", f"{scale.seconds}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "mp4", str(out))


def _audio(out: Path, scale: Scale) -> None:
    tones = "0.3*sin(2*PI*220*t)+0.2*sin(2*PI*277*t)*sin(2*PI*0.5*t)"
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc={tones}:s=44100:c=stereo", "-t", f"{scale.seconds}",
           "-c:a", "libmp3lame", "-b:a", "192k", "-f", "mp3", str(out))


def _image(out: Path, scale: Scale, number: int) -> None:
    """A detailed, photo-like picture (a Mandelbrot view, a different one each time, with grain) saved
    at JPEG quality 2: about the size of a camera's 1080p JPEG."""
    ffmpeg("-f", "lavfi", "-i", f"mandelbrot=size={scale.size}:start_scale={3.0 / 1.5**number:.6f}",
           "-vf", "noise=alls=8:allf=u,format=yuvj420p", "-frames:v", "1", "-q:v", "2", "-f", "image2",
           str(out))


def dot_position(scale: Scale) -> tuple[float, float]:
    """Where the tracked dot sits: 400 px left of and 200 px above the centre (at 1080p): off-centre,
    so a zoom moves it, and far from the edges, so it stays in the picture."""
    return scale.width / 2 - scale.scaled(400), scale.height / 2 - scale.scaled(200)


def dot_radius(scale: Scale) -> float:
    return max(3.0, scale.scaled(10))


def _dots(out: Path, scale: Scale) -> None:
    """Soft white dots on grey (lossless PNG): their centroids can be followed to a hundredth of a pixel."""
    x, y = dot_position(scale)
    centres = [(x, y), (scale.width - x, y), (x, scale.height - y), (scale.width - x, scale.height - y)]
    two_r2 = 2 * dot_radius(scale) ** 2
    bumps = "+".join(f"exp(-((X-{cx:.3f})*(X-{cx:.3f})+(Y-{cy:.3f})*(Y-{cy:.3f}))/{two_r2:.3f})"
                     for cx, cy in centres)
    ffmpeg("-f", "lavfi", "-i", f"color=c=gray:size={scale.size},format=gray",
           "-vf", f"geq=lum='60+180*({bumps})'", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(out))


def srt_text(cues: int, seconds: float) -> str:
    """`cues` two-line cues spread evenly over `seconds`, each shown for 90 % of its slot."""
    slot = seconds / cues
    blocks = []
    for n in range(cues):
        start, end = n * slot, n * slot + slot * 0.9
        blocks.append(f"{n + 1}\n{_srt_time(start)} --> {_srt_time(end)}\n"
                      f"Caption {n + 1}: the quick brown fox\njumps over the lazy dog, ação!\n")
    return "\n".join(blocks)


def _srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


MUSIC_SECONDS = 25.0


def music(media: Media) -> Path:
    """A 25 s stereo MP3 of chords (trilhasonora's music bed), made once next to the other inputs."""
    out = media.folder / "music.mp3"
    chords = "0.25*sin(2*PI*196*t)+0.2*sin(2*PI*247*t)+0.15*sin(2*PI*294*t)*sin(2*PI*0.25*t)"
    once(out, lambda partial: ffmpeg("-f", "lavfi", "-i", f"aevalsrc={chords}:s=44100:c=stereo",
                                      "-t", f"{MUSIC_SECONDS:g}", "-c:a", "libmp3lame", "-b:a", "192k", "-f", "mp3",
                                      str(partial)))
    return out


LONG_PLAYS = 10  # the long video is the scale's video played this many times: 10 minutes at full scale


def long_video(media: Media) -> Path:
    """The video played ten times over, copied (no encode, so it is made in seconds), for the operations
    whose cost depends on where they read in a long file (frames, probe)."""
    out = media.folder / f"video_x{LONG_PLAYS}.mp4"
    once(out, lambda partial: ffmpeg("-stream_loop", str(LONG_PLAYS - 1), "-i", str(media.video), "-c", "copy",
                                      "-f", "mp4", str(partial)))
    return out


# Clips to join: five a camera made one after another, and four that differ in every way that matters.
SAME_CLIPS = 5
MIXED_CLIPS = (  # (size as a fraction of the scale's, frame rate, pixel format, share of the narration)
    ((1.0, 1.0), 30, "yuv420p", 7 / 60),
    ((27 / 64, 1.0), 30, "yuv420p", 6 / 60),  # portrait 3:4, 810x1080 at 1080p: no side is rounded when fitted
    ((2 / 3, 2 / 3), 25, "yuv420p", 5 / 60),
    ((1.0, 1.0), 24, "yuv420p10le", 8 / 60),
)


@dataclass(frozen=True)
class ClipMedia:
    same: list[Path]  # H.264 + AAC, the scale's size at 30 fps, a fifth of the scale's seconds each
    mixed: list[Path]
    mixed_seconds: list[float]  # whole seconds
    narration: Path  # MP3, the scale's seconds


def make_clip_media(media: Media, scale: Scale) -> ClipMedia:
    folder = media.folder
    clips = ClipMedia(
        same=[folder / f"same_{n + 1}.mp4" for n in range(SAME_CLIPS)],
        mixed=[folder / f"mixed_{n + 1}.mp4" for n in range(len(MIXED_CLIPS))],
        # Whole seconds: a whole number of frames at 24, 25 and 30 fps alike, for any recipe.
        mixed_seconds=[max(1.0, float(round(scale.seconds * share))) for *_, share in MIXED_CLIPS],
        narration=media.audio,
    )
    for number, path in enumerate(clips.same):
        once(path, lambda out, n=number: _clip(out, scale.size, 30, "yuv420p", scale.seconds / SAME_CLIPS, n))
    for number, (path, (share, rate, pixels, _)) in enumerate(zip(clips.mixed, MIXED_CLIPS, strict=True)):
        size = f"{round(scale.width * share[0] / 2) * 2}x{round(scale.height * share[1] / 2) * 2}"
        seconds = clips.mixed_seconds[number]
        once(path, lambda out, s=size, r=rate, p=pixels, t=seconds, n=number: _clip(out, s, r, p, t, n))
    return clips


def _clip(out: Path, size: str, rate: int, pixels: str, seconds: float, number: int) -> None:
    """A grainy moving test pattern (a different phase each) with a tone, as a camera would deliver it."""
    ffmpeg("-f", "lavfi", "-ss", f"{number * 3}", "-i", f"testsrc2=size={size}:rate={rate},noise=alls=5:allf=t",
           "-f", "lavfi", "-i", f"sine=frequency={300 + 50 * number}:sample_rate=48000",
           "-t", f"{seconds}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", pixels,
           "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "mp4", str(out))
