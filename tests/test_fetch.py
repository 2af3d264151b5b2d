"""Downloads of untrusted URLs: the SSRF guard, redirects, size cap, deadline, retries, schemes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import video_ops.io.fetch as fetch_module
from video_ops.base.errors import JobError
from video_ops.base.tasks import all_or_nothing
from video_ops.io.fetch import SizeCap, fetch_all, redact_url


def download(url: str, dest_dir: Path, field: str = "url_video") -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(fetch_all({field: url}, dest_dir, None))[field]


def refusal(url: str, dest_dir: Path) -> str:
    with pytest.raises(JobError) as caught:
        download(url, dest_dir)
    return str(caught.value)


@pytest.fixture
def guarded(monkeypatch):
    """The guard as deployed: private addresses refused."""
    monkeypatch.delenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.mp4",
        "http://localhost:9/x.mp4",  # a name that resolves to loopback
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.1.2.3/x.mp4",
        "http://192.168.0.1/x.mp4",
        "http://100.64.0.1/x.mp4",  # CGNAT
        "http://[::1]/x.mp4",
        "http://[::ffff:127.0.0.1]/x.mp4",  # IPv4-mapped IPv6
        "http://2130706433/x.mp4",  # 127.0.0.1 spelled as one decimal number
        "http://0x7f.1/x.mp4",  # ... in hex
        "http://good.example@127.0.0.1/x.mp4",  # userinfo trick
    ],
)
def test_private_destinations_are_refused(guarded, tmp_path, url):
    message = refusal(url, tmp_path)
    assert message.startswith("url_video: refused to download from")
    assert "non-public address" in message
    assert "RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS" in message


def test_redirect_to_a_private_address_is_refused(tricky, tmp_path, monkeypatch):
    """The media server counts as public here; its redirect to another loopback address must not be followed."""
    monkeypatch.delenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS")
    monkeypatch.setattr(fetch_module, "is_safe_address", lambda address: address == "127.0.0.1")
    port = tricky.server_address[1]
    message = refusal(f"{tricky.url}/redirect?to=http://127.0.0.2:{port}/files/video.mp4", tmp_path)
    assert "non-public address 127.0.0.2" in message


def test_redirects_are_followed(tricky, tmp_path, media_dir):
    path = download(f"{tricky.url}/redirect?to=/files/video.mp4", tmp_path)
    assert path.read_bytes() == (media_dir / "video.mp4").read_bytes()
    assert path.name == "url_video"


def test_redirect_loops_end(tricky, tmp_path):
    assert "redirected more than 5 times" in refusal(f"{tricky.url}/loop", tmp_path)


def test_not_found_names_the_field_and_url(media_server, tmp_path):
    message = refusal(f"{media_server}/missing.mp4?X-Amz-Signature=secret", tmp_path)
    assert message == f"url_video: download failed: HTTP 404 File not found from {media_server}/missing.mp4."


def test_server_errors_are_retried(tricky, tmp_path, media_dir):
    path = download(f"{tricky.url}/flaky/video.mp4?fail=2", tmp_path)
    assert path.read_bytes() == (media_dir / "video.mp4").read_bytes()
    assert tricky.hits["/flaky/video.mp4"] == 3


def test_persistent_server_errors_fail_after_the_attempts(tricky, tmp_path):
    message = refusal(f"{tricky.url}/status/503", tmp_path)
    assert message.startswith(f"url_video: download of {tricky.url}/status/503 failed after 3 attempts: HTTP 503")


def test_size_cap_by_content_length(media_server, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNPOD_MAX_DOWNLOAD_BYTES", "1000")
    message = refusal(f"{media_server}/video.mp4", tmp_path)
    assert "larger than the download limit of 1000 bytes" in message
    assert "RUNPOD_MAX_DOWNLOAD_BYTES" in message


def test_size_cap_while_streaming_without_content_length(tricky, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNPOD_MAX_DOWNLOAD_BYTES", "1000")
    assert "larger than the download limit of 1000 bytes" in refusal(f"{tricky.url}/nolength/video.mp4", tmp_path)


SUBTITLE_CAP = SizeCap(1, "is it a subtitle file?")


@pytest.fixture
def big_srt(media_dir: Path) -> str:
    """1.5 MB under a name a subtitle file would have: over a 1 MB cap, far under the download limit."""
    (media_dir / "big.srt").write_bytes(b"1\n" + bytes(3 * 2**19))
    return "big.srt"


def capped_refusal(url: str, dest_dir: Path) -> str:
    with pytest.raises(JobError) as caught:
        asyncio.run(fetch_all({"url_srt": url}, dest_dir, None, caps={"url_srt": SUBTITLE_CAP}))
    return str(caught.value)


def test_a_field_cap_refuses_a_declared_length_before_reading(media_server, big_srt, tmp_path):
    assert capped_refusal(f"{media_server}/{big_srt}", tmp_path) == (
        "url_srt: the file is larger than 1 MB; is it a subtitle file?")
    assert not (tmp_path / "url_srt").exists()


def test_a_field_cap_stops_a_download_without_length_at_the_cap(tricky, big_srt, tmp_path):
    assert capped_refusal(f"{tricky.url}/nolength/{big_srt}", tmp_path) == (
        "url_srt: the file is larger than 1 MB; is it a subtitle file?")
    assert (tmp_path / "url_srt").stat().st_size <= SUBTITLE_CAP.max_bytes


def test_a_field_cap_applies_to_local_files(media_dir, big_srt, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_ALLOW_FILE_URLS", "1")
    assert capped_refusal((media_dir / big_srt).as_uri(), tmp_path).endswith("larger than 1 MB; is it a subtitle file?")


def test_the_download_limit_wins_where_it_is_tighter_than_a_cap(media_server, big_srt, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNPOD_MAX_DOWNLOAD_BYTES", "1000")
    assert "larger than the download limit of 1000 bytes" in capped_refusal(f"{media_server}/{big_srt}", tmp_path)


def test_fields_without_a_cap_keep_the_download_limit(media_server, big_srt, tmp_path):
    paths = asyncio.run(fetch_all({"url_video": f"{media_server}/{big_srt}"}, tmp_path, None,
                                  caps={"url_srt": SUBTITLE_CAP}))
    assert paths["url_video"].stat().st_size == 3 * 2**19 + 2


def test_a_trickling_server_cannot_hold_the_job(tricky, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_DOWNLOAD_TIMEOUT_S", "1")
    message = refusal(f"{tricky.url}/trickle", tmp_path)
    assert "did not finish within 1 s" in message
    assert "VIDEO_OPS_DOWNLOAD_TIMEOUT_S" in message


def test_connection_reset_mid_file_is_retried_then_fails(tricky, tmp_path):
    message = refusal(f"{tricky.url}/reset/video.mp4", tmp_path)
    assert "failed after 3 attempts" in message
    assert tricky.hits["/reset/video.mp4"] >= 3


@pytest.mark.parametrize("url", ["ftp://example.com/x.mp4", "gopher://x/", "javascript:alert(1)", "just-text"])
def test_only_known_schemes(tmp_path, url):
    assert "unsupported URL scheme" in refusal(url, tmp_path)


def test_file_urls_need_the_local_switch(tmp_path, media_dir, monkeypatch):
    url = (media_dir / "video.mp4").as_uri()
    assert "file:// URLs are refused" in refusal(url, tmp_path)
    monkeypatch.setenv("VIDEO_OPS_ALLOW_FILE_URLS", "1")
    assert download(url, tmp_path).read_bytes() == (media_dir / "video.mp4").read_bytes()


def test_several_inputs_download_together(media_server, tmp_path):
    paths = asyncio.run(fetch_all({"url_video": f"{media_server}/video.mp4", "url_audio": f"{media_server}/tone.mp3"},
                                  tmp_path, None))
    assert sorted(p.name for p in paths.values()) == ["url_audio", "url_video"]


def test_nothing_to_fetch_is_no_download(tmp_path):
    """A render's plan of image scenes depends on no file: fetching nothing gives nothing, not a ValueError."""
    assert asyncio.run(fetch_all({}, tmp_path, None)) == {}
    assert asyncio.run(all_or_nothing()) == []
    assert list(tmp_path.iterdir()) == []


def test_first_failure_cancels_the_others(media_server, tricky, tmp_path):
    with pytest.raises(JobError, match="url_audio: download failed: HTTP 404"):
        asyncio.run(fetch_all({"url_video": f"{tricky.url}/trickle", "url_audio": f"{media_server}/nope.mp3"},
                              tmp_path, None))


def test_redaction_hides_credentials_and_signatures():
    assert redact_url("https://user:pw@host.example:8443/a/b.mp4?X-Amz-Signature=abc#f") == (
        "https://host.example:8443/a/b.mp4")


def test_dns_answer_changing_after_the_check_is_not_followed(tricky, tmp_path, media_dir, monkeypatch):
    """A rebinding name: public (here: 127.0.0.1 counts as public) when checked, private right after.

    The download must go to the address that was checked, and resolve the name only once.
    """
    import asyncio.base_events
    import socket

    monkeypatch.delenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS")
    monkeypatch.setattr(fetch_module, "is_safe_address", lambda address: address == "127.0.0.1")
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])
    lookups: list[str] = []

    async def rebinding_dns(self, host, port, *, family=0, type=0, proto=0, flags=0):
        if host != "rebind.test":
            raise socket.gaierror(socket.EAI_NONAME, "unknown host")
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", rebinding_dns)
    port = tricky.server_address[1]
    path = download(f"http://rebind.test:{port}/files/video.mp4", tmp_path)
    assert path.read_bytes() == (media_dir / "video.mp4").read_bytes()
    assert lookups == ["rebind.test"]
