"""An HTTP server on 127.0.0.1 that misbehaves on purpose: redirects, errors, lies about sizes, trickles."""

from __future__ import annotations

import http.server
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit


class TrickyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: Path, handler: type[http.server.BaseHTTPRequestHandler] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), handler or Handler)
        self.files = files
        self.hits: Counter[str] = Counter()
        self.memory: dict[str, Any] = {}  # what a route remembers between requests

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes `/<name>/rest...` to `route_<name>`; subclasses add routes."""

    server: TrickyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.hits[parts.path] += 1
        route = parts.path.strip("/").split("/")
        handler = getattr(self, f"route_{route[0]}", None)
        if handler is None:
            self.send_error(404)
            return
        handler(route[1:], query)

    def do_PUT(self) -> None:
        """Uploads (the server can play a bucket): the body is read and dropped, then routed as a GET."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    do_POST = do_PUT

    def _file(self, name: str) -> bytes:
        return (self.server.files / name).read_bytes()

    def route_redirect(self, rest: list[str], query: dict[str, str]) -> None:
        """/redirect?to=URL"""
        self.send_response(302)
        self.send_header("Location", query["to"])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_loop(self, rest: list[str], query: dict[str, str]) -> None:
        """/loop redirects to itself forever."""
        self.route_redirect(rest, {"to": "/loop"})

    def route_slow(self, rest: list[str], query: dict[str, str]) -> None:
        """/slow/...: answers 200 only after 3 s (a bucket or server that hangs)."""
        time.sleep(3)
        self._send_body(b"")

    def route_status(self, rest: list[str], query: dict[str, str]) -> None:
        """/status/503 always answers that status."""
        self.send_error(int(rest[0]))

    def route_flaky(self, rest: list[str], query: dict[str, str]) -> None:
        """/flaky/<file>?fail=N: the first N requests get a 503, later ones the file."""
        if self.server.hits[self.path.split("?")[0]] <= int(query.get("fail", "1")):
            self.send_error(503)
            return
        self._send_body(self._file(rest[0]))

    def route_nolength(self, rest: list[str], query: dict[str, str]) -> None:
        """/nolength/<file>: the body without Content-Length (the connection's end marks the end)."""
        body = self._file(rest[0])
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def route_reset(self, rest: list[str], query: dict[str, str]) -> None:
        """/reset/<file>: promises the whole file, sends half, then drops the connection."""
        body = self._file(rest[0])
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)

    def route_trickle(self, rest: list[str], query: dict[str, str]) -> None:
        """/trickle: one byte every 0.2 s, for a very long time."""
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            return

    def route_files(self, rest: list[str], query: dict[str, str]) -> None:
        self._send_body(self._file(rest[0]))

    def _send_body(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


Served = TypeVar("Served", bound=http.server.HTTPServer)


@contextmanager
def serving(server: Served) -> Iterator[Served]:
    """Serve in a background thread until the `with` ends, then close the server."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def tricky_server(files: Path, handler: type[Handler] | None = None) -> Iterator[TrickyServer]:
    with serving(TrickyServer(files, handler)) as server:
        yield server
