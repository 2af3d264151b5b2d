"""Which H.264 encoder (and decoder) this worker uses, and the argv that makes web-playable MP4 with it.

The choice is learned once per process by really encoding a few frames (`gpu_probe`): NVENC where
the card has it, libx264 otherwise, with the reason in one log line and in every result. The same choice
serves HEVC (hevc_nvenc or libx265); VP9 and AV1 are always encoded on the CPU (libvpx-vp9, SVT-AV1: this
FFmpeg has no GPU encoder for them). Standard library only, so `bench/gpu_check.py` can show the worker's
choice without its dependencies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, TypeVar, cast

from video_ops.base.errors import JobError
from video_ops.base.settings import env_int, env_str
from video_ops.media import gpu_probe

if TYPE_CHECKING:
    from video_ops.media.probe import Stream

log = logging.getLogger(__name__)

NVENC = "h264_nvenc"
X264 = "libx264"
ENCODER_MODES = ("auto", "nvenc", "x264")
DECODER_MODES = ("auto", "nvdec", "cpu")
HWACCEL_ARGS = ("-hwaccel", "cuda")

# Matched quality (docs/gpu.md): NVENC's constant-quality VBR at a CQ near the QP that x264's CRF 21
# lands on; the maxrate only stops spikes on noisy frames, it is not a target.
_X264_ARGS = ("-c:v", X264, "-preset", "veryfast", "-crf", "21")
# A camera move over a still image is one smooth motion of the whole frame, which the cheapest motion
# search (diamond, one sub-pixel pass) finds as well as veryfast's own: same SSIM within 0.001, files
# 1-9 % larger, a third less CPU (docs/img2vid.md). Not for a still clip: subme also steers the key
# frame's intra decisions, and a still shows that key frame for its whole length (SSIM 0.989 -> 0.988).
_X264_CAMERA_MOVE_ARGS = ("-x264-params", "me=dia:subme=1")
_NVENC_ARGS = ("-c:v", NVENC, "-preset", "p4", "-tune", "hq", "-profile:v", "high", "-rc", "vbr", "-cq", "23",
               "-b:v", "0", "-maxrate", "30M", "-bufsize", "60M")
# The other codecs a caller may ask for (`convert`), at settings of about the same quality as x264's CRF 21
# and the same aim (quick, for a worker): x265 veryfast CRF 24; libvpx-vp9 in constant quality with row
# threads at speed 4; SVT-AV1 preset 8 (libaom-av1 is ten times slower). NVENC's HEVC at CQ 25, as its H.264.
VideoCodec = Literal["h264", "hevc", "vp9", "av1"]
HEVC_NVENC = "hevc_nvenc"
_CPU_ENCODERS: dict[str, tuple[str, ...]] = {
    "h264": _X264_ARGS,
    "hevc": ("-c:v", "libx265", "-preset", "veryfast", "-crf", "24", "-x265-params", "log-level=error"),
    "vp9": ("-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1"),
    "av1": ("-c:v", "libsvtav1", "-preset", "8", "-crf", "35"),
}
_HEVC_NVENC_ARGS = ("-c:v", HEVC_NVENC, "-preset", "p4", "-tune", "hq", "-rc", "vbr", "-cq", "25", "-b:v", "0",
                    "-maxrate", "30M", "-bufsize", "60M")
MAX_CRF = {"h264": 51, "hevc": 51, "vp9": 63, "av1": 63}
# Audio that must be encoded: AAC-LC, which every browser and phone plays, at a rate that keeps music clean.
AAC_KBPS = 192
AAC_ARGS = ("-c:a", "aac", "-b:a", f"{AAC_KBPS}k")
# Sound that is only cut, not mixed: FFmpeg's fast AAC coder is 2.5x quicker than its default (60 s of
# stereo in 1.3 s instead of 3.1 s on 2 cores), which is most of a cut's time; at 192 kbit/s it stays clean.
AAC_FAST_ARGS = (*AAC_ARGS, "-aac_coder", "fast")

# Streams NVDEC decodes on every GPU generation RunPod offers (Turing and later). Below 720p CPU
# decoding is cheap and not worth a CUDA context; above 4096 pixels a side H.264 NVDEC refuses.
_NVDEC_FORMATS = {
    "h264": {"yuv420p", "yuvj420p"},
    "hevc": {"yuv420p", "yuvj420p", "yuv420p10le"},
    "vp9": {"yuv420p", "yuv420p10le"},
}
_NVDEC_MIN_PIXELS = 1280 * 720
_NVDEC_MAX_SIDE = 4096
_GEFORCE_SESSIONS = 3  # within GeForce's concurrent-encode cap on every driver this image supports; pro cards have none


class EncoderUnavailable(JobError):
    """The operator asked for a GPU feature (VIDEO_OPS_ENCODER=nvenc) this machine does not have."""


@dataclass(frozen=True)
class Encoder:
    """The H.264 encoder a job step uses, and whether its video inputs may be decoded on the GPU."""

    name: str
    fallback_reason: str | None = None
    hwdec: bool = False

    def video_args(self, camera_move: bool = False) -> list[str]:
        """Codec options for the output; they include `-pix_fmt yuv420p`, so put them after any filters.

        `camera_move`: the frames are a still image seen through a smoothly moving camera (img2vid's
        motions), which x264 can search cheaply.
        """
        args = self.codec_args("h264")
        if camera_move and self.name != NVENC:
            return [*args[:-2], *_X264_CAMERA_MOVE_ARGS, *args[-2:]]
        return args

    def codec_name(self, codec: VideoCodec) -> str:
        """The FFmpeg encoder this choice uses for `codec`: NVENC's for H.264 and HEVC when it is the GPU's."""
        if self.name == NVENC and codec in ("h264", "hevc"):
            return NVENC if codec == "h264" else HEVC_NVENC
        return _CPU_ENCODERS[codec][1]

    def codec_args(self, codec: VideoCodec, *, crf: int | None = None, bitrate: int | None = None,
                   ten_bit: bool = False) -> list[str]:
        """Options to encode `codec` (after any filters): the worker's settings, with the caller's `crf` (NVENC:
        its constant-quality level) or `bitrate` (bits per second, capped at 1x with a 2x buffer where the
        encoder takes a cap) in place of its quality. 8-bit 4:2:0, or 10-bit for HEVC, VP9 and AV1 (`ten_bit`);
        H.264 is always 8-bit, as browsers play it."""
        name = self.codec_name(codec)
        if name == NVENC:
            base = [*_NVENC_ARGS]
        elif name == HEVC_NVENC:
            base = [*_HEVC_NVENC_ARGS, "-profile:v", "main10" if ten_bit else "main"]
        else:
            base = list(_CPU_ENCODERS[codec])
        if crf is not None:
            quality = "-cq" if name in (NVENC, HEVC_NVENC) else "-crf"
            base = [*_without(base, (quality,)), quality, str(crf)]
        elif bitrate is not None:
            capped = ["-maxrate", str(bitrate), "-bufsize", str(2 * bitrate)] if codec in ("h264", "hevc") else []
            base = [*_without(base, ("-crf", "-cq", "-b:v", "-maxrate", "-bufsize")), "-b:v", str(bitrate), *capped]
        # 8-bit 4:2:0 H.264 whatever the source: 10-bit or 4:4:4 H.264 does not play in browsers and phones.
        ten = ten_bit and codec != "h264"
        pixels = ("p010le" if name == HEVC_NVENC else "yuv420p10le") if ten else "yuv420p"
        return [*base, "-pix_fmt", pixels]

    def decode_args(self, stream: Stream | None) -> list[str]:
        """Options to put right before the `-i` of a video input: NVDEC where it helps, else nothing.

        Frames come back to system memory before any filter (no `-hwaccel_output_format cuda`), so
        CPU filters such as libass, scale or pad work unchanged.
        """
        if not self.hwdec or stream is None:
            return []
        formats = _NVDEC_FORMATS.get(stream.codec_name, set())
        big_enough = stream.width * stream.height >= _NVDEC_MIN_PIXELS
        fits = max(stream.width, stream.height) <= _NVDEC_MAX_SIDE
        return list(HWACCEL_ARGS) if stream.pix_fmt in formats and big_enough and fits else []

    @property
    def max_sessions(self) -> int | None:
        """How many encodes of this encoder may run at once (None: as many as the CPU allows)."""
        return env_int("VIDEO_OPS_NVENC_SESSIONS", _GEFORCE_SESSIONS) if self.name == NVENC else None

    def uses_gpu(self) -> bool:
        return self.name == NVENC or self.hwdec

    def without(self, failure: gpu_probe.GpuFailure) -> Encoder:
        """What to redo a step with after the GPU failed it: CPU decoding after an NVDEC failure,
        else libx264 and CPU decoding, with NVENC's failure as the fallback reason."""
        if failure.kind == "nvdec" and self.hwdec:
            return replace(self, hwdec=False)
        if self.name == NVENC:
            return Encoder(X264, fallback_reason=f"{NVENC} failed during the job: {failure.reason()}")
        return Encoder(X264, fallback_reason=self.fallback_reason)

    def describe(self, codec: VideoCodec = "h264") -> dict[str, str]:
        """The result's `encoder` (and why not the GPU's, for a codec the GPU could have encoded)."""
        info = {"encoder": self.codec_name(codec)}
        if self.fallback_reason and codec in ("h264", "hevc"):
            info["encoder_fallback_reason"] = self.fallback_reason
        return info


def _without(args: list[str], options: tuple[str, ...]) -> list[str]:
    """`args` less each of `options` and its value."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in options:
            skip = True
        else:
            out.append(arg)
    return out


def gpu_failure(encoder: Encoder, returncode: int | None, stderr: str) -> gpu_probe.GpuFailure | None:
    """The GPU device/session failure that made a step fail, or None when redoing it on the CPU would not help.

    Only a step that used the GPU and that FFmpeg ended itself with an error status (not a signal)
    qualifies, and only when its log carries one of the NVENC/NVDEC/CUDA messages.
    """
    if not encoder.uses_gpu() or returncode is None or returncode <= 0:
        return None
    return gpu_probe.classify(stderr)


T = TypeVar("T")


class _Once:
    """Runs a probe once per process, even when the first jobs arrive together."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a cached choice is computed from cached probes
        self._results: dict[str, object] = {}

    def get(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._results:
                self._results[key] = compute()
            return cast(T, self._results[key])

    def clear(self) -> None:
        with self._lock:
            self._results.clear()


_probes = _Once()


def _mode(name: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, "auto").lower()
    if value not in choices:
        raise EncoderUnavailable(f"Environment variable {name} must be one of {', '.join(choices)}, got {value!r}.")
    return value


def _with_gpu_name(reason: str) -> str:
    """Prefix the GPU model, when there is one: "NVIDIA H100 80GB HBM3: this GPU has no NVENC encoder ..."."""
    name = _probes.get("gpu_name", lambda: gpu_probe.gpu_name() if gpu_probe.gpu_present() else None)
    return f"{name}: {reason}" if name else reason


def nvenc_status() -> gpu_probe.ProbeResult:
    return _probes.get("nvenc", lambda: gpu_probe.probe_encoder(Encoder(NVENC).video_args()))


def nvdec_status() -> gpu_probe.ProbeResult:
    return _probes.get("nvdec", lambda: gpu_probe.probe_decoder(HWACCEL_ARGS))


def choose_encoder() -> Encoder:
    """The encoder for this process, from VIDEO_OPS_ENCODER / VIDEO_OPS_DECODER and the (cached) probes."""
    encoder_mode = _mode("VIDEO_OPS_ENCODER", ENCODER_MODES)
    decoder_mode = _mode("VIDEO_OPS_DECODER", DECODER_MODES)
    if encoder_mode == "x264":
        encoder = Encoder(X264)
    else:
        nvenc = nvenc_status()
        if nvenc.ok:
            encoder = Encoder(NVENC)
        elif encoder_mode == "nvenc":
            raise EncoderUnavailable(f"VIDEO_OPS_ENCODER=nvenc, but NVENC does not work here: "
                                     f"{_with_gpu_name(nvenc.reason)}.")
        else:
            encoder = Encoder(X264, fallback_reason=_with_gpu_name(nvenc.reason))
    if decoder_mode == "cpu":
        return encoder
    nvdec = nvdec_status()
    if not nvdec.ok and decoder_mode == "nvdec":
        raise EncoderUnavailable(f"VIDEO_OPS_DECODER=nvdec, but NVDEC does not work here: "
                                 f"{_with_gpu_name(nvdec.reason)}.")
    return replace(encoder, hwdec=nvdec.ok)


def current_encoder() -> Encoder:
    """The process's encoder: probed on first use (the fitness check, or a local run's first job), then cached."""
    return _probes.get("choice", _announce)


def _announce() -> Encoder:
    encoder = choose_encoder()
    decoding = "NVDEC for large H.264/HEVC/VP9 inputs" if encoder.hwdec else "CPU decoding"
    why = f" because {encoder.fallback_reason}" if encoder.fallback_reason else ""
    log.info("video encoder: %s%s; %s", encoder.name, why, decoding)
    return encoder


def check_encoder() -> None:
    """RunPod fitness check: probe before the first job; a forced GPU mode that cannot work stops the worker."""
    current_encoder()


def forget_probes() -> None:
    """Drop the cached probes and choice (tests, and `bench/gpu_check.py` after changing the environment)."""
    _probes.clear()
