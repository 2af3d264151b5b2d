"""Every operation has a sample job the demo script can run by name, and the worker accepts it; a variant
(`render_long`, run by tests/test_gateway_render_split.py through a gateway that splits it) is named after
its operation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from video_ops.jobkit.contract import parse_input
from video_ops.ops import OPERATIONS

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "jobs"
VARIANTS = sorted(path for path in SAMPLES.glob("*.json") if path.stem not in OPERATIONS)


def operation_of(path: Path) -> str:
    """The operation of a sample job, which the worker's input check accepts."""
    operation, _ = parse_input(json.loads(path.read_text())["input"], OPERATIONS)
    return operation.name


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_operation_has_a_valid_sample_job(name: str) -> None:
    assert operation_of(SAMPLES / f"{name}.json") == name


@pytest.mark.parametrize("path", VARIANTS, ids=[path.stem for path in VARIANTS])
def test_a_variant_sample_job_is_valid_and_named_after_its_operation(path: Path) -> None:
    assert path.stem.startswith(operation_of(path) + "_")


def test_the_default_test_input_is_the_addaudio_sample() -> None:
    default = json.loads((SAMPLES.parent.parent / "test_input.json").read_text())
    assert default == json.loads((SAMPLES / "addaudio.json").read_text())
