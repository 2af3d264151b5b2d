"""The audio_concatenate bench: ten one-minute MP3s joined by the worker against FFmpeg's concat demuxer
re-encoding them with the same encoder and settings (`ffmpeg -f concat -i list.txt -c:a libmp3lame -q:a 2`).

The baseline is what a user would type for files alike. The worker checks every input first, decodes each
once, joins to the sample whatever the files are (rates, channels, codecs, videos) and encodes once: the
target is that this costs at most 1.2x the plain command.
"""

from __future__ import annotations

from pathlib import Path

from video_ops.media.sound_files import FORMATS

from .media import Media, Scale, ffmpeg, once
from .workloads import FFMPEG, Target, Workload, command_variant, overhead_target, ratio, worker_variant

FILES = 10
MP3 = FORMATS["mp3"]
SAME_ENCODER = [*MP3.encoder, *MP3.quality]  # what the worker's mp3 format writes when no bitrate is asked
LIMIT = 1.2


def sound_files(media: Media, scale: Scale) -> list[Path]:
    """Ten stereo 44.1 kHz MP3s (192 kb/s) of the scale's length, each a different chord."""
    paths = [media.folder / f"sound_{number + 1:02d}.mp3" for number in range(FILES)]
    for number, path in enumerate(paths):
        chord = f"0.25*sin(2*PI*{180 + 20 * number}*t)+0.15*sin(2*PI*{271 + 30 * number}*t)*sin(2*PI*0.3*t)"
        once(path, lambda out, c=chord: ffmpeg("-f", "lavfi", "-i", f"aevalsrc={c}:s=44100:c=stereo",
                                                "-t", f"{scale.seconds:g}", "-c:a", "libmp3lame", "-b:a", "192k",
                                                "-f", "mp3", str(out)))
    return paths


def audio_concatenate(media: Media, scale: Scale) -> Workload:
    files = sound_files(media, scale)

    def concat_demuxer(folder: Path) -> tuple[list[list[str]], list[Path]]:
        listing = folder / "list.txt"
        listing.write_text("".join(f"file '{path.resolve()}'\n" for path in files))
        out = folder / "out.mp3"
        return [[*FFMPEG, "-f", "concat", "-safe", "0", "-i", str(listing), *SAME_ENCODER, str(out)]], [out]

    settings = " ".join(SAME_ENCODER)
    return Workload(
        name="audio_concatenate",
        title=f"audio_concatenate: {FILES} stereo 44.1 kHz MP3s of {scale.seconds:g} s (192 kb/s) into one MP3",
        output_seconds=FILES * scale.seconds,  # seconds of sound made
        variants=[
            worker_variant(f"worker: `audio_concatenate` (each file decoded once, joined to the sample, `{settings}`)",
                           {"operation": "audio_concatenate", "output_filename": "joined.mp3",
                            "audio_urls": [{"audio_url": path.resolve().as_uri()} for path in files]},
                           ["joined.mp3"]),
            command_variant("concat", f"baseline: `ffmpeg -f concat -safe 0 -i list.txt {settings} out.mp3`",
                            concat_demuxer),
        ],
        targets=[
            Target(f"at most {LIMIT}x the concat demuxer's re-encode with the same encoder",
                   lambda s: ratio(s, "concat"), LIMIT, at_most=True),
            overhead_target(),
        ],
    )


def extract_audio(media: Media, scale: Scale) -> Workload:
    """The bench video's sound to MP3 by the worker, against the plain command with the same encoder. No
    target in the issue: the worker's cost beyond FFmpeg's own is what is watched (its overhead)."""

    def plain(folder: Path) -> tuple[list[list[str]], list[Path]]:
        out = folder / "out.mp3"
        return [[*FFMPEG, "-i", str(media.video), "-vn", *SAME_ENCODER, str(out)]], [out]

    settings = " ".join(SAME_ENCODER)
    return Workload(
        name="extract_audio",
        title=f"extract_audio: the sound of the {scale.seconds:g} s bench video into an MP3",
        output_seconds=scale.seconds,
        variants=[
            worker_variant(f"worker: `extract_audio`, `format: mp3` (`{settings}`)",
                           {"operation": "extract_audio", "url_video": media.video.resolve().as_uri(),
                            "output_filename": "sound.mp3"}, ["sound.mp3"]),
            command_variant("plain", f"baseline: `ffmpeg -i video.mp4 -vn {settings} out.mp3`", plain),
        ],
        targets=[overhead_target()],
    )
