# syntax=docker/dockerfile:1
# The video-ops worker: FFmpeg built from pinned sources with NVENC, NVDEC, libx264 and libass,
# fonts for captions, and the package from pyproject.toml. Build, run and pins: docs/gpu.md.

# The CUDA "base" flavour: the CUDA runtime and the NVIDIA container hooks, without the compute
# libraries (cuBLAS, cuFFT, NPP) that FFmpeg never loads. CUDA 12.1 asks the host for a 530
# driver (530.30.02), next to the NVENC API's floor below (530.41.03).
ARG CUDA_IMAGE=nvidia/cuda:12.1.1-base-ubuntu22.04

FROM ${CUDA_IMAGE} AS ffmpeg
ARG FFMPEG_VERSION=7.1.1
# nv-codec-headers 12.1.14.0 = NVENC API 12.1: the oldest FFmpeg 7.1 accepts, so the lowest driver (530.41.03).
ARG NV_CODEC_HEADERS_VERSION=12.1.14.0
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential ca-certificates git nasm pkg-config \
      libass-dev libdav1d-dev libfontconfig1-dev libfreetype-dev libfribidi-dev libharfbuzz-dev libx264-dev \
      zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
RUN git clone --depth 1 --branch "n${NV_CODEC_HEADERS_VERSION}" https://github.com/FFmpeg/nv-codec-headers.git \
      /src/nv-codec-headers \
 && make -C /src/nv-codec-headers install PREFIX=/usr/local
RUN git clone --depth 1 --branch "n${FFMPEG_VERSION}" https://github.com/FFmpeg/FFmpeg.git /src/ffmpeg
WORKDIR /src/ffmpeg
# NVENC/NVDEC need only the headers: FFmpeg loads the driver's libraries at run time, so no GPU or
# CUDA toolkit is needed to build, and no --enable-nonfree.
RUN ./configure --prefix=/opt/ffmpeg --disable-debug --disable-doc --disable-ffplay \
      --enable-gpl --enable-libx264 --enable-libass --enable-libfreetype --enable-libfontconfig \
      --enable-libfribidi --enable-libharfbuzz --enable-libdav1d \
      --enable-ffnvcodec --enable-nvenc --enable-nvdec --enable-cuvid \
 && make -j"$(nproc)" \
 && make install \
 && for encoder in h264_nvenc hevc_nvenc libx264; do \
      /opt/ffmpeg/bin/ffmpeg -hide_banner -encoders | grep -qw "$encoder" || { echo "no $encoder" >&2; exit 1; }; \
    done \
 && /opt/ffmpeg/bin/ffmpeg -hide_banner -hwaccels | grep -qx cuda \
 && /opt/ffmpeg/bin/ffmpeg -hide_banner -filters | grep -qw subtitles

FROM ${CUDA_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
# Caption fonts: the same list of Debian packages that scripts/setup.sh installs for local runs and tests.
COPY scripts/font-packages.txt /tmp/font-packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates python3 python3-venv $(grep -v '^#' /tmp/font-packages.txt) \
      libass9 libdav1d5 libfontconfig1 libfreetype6 libfribidi0 libharfbuzz0b libx264-163 zlib1g \
 && rm -rf /var/lib/apt/lists/* /tmp/font-packages.txt \
 && fc-cache -f
COPY --from=ffmpeg /opt/ffmpeg/bin/ffmpeg /opt/ffmpeg/bin/ffprobe /usr/local/bin/
# Fails the build if a library FFmpeg links against is missing from this stage.
RUN ffmpeg -hide_banner -version >/dev/null && ffprobe -hide_banner -version >/dev/null

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

# Dependencies first, from pyproject.toml alone (a stub package stands in for the code), so that a
# code change rebuilds only the small layer below.
WORKDIR /src
COPY pyproject.toml ./
RUN mkdir video_ops && touch video_ops/__init__.py \
 && pip install ".[worker]" \
 && rm -rf video_ops build
COPY video_ops ./video_ops
RUN pip install --no-deps . && rm -rf /src/*

WORKDIR /app
COPY handler.py test_input.json ./
COPY samples ./samples
COPY bench/gpu_check.py ./bench/

# `video` makes the NVIDIA runtime mount libnvidia-encode and libnvcuvid (NVENC, NVDEC);
# `utility` brings nvidia-smi, which names the GPU in the logs.
ENV NVIDIA_DRIVER_CAPABILITIES=compute,video,utility

# Nothing here needs root: jobs write only to their temp folder under /tmp.
RUN useradd --create-home --uid 10001 worker
USER worker

CMD ["python", "-u", "handler.py"]
