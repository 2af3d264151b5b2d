"""Google Drive's web pages where a file was expected: the large-file confirmation, sign-in and quota.

Drive answers a download of a file too big to scan for viruses with a page whose form leads to the
file (older pages: a link with `confirm=`). The form's fields change over time, so they are read from
the page, never assumed. A file that is not public, or over its download quota, gives a page that
would otherwise reach FFmpeg as "not a media file"; those fail here with a sentence saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from video_ops.base.errors import JobError

_SIGN_IN_HOST = "accounts.google.com"
_QUOTA = "too many users have viewed or downloaded this file recently"
_NOT_SENT = {"submit", "button", "reset", "image", "file"}
PAGE_LIMIT = 2**20  # Drive's pages are a few KB; a bigger answer is no page of theirs


def sign_in_error(field: str) -> JobError:
    return JobError(
        f'{field}: Google Drive answered with a sign-in page: the file is not shared with "anyone with the link".'
    )


def is_sign_in(url: str) -> bool:
    """A redirect to Google's sign-in: the file is not public, and following it gets no file."""
    return (urlsplit(url).hostname or "").lower() == _SIGN_IN_HOST


def next_url(html: str, page_url: str, field: str) -> str | None:
    """Where the confirmation page leads; a JobError for a sign-in or quota page; None for any other page."""
    page = _Page()
    page.feed(html)
    page.close()
    confirmed = page.confirmation(page_url)
    if confirmed:
        return confirmed
    if _QUOTA in " ".join(" ".join(page.text).split()).lower():
        raise JobError(
            f"{field}: Google Drive refused the download: too many users have viewed or downloaded this file "
            "recently (its download quota); try again later, or share a copy of the file."
        )
    if is_sign_in(page_url) or "ServiceLogin" in html or any(is_sign_in(form.action) for form in page.forms):
        raise sign_in_error(field)
    return None


@dataclass
class _Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    hidden: bool = False


class _Page(HTMLParser):
    """The forms, links and text of a page, as a browser would submit and show them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self._form: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = _Form(attributes.get("action", ""), (attributes.get("method") or "get").lower())
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attributes.get("name"):
            kind = attributes.get("type", "text").lower()
            if kind not in _NOT_SENT:
                self._form.fields.append((attributes["name"], attributes.get("value", "")))
                self._form.hidden |= kind == "hidden"
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def confirmation(self, page_url: str) -> str | None:
        """The URL a click on "Download anyway" fetches: the GET form with hidden fields, or a `confirm=` link."""
        for form in self.forms:
            if form.method == "get" and form.hidden:
                action = urlsplit(urljoin(page_url, form.action or page_url))
                return urlunsplit((action.scheme, action.netloc, action.path, urlencode(form.fields), ""))
        for link in self.links:
            if "confirm=" in urlsplit(link).query:
                return urljoin(page_url, link)
        return None
