"""What this machine's GPU can really do for FFmpeg, learned by trying, and what its failures mean.

Standard library only: `bench/gpu_check.py` imports it on GPU machines where the worker's
dependencies may be missing. The message table quotes what FFmpeg's NVENC/NVDEC code and
nv-codec-headers' loader actually print (libavcodec/nvenc.c, nvdec.c, libavutil/cuda_check.h,
ffnvcodec/dynlink_loader.h); a failure is recognised by these messages, never by the word "nvenc".
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Device nodes the NVIDIA container runtime creates for each GPU it hands to a container.
DEVICE_GLOB = "/dev/nvidia[0-9]*"
PROBE_TIMEOUT_S = 60.0
_CONTEXT_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-fA-F]+\]\s*")


@dataclass(frozen=True)
class GpuFailure:
    """One recognised GPU failure: its kind, what it means, and the FFmpeg line that showed it."""

    kind: str
    meaning: str
    line: str

    def reason(self) -> str:
        return f"{self.meaning} (FFmpeg: {self.line})"


# Ordered: when several lines match, the earliest rule names the cause (a missing libnvidia-encode
# is followed by the minimum-driver line; a session refusal is followed by "No capable devices found").
_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (kind, meaning, re.compile(pattern))
    for kind, meaning, pattern in (
        ("no_encoder_in_build", "this FFmpeg build has no NVENC encoder",
         r"Unknown encoder '(h264|hevc)_nvenc'|Encoder '?(h264|hevc)_nvenc'? not found"),
        ("no_video_capability",
         "the container lacks the NVIDIA 'video' driver capability, so the NVENC/NVDEC libraries are missing; "
         "set NVIDIA_DRIVER_CAPABILITIES=compute,video,utility",
         r"Cannot load libnvidia-encode\.so\.1|Cannot load libnvcuvid\.so\.1|Failed loading nvcuvid"),
        ("no_driver", "no NVIDIA driver in the container (no GPU, or the container was started without the "
         "NVIDIA runtime)", r"Cannot load libcuda\.so\.1|Could not dynamically load CUDA"),
        ("no_device", "CUDA sees no GPU", r"CUDA_ERROR_NO_DEVICE|No CUDA capable devices found"),
        ("driver_too_old", "the host's NVIDIA driver is older than this FFmpeg's NVENC API needs",
         r"Driver does not support the required nvenc API version|minimum required Nvidia driver for nvenc"),
        ("session_limit", "the GPU refused another NVENC session: its concurrent-session limit is reached "
         "or its memory is full",
         r"OpenEncodeSessionEx failed: (out of memory|incompatible client key|encoder busy|lock busy)"),
        ("no_nvenc", "this GPU has no NVENC encoder (A100, A30, H100 and H200 have none)",
         r"OpenEncodeSessionEx failed: (unsupported device|no encode device|invalid device|device does not exist)"
         r"|does not support NVENC|No capable devices found|No NVENC capable devices found"),
        ("nvenc_runtime", "NVENC failed while encoding",
         r"EncodePicture failed|Failed (locking|unlocking) bitstream buffer|Failed (locking|unlocking) (nvenc )?input"
         r" buffer|Error (registering|mapping) an input resource|Could not register an input HW frame"
         r"|Failed unmapping input resource"),
        ("nvdec", "NVDEC (GPU decoding) failed",
         r"hwaccel requested for input stream .*cannot be initialized|Device creation failed"
         r"|Device setup failed for decoder|Failed setup for format cuda|Error creating a NVDEC decoder"
         r"|Hardware is lacking required capabilities|with NVDEC|with CUVID|No decoder surfaces left"),
        ("cuda", "the GPU reported a CUDA error", r"CUDA_ERROR_[A-Z_]+"),
    )
)


def classify(stderr: str) -> GpuFailure | None:
    """The GPU failure FFmpeg's log shows, or None when the failure has nothing to do with the GPU."""
    lines = [_CONTEXT_PREFIX.sub("", line.strip()) for line in stderr.splitlines() if line.strip()]
    for kind, meaning, pattern in _RULES:
        line = next((line for line in lines if pattern.search(line)), None)
        if line is not None:
            return GpuFailure(kind, meaning, line[:200])
    return None


@dataclass(frozen=True)
class ProbeResult:
    """Whether a test run worked; when it did not, one line saying why."""

    ok: bool
    reason: str = ""


def gpu_present() -> bool:
    return bool(glob.glob(DEVICE_GLOB))


def gpu_name() -> str | None:
    """The first GPU's name from nvidia-smi (present when the container has the `utility` capability)."""
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=15, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return names[0] if done.returncode == 0 and names else None


def missing_gpu_reason() -> str | None:
    """Why no GPU work can even be tried here, or None when FFmpeg and a GPU device are present."""
    if shutil.which("ffmpeg") is None:
        return "FFmpeg is not installed (no ffmpeg on PATH)"
    if not gpu_present():
        return "no NVIDIA GPU is visible in this container (no /dev/nvidia* device)"
    return None


def probe_encoder(video_args: Sequence[str]) -> ProbeResult:
    """Encode a few generated frames with exactly the options jobs use: only a real encode proves NVENC works."""
    missing = missing_gpu_reason()
    if missing:
        return ProbeResult(False, missing)
    return _run_probe(
        ["-f", "lavfi", "-i", "testsrc2=size=256x256:rate=25", "-frames:v", "5", *video_args, "-f", "null", "-"],
        "the NVENC test encode",
    )


def probe_decoder(decode_args: Sequence[str]) -> ProbeResult:
    """Decode a small H.264 clip on the GPU, keeping frames there so a silent CPU fallback cannot pass."""
    missing = missing_gpu_reason()
    if missing:
        return ProbeResult(False, missing)
    with tempfile.TemporaryDirectory(prefix="video-ops-probe-") as folder:
        sample = Path(folder) / "sample.mp4"
        made = _run_probe(
            ["-f", "lavfi", "-i", "testsrc2=size=256x256:rate=25", "-frames:v", "5", "-c:v", "libx264",
             "-pix_fmt", "yuv420p", str(sample)],
            "making the NVDEC test clip with libx264",
        )
        if not made.ok:
            return made
        return _run_probe(
            [*decode_args, "-hwaccel_output_format", "cuda", "-i", str(sample), "-vf", "hwdownload,format=nv12",
             "-f", "null", "-"],
            "the NVDEC test decode",
        )


def _run_probe(args: Sequence[str], what: str) -> ProbeResult:
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return ProbeResult(False, f"{what} did not finish within {PROBE_TIMEOUT_S:.0f} s")
    except OSError as err:
        return ProbeResult(False, f"{what} could not start FFmpeg ({err.strerror})")
    if done.returncode == 0:
        return ProbeResult(True)
    failure = classify(done.stderr)
    if failure is not None:
        return ProbeResult(False, failure.reason())
    last = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "no message")
    return ProbeResult(False, f"{what} failed with exit status {done.returncode}: {_CONTEXT_PREFIX.sub('', last)}")
