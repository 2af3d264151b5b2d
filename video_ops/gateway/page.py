"""The jobs page at `/ui`: plain HTML and a little JavaScript, served as files, with no build step.

The page itself holds no data, so it needs no key; it asks for one in a form, keeps it in the browser's
session storage (never in a URL) and sends it as `X-API-Key` to `GET /jobs` and `GET /jobs/<id>/record`,
the same routes and the same check as any caller. Scripts come only from this gateway (no inline
script), so a job's input or result shown in the page can never run as code.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

FILES = Path(__file__).resolve().parent / "ui"
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
          "media-src http: https:; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
TYPES = {"index.html": "text/html; charset=utf-8", "page.js": "text/javascript; charset=utf-8",
         "page.css": "text/css; charset=utf-8"}


def add_page(app: FastAPI) -> None:
    def serve(name: str) -> FileResponse:
        return FileResponse(FILES / name, media_type=TYPES[name],
                            headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache",
                                     "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})

    async def page() -> FileResponse:
        """The jobs page (sign in with an API key)."""
        return serve("index.html")

    async def script() -> FileResponse:
        return serve("page.js")

    async def style() -> FileResponse:
        return serve("page.css")

    app.add_api_route("/ui", page, methods=["GET"], tags=["service"], name="jobs_page")
    for path, route in (("/ui/page.js", script), ("/ui/page.css", style)):
        app.add_api_route(path, route, methods=["GET"], include_in_schema=False)
