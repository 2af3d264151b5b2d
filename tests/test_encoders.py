"""The encoder choice and the GPU fallback, driven by a fake `ffmpeg` that prints FFmpeg's real NVENC/NVDEC errors.

There is no GPU here: a fake device node, a fake `nvidia-smi` and an `ffmpeg` wrapper first on PATH
make the worker believe there is one. The wrapper fails NVENC (or NVDEC) runs with the message in
FAKE_NVENC_ERROR (FAKE_NVDEC_ERROR), succeeds for the probes when none is set, and hands every other
run to the real FFmpeg, so the libx264 reruns produce real files.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO, leftover_workdirs, run_job
from tests.media import decodes_cleanly, make_video, probe, stream
from video_ops.io.storage import LocalStorage
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.progress import ProgressReporter
from video_ops.media import encoders, gpu_probe
from video_ops.media.encoders import NVENC, X264, Encoder, EncoderUnavailable, current_encoder, gpu_failure
from video_ops.media.ffmpeg import FFmpegError
from video_ops.media.probe import Stream

FAKE_FFMPEG = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_FFMPEG_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")

def fail_with(variable):
    message = os.environ.get(variable, "")
    if message:
        sys.stderr.write(message + "\\n")
        sys.exit(int(os.environ.get("FAKE_FFMPEG_STATUS", "1")))

if "-hwaccel" in args:
    fail_with("FAKE_NVDEC_ERROR")
    if "-hwaccel_output_format" in args:  # the NVDEC probe
        sys.exit(0)
    at = args.index("-hwaccel")
    args = args[:at] + args[at + 2:]  # NVDEC "works": the real FFmpeg decodes on the CPU
if "h264_nvenc" in args:
    fail_with("FAKE_NVENC_ERROR")
    sys.exit(0)  # the NVENC probe
os.execv({real!r}, [{real!r}, *args])
"""

FAKE_NVIDIA_SMI = """#!/bin/sh
echo "$FAKE_GPU_NAME"
"""

# What FFmpeg prints for each failure (libavcodec/nvenc.c, ffnvcodec/dynlink_loader.h, cuda_check.h),
# the log lines exactly as they appear, with the reason the worker must give.
NVENC_FAILURES = {
    "no NVENC on this GPU model (H100)": (
        "[h264_nvenc @ 0x55d1c8a3e740] OpenEncodeSessionEx failed: unsupported device (2): (no details)\n"
        "[h264_nvenc @ 0x55d1c8a3e740] No capable devices found\n"
        "[vost#0:0/h264_nvenc @ 0x55d1c8a3d900] Error while opening encoder - maybe incorrect parameters "
        "such as bit_rate, rate, width or height.",
        "this GPU has no NVENC encoder",
    ),
    "session limit (out of memory)": (
        "[h264_nvenc @ 0x5612f0] OpenEncodeSessionEx failed: out of memory (10): (no details)\n"
        "[h264_nvenc @ 0x5612f0] No capable devices found\n"
        "Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe "
        "incorrect parameters such as bit_rate, rate, width or height",
        "concurrent-session limit is reached",
    ),
    "session limit (client key)": (
        "[h264_nvenc @ 0x5612f0] OpenEncodeSessionEx failed: incompatible client key (21): (no details)\n"
        "[h264_nvenc @ 0x5612f0] No capable devices found",
        "concurrent-session limit is reached",
    ),
    "container without the video capability": (
        "[h264_nvenc @ 0x55e0a1] Cannot load libnvidia-encode.so.1\n"
        "[h264_nvenc @ 0x55e0a1] The minimum required Nvidia driver for nvenc is 470.57.02 or newer",
        "NVIDIA_DRIVER_CAPABILITIES=compute,video,utility",
    ),
    "driver too old": (
        "[h264_nvenc @ 0x55e0a1] Driver does not support the required nvenc API version. Required: 11.1 "
        "Found: 11.0\n"
        "[h264_nvenc @ 0x55e0a1] The minimum required Nvidia driver for nvenc is 470.57.02 or newer",
        "driver is older than",
    ),
    "no driver in the container": (
        "[h264_nvenc @ 0x55e0a1] Cannot load libcuda.so.1",
        "no NVIDIA driver in the container",
    ),
    "no CUDA device": (
        "[h264_nvenc @ 0x55e0a1] dl_fn->cuda_dl->cuInit(0) failed -> CUDA_ERROR_NO_DEVICE: no CUDA-capable "
        "device is detected",
        "CUDA sees no GPU",
    ),
    "FFmpeg built without NVENC": ("Unknown encoder 'h264_nvenc'", "this FFmpeg build has no NVENC encoder"),
}
SESSION_LIMIT = NVENC_FAILURES["session limit (out of memory)"][0]
NVDEC_FAILURE = (
    "[h264 @ 0x5593] Hardware is lacking required capabilities\n"
    "[h264 @ 0x5593] Failed setup for format cuda: hwaccel initialisation returned error.\n"
    "cuda hwaccel requested for input stream #0:0, but cannot be initialized."
)


@dataclass
class FakeGpu:
    log: Path

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def encoders_used(self) -> list[str]:
        return [args[args.index("-c:v") + 1] for args in self.calls() if "-c:v" in args]


@pytest.fixture
def fake_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """This machine, seen by the worker as one with an NVIDIA GeForce RTX 4090 whose NVENC and NVDEC work."""
    real_ffmpeg = shutil.which("ffmpeg")
    assert real_ffmpeg, "the tests need FFmpeg"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ffmpeg").write_text(FAKE_FFMPEG.format(python=sys.executable, real=real_ffmpeg))
    (bin_dir / "nvidia-smi").write_text(FAKE_NVIDIA_SMI)
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    devices = tmp_path / "dev"
    devices.mkdir()
    (devices / "nvidia0").touch()
    monkeypatch.setattr(gpu_probe, "DEVICE_GLOB", str(devices / "nvidia[0-9]*"))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_FFMPEG_LOG", str(tmp_path / "ffmpeg-calls.jsonl"))
    monkeypatch.setenv("FAKE_GPU_NAME", "NVIDIA GeForce RTX 4090")
    monkeypatch.setenv("VIDEO_OPS_ENCODER", "auto")
    monkeypatch.setenv("VIDEO_OPS_DECODER", "auto")
    encoders.forget_probes()
    yield FakeGpu(tmp_path / "ffmpeg-calls.jsonl")
    encoders.forget_probes()  # the next test must not inherit this fake machine's choice


# --- choosing at startup -------------------------------------------------------------------------


def test_auto_picks_nvenc_when_the_probe_encode_works(fake_gpu):
    encoder = current_encoder()
    assert (encoder.name, encoder.fallback_reason, encoder.hwdec) == (NVENC, None, True)
    assert encoder.describe() == {"encoder": "h264_nvenc"}
    probe_run = next(args for args in fake_gpu.calls() if NVENC in args)
    assert _contains(probe_run, Encoder(NVENC).video_args())  # the probe tries the options jobs use


def test_the_probe_runs_once_per_process(fake_gpu):
    for _ in range(3):
        current_encoder()
    assert fake_gpu.encoders_used().count(NVENC) == 1


@pytest.mark.parametrize("failure", list(NVENC_FAILURES))
def test_auto_falls_back_to_x264_with_the_reason(fake_gpu, monkeypatch, caplog, failure):
    message, expected = NVENC_FAILURES[failure]
    monkeypatch.setenv("FAKE_NVENC_ERROR", message)
    monkeypatch.setenv("FAKE_GPU_NAME", "NVIDIA H100 80GB HBM3")
    caplog.set_level("INFO", logger="video_ops.media.encoders")

    encoder = current_encoder()

    assert encoder.name == X264
    reason = encoder.describe()["encoder_fallback_reason"]
    assert expected in reason
    assert reason.startswith("NVIDIA H100 80GB HBM3: ")
    assert "\n" not in reason
    logged = [r.getMessage() for r in caplog.records if "video encoder" in r.getMessage()]
    assert logged == [f"video encoder: libx264 because {reason}; NVDEC for large H.264/HEVC/VP9 inputs"]


def test_without_a_gpu_device_nothing_is_tried_on_the_gpu(fake_gpu, monkeypatch, tmp_path):
    monkeypatch.setattr(gpu_probe, "DEVICE_GLOB", str(tmp_path / "nowhere" / "nvidia[0-9]*"))
    encoder = current_encoder()
    assert (encoder.name, encoder.hwdec) == (X264, False)
    assert encoder.fallback_reason == "no NVIDIA GPU is visible in this container (no /dev/nvidia* device)"
    assert fake_gpu.calls() == []


def test_without_ffmpeg_the_reason_says_so(fake_gpu, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert "FFmpeg is not installed" in current_encoder().fallback_reason


def test_nvdec_failure_keeps_nvenc_and_decodes_on_the_cpu(fake_gpu, monkeypatch):
    monkeypatch.setenv("FAKE_NVDEC_ERROR", NVDEC_FAILURE)
    encoder = current_encoder()
    assert (encoder.name, encoder.hwdec) == (NVENC, False)


def test_x264_mode_never_tries_nvenc(fake_gpu, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_ENCODER", "x264")
    monkeypatch.setenv("VIDEO_OPS_DECODER", "cpu")
    assert current_encoder() == Encoder(X264)
    assert fake_gpu.calls() == []


def test_nvenc_mode_with_a_failing_probe_is_a_startup_error(fake_gpu, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_ENCODER", "nvenc")
    monkeypatch.setenv("FAKE_NVENC_ERROR", NVENC_FAILURES["no NVENC on this GPU model (H100)"][0])
    with pytest.raises(EncoderUnavailable, match="VIDEO_OPS_ENCODER=nvenc, but NVENC does not work here: NVIDIA "
                                                 "GeForce RTX 4090: this GPU has no NVENC encoder"):
        encoders.check_encoder()


def test_nvdec_mode_with_a_failing_probe_is_a_startup_error(fake_gpu, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_DECODER", "nvdec")
    monkeypatch.setenv("FAKE_NVDEC_ERROR", NVDEC_FAILURE)
    with pytest.raises(EncoderUnavailable, match=r"NVDEC does not work here: .*NVDEC \(GPU decoding\) failed"):
        encoders.check_encoder()


def test_an_unknown_mode_is_named(monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_ENCODER", "cuda")
    with pytest.raises(EncoderUnavailable, match="VIDEO_OPS_ENCODER must be one of auto, nvenc, x264, got 'cuda'"):
        current_encoder()


def test_deployed_worker_with_forced_nvenc_and_no_gpu_fails_its_fitness_check():
    """handler.py registers the probe as a RunPod fitness check: the worker exits before taking a job."""
    env = {**os.environ, "VIDEO_OPS_ENCODER": "nvenc", "RUNPOD_WEBHOOK_GET_JOB": "http://127.0.0.1:9/job-take/w",
           "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true"}
    env.pop("RUNPOD_WEBHOOK_PING", None)
    done = subprocess.run([sys.executable, "handler.py"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Fitness check failed: check_encoder" in output
    assert "NVENC does not work here: no NVIDIA GPU is visible in this container" in output


# --- failing in the middle of a job --------------------------------------------------------------


def job_context(tmp_path: Path, encoder: Encoder) -> JobContext:
    workdir = tmp_path / "job"
    workdir.mkdir(exist_ok=True)
    progress = ProgressReporter({"id": "gpu-test"}, send=lambda job, update: None)
    return JobContext("gpu-test", workdir, LocalStorage(tmp_path / "out"), progress, encoder)


BIG_H264 = Stream(index=0, codec_type="video", codec_name="h264", width=1920, height=1080, pix_fmt="yuv420p")


def clip_builder(out: Path):
    """A 1 s test clip, decoded (the lavfi source stands in for a 1080p H.264 input) and encoded by `encoder`."""
    def build(encoder: Encoder) -> list[str]:
        return [*encoder.decode_args(BIG_H264), "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1",
                *encoder.video_args(), str(out)]
    return build


def run_encode(ctx: JobContext, build) -> Encoder:
    return asyncio.run(ctx.encode(build, step="Encoding the test clip", timeout=60, duration=1.0))


def test_nvenc_session_failure_mid_job_is_redone_with_x264(fake_gpu, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_NVENC_ERROR", SESSION_LIMIT)
    ctx = job_context(tmp_path, Encoder(NVENC))
    out = tmp_path / "clip.mp4"

    used = run_encode(ctx, clip_builder(out))

    assert used.name == X264
    assert used.fallback_reason.startswith("h264_nvenc failed during the job: the GPU refused another NVENC session")
    assert "OpenEncodeSessionEx failed: out of memory (10)" in used.fallback_reason
    assert fake_gpu.encoders_used() == [NVENC, X264]
    video = stream(probe(out), "video")
    assert (video["codec_name"], video["pix_fmt"], int(video["nb_frames"])) == ("h264", "yuv420p", 25)
    assert ctx.encoder == used  # later steps of the same job stay on the CPU


def test_nvdec_failure_mid_job_is_redone_with_cpu_decoding(fake_gpu, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_NVDEC_ERROR", NVDEC_FAILURE)
    ctx = job_context(tmp_path, Encoder(X264, fallback_reason="NVIDIA H100: no NVENC", hwdec=True))
    out = tmp_path / "clip.mp4"

    used = run_encode(ctx, clip_builder(out))

    assert used == Encoder(X264, fallback_reason="NVIDIA H100: no NVENC", hwdec=False)
    first, second = fake_gpu.calls()
    assert first[first.index("-hwaccel") + 1] == "cuda"
    assert "-hwaccel" not in second
    assert decodes_cleanly(out)


def test_gpu_error_is_found_before_a_flood_of_decode_errors(fake_gpu, monkeypatch, tmp_path):
    """FFmpeg keeps going after a decoder fails and exits 69 at the end: the cause is in the first lines."""
    monkeypatch.setenv("FAKE_NVDEC_ERROR", NVDEC_FAILURE + "\n" + "\n".join(
        f"[vist#0:0/h264 @ 0x55] Decoding error: Invalid argument (frame {n})" for n in range(200)))
    monkeypatch.setenv("FAKE_FFMPEG_STATUS", "69")
    used = run_encode(job_context(tmp_path, Encoder(NVENC, hwdec=True)), clip_builder(tmp_path / "clip.mp4"))
    assert used == Encoder(NVENC)  # NVENC is kept: only the decoding moves to the CPU
    assert ["-hwaccel" in args for args in fake_gpu.calls()] == [True, False]


def test_each_gpu_part_that_fails_is_dropped_in_turn(fake_gpu, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_NVDEC_ERROR", NVDEC_FAILURE)
    monkeypatch.setenv("FAKE_NVENC_ERROR", SESSION_LIMIT)
    out = tmp_path / "clip.mp4"

    used = run_encode(job_context(tmp_path, Encoder(NVENC, hwdec=True)), clip_builder(out))

    assert (used.name, used.hwdec) == (X264, False)
    assert "OpenEncodeSessionEx failed: out of memory" in used.fallback_reason
    assert [("-hwaccel" in args, args[args.index("-c:v") + 1]) for args in fake_gpu.calls()] == [
        (True, NVENC), (False, NVENC), (False, X264)]
    assert decodes_cleanly(out)


@pytest.mark.parametrize("message", [
    "[in#0/mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] Error opening input: Invalid data found when processing input\n"
    "Error opening input file url_video.",
    # An NVENC line that is about the parameters, not the device: the log names h264_nvenc, yet no retry.
    "[h264_nvenc @ 0x55] InitializeEncoder failed: invalid param (8): (no details)\n"
    "[vost#0:0/h264_nvenc @ 0x55] Error while opening encoder - maybe incorrect parameters such as bit_rate, "
    "rate, width or height.",
])
def test_other_failures_are_reported_not_retried(fake_gpu, monkeypatch, tmp_path, message):
    monkeypatch.setenv("FAKE_NVENC_ERROR", message)
    with pytest.raises(FFmpegError) as failed:
        run_encode(job_context(tmp_path, Encoder(NVENC)), clip_builder(tmp_path / "clip.mp4"))
    assert fake_gpu.encoders_used() == [NVENC]
    assert str(failed.value).startswith("Encoding the test clip failed: ")


def test_only_gpu_steps_ended_by_ffmpeg_itself_are_retried():
    assert gpu_failure(Encoder(NVENC), 1, SESSION_LIMIT).kind == "session_limit"
    assert gpu_failure(Encoder(NVENC), -9, SESSION_LIMIT) is None  # killed by a signal: not FFmpeg's verdict
    assert gpu_failure(Encoder(X264), 1, SESSION_LIMIT) is None  # nothing ran on the GPU
    assert gpu_failure(Encoder(X264, hwdec=True), 1, NVDEC_FAILURE).kind == "nvdec"


@pytest.fixture
def mpeg4_video(media_dir: Path) -> str:
    folder = media_dir / "gpu"
    folder.mkdir(exist_ok=True)
    make_video(folder / "old.avi", seconds=1.0, size="321x241", codec=["-c:v", "mpeg4"], audio=False)
    return "gpu/old.avi"


def test_addaudio_job_falls_back_to_x264_when_nvenc_fails(fake_gpu, monkeypatch, media_server, mpeg4_video,
                                                          worker_env):
    current_encoder()  # the probe passes: this worker believes in NVENC
    monkeypatch.setenv("FAKE_NVENC_ERROR", SESSION_LIMIT)  # ... until the job's encode is refused

    result = run_job({"operation": "addaudio", "url_video": f"{media_server}/{mpeg4_video}",
                      "url_audio": f"{media_server}/tone.mp3", "path": "out"})

    assert result.get("success"), result
    assert result["encoder"] == "libx264"
    assert "OpenEncodeSessionEx failed: out of memory" in result["encoder_fallback_reason"]
    assert fake_gpu.encoders_used()[-2:] == [NVENC, X264]
    out = Path(result["video_url"][len("file://"):])
    video = stream(probe(out), "video")
    assert (video["codec_name"], video["pix_fmt"], video["width"], video["height"]) == ("h264", "yuv420p", 320, 240)
    assert decodes_cleanly(out)
    assert leftover_workdirs(worker_env) == []


# --- the argv each encoder gets (golden) ---------------------------------------------------------


def test_x264_arguments():
    assert Encoder(X264).video_args() == ["-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt",
                                          "yuv420p"]


def test_nvenc_arguments():
    assert Encoder(NVENC).video_args() == [
        "-c:v", "h264_nvenc", "-preset", "p4", "-tune", "hq", "-profile:v", "high", "-rc", "vbr", "-cq", "23",
        "-b:v", "0", "-maxrate", "30M", "-bufsize", "60M", "-pix_fmt", "yuv420p",
    ]


def video_stream(codec: str, pix_fmt: str, width: int, height: int) -> Stream:
    return Stream(index=0, codec_type="video", codec_name=codec, width=width, height=height, pix_fmt=pix_fmt)


@pytest.mark.parametrize(("picture", "decoded_on_gpu"), [
    (video_stream("h264", "yuv420p", 1920, 1080), True),
    (video_stream("hevc", "yuv420p10le", 3840, 2160), True),
    (video_stream("vp9", "yuv420p", 1280, 720), True),
    (video_stream("h264", "yuv420p", 640, 360), False),  # small: the CPU is quicker than starting CUDA
    (video_stream("h264", "yuv444p", 1920, 1080), False),  # 4:4:4 H.264: NVDEC cannot
    (video_stream("h264", "yuv420p10le", 1920, 1080), False),  # 10-bit H.264: NVDEC cannot
    (video_stream("mpeg4", "yuv420p", 1920, 1080), False),
    (video_stream("hevc", "yuv420p", 7680, 4320), False),  # beyond 4096 pixels
])
def test_nvdec_only_where_it_helps(picture, decoded_on_gpu):
    assert Encoder(NVENC, hwdec=True).decode_args(picture) == (["-hwaccel", "cuda"] if decoded_on_gpu else [])
    assert Encoder(NVENC).decode_args(picture) == []
    assert Encoder(X264, hwdec=True).decode_args(None) == []


def addaudio_argv(encoder: Encoder) -> list[str]:
    from video_ops.jobkit.contract import parse_input
    from video_ops.media.picture import argv
    from video_ops.media.probe import MediaInfo
    from video_ops.ops import OPERATIONS
    from video_ops.ops.addaudio import plan

    _, job = parse_input({"operation": "addaudio", "url_video": "v", "url_audio": "a"}, OPERATIONS)
    video = MediaInfo("matroska,webm", 2.0, 1, (Stream(0, "video", "vp9", 1920, 1080, "yuv420p", 25.0, 2.0),))
    audio = MediaInfo("mp3", 3.0, 1, (Stream(0, "audio", "mp3", duration=3.0),))
    recipe = plan(job, video, audio, "out.mp4")
    return argv(recipe, {"url_video": Path("url_video"), "url_audio": Path("url_audio")}, encoder)


def test_addaudio_reencode_argv_on_the_gpu():
    """NVDEC before the video input only; frames reach the CPU scale filter in system memory; NVENC yuv420p."""
    assert addaudio_argv(Encoder(NVENC, hwdec=True)) == [
        "-hwaccel", "cuda", "-i", "url_video", "-i", "url_audio",
        "-filter_complex", "[1:a]volume=1,apad[aout]", "-map", "0:0", "-map", "[aout]",
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        "-c:v", "h264_nvenc", "-preset", "p4", "-tune", "hq", "-profile:v", "high", "-rc", "vbr", "-cq", "23",
        "-b:v", "0", "-maxrate", "30M", "-bufsize", "60M", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k", "-t", "2.000000", "-movflags", "+faststart", "out.mp4",
    ]


def test_addaudio_reencode_argv_on_the_cpu():
    assert addaudio_argv(Encoder(X264)) == [
        "-i", "url_video", "-i", "url_audio",
        "-filter_complex", "[1:a]volume=1,apad[aout]", "-map", "0:0", "-map", "[aout]",
        "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k", "-t", "2.000000", "-movflags", "+faststart", "out.mp4",
    ]


def test_nvenc_sessions_are_bounded_only_for_nvenc(monkeypatch):
    assert Encoder(X264).max_sessions is None
    assert Encoder(NVENC).max_sessions == 3
    monkeypatch.setenv("VIDEO_OPS_NVENC_SESSIONS", "8")
    assert Encoder(NVENC).max_sessions == 8


def _contains(haystack: list[str], needle: list[str]) -> bool:
    return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def test_caption_argv_decodes_on_the_gpu_and_burns_on_the_cpu():
    """`-hwaccel cuda` without `-hwaccel_output_format cuda`: libass gets frames in system memory."""
    from video_ops.media.probe import MediaInfo
    from video_ops.ops.caption import argv, plan

    info = MediaInfo("mov,mp4", 2.0, 1, (Stream(0, "video", "h264", 1920, 1080, "yuv420p", 25.0, 2.0),
                                         Stream(1, "audio", "aac", duration=2.0)))
    recipe = plan(Path("url_video"), info, Path("work"), None)
    on_gpu = argv(recipe, Encoder(NVENC, hwdec=True))
    assert on_gpu[:4] == ["-hwaccel", "cuda", "-i", "url_video"]
    assert "-hwaccel_output_format" not in on_gpu
    assert on_gpu[on_gpu.index("-vf") + 1].startswith("ass=")
    assert on_gpu[on_gpu.index("-c:v") + 1] == "h264_nvenc"
    on_cpu = argv(recipe, Encoder(X264))
    assert on_cpu[:2] == ["-i", "url_video"]
    assert on_cpu[on_cpu.index("-pix_fmt") + 1] == "yuv420p"


def test_img2vid_runs_no_more_clips_at_once_than_nvenc_sessions(monkeypatch):
    from video_ops.ops.img2vid import parallel_renders

    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(16)))
    assert parallel_renders(40) == (8, 2)  # VIDEO_OPS_MAX_PARALLEL_RENDERS' default
    assert parallel_renders(40, Encoder(NVENC).max_sessions) == (3, 5)
    assert parallel_renders(40, Encoder(X264).max_sessions) == (8, 2)
