"""Object keys built from untrusted `path` and `output_filename`."""

from __future__ import annotations

import pytest

from video_ops.base.errors import JobError
from video_ops.io.keys import clean_filename, clean_prefix, join_key


@pytest.mark.parametrize(
    ("path", "prefix"),
    [
        ("videos/output", "videos/output"),
        ("videos/output/", "videos/output"),
        ("  videos/output/ \n", "videos/output"),
        ("", ""),
        ("/", None),
        ("ação/vídeos", "ação/vídeos"),
    ],
)
def test_prefix_forms(path, prefix):
    if prefix is None:
        with pytest.raises(JobError, match="absolute"):
            clean_prefix(path)
    else:
        assert clean_prefix(path) == prefix


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../secrets", "must be a name"),
        ("videos/../../etc", "must be a name"),
        ("videos/./x", "must be a name"),
        ("/etc/passwd", "absolute"),
        ("videos\\output", "must not contain"),
        ("videos//output", "empty segment"),
        ("vid\x00eos", "control"),
        ("vid\neos", "control"),
        ("vid\u202eeos", "control or invisible"),
        ("videos\uff0foutput", "look-alike"),
        ("a" * 256, "longer than 255 bytes"),
    ],
)
def test_prefix_refusals_name_the_field(path, reason):
    with pytest.raises(JobError, match=reason) as caught:
        clean_prefix(path)
    assert "'path'" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("out.mp4", "out.mp4"), (" out.MP4 ", "out.MP4"), ("out", "out.mp4"), ("my video (1).mp4", "my video (1).mp4")],
)
def test_filenames(name, expected):
    assert clean_filename(name) == expected


@pytest.mark.parametrize("name", ["../x.mp4", "a/b.mp4", "x.mov", ".mp4", "", "..", "a\tb.mp4"])
def test_bad_filenames(name):
    with pytest.raises(JobError, match="output_filename"):
        clean_filename(name)


def test_join_key():
    assert join_key("videos/output", "x.mp4") == "videos/output/x.mp4"
    assert join_key("", "x.mp4") == "x.mp4"
    with pytest.raises(JobError, match="longer than 1024"):
        join_key("/".join(["a" * 200] * 6), "x.mp4")
