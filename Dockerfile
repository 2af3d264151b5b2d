# syntax=docker/dockerfile:1
# The video-ops worker: Debian's FFmpeg (the very build the test suite runs), the caption fonts,
# Python and the package from pyproject.toml. Build, test and deploy: docs/gpu.md and scripts/image.sh.

# A public base anyone can pull. Debian's FFmpeg 5.1 has NVENC, NVDEC, libx264 and libass; it loads the
# NVIDIA driver's libraries at run time, so no CUDA image is needed.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim
FROM ${BASE_IMAGE}

ARG DEBIAN_FRONTEND=noninteractive
# Empty: the newest in the base's suites. scripts/image.sh passes the version installed on the machine
# that builds, which is the one its tests ran.
ARG FFMPEG_VERSION=
# Files that Debian's FFmpeg packages bring in but FFmpeg never links (Mesa's OpenGL and Vulkan drivers
# and the LLVM they load): dpkg leaves them out, the packages stay installed, apt stays consistent.
COPY scripts/image-dpkg-excludes /etc/dpkg/dpkg.cfg.d/video-ops-excludes
# Caption fonts: the same list of Debian packages that scripts/setup.sh installs for local runs and tests.
COPY scripts/font-packages.txt /tmp/font-packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates python3 python3-venv \
      "ffmpeg${FFMPEG_VERSION:+=$FFMPEG_VERSION}" \
      $(grep -v '^#' /tmp/font-packages.txt) \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/font-packages.txt \
 && fc-cache -f \
 && ffmpeg -hide_banner -version >/dev/null && ffprobe -hide_banner -version >/dev/null

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# img2vid decodes and cuts frames in a pool of threads; glibc gives each thread its own heap and keeps
# what a big image left there. Two heaps: a ten-clip zoom job peaked at 267-288 MiB instead of 366-527 MiB.
ENV MALLOC_ARENA_MAX=2
RUN python3 -m venv /opt/venv

# Dependencies first, from pyproject.toml alone (a stub package stands in for the code), so that a code
# change rebuilds only the small layers below. The building machine's CA bundle and pip settings come in
# as build secrets (scripts/image.sh): they are used by pip and never stored in a layer. Symbol tables
# are stripped from the packages' shared libraries that have one (60 MB, mostly CTranslate2's), as Debian
# strips its own; a library that no longer loads (a wheel's patched library can break) is put back.
WORKDIR /src
COPY pyproject.toml ./
RUN --mount=type=secret,id=ca-bundle,target=/run/secrets/ca-bundle \
    --mount=type=secret,id=pip-conf,target=/run/secrets/pip-conf \
    mkdir video_ops && touch video_ops/__init__.py \
 && if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
 && if [ -s /run/secrets/pip-conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip-conf; fi \
 && pip install ".[worker]" "setuptools>=77" \
 && rm -rf video_ops build \
 && apt-get update && apt-get install -y --no-install-recommends binutils \
 && for library in $(find /opt/venv -name '*.so*' -type f); do \
      readelf -S "$library" | grep -q '[.]symtab' || continue; \
      cp "$library" /tmp/unstripped \
      && strip --strip-unneeded "$library" \
      && python -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' "$library" 2>/dev/null \
      || cp /tmp/unstripped "$library"; \
    done \
 && rm -f /tmp/unstripped \
 && apt-get purge -y --autoremove binutils && apt-get clean && rm -rf /var/lib/apt/lists/*
# GPU transcription: CTranslate2 needs cuBLAS and cuDNN, which are not part of the NVIDIA driver and add
# about 1.5 GB. Without them (the default) transcribe runs on the CPU in int8 and says so in the log.
ARG WHISPER_CUDA=
RUN --mount=type=secret,id=ca-bundle,target=/run/secrets/ca-bundle \
    --mount=type=secret,id=pip-conf,target=/run/secrets/pip-conf \
    if [ "$WHISPER_CUDA" = 1 ]; then \
      if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
      && if [ -s /run/secrets/pip-conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip-conf; fi \
      && pip install nvidia-cublas-cu12 "nvidia-cudnn-cu12==9.*"; \
    fi
ENV LD_LIBRARY_PATH=/opt/venv/lib/python3.11/site-packages/nvidia/cublas/lib:/opt/venv/lib/python3.11/site-packages/nvidia/cudnn/lib

# The build backend is already in the venv, so the code's own layer needs no network.
COPY video_ops ./video_ops
RUN pip install --no-deps --no-build-isolation . && rm -rf /src/*

# Whisper models live in a folder the worker may write to (or a RunPod network volume named by
# VIDEO_OPS_WHISPER_MODELS); WHISPER_MODEL=large-v3 (any model name) bakes one into the image.
ARG WHISPER_MODEL=
ENV VIDEO_OPS_WHISPER_MODELS=/models/whisper
RUN --mount=type=secret,id=ca-bundle,target=/run/secrets/ca-bundle \
    mkdir -p /models/whisper \
 && if [ -n "$WHISPER_MODEL" ]; then \
      if [ -s /run/secrets/ca-bundle ]; then export REQUESTS_CA_BUNDLE=/run/secrets/ca-bundle; fi \
      && python -c "import sys; from video_ops.speech.models import ensure_model; print(ensure_model(sys.argv[1]))" \
           "$WHISPER_MODEL"; \
    fi

WORKDIR /app
COPY handler.py test_input.json ./
COPY samples ./samples
COPY bench/gpu_check.py ./bench/

# Debian's base is not NVIDIA's: the NVIDIA container runtime exposes the GPU only when these are set.
# `video` mounts libnvidia-encode and libnvcuvid (NVENC, NVDEC); `utility` brings nvidia-smi.
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,video,utility

# Nothing here needs root: jobs write only to their temp folder under /tmp.
RUN useradd --create-home --uid 10001 worker && chown -R worker:worker /models
USER worker

CMD ["python", "-u", "handler.py"]
