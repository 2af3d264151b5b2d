"""The transcribe bench: one `transcribe` job against faster-whisper called bare on the same file, with the
same model and options, so the difference is what the job adds (download, one FFmpeg decode to 16 kHz,
five files written and stored).

No weights can be downloaded here, so both run a random-weight Whisper made by
`video_ops.speech.tiny_model`: its decoding time means nothing, the job's overhead around it does.

`python -m bench.transcribe MODEL_DIR AUDIO WORDS.json`: the baseline, as a user would write it.
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from video_ops.speech.tiny_model import make as make_model

from .media import Media, Scale, ffmpeg
from .workloads import Run, Target, Workload, command_variant, worker_variant

MODEL = "tiny"
OPTIONS = {"beam_size": 5, "temperature": 0.0, "enable_vad": False}
FILES = ["segments.srt", "segments.vtt", "segments.json", "words.json", "words_karaoke.ass",
         "words_karaoke.vtt", "words.lrc"]
OVERHEAD_LIMIT_S = 0.300


def speech(media: Media, scale: Scale) -> Path:
    """A tone under noise as long as the scale's video: the random model hears words in it."""
    path = media.folder / "speech.mp3"
    if not path.exists():
        seconds = f"{scale.seconds:g}"
        ffmpeg("-f", "lavfi", "-i", f"sine=f=220:d={seconds}", "-f", "lavfi", "-i",
               f"anoisesrc=d={seconds}:a=0.3:seed=7", "-filter_complex", "amix=inputs=2", str(path))
    return path


def models(media: Media) -> Path:
    folder = media.folder / "whisper"
    if not (folder / MODEL / "model.bin").exists():
        make_model(folder / MODEL)
    return folder


def job_overhead(summary: dict[str, Any]) -> float:
    """Median of the job's wall time less the model's own work (loading, decoding): what the issue caps."""
    runs = summary["variants"]["worker"]["samples"]
    return statistics.median(run["wall_s"] - run["timings"]["transcribe_s"] - run["timings"]["model_s"]
                             for run in runs)


def transcribe(media: Media, scale: Scale) -> Workload:
    audio, folder = speech(media, scale), models(media)
    worker = worker_variant(f"worker: `transcribe`, model {MODEL} (random weights), CPU int8, VAD off",
                            {"operation": "transcribe", "audio_url": audio.resolve().as_uri(), "model": MODEL,
                             **OPTIONS}, FILES, extra_work=("video_ops.ops.transcribe:get_model",
                                                        "video_ops.ops.transcribe:recognize"))

    def with_models(run_folder: Path) -> Run:
        run = worker.prepare(run_folder)
        env = ["env", f"VIDEO_OPS_WHISPER_MODELS={folder}", "HF_HUB_OFFLINE=1"]
        return replace(run, commands=[[*env, *command] for command in run.commands])

    def bare(run_folder: Path) -> tuple[list[list[str]], list[Path]]:
        out = run_folder / "words.json"
        return [[sys.executable, "-m", "bench.transcribe", str(folder / MODEL), str(audio), str(out)]], [out]

    return Workload(
        name="transcribe",
        title=f"transcribe: {scale.seconds:g} s of sound, Whisper `{MODEL}` with random weights on the CPU",
        output_seconds=scale.seconds,  # seconds of sound: the realtime factor is per second heard
        variants=[
            replace(worker, prepare=with_models),
            command_variant("bare", "baseline: faster-whisper called bare on the same file (its own PyAV decode), "
                                    "same model and options, words written as JSON", bare),
        ],
        targets=[Target("the job's overhead beyond the model's loading and decoding, median, in seconds",
                        job_overhead, OVERHEAD_LIMIT_S, at_most=True)],
    )


def main(model_dir: str, audio: str, out: str) -> int:
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="int8")
    segments, info = model.transcribe(audio, language=None, beam_size=OPTIONS["beam_size"],
                                      temperature=OPTIONS["temperature"], vad_filter=OPTIONS["enable_vad"],
                                      word_timestamps=True)
    words = [{"word": w.word.strip(), "start": w.start, "end": w.end} for s in segments for w in (s.words or [])]
    Path(out).write_text(json.dumps({"language": info.language, "words": words}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
