"""Every operation has a sample job the demo script can run by name, and the worker accepts it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from video_ops.jobkit.contract import parse_input
from video_ops.ops import OPERATIONS

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "jobs"


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_operation_has_a_valid_sample_job(name: str) -> None:
    job = json.loads((SAMPLES / f"{name}.json").read_text())
    operation, _ = parse_input(job["input"], OPERATIONS)
    assert operation.name == name


def test_the_default_test_input_is_the_addaudio_sample() -> None:
    default = json.loads((SAMPLES.parent.parent / "test_input.json").read_text())
    assert default == json.loads((SAMPLES / "addaudio.json").read_text())
