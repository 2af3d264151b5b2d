"""The jobs page at /ui in a real headless Chromium: sign in with the key, see a finished job with its video
playing from its result URL, a failed one with its error, filter by state and by any operation of the
registry, read a job's input, its result's files as links and its webhook attempts, and see nothing with a
wrong key. The detail view is kept as test-artifacts/gateway-ui.png."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests import test_gateway_webhooks as hooks
from tests.browser import Page, chromium
from tests.endpoint import Gateway, wait_until
from tests.helpers import REPO
from tests.test_gateway import gateway_env
from video_ops.ops import OPERATIONS

KEY = "page-key"
ADDAUDIO = {"url_video": "file:samples/sample_video.mp4", "url_audio": "file:samples/sample_audio.mp3",
            "path": "page", "output_filename": "shown.mp4"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("page")
    env = gateway_env(tmp, VIDEO_OPS_API_KEYS=KEY, VIDEO_OPS_ALLOW_PRIVATE_WEBHOOKS="1")
    with Gateway(REPO / "handler.py", 1, tmp / "gateway.log", env) as running:
        yield running


receiver = hooks.receiver  # the webhook tests' receiver, one for this module


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


def urls(value: Any, where: str = "") -> list[list[str]]:
    """[where in the result, URL] for every http(s) URL a result holds, in the page's order and naming."""
    if isinstance(value, str):
        return [[where, value]] if value.startswith(("http://", "https://")) else []
    if isinstance(value, list):
        return [found for n, item in enumerate(value) for found in urls(item, f"{where}[{n}]")]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in urls(item, f"{where}.{key}" if where else key)]
    return []


def test_a_jobs_input_result_files_and_webhook_attempts_are_readable(gateway: Gateway, page: Page,
                                                                     receiver: hooks.Receiver) -> None:
    hook = receiver.url("/page", 503)  # the first attempt is refused, the retry a second later delivered
    done = gateway.submit("addaudio", {**ADDAUDIO, "output_filename": "linked.mp4", "webhook_url": hook})
    probed = gateway.submit("probe", {"url": "file:samples/sample_video.mp4"})
    record_url = f"{gateway.url}/jobs/{done}/record"
    record = wait_until(lambda: (found := requests.get(record_url, headers={"X-API-Key": KEY}, timeout=30).json())
                        ["webhook"]["status"] == "delivered" and found, 90, "the webhook was never delivered",
                        interval=0.2)
    wait_until(lambda: gateway.status(probed)["status"] == "COMPLETED", 60, "the probe never ended", interval=0.2)

    sign_in(page, gateway.url, KEY)
    offered = page.wait_for("(() => { const o = [...document.querySelectorAll('#filter-operation option')];"
                            " return o.length > 1 && o.map(option => option.value); })()")
    page.evaluate("document.getElementById('filter-status').value = '';"
                  "document.getElementById('filter-operation').value = 'probe';"
                  "document.getElementById('filters').requestSubmit(); true")
    page.wait_for(f"!!document.querySelector('tr[data-job-id=\"{probed}\"]') && "
                  "[...document.querySelectorAll('#jobs tr')].every(row => row.cells[2].textContent === 'probe')")
    page.evaluate("document.getElementById('filter-operation').value = 'addaudio';"
                  "document.getElementById('filters').requestSubmit(); true")
    page.wait_for(f"!!document.querySelector('tr[data-job-id=\"{done}\"]')")
    page.evaluate(f"document.querySelector('tr[data-job-id=\"{done}\"]').click(); true")
    attempts = page.wait_for("(() => { const rows = [...document.querySelectorAll('#detail-attempts tr')];"
                             " return rows.length === 2 && rows.map(row => [...row.cells].map(c => c.textContent));"
                             " })()")
    shown = page.evaluate("({links: [...document.querySelectorAll('#detail-links a')]"
                          ".map(a => [a.textContent, a.href]),"
                          " input: JSON.parse(document.getElementById('detail-input').textContent),"
                          " webhook: document.getElementById('detail-webhook').textContent,"
                          " files: [...document.querySelectorAll('#detail-links li')].map(li => li.textContent),"
                          " login: getComputedStyle(document.getElementById('login')).display,"
                          " table: !document.getElementById('detail-attempts-table').hidden})")
    page.wait_for("document.querySelector('#detail-videos video').readyState >= 2")  # its first frame, for the picture
    screenshot = page.screenshot("gateway-ui")

    assert offered == ["", *OPERATIONS]  # the registry's operations, in its order
    assert shown["links"] == urls(record["result"]) and ["video_url", record["result"]["video_url"]] in shown["links"]
    assert "video_url linked.mp4" in shown["files"] and shown["login"] == "none"  # signed in: no key form
    assert shown["input"] == record["input"] and shown["input"]["output_filename"] == "linked.mp4"
    assert [[number, outcome] for number, _at, outcome in attempts] == [["1", "HTTP 503"], ["2", "HTTP 200"]]
    assert shown["webhook"] == f"{hook}: delivered, 2 attempt(s)" and shown["table"]
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and screenshot.stat().st_size > 10_000


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
