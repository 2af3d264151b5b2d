"""Every operation in the registry is everywhere a caller looks: a typed client helper, a sample job the
demo runs by name, a Hub test (or the reason it has none), rows in the hostile corpus, both gateway route
families (checked with their OpenAPI bodies in test_gateway.py), and the image's Hub run."""

from __future__ import annotations

import inspect
import json

import pytest

from tests.helpers import REPO
from tests.hostile_jobs import CORPUS
from tests.test_docker_static import ALL_OPERATIONS, WITHOUT_HUB_TEST
from video_ops.client.api import Client
from video_ops.ops import OPERATIONS


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_client_has_a_helper_that_sends_the_operation(name: str) -> None:
    helper = getattr(Client, name, None)
    assert callable(helper), f"Client.{name} is missing"
    fields = set(OPERATIONS[name].input_model.model_fields)
    parameters = set(inspect.signature(helper).parameters) - {"self", "extra", "split", "job", "split_seconds"}
    assert parameters <= fields, f"Client.{name} takes {parameters - fields}, which {name} does not know"


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_operation_has_a_sample_a_hub_test_and_hostile_rows(name: str) -> None:
    sample = json.loads((REPO / "samples" / "jobs" / f"{name}.json").read_text())
    assert sample["input"]["operation"] == name
    assert name in ALL_OPERATIONS or name in WITHOUT_HUB_TEST
    rows = [row for row in CORPUS if isinstance(row.input, dict) and row.input.get("operation") == name]
    assert rows, f"no hostile job for {name}"

