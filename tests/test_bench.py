"""The bench must keep running as the worker changes: its entry point end to end on tiny inputs, and
the measuring parts it rests on. Nothing here asserts a time."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench import editing, quality, workloads
from bench.jobrun import Intervals
from bench.measure import BenchError, measure
from bench.media import QUICK
from bench.report import END, START
from bench.run import moviepy_font
from tests.helpers import REPO
from tests.quick_bench import QUICK_BENCH
from video_ops.ops import OPERATIONS


@pytest.fixture(scope="module")
def quick_run(request: pytest.FixtureRequest) -> tuple[dict, str, Path]:
    """`python -m bench --quick` once (started in the background when the run was collected: tests/conftest.py)."""
    return request.config.stash[QUICK_BENCH].result()


def expected_workloads() -> set[str]:
    names = {"addaudio", "startup"}
    if "caption" in OPERATIONS:
        names.add("caption")
    if "img2vid" in OPERATIONS:
        names |= {"img2vid-still", "img2vid-zoomin"}
    if "trilhasonora" in OPERATIONS:
        names.add("trilhasonora")
    names |= {"caption_segments", "caption_highlight"} & set(OPERATIONS)
    names |= {"concatenate", "concat_video_audio", "render", "transcribe", "convert"} & set(OPERATIONS)
    names |= {"render-split"} if "render" in OPERATIONS else set()
    names |= {"audio_concatenate", "extract_audio"} & set(OPERATIONS)
    names |= {"frames", "probe"} & set(OPERATIONS)
    names |= {"trim", "cut", "compose"} & set(OPERATIONS)
    names |= {"remove_silence"} if {"remove_silence", "cut"} & set(OPERATIONS) else set()  # cut stands in for it
    return names


def test_quick_run_measures_every_workload_and_variant(quick_run: tuple[dict, str, Path]) -> None:
    results, _doc, root = quick_run
    assert {summary["name"] for summary in results["workloads"]} == expected_workloads()
    assert results["settings"]["reps"] == 1 and results["settings"]["scale"] == "quick"
    assert results["machine"]["cores"] >= 1 and results["machine"]["ffmpeg"].startswith("ffmpeg version")
    for summary in results["workloads"]:
        for key, variant in summary["variants"].items():
            run, = variant["samples"]
            assert run["wall_s"] > 0 and run["cpu_s"] >= 0, (summary["name"], key)
            assert run["peak_rss_mb"] > 1, (summary["name"], key)  # a Python or FFmpeg process is never this small
        for target in summary["targets"]:
            assert target["met"] in (True, False), target  # every target was measured
    assert not (root / "work" / "runs").exists()  # scratch outputs are removed


def test_worker_runs_report_the_job_and_its_overhead(quick_run: tuple[dict, str, Path]) -> None:
    results, _doc, _root = quick_run
    for summary in results["workloads"]:
        if summary["name"] == "startup":
            continue
        worker = summary["variants"]["worker"]
        run, = worker["samples"]
        # The job really went through FFmpeg, as instrumented; frames decodes in-process, probe runs ffprobe only.
        assert run["ffmpeg_runs"] >= 1 or summary["name"] in {"frames", "probe"}
        assert 0 < run["media_work_s"] < run["wall_s"] <= run["process_wall_s"]
        assert run["overhead_s"] == pytest.approx(run["wall_s"] - run["media_work_s"])
        assert set(summary["vs"]) == set(summary["variants"]) - {"worker"}
        if summary["output_seconds"]:  # frames and probe make no video
            assert worker["realtime"] > 0
        if summary["name"] in ("trim", "cut", "remove_silence"):  # the smart cut's stages, each timed
            assert set(run["stages"]) == {"index", "pieces", "sound", "mux"}, summary["name"]
            assert all(seconds > 0 for seconds in run["stages"].values()), (summary["name"], run["stages"])


def test_quality_is_measured_on_the_outputs(quick_run: tuple[dict, str, Path]) -> None:
    found = {summary["name"]: summary["quality"] for summary in quick_run[0]["workloads"]}
    if "caption" in found:
        assert 0.9 < found["caption"][workloads.SSIM_VS_DEFAULTS]["worker"] <= 1.0
        assert 0.9 < found["caption"][workloads.SSIM_ABOVE_CAPTIONS]["same-settings"] <= 1.0
    if "img2vid-still" in found:
        assert 0.9 < found["img2vid-still"][workloads.SSIM_VS_SOURCE]["worker"] <= 1.0
    if "concat_video_audio" in found:  # both outputs line up with the sequence frame for frame
        for method in ("worker", "reference"):
            assert 0.95 < found["concat_video_audio"][workloads.SSIM_VS_TRUTH][method] <= 1.0
    for name in {"trim", "cut"} & set(found):  # every frame where it should be; the copied ones bit-exact
        frames = {title: values["worker"] for title, values in found[name].items()}
        assert frames[editing.FRAMES_OUT] == frames[editing.FRAMES_EXPECTED], name
        assert frames[editing.BIT_EXACT] >= frames[editing.COPIED] > 0, name
        assert frames[editing.COPIED] + frames[editing.ENCODED] == frames[editing.FRAMES_OUT], name
        assert 0.98 <= frames[editing.SSIM_MIN] <= 1.0, name
    if "img2vid-zoomin" in found:
        columns = workloads.JITTER_COLUMNS
        for method in ("worker", "reference"):
            zoom = found["img2vid-zoomin"]
            assert zoom[columns["frames"]][method] == QUICK.image_frames  # the dot was found in every frame...
            assert zoom[columns["travel_px"]][method] > 1  # ...and followed as it moved


def test_page_block_is_replaced_and_the_text_around_it_kept(quick_run: tuple[dict, str, Path]) -> None:
    results, doc, _root = quick_run
    assert doc.startswith("# Benchmarks\n\nHand-written intro.\n\n" + START)
    assert doc.endswith(END + "\n\nHand-written notes.\n")
    assert "old numbers" not in doc
    for summary in results["workloads"]:
        assert f"### {summary['title']}" in doc
        for variant in summary["variants"].values():
            assert variant["label"] in doc
    assert "- Target: within 1.25x of the floor's wall time:" in doc


def test_measure_counts_the_whole_process_tree(tmp_path: Path) -> None:
    """A grandchild's memory shows in the peak (rusage alone would miss what a shell's child holds)."""
    hold = "import time; block = bytearray(300 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(0.5)"
    sample = measure([["sh", "-c", f'"{sys.executable}" -c "{hold}"; true']], cwd=tmp_path)
    assert sample.peak_rss_mb > 300


def test_measure_stops_on_a_failed_command(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="no such file"):
        measure([["ffmpeg", "-v", "error", "-i", "no such file.mp4", "out.mp4"]], cwd=tmp_path)


def test_overlapping_media_work_counts_once() -> None:
    spans = Intervals()
    for start, end in [(1.0, 3.0), (2.0, 4.0), (2.5, 3.0), (6.0, 7.0), (-1.0, 0.5)]:
        spans.add(start, end)
    assert spans.covered(0.0, 6.5) == pytest.approx(3.0 + 0.5 + 0.5)


def test_centroid_finds_a_dot_to_a_fraction_of_a_pixel() -> None:
    width, height, cx, cy = 40, 30, 17.3, 12.6
    frame = bytes(round(60 + 180 * math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8))
                  for y in range(height) for x in range(width))
    x, y = quality.centroid(frame, width, height, near=(15, 14), reach=8)
    assert x == pytest.approx(cx, abs=0.05) and y == pytest.approx(cy, abs=0.05)


def test_moviepy_runs_when_installed(tmp_path: Path) -> None:
    """moviepy is optional: when it is importable, its version of each job runs alongside the others."""
    pytest.importorskip("moviepy")
    wanted = sorted(expected_workloads() & {"addaudio", "caption", "img2vid-still"})
    subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", ",".join(wanted), "--out", str(tmp_path),
         "--doc", str(tmp_path / "benchmarks.md"), "--work", str(tmp_path / "work")],
        cwd=REPO, check=True, capture_output=True, timeout=300,
    )
    written, = tmp_path.glob("*.json")
    results = json.loads(written.read_text())
    assert results["settings"]["moviepy"].startswith("2.")
    for summary in results["workloads"]:
        if summary["name"] == "caption" and moviepy_font() is None:
            continue  # moviepy needs a font file, found with fontconfig's fc-match
        assert summary["variants"]["moviepy"]["samples"][0]["wall_s"] > 0, summary["name"]


def test_frames_a_range_shows_are_worked_out_from_the_source_times() -> None:
    """The frame whose display interval holds the start, to the one shown just before the end."""
    times = [n / 30 for n in range(30)]
    assert editing.shown(times, [(0.0, 0.1)]) == [0, 1, 2]
    assert editing.shown(times, [(0.05, 0.1), (0.5, 0.51)]) == [1, 2, 15]  # 0.05 s is inside frame 1
    assert editing.runs_of([0, 1, 2, 5, 6], [10, 11, 40, 41, 42, 43, 44]) == [(0, 1), (2, 2), (5, 6)]
    assert editing.seek_to(times, 3) == pytest.approx(2.5 / 30)


def test_a_jump_cut_keeps_padding_beside_speech_only() -> None:
    quiet = [(0.0, 1.0), (3.0, 3.25), (5.0, 6.0), (9.5, 10.0)]  # 3.0-3.25 is shorter than twice the padding
    kept = editing.kept_ranges(quiet, 10.0)
    assert [edge for span in kept for edge in span] == pytest.approx([0.85, 5.15, 5.85, 9.65])
