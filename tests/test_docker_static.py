"""What can be checked of the image and the RunPod Hub files without Docker or a GPU.

The Dockerfile is read as text: a public Debian base, Debian's FFmpeg and fonts as the tests install
them, only unlinked files left out, the NVIDIA runtime settings, the package installed from
pyproject.toml with the build machine's settings as secrets, a non-root user and the right CMD (the
built image itself is tested by tests/test_image.py and `scripts/image.sh test`). The Hub files must be
valid, offer only NVENC-capable GPUs, describe settings the code really reads, name every operation's
family, and hold one smoke test on the sample media for every operation that needs no network (run here,
without a GPU, for those this build has), within the time RunPod gives a job.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import runpod

from tests.helpers import REPO, run_job
from tests.media import decodes_cleanly, probe, stream
from video_ops.io import storage
from video_ops.jobkit.contract import parse_input
from video_ops.media import encoders
from video_ops.ops import OPERATIONS

ALL_OPERATIONS = {"caption", "img2vid", "addaudio", "concatenate", "concat_video_audio", "trilhasonora",
                  "caption_segments", "caption_highlight", "render", "trim", "cut", "split", "silence",
                  "remove_silence", "extract_audio", "audio_concatenate", "frames", "probe", "convert",
                  "compose"}
# Operations that answer with what they found and store no file.
REPORTS_ONLY = {"silence", "probe"}
# Operations with no Hub test: only those that need the network (the Hub's build runs .runpod/tests.json
# offline on the sample media, as scripts/image_test.py does in the image). Each comes with a job on the
# sample media and the words of the error it ends with offline, which the tests check.
WITHOUT_HUB_TEST = {"transcribe": "needs Whisper weights in the image (or a download) and has no video output"}
OFFLINE_FAILURES = {"transcribe": ({"operation": "transcribe", "audio_url": "file:samples/sample_audio.mp3"},
                                   "could not be downloaded")}
# The families the Hub's description names, and their operations (an operation of no family fails the test).
HUB_FAMILIES = {
    "captions": {"caption", "caption_segments", "caption_highlight"},
    "image-to-video": {"img2vid"}, "rendered timelines": {"render"},
    "audio": {"addaudio", "trilhasonora", "extract_audio", "audio_concatenate"},
    "joining clips": {"concatenate", "concat_video_audio"},
    "time edits": {"trim", "cut", "split", "silence", "remove_silence"},
    "frames": {"frames"}, "conversion": {"convert"}, "probing": {"probe"}, "compose": {"compose"},
    "transcription": {"transcribe"},
}
# RunPod documents a test's `timeout` (milliseconds, optional) and no limit on a test or on their sum; an
# endpoint fails a job after its execution timeout, 600 s unless set otherwise. The first test also waits for
# the worker's cold start; together they must stay within half an hour.
HUB_TEST_MAX_MS = 600_000
HUB_TESTS_TOTAL_MS = 30 * 60_000
# RunPod serverless GPU pools whose every card has NVENC, and those with none (A100, H100, H200).
NVENC_POOLS = {"AMPERE_16", "AMPERE_24", "ADA_24", "ADA_32_PRO", "AMPERE_48", "ADA_48_PRO"}
NO_NVENC_POOLS = {"AMPERE_80", "ADA_80_PRO", "HOPPER_141"}
NVENC_GPU_TYPES = {"NVIDIA RTX A4000", "NVIDIA RTX A4500", "NVIDIA RTX A5000", "NVIDIA RTX A6000",
                   "NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 4090", "NVIDIA L4", "NVIDIA L40S", "NVIDIA A40"}
# Debian's FFmpeg 5.1 is built with NVENC API 11.1 (nv-codec-headers 11.1.5.2): driver 470.57.02, CUDA 11.4.
MIN_CUDA = (11, 4)


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(REPO / "Dockerfile")


def build_args(steps: list[tuple[str, str]]) -> dict[str, str]:
    args = {}
    for keyword, rest in steps:
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value.strip('"')
    return args


def expand(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), text)


def runs(stage: list[tuple[str, str]]) -> str:
    return " ; ".join(rest for keyword, rest in stage if keyword == "RUN")


def test_the_base_is_a_public_debian_image(dockerfile):
    froms = [expand(rest.split()[0], build_args(dockerfile)) for keyword, rest in dockerfile if keyword == "FROM"]
    assert froms == ["docker.io/library/debian:bookworm-slim"]  # one stage, a base anyone can pull


def test_ffmpeg_and_the_fonts_are_the_debian_packages_the_tests_run(dockerfile):
    """Debian's ffmpeg, as scripts/setup.sh installs it for the tests, at the version image.sh passes."""
    commands = runs(dockerfile)
    assert '"ffmpeg${FFMPEG_VERSION:+=$FFMPEG_VERSION}"' in commands
    assert "$(grep -v '^#' /tmp/font-packages.txt)" in commands
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert "apt_packages+=(ffmpeg)" in setup and "scripts/font-packages.txt" in setup
    assert "ffmpeg -hide_banner -version" in commands  # a missing library fails the build, not a job


def test_only_files_ffmpeg_never_links_are_left_out(dockerfile):
    copies = [rest for keyword, rest in dockerfile if keyword == "COPY"]
    assert "scripts/image-dpkg-excludes /etc/dpkg/dpkg.cfg.d/video-ops-excludes" in copies
    excluded = [line.split("=", 1)[1] for line in (REPO / "scripts" / "image-dpkg-excludes").read_text().splitlines()
                if line.startswith("path-exclude=")]
    drivers = r"/usr/lib/\*/(dri/\*|libLLVM-\d+\.so\*|libz3\.so\*|libmfxhw64\.so\*|mfx/\*)"
    assert excluded and all(re.fullmatch(drivers, path) for path in excluded)


def test_the_container_sees_the_gpu_and_its_video_engines(dockerfile):
    env = " ".join(rest for keyword, rest in dockerfile if keyword == "ENV")
    assert re.search(r"NVIDIA_VISIBLE_DEVICES=all\b", env)
    found = re.search(r"NVIDIA_DRIVER_CAPABILITIES=(\S+)", env)
    assert found and {"compute", "video", "utility"} <= set(found.group(1).split(","))


def test_the_package_is_installed_from_pyproject_with_build_secrets_only(dockerfile):
    commands = runs(dockerfile)
    assert 'pip install ".[worker]"' in commands
    assert "pip install --no-deps --no-build-isolation ." in commands
    copied = [rest.split()[0] for keyword, rest in dockerfile if keyword == "COPY"]
    assert "pyproject.toml" in copied
    # The building machine's CA bundle and pip settings reach pip as secrets, never as a layer or a setting.
    assert "--mount=type=secret,id=ca-bundle" in commands and "--mount=type=secret,id=pip-conf" in commands
    settings = " ".join(rest for keyword, rest in dockerfile if keyword in {"ENV", "ARG", "COPY"})
    assert not re.search(r"PIP_CERT|PIP_CONFIG_FILE|PIP_INDEX|ca-certificates\.crt|pip\.conf", settings)


def test_the_handler_runs_as_a_non_root_user(dockerfile):
    final = dockerfile
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    commands = [rest for keyword, rest in final if keyword == "CMD"]
    assert len(commands) == 1 and json.loads(commands[0]) == ["python", "-u", "handler.py"]


def test_everything_copied_is_in_the_repository_and_the_build_context(dockerfile):
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*"  # an allowlist: nothing reaches the image by accident (.venv, output, .git)
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for keyword, rest in dockerfile:
        if keyword == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (REPO / source).exists(), source
                assert source.rstrip("/") in allowed, f"{source} is excluded by .dockerignore"


@pytest.fixture(scope="module")
def hub() -> dict:
    return json.loads((REPO / ".runpod" / "hub.json").read_text())


@pytest.fixture(scope="module")
def hub_tests() -> dict:
    return json.loads((REPO / ".runpod" / "tests.json").read_text())


def test_hub_listing_has_the_required_fields(hub):
    assert hub["title"] and hub["description"]
    assert (hub["type"], hub["category"]) == ("serverless", "video")
    config = hub["config"]
    assert (config["runsOn"], config["gpuCount"]) == ("GPU", 1)
    assert isinstance(config["containerDiskInGb"], int) and config["containerDiskInGb"] >= 10


def test_hub_listing_names_the_family_of_every_operation(hub):
    families = {name: family for family, names in HUB_FAMILIES.items() for name in names}
    assert set(OPERATIONS) <= set(families), f"no family for {sorted(set(OPERATIONS) - set(families))}"
    text = f"{hub['title']} {hub['description']}".lower()
    named = {families[name] for name in OPERATIONS}
    assert all(family in text for family in named), [family for family in named if family not in text]
    assert "speech" in text and "add audio" not in hub["title"]


def test_hub_offers_only_gpus_with_nvenc(hub, hub_tests):
    pools = set(hub["config"]["gpuIds"].split(","))
    assert pools and pools <= NVENC_POOLS
    assert not pools & NO_NVENC_POOLS
    assert hub_tests["config"]["gpuTypeId"] in NVENC_GPU_TYPES


def test_cuda_versions_meet_the_nvenc_driver_floor(hub, hub_tests):
    for config in (hub["config"], hub_tests["config"]):
        versions = [tuple(int(n) for n in v.split(".")) for v in config["allowedCudaVersions"]]
        assert versions and min(versions) >= MIN_CUDA


def code_reads(key: str) -> bool:
    sources = [*Path(encoders.__file__).parent.parent.rglob("*.py"), *Path(runpod.__file__).parent.rglob("*.py")]
    return any(f'"{key}"' in path.read_text() for path in sources)


def test_hub_settings_are_described_and_read_by_the_worker(hub):
    for entry in hub["config"]["env"]:
        setting = entry["input"]
        assert setting["name"] and len(setting["description"]) > 20, entry["key"]
        assert setting["type"] in {"string", "number", "boolean"}
        if "options" in setting:
            assert setting["default"] in [option["value"] for option in setting["options"]]
        if setting["type"] == "number":
            assert setting["min"] <= setting["default"] <= setting["max"]
        assert code_reads(entry["key"]), f"{entry['key']} is offered but nothing reads it"
    options = {entry["key"]: [o["value"] for o in entry["input"].get("options", [])] for entry in hub["config"]["env"]}
    assert tuple(options["VIDEO_OPS_ENCODER"]) == encoders.ENCODER_MODES
    assert tuple(options["VIDEO_OPS_DECODER"]) == encoders.DECODER_MODES


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [text for item in items for text in strings(item)]


def test_every_operation_that_needs_no_network_has_one_hub_test_on_the_sample_media(hub_tests):
    tests = hub_tests["tests"]
    assert sorted(test["input"]["operation"] for test in tests) == sorted(ALL_OPERATIONS)  # one each
    assert set(OPERATIONS) - set(WITHOUT_HUB_TEST) <= ALL_OPERATIONS and not ALL_OPERATIONS & set(WITHOUT_HUB_TEST)
    assert set(OFFLINE_FAILURES) == set(WITHOUT_HUB_TEST)  # no excuse without its proof below
    for test in tests:
        for text in strings(test["input"]):
            assert "://" not in text, f"{test['name']}: {text} needs the network"
            if text.startswith("file:"):  # samples/ is copied into the image's working folder
                assert text.startswith("file:samples/") and (REPO / text[len("file:"):]).is_file(), text
    env = {item["key"]: item["value"] for item in hub_tests["config"]["env"]}
    assert env["VIDEO_OPS_ENCODER"] == "nvenc"  # the Hub's GPU run proves NVENC, or fails its startup check


def test_the_hub_tests_fit_the_time_a_job_is_given(hub_tests):
    timeouts = [test["timeout"] for test in hub_tests["tests"]]
    assert all(10_000 <= timeout <= HUB_TEST_MAX_MS for timeout in timeouts)
    assert timeouts[0] == max(timeouts)  # the first waits for the worker's cold start too
    assert sum(timeouts) <= HUB_TESTS_TOTAL_MS, f"{sum(timeouts) / 60_000:.1f} minutes in all"


def as_the_hub_runs_it(hub_tests: dict, monkeypatch: pytest.MonkeyPatch, output: Path) -> None:
    """The Hub runs a deployed worker with no bucket, offline, in the image's working folder, with the tests'
    settings; the one setting this run cannot honour is NVENC (no GPU here)."""
    for item in hub_tests["config"]["env"]:
        monkeypatch.setenv(item["key"], item["value"])
    monkeypatch.setenv("VIDEO_OPS_ENCODER", "x264")
    monkeypatch.setenv("VIDEO_OPS_OUTPUT_DIR", str(output))
    monkeypatch.setattr(storage, "is_deployed", lambda: True)
    monkeypatch.chdir(REPO)  # the image's working folder holds samples/ as the repository does
    encoders.forget_probes()


@pytest.mark.parametrize("name", sorted(WITHOUT_HUB_TEST))
def test_an_operation_without_a_hub_test_needs_the_network(hub_tests, monkeypatch, tmp_path, name):
    job, error = OFFLINE_FAILURES[name]
    as_the_hub_runs_it(hub_tests, monkeypatch, tmp_path / "output")
    monkeypatch.setenv("VIDEO_OPS_WHISPER_MODELS", str(tmp_path / "models"))  # the image's: no weights
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    result = run_job(job, job_id=f"offline-{name}")

    assert error in result.get("error", ""), result


@pytest.mark.parametrize("name", sorted(ALL_OPERATIONS))
def test_smoke_test_runs_as_the_hub_would_minus_the_gpu(hub_tests, monkeypatch, tmp_path, name):
    """The Hub runs a deployed worker with no bucket: the tests' settings must make that work."""
    test = next(test for test in hub_tests["tests"] if test["name"] == name)
    if test["input"]["operation"] not in OPERATIONS:
        pytest.skip(f"{name} is not an operation of this build yet")
    parse_input(test["input"], OPERATIONS)  # the input is one the operation accepts
    as_the_hub_runs_it(hub_tests, monkeypatch, tmp_path / "output")

    result = run_job(test["input"], job_id=f"hub-{name}")

    assert result.get("success"), result
    if name in REPORTS_ONLY:
        assert "video_url" not in result and "s3_key" not in result and not (tmp_path / "output").exists()
        return
    pictures = stored_pictures(result)
    for output in pictures:  # frames: its pictures, or its contact sheet
        assert stream(probe(output), "video")["codec_name"] in {"mjpeg", "png", "webp"}
        assert decodes_cleanly(output)
    if pictures:
        return
    for item in result.get("videos", [result]):
        kind = "audio" if "audio_url" in item else "video"  # a sound file's result names it `audio_url`
        output = Path(item[f"{kind}_url"].removeprefix("file://"))
        found = probe(output)
        if kind == "audio":
            assert stream(found, "audio") is not None and stream(found, "video") is None
        else:
            assert stream(found, "video")["codec_name"] == "h264"
        assert decodes_cleanly(output)


def stored_pictures(result: dict) -> list[Path]:
    """The local pictures a `frames` result names: one per frame, or its contact sheet."""
    urls = [image["url"] for image in result.get("images", [])] + ([result["image_url"]] if "image_url" in result
                                                                    else [])
    return [Path(url.removeprefix("file://")) for url in urls]


def test_deployed_worker_without_a_bucket_still_refuses_by_default(monkeypatch, media_server):
    monkeypatch.setattr(storage, "is_deployed", lambda: True)
    result = run_job({"operation": "addaudio", "url_video": f"{media_server}/video.mp4",
                      "url_audio": f"{media_server}/tone.mp3"})
    assert result["error"].startswith("No bucket is configured")
