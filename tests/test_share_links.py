"""Google Drive and Dropbox share links as inputs: the forms rewritten, and the real download path
against stand-ins for both hosts on 127.0.0.1 (tests/share_hosts.py) serving the shapes of their answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import video_ops.io.fetch as fetch_module
from tests.helpers import local_output, run_job
from tests.servers import TrickyServer, tricky_server
from tests.share_hosts import ShareHosts, origins
from video_ops.base.errors import JobError
from video_ops.io.fetch import fetch_all
from video_ops.io.share_links import source_of

ID = "1AbC-dEf_GhIjKlMnOpQrStUvWxYz012"
DIRECT = f"https://drive.google.com/uc?export=download&id={ID}"
SIGN_IN = 'url_audio: Google Drive answered with a sign-in page: the file is not shared with "anyone with the link".'


@pytest.mark.parametrize("url", [
    f"https://drive.google.com/file/d/{ID}/view",
    f"https://drive.google.com/file/d/{ID}/view?usp=sharing",
    f"https://drive.google.com/file/d/{ID}/view?usp=drive_link",
    f"https://drive.google.com/file/d/{ID}/edit",
    f"https://drive.google.com/file/d/{ID}",
    f"https://drive.google.com/file/d/{ID}/",
    f"https://drive.google.com/file/u/1/d/{ID}/view",
    f"http://drive.google.com/file/d/{ID}/view",
    f"https://drive.google.com/open?id={ID}",
    f"https://drive.google.com/uc?id={ID}",
    f"https://drive.google.com/uc?export=download&id={ID}",
    f"https://drive.google.com/uc?id={ID}&export=download",
    f"https://docs.google.com/uc?export=download&id={ID}",
    f"https://DRIVE.Google.com./file/d/{ID}/view",
])
def test_drive_links_become_the_direct_download(url):
    source = source_of(url, "url_audio")
    assert (source.url, source.sent, source.is_drive) == (DIRECT, url, True)


def test_a_resource_key_goes_with_the_file():
    """Files shared before 2021 need their resource key to download."""
    url = f"https://drive.google.com/file/d/{ID}/view?usp=sharing&resourcekey=0-k3Y"
    assert source_of(url, "url_audio").url == DIRECT + "&resourcekey=0-k3Y"


@pytest.mark.parametrize(("url", "direct"), [
    ("https://www.dropbox.com/s/a1b2c3/clip.mp4?dl=0", "https://www.dropbox.com/s/a1b2c3/clip.mp4?dl=1"),
    ("https://www.dropbox.com/s/a1b2c3/clip.mp4", "https://www.dropbox.com/s/a1b2c3/clip.mp4?dl=1"),
    ("https://dropbox.com/s/a1b2c3/clip.mp4?dl=0", "https://dropbox.com/s/a1b2c3/clip.mp4?dl=1"),
    ("https://www.dropbox.com/scl/fi/x9y8/clip.mp4?rlkey=k7&st=s1&dl=0",
     "https://www.dropbox.com/scl/fi/x9y8/clip.mp4?rlkey=k7&st=s1&dl=1"),
    ("https://www.dropbox.com/scl/fi/x9y8/clip.mp4?rlkey=k7", "https://www.dropbox.com/scl/fi/x9y8/clip.mp4?rlkey=k7&dl=1"),
    ("https://www.dropbox.com/scl/fi/x9y8/clip.mp4?rlkey=k7&dl=1",
     "https://www.dropbox.com/scl/fi/x9y8/clip.mp4?rlkey=k7&dl=1"),
    ("https://www.dropbox.com/s/a1b2c3/clip.mp4?raw=1", "https://www.dropbox.com/s/a1b2c3/clip.mp4?raw=1"),
])
def test_dropbox_links_become_dl_1(url, direct):
    assert source_of(url, "url_audio").url == direct


@pytest.mark.parametrize("url", [
    f"https://drive.google.com.evil.example/file/d/{ID}/view",
    f"https://evil.example/drive.google.com/file/d/{ID}/view",
    f"https://drive.google.com@evil.example/file/d/{ID}/view",
    f"https://xdrive.google.com/file/d/{ID}/view",
    f"https://drive.google.co/file/d/{ID}/view",
    f"https://drive.google.com:8443/file/d/{ID}/view",
    "https://www.dropbox.com.evil.example/s/a1b2c3/clip.mp4?dl=0",
    "https://evil.example/s/a1b2c3/clip.mp4?dl=0",
    f"https://evil.example/uc?export=download&id={ID}",
])
def test_look_alikes_on_other_hosts_are_not_rewritten(url):
    source = source_of(url, "url_audio")
    assert (source.url, source.service) == (url, None)


@pytest.mark.parametrize("url", [
    "https://drive.google.com/file/d/../view",
    "https://drive.google.com/file/d/%2e%2e%2f%2e%2e/view",
    "https://drive.google.com/open?id=../../etc/passwd",
    "https://drive.google.com/uc?id=..%2F..%2Fx&export=download",
    f"https://drive.google.com/uc?id={ID}%0d%0aX-Evil:1",
    "https://drive.google.com/uc?id=short",
])
def test_invalid_drive_ids_are_refused(url):
    with pytest.raises(JobError) as caught:
        source_of(url, "url_audio")
    assert str(caught.value) == (
        "url_audio: the Google Drive link's file id is not valid (letters, digits, '-' and '_' only).")


FOLDER = ("url_audio: a Google Drive folder link cannot be downloaded; share the file itself "
          "(its link looks like https://drive.google.com/file/d/<id>/view).")
DROPBOX_FOLDER = ("url_audio: a Dropbox folder link cannot be downloaded; share the file itself "
                  "(its link looks like https://www.dropbox.com/scl/fi/...).")


def editor(kind: str) -> str:
    return (f"url_audio: {kind} is not a media file and cannot be downloaded as one; upload the video, audio or "
            'image file itself to Google Drive and share that file with "anyone with the link".')


@pytest.mark.parametrize(("url", "error"), [
    (f"https://docs.google.com/document/d/{ID}/edit?usp=sharing", editor("a Google Docs document")),
    (f"https://docs.google.com/spreadsheets/d/{ID}/edit#gid=0", editor("a Google Sheets spreadsheet")),
    (f"https://docs.google.com/presentation/d/{ID}/edit", editor("a Google Slides presentation")),
    (f"https://docs.google.com/forms/d/e/{ID}/viewform", editor("a Google Forms form")),
    (f"https://drive.google.com/drive/folders/{ID}?usp=sharing", FOLDER),
    (f"https://drive.google.com/drive/u/0/folders/{ID}", FOLDER),
    (f"https://drive.google.com/folderview?id={ID}", FOLDER),
    ("https://drive.google.com/drive/my-drive", "url_audio: this Google Drive link names no file; share the file's "
                                                "own link (https://drive.google.com/file/d/<id>/view)."),
    ("https://www.dropbox.com/scl/fo/x9y8/h?rlkey=k7&dl=0", DROPBOX_FOLDER),
    ("https://www.dropbox.com/sh/a1b2c3/AAB?dl=0", DROPBOX_FOLDER),
])
def test_links_that_hold_no_file_say_what_to_share(url, error):
    with pytest.raises(JobError) as caught:
        source_of(url, "url_audio")
    assert str(caught.value) == error


@pytest.fixture
def hosts(media_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TrickyServer]:
    """Drive, Drive's content host, Google's sign-in and Dropbox, played on 127.0.0.1."""
    with tricky_server(media_dir, ShareHosts) as server:
        monkeypatch.setenv("VIDEO_OPS_TEST_ORIGINS", origins(server))
        yield server


def download(url: str, dest_dir: Path) -> Path:
    return asyncio.run(fetch_all({"url_audio": url}, dest_dir, None))["url_audio"]


def refusal(url: str, dest_dir: Path) -> str:
    with pytest.raises(JobError) as caught:
        download(url, dest_dir)
    return str(caught.value)


def test_a_drive_share_link_downloads_the_file(hosts, media_dir, tmp_path):
    path = download("https://drive.google.com/file/d/smallfile0001/view?usp=sharing", tmp_path)
    assert path.read_bytes() == (media_dir / "video.mp4").read_bytes()
    assert hosts.hits["/drive/uc"] == 1 and hosts.hits["/usercontent/download"] == 1


def test_a_big_drive_file_follows_the_confirmation_form(hosts, media_dir, tmp_path):
    """The form's fields (one of them renamed on every page) are copied from the page, not assumed."""
    path = download("https://drive.google.com/file/d/largefile0001/view", tmp_path)
    assert path.read_bytes() == (media_dir / "video.mp4").read_bytes()
    assert hosts.hits["/usercontent/download"] == 2


def test_an_older_confirmation_page_follows_its_confirm_link(hosts, media_dir, tmp_path):
    path = download("https://drive.google.com/open?id=oldlargefile1", tmp_path)
    assert path.read_bytes() == (media_dir / "video.mp4").read_bytes()
    assert hosts.hits["/drive/uc"] == 2


def test_a_private_file_stops_at_the_sign_in_redirect(hosts, tmp_path):
    assert refusal("https://drive.google.com/file/d/privatefile01/view", tmp_path) == SIGN_IN
    assert hosts.hits["/accounts/ServiceLogin"] == 0


def test_a_sign_in_page_is_recognised(hosts, tmp_path):
    assert refusal("https://drive.google.com/uc?id=signinpage001", tmp_path) == SIGN_IN


def test_a_file_over_its_quota_says_so(hosts, tmp_path):
    assert refusal("https://drive.google.com/file/d/busyfile00001/view", tmp_path) == (
        "url_audio: Google Drive refused the download: too many users have viewed or downloaded this file "
        "recently (its download quota); try again later, or share a copy of the file.")


def test_any_other_page_from_drive_is_not_taken_for_the_file(hosts, tmp_path):
    assert refusal("https://drive.google.com/file/d/viewerpage001/view?usp=sharing", tmp_path) == (
        "url_audio: Google Drive answered https://drive.google.com/file/d/viewerpage001/view with a web page, "
        "not the file.")
    assert refusal("https://drive.google.com/file/d/hugepage00001/view", tmp_path) == (
        "url_audio: Google Drive answered with a web page of over 1048576 bytes, not the file.")


def test_errors_name_the_link_as_the_caller_sent_it(hosts, tmp_path):
    assert refusal("https://drive.google.com/file/d/missingfile01/view?usp=sharing", tmp_path) == (
        "url_audio: download failed: HTTP 404 Not Found from https://drive.google.com/file/d/missingfile01/view.")


def test_a_dropbox_share_link_downloads_the_file(hosts, media_dir, tmp_path):
    path = download("https://www.dropbox.com/scl/fi/x9y8z7/clip.mp4?rlkey=k7secret&dl=0", tmp_path)
    assert path.read_bytes() == (media_dir / "video.mp4").read_bytes()
    assert sum(n for path, n in hosts.hits.items() if path.startswith("/dropboxcontent/")) == 1


def test_every_hop_of_a_share_link_passes_the_address_guard(hosts, tmp_path, monkeypatch):
    """Drive's content host stands on 127.0.0.2 here, a private address: the guard stops the second hop."""
    monkeypatch.delenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS")
    monkeypatch.setattr(fetch_module, "is_safe_address", lambda address: address == "127.0.0.1")
    port = hosts.server_address[1]
    monkeypatch.setenv("VIDEO_OPS_TEST_ORIGINS", origins(hosts).replace(
        f"drive.usercontent.google.com=http://127.0.0.1:{port}", f"drive.usercontent.google.com=http://127.0.0.2:{port}"))
    assert "non-public address 127.0.0.2" in refusal("https://drive.google.com/file/d/smallfile0001/view", tmp_path)
    assert hosts.hits["/drive/uc"] == 1


def test_the_size_cap_holds_after_the_confirmation(hosts, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNPOD_MAX_DOWNLOAD_BYTES", "1000")
    assert "larger than the download limit of 1000 bytes" in refusal(
        "https://drive.google.com/file/d/largefile0002/view", tmp_path)


def test_the_deadline_holds_for_a_share_link(hosts, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_DOWNLOAD_TIMEOUT_S", "1")
    assert refusal("https://drive.google.com/file/d/slowfile00001/view?usp=sharing", tmp_path) == (
        "url_audio: download of https://drive.google.com/file/d/slowfile00001/view did not finish within 1 s "
        "(limit VIDEO_OPS_DOWNLOAD_TIMEOUT_S).")


def test_a_job_takes_drive_and_dropbox_links_and_logs_no_keys(hosts, caplog):
    caplog.set_level(logging.DEBUG)
    result = run_job({"operation": "addaudio", "path": "out",
                      "url_video": "https://drive.google.com/file/d/largefile0003/view?usp=sharing",
                      "url_audio": "https://www.dropbox.com/scl/fi/x9y8z7/clip.mp4?rlkey=k7secret&dl=0"})
    assert local_output(result).stat().st_size > 0
    failed = run_job({"operation": "addaudio", "path": "out",
                      "url_video": "https://drive.google.com/file/d/largefile0004/view",
                      "url_audio": "https://www.dropbox.com/scl/fi/gone/clip.mp4?rlkey=k7secret&dl=0"})
    assert failed == {"error": "url_audio: download failed: HTTP 404 Not Found from "
                               "https://www.dropbox.com/scl/fi/gone/clip.mp4."}
    assert "k7secret" not in caplog.text and "dl=1" not in caplog.text
