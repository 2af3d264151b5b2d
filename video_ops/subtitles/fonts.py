"""The fonts captions may use: families installed on this machine (asked of fontconfig once), or a job's own.

libass finds installed fonts through fontconfig by family name and silently substitutes another font
for a name it does not know; checking the name first turns that silent substitution into a clear error.
For a character the chosen font lacks (Chinese in Roboto), libass asks fontconfig for any installed
font that has it, character by character; a character no font has is drawn as an empty box, and
`missing_glyphs` says so beforehand, naming the script.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import subprocess
import unicodedata
from collections.abc import Iterable
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
    listed = _fontconfig(["fc-list", "--format", "%{family}\t%{lang}\n"])
    by_key: dict[str, str] = {}
    latin: set[str] = set()
    for line in listed.splitlines():
        names, _, languages = line.partition("\t")
        for name in filter(None, (part.strip() for part in names.split(","))):
            by_key.setdefault(name.casefold(), name)
            if _LISTED_LANGUAGE in languages.split("|"):
                latin.add(name)
    return Families(by_key=by_key, latin=tuple(sorted(latin, key=str.casefold)))


def check_fonts() -> None:
    """RunPod fitness check: fontconfig is asked once before the first job (which would otherwise wait
    ~0.1 s for it), and a worker built without fonts stops there instead of failing every caption."""
    if not installed().latin:
        raise RuntimeError("No installed font covers Latin text (fontconfig lists none); captions cannot be drawn.")
    installed_coverage()


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


Ranges = tuple[tuple[int, int], ...]  # sorted, merged (first, last) code points


@functools.lru_cache(maxsize=1)
def installed_coverage() -> Ranges:
    """Every character some installed font has, read once per process."""
    return _charset_ranges(_fontconfig(["fc-list", "--format", "%{charset}\n"]))


def missing_glyphs(cues: Iterable[tuple[int, str]], fonts_dir: Path | None, field: str) -> list[str]:
    """One warning per script whose characters no font has (installed or the job's own), naming the
    first cue's line: those characters would burn in as empty boxes."""
    coverage = installed_coverage()
    if fonts_dir is not None:
        own = "".join(_fontconfig(["fc-query", "--format", "%{charset}\n", str(font)]) for font in fonts_dir.iterdir())
        coverage = _merge([*coverage, *_charset_ranges(own)])
    found: dict[str, tuple[int, str, int]] = {}  # script -> (first line, its characters, cues)
    for line, text in cues:
        missing = list(dict.fromkeys(ch for ch in text if _needs_glyph(ch) and not _covers(coverage, ord(ch))))
        for script in dict.fromkeys(script_of(ch) for ch in missing):
            sample = "".join(ch for ch in missing if script_of(ch) == script)[:5]
            first_line, first_sample, count = found.get(script, (line, sample, 0))
            found[script] = (first_line, first_sample, count + 1)
    return [
        f"{field}: no installed font has the {script} characters of {count} cue{'s' if count > 1 else ''} (first at "
        f"line {line}: {sample!r}); they show as empty boxes (give a font_url with them)."
        for script, (line, sample, count) in found.items()
    ]


def script_of(ch: str) -> str:
    """A name for the script of a character, as a user would recognise it in a warning."""
    code = ord(ch)
    if 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF:
        return "emoji"
    if unicodedata.category(ch).startswith("S"):
        return "symbol"
    name = unicodedata.name(ch, "")
    if not name:
        return "private-use or unassigned"
    word = name.split()[0]
    return "CJK" if word == "CJK" else word.title()


def _needs_glyph(ch: str) -> bool:
    """ASCII is in every font; spaces, controls, joiners and variation selectors draw nothing."""
    if ch.isascii() or 0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF:
        return False
    return unicodedata.category(ch)[0] not in {"C", "Z"} or unicodedata.category(ch) == "Co"


@functools.lru_cache(maxsize=1)
def installed_files() -> frozenset[str]:
    """The font files fontconfig knows: the only ones a caller's graph may name (drawtext's `fontfile`)."""
    return frozenset(filter(None, _fontconfig(["fc-list", "--format", "%{file}\n"]).splitlines()))


def _fontconfig(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        message = f"The worker cannot list its fonts (fontconfig's {args[0]} failed); captions need fonts."
        raise JobError(message) from None


def _charset_ranges(listed: str) -> Ranges:
    """fontconfig's charsets (`20-7e a0 100-17f`, hexadecimal) as merged ranges."""
    ranges = []
    for part in listed.split():
        first, _, last = part.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    return _merge(ranges)


def _merge(ranges: list[tuple[int, int]]) -> Ranges:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


def _covers(ranges: Ranges, code: int) -> bool:
    index = bisect.bisect_right(ranges, (code, float("inf"))) - 1
    return index >= 0 and ranges[index][0] <= code <= ranges[index][1]
