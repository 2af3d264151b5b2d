"""Where transcription runs. No GPU here: CTranslate2's device count is stood in for; the library
check is real (dlopen)."""

from __future__ import annotations

import logging

import ctranslate2
import pytest

from video_ops.speech import models


@pytest.fixture(autouse=True)
def fresh_probe():
    models.device.cache_clear()
    yield
    models.device.cache_clear()


def test_without_a_gpu_transcription_runs_on_the_cpu_in_int8():
    assert ctranslate2.get_cuda_device_count() == 0
    assert models.device() == ("cpu", "int8")


def test_a_gpu_without_cublas_and_cudnn_falls_back_to_the_cpu_and_says_why(monkeypatch, caplog):
    """The plain image has no cuBLAS or cuDNN: loading large-v3 on CUDA would fail every job."""
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    with caplog.at_level(logging.WARNING, logger=models.__name__):
        assert models.device() == ("cpu", "int8")
    assert "libcublas.so.12 and libcudnn.so.9 cannot be loaded" in caplog.text
    assert "WHISPER_CUDA=1" in caplog.text


def test_a_gpu_with_its_libraries_runs_in_float16(monkeypatch):
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    monkeypatch.setattr(models, "CUDA_LIBRARIES", ("libc.so.6", "libm.so.6"))  # loadable everywhere
    assert models.device() == ("cuda", "float16")
