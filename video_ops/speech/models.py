"""Whisper models for faster-whisper: found in the models folder or downloaded there, loaded once per process.

Loading large-v3 takes seconds and gigabytes, so the loaded model is kept for the jobs that follow; a job
asking for another model replaces it (two large models side by side would not fit a 16 GB card).
The device is the GPU when CTranslate2 sees one and the CUDA libraries it loads are there (float16),
else the CPU (int8).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from video_ops.base.errors import JobError
from video_ops.base.settings import env_str

ModelName = Literal["tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en", "large-v1",
                    "large-v2", "large-v3", "turbo", "large-v3-turbo", "distil-large-v3", "distil-small.en"]
DEFAULT_MODEL: ModelName = "large-v3"
# Trained on English speech only: they hear no other language and cannot translate. distil-large-v3 keeps
# the multilingual vocabulary but was distilled on English alone.
ENGLISH_ONLY = frozenset({"tiny.en", "base.en", "small.en", "medium.en", "distil-large-v3", "distil-small.en"})
# Not trained to translate (OpenAI's note on turbo): its translations come out in the source language.
NO_TRANSLATION = ENGLISH_ONLY | {"turbo", "large-v3-turbo"}
ALIASES = {"large-v3-turbo": "turbo"}  # one model under two names: one folder, one download
DEFAULT_FOLDER = "~/.cache/video-ops/whisper"
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
# What CTranslate2 4.x opens to run Whisper on a GPU (cuDNN for the encoder's convolutions). They are not
# part of the NVIDIA driver: the image carries them only when built with WHISPER_CUDA=1 (docs/transcribe.md).
CUDA_LIBRARIES = ("libcublas.so.12", "libcudnn.so.9")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    name: str
    device: str  # "cuda" or "cpu"
    compute_type: str  # "float16" or "int8"
    model: Any  # faster_whisper.WhisperModel
    load_s: float  # what loading took, once per process


_lock = threading.Lock()
_loaded: dict[tuple[str, str, str], LoadedModel] = {}


def models_folder() -> Path:
    """Where models live: VIDEO_OPS_WHISPER_MODELS (a network volume on RunPod), one folder per model name."""
    return Path(env_str("VIDEO_OPS_WHISPER_MODELS", DEFAULT_FOLDER)).expanduser()


@functools.cache
def device() -> tuple[str, str]:
    """(device, compute type): CUDA in float16 when a GPU is visible to CTranslate2 and its CUDA libraries
    load, else the CPU in int8. Probed once per process; a GPU left unused is said once in the log."""
    import ctranslate2

    if ctranslate2.get_cuda_device_count() == 0:
        return "cpu", "int8"
    missing = [library for library in CUDA_LIBRARIES if not _loads(library)]
    if missing:
        log.warning("transcription runs on the CPU: the GPU is visible but %s cannot be loaded "
                    "(an image built with WHISPER_CUDA=1 has them)", " and ".join(missing))
        return "cpu", "int8"
    return "cuda", "float16"


def _loads(library: str) -> bool:
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def canonical(name: str) -> str:
    """The name a model's folder has: an alias is the model it names."""
    return ALIASES.get(name, name)


def get_model(name: str) -> tuple[LoadedModel, bool]:
    """The model, loaded on first use; the flag says whether this call loaded it. Blocking: call in a thread."""
    name = canonical(name)
    where, compute_type = device()
    key = (name, where, compute_type)
    with _lock:
        if key in _loaded:
            return _loaded[key], False
        folder = ensure_model(name)
        started = time.monotonic()
        from faster_whisper import WhisperModel

        try:
            model = WhisperModel(str(folder), device=where, compute_type=compute_type)
        except (RuntimeError, ValueError, OSError) as err:
            log.warning("loading the Whisper model %s failed: %s", name, err)
            raise JobError(f"model: the Whisper model '{name}' could not be loaded on the {where} "
                           f"({err.__class__.__name__}); its files in the models folder may be damaged.") from None
        _loaded.clear()  # one model at a time: GPU memory
        _loaded[key] = LoadedModel(name, where, compute_type, model, round(time.monotonic() - started, 3))
        log.info("Whisper model %s loaded on %s (%s) in %.2f s", name, where, compute_type, _loaded[key].load_s)
        return _loaded[key], True


def forget_models() -> None:
    """Drop the loaded model (tests start from a fresh process's state)."""
    with _lock:
        _loaded.clear()


def ensure_model(name: str) -> Path:
    """The model's folder, downloaded with faster-whisper's own downloader when it is not there yet (the
    image's WHISPER_MODEL build argument calls this to bake one in)."""
    name = canonical(name)
    folder = models_folder() / name
    if all((folder / file).is_file() for file in MODEL_FILES):
        return folder
    from faster_whisper.utils import download_model

    try:
        with warnings.catch_warnings():  # faster-whisper still passes an argument huggingface_hub ignores
            warnings.simplefilter("ignore", UserWarning)
            download_model(name, output_dir=str(folder))
    except Exception as err:  # huggingface_hub raises many kinds: offline, 404, disk full, timeouts
        log.warning("downloading the Whisper model %s failed: %s", name, err)
        raise JobError(f"model: the Whisper model '{name}' is not in the models folder (VIDEO_OPS_WHISPER_MODELS) "
                       "and could not be downloaded.") from None
    if not all((folder / file).is_file() for file in MODEL_FILES):
        raise JobError(f"model: the Whisper model '{name}' was downloaded without all of its files "
                       f"({', '.join(MODEL_FILES)}).")
    return folder
