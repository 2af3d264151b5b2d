"""The jobs page at /ui in a real headless Chromium: sign in with the key, see a finished job with its video
playing from its result URL, a failed one with its error, filter, and see nothing with a wrong key."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.browser import Page, chromium
from tests.endpoint import Gateway, wait_until
from tests.helpers import REPO
from tests.test_gateway import gateway_env

KEY = "page-key"
ADDAUDIO = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
            "path": "page", "output_filename": "shown.mp4"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("page")
    with Gateway(REPO / "handler.py", 1, tmp / "gateway.log", gateway_env(tmp, VIDEO_OPS_API_KEYS=KEY)) as running:
        yield running


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield browser


def sign_in(page: Page, url: str, key: str) -> None:
    page.open(f"{url}/ui")
    page.evaluate(f"sessionStorage.clear(); document.getElementById('key').value = {json.dumps(key)};"
                  "document.getElementById('login').requestSubmit(); true")


def test_the_page_shows_finished_and_failed_jobs_and_filters_them(gateway: Gateway, page: Page) -> None:
    done = gateway.submit("addaudio", ADDAUDIO)
    failed = gateway.submit("addaudio", {**ADDAUDIO, "url_video": "file:samples/missing.mp4"})
    for job in (done, failed):
        wait_until(lambda job=job: gateway.status(job)["status"] in ("COMPLETED", "FAILED"), 90, f"{job} never ended",
                   interval=0.2)

    sign_in(page, gateway.url, KEY)
    page.wait_for(f"!!document.querySelector('tr[data-job-id=\"{done}\"][data-status=\"COMPLETED\"]')")
    address = page.evaluate("location.href")
    page.evaluate(f"document.querySelector('tr[data-job-id=\"{done}\"]').click(); true")
    duration = page.wait_for("(() => { const v = document.querySelector('#detail-videos video');"
                             " return v && v.readyState >= 1 && v.duration; })()")
    source = page.evaluate("document.querySelector('#detail-videos video').src")
    page.evaluate(f"document.querySelector('tr[data-job-id=\"{failed}\"]').click(); true")
    error = page.wait_for("!document.getElementById('detail-error').hidden && "
                          "document.getElementById('detail-error').textContent")
    videos_for_failed = page.evaluate("document.querySelectorAll('#detail-videos video').length")
    page.evaluate("document.getElementById('filter-status').value = 'FAILED';"
                  "document.getElementById('filters').requestSubmit(); true")
    page.wait_for("[...document.querySelectorAll('#jobs tr')].every(row => row.dataset.status === 'FAILED')")
    filtered = page.evaluate("[...document.querySelectorAll('#jobs tr')].map(row => row.dataset.jobId)")

    assert KEY not in address and address == f"{gateway.url}/ui"
    assert source.endswith("/page/shown.mp4") and source.startswith("http://127.0.0.1:") and duration > 3
    assert error == gateway.status(failed)["error"] and error.startswith("url_video: ")
    assert videos_for_failed == 0
    assert filtered == [failed]


def test_a_wrong_key_sees_nothing(gateway: Gateway, page: Page) -> None:
    gateway.submit("addaudio", ADDAUDIO)
    sign_in(page, gateway.url, "not-the-key")
    refusal = page.wait_for("!document.getElementById('login-error').hidden && "
                            "document.getElementById('login-error').textContent")
    shown = page.evaluate("({rows: document.querySelectorAll('#jobs tr').length,"
                          " list: !document.getElementById('jobs-view').hidden,"
                          " kept: sessionStorage.length, text: document.body.innerText})")

    assert refusal == "The key was refused."
    assert shown["rows"] == 0 and not shown["list"] and shown["kept"] == 0 and "addaudio" not in shown["text"]
