"""The fonts captions may use: families installed on this machine (asked of fontconfig once), or a job's own.

libass finds installed fonts through fontconfig by family name and silently substitutes another font
for a name it does not know; checking the name first turns that silent substitution into a clear error.
"""

from __future__ import annotations

import asyncio
import functools
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from video_ops.base.errors import JobError

# Arial and friends are not free; fontconfig itself maps them to these metric-compatible twins.
_TWINS = {
    "arial": "Liberation Sans", "helvetica": "Liberation Sans", "times new roman": "Liberation Serif",
    "times": "Liberation Serif", "courier new": "Liberation Mono", "courier": "Liberation Mono",
}
# Heavy display faces callers name by habit that have no free metric twin: a similar face stands in.
_LOOKALIKES = {"arial black": "Roboto Black"}
_FONT_MAGIC = {b"\x00\x01\x00\x00": ".ttf", b"true": ".ttf", b"OTTO": ".otf", b"ttcf": ".ttc"}
_LISTED_LANGUAGE = "pt"  # families covering Portuguese are listed by name, the script-specific ones counted


@dataclass(frozen=True)
class Families:
    by_key: dict[str, str]  # casefolded family name -> as installed
    latin: tuple[str, ...]  # the families that cover accented Latin text, sorted

    def listing(self) -> str:
        latin = {name.casefold() for name in self.latin}
        others = sorted((name for key, name in self.by_key.items() if key not in latin), key=str.casefold)
        more = f"; and {len(others)} families for other scripts ({', '.join(others[:3])}...)" if others else ""
        return ", ".join(self.latin) + more


@functools.lru_cache(maxsize=1)
def installed() -> Families:
    """Every family fontconfig knows, read once per process (`fc-list` takes a moment)."""
    try:
        listed = subprocess.run(["fc-list", "--format", "%{family}\t%{lang}\n"], capture_output=True, text=True,
                                timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        raise JobError("The worker cannot list its fonts (fontconfig's fc-list failed); captions need fonts.") from None
    by_key: dict[str, str] = {}
    latin: set[str] = set()
    for line in listed.splitlines():
        names, _, languages = line.partition("\t")
        for name in filter(None, (part.strip() for part in names.split(","))):
            by_key.setdefault(name.casefold(), name)
            if _LISTED_LANGUAGE in languages.split("|"):
                latin.add(name)
    return Families(by_key=by_key, latin=tuple(sorted(latin, key=str.casefold)))


def choose(name: str, field: str) -> tuple[str, str | None]:
    """The installed family for `name` and a warning when a twin stood in; unknown names fail."""
    families = installed()
    found = families.by_key.get(name.casefold())
    if found:
        return found, None
    twin = _TWINS.get(name.casefold())
    if twin and twin.casefold() in families.by_key:
        return twin, f"{field}: font '{name}' is not installed; its metric-compatible twin '{twin}' was used."
    lookalike = _LOOKALIKES.get(name.casefold())
    if lookalike and lookalike.casefold() in families.by_key:
        return lookalike, f"{field}: font '{name}' is not installed; the similar '{lookalike}' was used."
    raise JobError(f"Invalid input: field '{field}': unknown font {name[:100]!r}; available: {families.listing()}.")


async def add_font_file(download: Path, fonts_dir: Path, field: str) -> str:
    """Put a job's font file where libass will look (`fontsdir`); returns the name to ask libass for.

    That is the full name (`Roboto Black`): libass knows fonts from `fontsdir` only by their full and
    legacy family names, not by the typographic family (`Roboto`) fontconfig lists first.
    """
    with download.open("rb") as file:
        suffix = _FONT_MAGIC.get(file.read(4))
    if suffix is None:
        raise JobError(f"{field}: the file is not a TrueType or OpenType font (.ttf, .otf or .ttc).")
    fonts_dir.mkdir(exist_ok=True)
    font = download.rename(fonts_dir / f"custom{suffix}")
    result = await asyncio.to_thread(
        subprocess.run, ["fc-query", "--format", "%{fullname}\t%{family}\n", str(font)], capture_output=True,
        text=True, timeout=60,
    )
    first = result.stdout.splitlines()[0] if result.returncode == 0 and result.stdout.strip() else ""
    names = [part.split(",")[0].strip() for part in first.split("\t")]
    name = next(filter(None, names), "")
    # The name goes into the ASS script's style line: no separators, no control characters.
    if not name or len(name) > 100 or any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise JobError(f"{field}: the font file has no usable name; is it a valid font?")
    return name
