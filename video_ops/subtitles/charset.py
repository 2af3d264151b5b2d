"""Subtitle bytes -> text: byte-order marks first, then UTF-8, then a guess that suits subtitle files.

charset-normalizer alone misreads short Western files: `ação, você, não` saved as Windows-1252 comes
back as cp1250 (`açăo`) or even Big5, because a few accented letters carry too little
evidence. Windows-1252 is by far the most common legacy encoding of subtitles (Portuguese, Spanish,
French, German), so it is tried first with a plausibility check of its own; charset-normalizer guesses
everything else (Cyrillic, Greek, Arabic, CJK code pages).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from charset_normalizer import from_bytes

from video_ops.base.errors import JobError

# UTF-32 LE before UTF-16 LE: its mark starts with the same two bytes.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_WORD = re.compile(r"[^\W\d_]+")
# Non-letters that Western text really contains; anything else (³, ¹, ¸...) betrays another code page.
_WESTERN_MARKS = frozenset("\u00a0«»¿¡“”‘’‚„–—…€°·§©®™•´¨×÷½¼¾£¥¢†‡‰‹›")
_LATIN_ORDINALS = frozenset("ªºµ")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # a Python codec name
    guessed: bool  # True when nothing in the file said which encoding it is


def decode(data: bytes, field: str) -> Decoded:
    """The file's text; fails naming `field` when no encoding reads it."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), codec, guessed=False)
            except UnicodeDecodeError:
                raise JobError(f"{field}: the file starts with a {name} byte-order mark but is not {name}.") from None
    if b"\x00" not in data:  # NUL bytes are valid UTF-8 but mean UTF-16/32 without a mark
        try:
            return Decoded(data.decode("utf-8"), "utf-8", guessed=False)
        except UnicodeDecodeError:
            pass
    western = _as_western(data)
    if western is not None:
        return Decoded(western, "cp1252", guessed=True)
    best = from_bytes(data).best()
    if best is None:
        raise JobError(f"{field}: the file's character encoding could not be recognised; save it as UTF-8.")
    return Decoded(str(best), best.encoding, guessed=True)


def _as_western(data: bytes) -> str | None:
    """The text as Windows-1252 if it reads like a Western language, else None."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in Windows-1252
        return None
    return text if looks_western(text) else None


def looks_western(text: str) -> bool:
    """Accented Latin letters inside mostly-ASCII words, and no stray symbols.

    Cyrillic, Greek, Arabic or Hebrew bytes read as Windows-1252 also give accented Latin letters,
    but whole words of them (`Ïðèâåò`); Central European bytes give symbols inside words (`Za¿ó³æ`).
    """
    if any((ch < " " and ch not in "\t\n\r") or (not ch.isascii() and not ch.isalpha() and ch not in _WESTERN_MARKS)
           for ch in set(text)):
        return False  # control characters (UTF-16's NULs) or symbols no Western text has
    accented = foreign = 0
    for word in _WORD.findall(text):
        high = [ch for ch in word if not ch.isascii()]
        if not high:
            continue
        if any(ch not in _LATIN_ORDINALS and not unicodedata.name(ch, "").startswith("LATIN") for ch in high):
            return False
        accented += 1
        if len(word) > 1 and len(high) == len(word):
            foreign += 1
    return foreign * 2 <= accented
