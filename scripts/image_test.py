"""Runs inside the built image (`bash scripts/image.sh test`), as the image's user, with only the image's
Python: FFmpeg has what the worker needs, the worker is not root, the fitness checks pass, and every
job of the RunPod Hub's smoke tests (.runpod/tests.json) succeeds as the Hub runs it, one fresh
`python handler.py --test_input` process a job. Prints one line a check and the cold start."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
import time
from pathlib import Path

from video_ops.media.ffmpeg_options import AUDIO_ENCODERS, VIDEO_ENCODERS
from video_ops.media.filter_policy import RULES

ENCODERS = ("h264_nvenc", "hevc_nvenc", "libx264", "aac", "libmp3lame", "libopus", "flac", "pcm_s16le", "libx265",
            "libvpx-vp9", "libsvtav1", "gif", "libvorbis",
            *(name for name in (*VIDEO_ENCODERS, *AUDIO_ENCODERS) if name != "copy"))  # those compose may name
HWACCELS = ("cuda",)
# Every filter the operations put in a graph.
FILTERS = ("acrossfade", "afade", "aformat", "alimiter", "aloop", "ametadata", "amix", "anull", "anullsink",
           "anullsrc", "apad", "aresample", "asetpts", "asplit", "ass", "atempo", "atrim", "boxblur", "color",
           "concat", "crop", "ebur128", "fade", "format", "fps", "hwdownload", "loop", "overlay", "pad",
           "palettegen", "paletteuse", "pan", "scale", "select", "setsar", "sidechaincompress", "silencedetect",
           "split", "subtitles", "testsrc2", "tpad", "volume", "volumedetect", "zoompan",
           *RULES)  # and every filter a compose job may name
OUTPUT_DIR = Path("/tmp/video-ops-output")
failures: list[str] = []


def report(ok: bool, what: str) -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)


def ffmpeg_lists(flag: str) -> set[str]:
    listed = subprocess.run(["ffmpeg", "-hide_banner", flag], capture_output=True, text=True, check=True).stdout
    return {word for line in listed.splitlines() for word in line.split()[:2]}


def check_ffmpeg() -> None:
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout
    report(True, version.splitlines()[0])
    for flag, wanted in (("-encoders", ENCODERS), ("-hwaccels", HWACCELS), ("-filters", FILTERS)):
        missing = sorted(set(wanted) - ffmpeg_lists(flag))
        report(not missing, f"ffmpeg {flag}: {', '.join(missing) + ' missing' if missing else 'all present'}")


def check_libraries() -> None:
    """Every shared library that FFmpeg and the worker's compiled packages link is in the image (the
    Dockerfile leaves some Mesa and LLVM files out)."""
    binaries = [Path("/usr/bin/ffmpeg"), Path("/usr/bin/ffprobe")]
    binaries += sorted(Path(sys.prefix).rglob("*.so*"))
    unresolved = set()
    for binary in binaries:
        linked = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
        unresolved |= {f"{binary.name}: {line.split()[0]}" for line in linked.splitlines() if "not found" in line}
    report(not unresolved, f"shared libraries of {len(binaries)} binaries: "
                           f"{', '.join(sorted(unresolved)) + ' not found' if unresolved else 'all found'}")


def check_user() -> None:
    uid = os.getuid()
    report(uid != 0, f"runs as {pwd.getpwuid(uid).pw_name} (uid {uid}), not root")


def has_gpu() -> bool:
    return any(Path("/dev").glob("nvidia[0-9]*"))


def check_fitness() -> None:
    """handler.py as deployed: the SDK runs the fitness checks before it asks for the first job (here at an
    address where nobody answers). The SDK's own system checks probe the internet, so they are skipped."""
    env = {**os.environ, "RUNPOD_WEBHOOK_GET_JOB": "http://127.0.0.1:9/job-take/image-test",
           "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true", "RUNPOD_LOG_LEVEL": "INFO"}
    process = subprocess.Popen([sys.executable, "-u", "handler.py"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line.rstrip())
        if "All fitness checks passed" in line or "Fitness check failed" in line or time.monotonic() > deadline:
            break
    process.kill()
    process.wait()
    passed = any("All fitness checks passed" in line for line in seen)
    encoder = next((line.split("video encoder: ", 1)[1] for line in seen if "video encoder: " in line), "?")
    report(passed, f"fitness checks (encoder, fonts): {'passed' if passed else 'failed'}; video encoder: {encoder}")
    if not passed:
        print("\n".join(seen[-20:]))


def hub_env(config: dict) -> dict[str, str]:
    env = {**os.environ, **{item["key"]: str(item["value"]) for item in config.get("env", [])}}
    if env.get("VIDEO_OPS_ENCODER") == "nvenc" and not has_gpu():
        env["VIDEO_OPS_ENCODER"] = "auto"  # the Hub tests on an NVENC card; without a GPU, libx264 says so
    return env


def duration(path: Path) -> float:
    probed = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                             str(path)], capture_output=True, text=True)
    return float(probed.stdout.strip() or 0)


def stream_kinds(path: Path) -> set[str]:
    probed = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                             str(path)], capture_output=True, text=True)
    return set(probed.stdout.split())


def plays(item: dict) -> bool:
    """A video has a picture; a sound file (a result with `audio_url`) has sound and no picture; both last."""
    path = OUTPUT_DIR / item["s3_key"]
    kinds = stream_kinds(path)
    right = "audio" in kinds and "video" not in kinds if "audio_url" in item else "video" in kinds
    return right and duration(path) > 0


def picture_width(path: Path) -> int:
    probed = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width", "-of", "csv=p=0", str(path)],
                            capture_output=True, text=True)
    return int(probed.stdout.strip() or 0)


def outputs_ok(result: dict) -> bool:
    """Every video and sound file plays; every picture (`frames`: its pictures or its contact sheet) is an
    image FFmpeg reads; every file a transcript result links (file:// URLs here) is written (empty when no
    speech was found, as with the samples' music and a random-weight model); a result that stores nothing
    says what it found (`silence`: times, `probe`: the file's streams)."""
    pictures = [image["s3_key"] for image in result.get("images", [])]
    if "image_url" in result:
        pictures.append(result["s3_key"])
    items = [] if "image_url" in result else [result] if "s3_key" in result else result.get("videos", [])
    files = [url for kind in result.get("files", {}).values() for url in kind.values() if url]
    written = [Path(url.removeprefix("file://")) for url in files]
    reports_only = "silences" in result or bool(result.get("streams"))
    return (bool(items or pictures or written) or reports_only) and all(plays(item) for item in items) and all(
        picture_width(OUTPUT_DIR / key) > 0 for key in pictures) and all(path.is_file() for path in written)


def run_hub_test(test: dict, env: dict[str, str]) -> float:
    """One Hub smoke test in a fresh process; returns the seconds from process start to its result."""
    name = test["name"]
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-u", "handler.py", "--test_input",
                           json.dumps({"id": f"hub-{name}", "input": test["input"]})],
                          env=env, capture_output=True, text=True, timeout=test.get("timeout", 300_000) / 1000)
    elapsed = time.monotonic() - started
    saved = OUTPUT_DIR / f"hub-{name}.result.json"
    result = json.loads(saved.read_text()) if saved.exists() else {}
    ok = done.returncode == 0 and result.get("success") is True and outputs_ok(result)
    encoders = {result.get("encoder")} | {video.get("encoder") for video in result.get("videos", [])}
    encoder = ", ".join(sorted(name for name in encoders if name)) or "none"
    report(ok, f"hub test {name}: {elapsed:.1f} s, " + (f"encoder {encoder}" if ok else "failed"))
    if not ok:
        print((done.stdout + done.stderr)[-3000:])
    return elapsed


def check_transcribe(env: dict[str, str]) -> None:
    """The Hub has no transcribe test (no model can be downloaded there offline): a random-weight Whisper
    made in the image runs one through faster-whisper, CTranslate2 and ONNX Runtime (the VAD)."""
    models = Path("/tmp/whisper-models")
    subprocess.run([sys.executable, "-m", "video_ops.speech.tiny_model", str(models / "tiny")], check=True,
                   capture_output=True)
    test = {"name": "transcribe", "timeout": 300_000,
            "input": {"operation": "transcribe", "audio_url": "file:samples/sample_audio.mp3", "model": "tiny",
                      "path": "hub-tests"}}
    run_hub_test(test, {**env, "VIDEO_OPS_WHISPER_MODELS": str(models), "HF_HUB_OFFLINE": "1"})


def main() -> None:
    hub = json.loads(Path(sys.argv[1]).read_text())
    check_user()
    check_ffmpeg()
    check_libraries()
    check_fitness()
    env = hub_env(hub.get("config", {}))
    env["VIDEO_OPS_OUTPUT_DIR"] = str(OUTPUT_DIR)
    times = [run_hub_test(test, env) for test in hub["tests"]]
    check_transcribe(env)
    if times:
        print(f"cold start: {times[0]:.2f} s from process start to the first Hub test's result "
              f"({hub['tests'][0]['name']}); every test: {sum(times):.1f} s")
    print(f"image test: {len(failures)} checks failed" if failures else "image test: every check passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
