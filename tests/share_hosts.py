"""Google Drive and Dropbox played on 127.0.0.1, with the shapes of their real answers.

One server plays every host under its own first path segment (`/drive/...` is drive.google.com);
`origins(server)` is the VIDEO_OPS_TEST_ORIGINS value that sends the downloads there. The file ids
choose the answer: `small...` the file, `large...` the virus-scan confirmation first, `oldlarge...`
the older `confirm=` link, `private...` a redirect to sign-in, `signin...` a sign-in page, `busy...`
the quota page, `viewer...` some other page, `hugepage...` a page of 2 MB, `slow...` a file that
trickles; any other id is not found, as is a Dropbox link whose path holds `gone`.
"""

from __future__ import annotations

import secrets
from html import escape
from urllib.parse import urlencode

from tests.servers import Handler, TrickyServer

DROPBOX_CONTENT = "https://ucdemo0.dl.dropboxusercontent.com"
HOSTS = {
    "drive": "https://drive.google.com",
    "usercontent": "https://drive.usercontent.google.com",
    "accounts": "https://accounts.google.com",
    "dropbox": "https://www.dropbox.com",
    "dropboxcontent": DROPBOX_CONTENT,
}
FILE = "video.mp4"

VIRUS_SCAN_PAGE = """<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title>
<meta http-equiv="content-type" content="text/html; charset=utf-8"/>
<link rel="icon" href="//ssl.gstatic.com/images/branding/product/1x/drive_2020q4_32dp.png"/></head>
<body><div class="uc-main"><div id="uc-text"><p class="uc-warning-caption">Google Drive can&#39;t scan this file
for viruses.</p><p class="uc-warning-subcaption"><span class="uc-name-size"><a href="/open?id={id}">big.mp4</a>
(1.4G)</span> is too large for Google to scan for viruses. Would you still like to download this file?</p>
<form id="download-form" action="https://drive.usercontent.google.com/download" method="get">
<input type="submit" id="uc-download-link" class="goog-inline-block jfk-button jfk-button-action"
value="Download anyway"/>{inputs}</form></div></div><div class="uc-footer"><hr class="uc-footer-divider">
</div></body></html>"""

OLD_VIRUS_SCAN_PAGE = """<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head>
<body><div class="uc-main"><div id="uc-text"><p class="uc-warning-caption">Google Drive can&#39;t scan this file
for viruses.</p><a id="uc-download-link" class="goog-inline-block jfk-button jfk-button-action"
href="/uc?export=download&amp;confirm={token}&amp;id={id}">Download anyway</a></div></div></body></html>"""

QUOTA_PAGE = """<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head><body>
<div class="uc-main"><div id="uc-text"><p class="uc-error-caption">Sorry, you can&#39;t view or download this
file at this time.</p><p class="uc-error-subcaption">Too many users have viewed or downloaded this file
recently. Please try accessing the file again later. If the file you are trying to access is particularly large
or is shared with many people, it may take up to 24 hours to be able to view or download the file.</p>
</div></div><a href="https://accounts.google.com/ServiceLogin?service=wise">Sign in</a></body></html>"""

SIGN_IN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Google Drive: Sign-in</title></head><body>
<form novalidate method="post" action="https://accounts.google.com/ServiceLogin?service=wise&amp;passive=1209600"
id="gaia_loginform"><input type="email" name="Email" id="Email"><input type="hidden" name="continue"
value="https://drive.google.com/uc?export=download"><input type="submit" value="Next"></form></body></html>"""

VIEWER_PAGE = """<!DOCTYPE html><html><head><title>clip.mp4 - Google Drive</title></head>
<body><div id="drive-viewer">not the file</div></body></html>"""

DROPBOX_PREVIEW = """<!DOCTYPE html><html><head><title>Dropbox - clip.mp4 - Simplify your life</title></head>
<body><div id="preview">not the file</div></body></html>"""


def origins(server: TrickyServer) -> str:
    return " ".join(f"{origin}={server.url}/{name}" for name, origin in HOSTS.items())


class ShareHosts(Handler):
    """Answers as Drive, Drive's content host, Google's sign-in and Dropbox do."""

    def route_drive(self, rest: list[str], query: dict[str, str]) -> None:
        if rest[:2] == ["file", "d"]:
            self._page(200, VIEWER_PAGE)
        elif rest != ["uc"] or query.get("export") != "download":
            self.send_error(404)
        elif query["id"].startswith("signin"):
            self._page(200, SIGN_IN_PAGE)
        elif query["id"].startswith("oldlarge") and query.get("confirm") != "Qx7b":
            self._page(200, OLD_VIRUS_SCAN_PAGE.format(id=query["id"], token="Qx7b"))
        elif query["id"].startswith("oldlarge"):
            self._send_body(self._file(FILE))
        else:
            download = urlencode({"id": query["id"], "export": "download"})
            self._redirect(303, f"{HOSTS['usercontent']}/download?{download}")

    def route_usercontent(self, rest: list[str], query: dict[str, str]) -> None:
        """The form's fields change with each page, one of them under a new name: only a copy of them all works."""
        file_id = query.get("id", "")
        if file_id.startswith("large"):
            issued = self.server.memory.pop(file_id, None)
            if issued == query:
                self._send_body(self._file(FILE))
                return
            fields = {"id": file_id, "export": "download", "confirm": "t", "uuid": secrets.token_hex(8),
                      f"at{secrets.randbelow(999)}": secrets.token_urlsafe(12)}
            self.server.memory[file_id] = fields
            inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())
            self._page(200, VIRUS_SCAN_PAGE.format(id=file_id, inputs=inputs))
        elif file_id.startswith("small"):
            self._send_body(self._file(FILE))
        elif file_id.startswith("slow"):
            self.route_trickle(rest, query)
        elif file_id.startswith("private"):
            self._redirect(302, f"{HOSTS['accounts']}/ServiceLogin?service=wise&passive=1209600&continue=x")
        elif file_id.startswith("busy"):
            self._page(403, QUOTA_PAGE)
        elif file_id.startswith("viewer"):
            self._page(200, VIEWER_PAGE)
        elif file_id.startswith("hugepage"):
            self._page(200, VIEWER_PAGE + " " * 2**21)
        else:
            self.send_error(404)

    def route_accounts(self, rest: list[str], query: dict[str, str]) -> None:
        self._page(200, SIGN_IN_PAGE)

    def route_dropbox(self, rest: list[str], query: dict[str, str]) -> None:
        if "gone" in rest:
            self.send_error(404)
        elif query.get("dl") == "1" and rest[0] in {"s", "scl"}:
            self._redirect(302, f"{DROPBOX_CONTENT}/cd/0/get/AbC{secrets.token_hex(4)}/file?dl=1#")
        elif rest[0] in {"s", "scl"}:
            self._page(200, DROPBOX_PREVIEW)
        else:
            self.send_error(404)

    def route_dropboxcontent(self, rest: list[str], query: dict[str, str]) -> None:
        self._send_body(self._file(FILE))

    def _page(self, status: int, html: str) -> None:
        body = html.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
