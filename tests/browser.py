"""Headless Chromium (Debian's package, installed when missing) driven over the DevTools protocol.

Screenshots go to `test-artifacts/` at the repository's root (ignored by git), where they outlive the run.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from websockets.sync.client import ClientConnection, connect

from tests.helpers import REPO
from tests.services import installed

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
         "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1")
LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
ARTIFACTS = REPO / "test-artifacts"
VIEWPORT = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}


class Page:
    """One tab: `evaluate` runs JavaScript in it and returns the value; `wait_for` polls an expression."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == number:
                assert "error" not in message, message["error"]
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href === " + json.dumps(url))

    def screenshot(self, name: str) -> Path:
        """The whole page as `test-artifacts/<name>.png`, kept after the run."""
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        target.write_bytes(base64.b64decode(data))
        return target

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, f"never true in the page: {expression}"
            time.sleep(0.1)


@contextlib.contextmanager
def chromium() -> Iterator[Page]:
    binary = installed(["chromium", "chromium-browser"], "chromium")
    profile = tempfile.mkdtemp(prefix="video-ops-chromium-")
    proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        found = None
        deadline = time.monotonic() + 60
        while found is None and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 1)
            if ready:
                found = LISTENING.search(proc.stderr.readline())
        assert found, "chromium did not open its DevTools port"
        port = found.group(1).split(":")[2].split("/")[0]
        targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json()
        target = next(target for target in targets if target["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=None) as socket:
            page = Page(socket)
            page.call("Page.enable")
            page.call("Emulation.setDeviceMetricsOverride", **VIEWPORT)
            yield page
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
