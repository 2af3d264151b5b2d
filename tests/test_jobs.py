"""The input contract: operation choice, fields, aliases, defaults, and how errors read."""

from __future__ import annotations

import pytest

from video_ops.base.errors import JobError
from video_ops.jobkit.contract import parse_input
from video_ops.ops import OPERATIONS
from video_ops.ops.addaudio import AddAudioInput

ADDAUDIO = {"operation": "addaudio", "url_video": "https://example.com/v.mp4", "url_audio": "https://example.com/a.mp3",
            "path": "videos/output"}


def error_of(raw) -> str:
    with pytest.raises(JobError) as caught:
        parse_input(raw, OPERATIONS)
    return str(caught.value)


def test_defaults_of_addaudio():
    operation, job = parse_input(dict(ADDAUDIO), OPERATIONS)
    assert operation.name == "addaudio"
    assert isinstance(job, AddAudioInput)
    assert (job.mode, job.fit, job.audio_volume, job.original_volume, job.output_filename) == (
        "replace", "video", 1.0, 1.0, None)


def test_every_field_of_the_reference_orchestrator_is_accepted():
    raw = {**ADDAUDIO, "output_filename": "video_with_audio.mp4",
           "s3_config": {"endpoint_url": "https://s3.example.com", "access_key": "AK", "secret_key": "SK",
                         "bucket_name": "b", "region": "auto"}}
    _, job = parse_input(raw, OPERATIONS)
    assert job.s3_config.bucket_name == "b"
    assert job.s3_config.secret_key.get_secret_value() == "SK"
    assert "SK" not in repr(job)


def test_urls_are_trimmed():
    _, job = parse_input({**ADDAUDIO, "url_video": "  https://example.com/v.mp4\n"}, OPERATIONS)
    assert job.url_video == "https://example.com/v.mp4"


def test_unknown_field_is_named_with_a_suggestion():
    raw = dict(ADDAUDIO)
    raw["url_vidoe"] = raw.pop("url_video")
    message = error_of(raw)
    assert "unknown field 'url_vidoe' (did you mean 'url_video'?)" in message
    assert "missing required field 'url_video'" in message


def test_unknown_operation_lists_the_valid_ones():
    assert error_of({"operation": "transcode"}) == (
        f"Invalid input: unknown operation 'transcode'; valid operations: {', '.join(sorted(OPERATIONS))}.")


def test_missing_operation():
    assert error_of({"url_video": "x"}).startswith("Invalid input: missing required field 'operation'")


def test_input_must_be_an_object():
    assert error_of(["addaudio"]) == "Invalid input: the job's `input` must be a JSON object."


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"mode": "blend"}, "field 'mode': Input should be 'replace' or 'mix'"),
        ({"fit": "longest"}, "field 'fit': Input should be 'video', 'audio' or 'shortest'"),
        ({"audio_volume": -1}, "field 'audio_volume': Input should be greater than or equal to 0"),
        ({"original_volume": "loud"}, "field 'original_volume': Input should be a valid number"),
        ({"url_audio": ""}, "field 'url_audio': String should have at least 1 character"),
        ({"url_audio": None}, "field 'url_audio': Input should be a valid string"),
    ],
)
def test_bad_values_name_their_field(change, expected):
    assert expected in error_of({**ADDAUDIO, **change})


def test_nested_fields_are_named_by_their_path():
    message = error_of({**ADDAUDIO, "s3_config": {"bucket_name": "b", "access_key": "a", "secret_key": "s",
                                                 "regoin": "x"}})
    assert "unknown field 's3_config.regoin' (did you mean 'region'?)" in message


def test_values_are_never_echoed_back():
    message = error_of({**ADDAUDIO, "s3_config": {"bucket_name": "b", "access_key": 12345678, "secret_key": "s"}})
    assert "s3_config.access_key" in message
    assert "12345678" not in message
