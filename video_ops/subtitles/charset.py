"""Subtitle bytes -> text: byte-order marks first, then UTF-8, then a guess that suits subtitle files.

Most legacy subtitle files are in one of the single-byte code pages of Windows (Western 1252, Central
European 1250, Cyrillic 1251, Greek 1253, Turkish 1254, Baltic 1257) or ISO-8859-2. Their bytes are
letters in almost every one of them, so the guess is by language: each reading is scored by how many
of its letters beyond ASCII belong to one language's alphabet, and the best reading wins (Windows-1252
on a tie, as the most common). charset-normalizer alone misreads short files (`ação, você, não` comes
back as cp1250 or Big5: a few accented letters carry too little evidence for it); it guesses only
what no code page above reads as a real alphabet (Arabic, Hebrew, CJK code pages, KOI8...).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from charset_normalizer import from_bytes

from video_ops.base.errors import JobError
from video_ops.subtitles.alphabets import alphabets

# UTF-32 LE before UTF-16 LE: its mark starts with the same two bytes.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_WORD = re.compile(r"[^\W\d_]+")
# Tried in this order; on equal scores the first wins.
_CODE_PAGES = ("cp1252", "cp1250", "iso8859_2", "cp1251", "cp1253", "cp1254", "cp1257", "koi8_r")
# Non-letters that real text contains in these code pages; any other (³, ¶, ±...) betrays a misreading.
_MARKS = frozenset("\u00a0«»¿¡“”‘’‚„–—…€°·§©®™•´¨×÷½¼¾£¥¢†‡‰‹›ªº")
_CONVINCING = 0.9  # the share of letters beyond ASCII one alphabet must explain
_SAMPLE_CHARS = 200_000  # plenty of evidence (a feature film's SRT is ~100 KB); bounds the cost for 10 MB


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
    by_alphabet = _by_alphabet(data)
    if by_alphabet is not None:
        return by_alphabet
    best = from_bytes(data).best()
    if best is None:
        raise JobError(f"{field}: the file's character encoding could not be recognised; save it as UTF-8.")
    return Decoded(str(best), best.encoding, guessed=True)


def _by_alphabet(data: bytes) -> Decoded | None:
    """The code page whose reading is most convincingly one language, if one is convincing enough."""
    best, best_score = None, 0.0
    for code_page in _CODE_PAGES:
        try:
            text = data.decode(code_page)
        except UnicodeDecodeError:  # a byte the code page leaves unassigned
            continue
        score = alphabet_score(text[:_SAMPLE_CHARS])
        if score > best_score:
            best, best_score = Decoded(text, code_page, guessed=True), score
    return best if best_score >= _CONVINCING else None


def alphabet_score(text: str) -> float:
    """The share of the text's letters beyond ASCII that one language's alphabet explains (0 to 1).

    Symbols no text has, capitals inside a lowercase word (`рТЙЧХФ`: KOI8 read as Windows-1251) and
    other scripts inside a Latin word (`yarэn`: Turkish read as Windows-1251) count against every
    language; control characters (UTF-16's NULs, C1 codes) rule the reading out.
    """
    if any(not ch.isprintable() and ch not in "\t\n\r" for ch in set(text)):
        return 0.0
    letters: list[str] = []
    misses = 0
    for word in _WORD.findall(text):
        latin_word = any(ch.isascii() for ch in word)
        for index, ch in enumerate(word):
            if ch.isascii():
                continue
            if (index and ch.isupper() and word[index - 1].islower()) or (latin_word and not _is_latin(ch)):
                misses += 1
            else:
                letters.append(ch)
    misses += sum(1 for ch in text if not ch.isascii() and not ch.isalpha() and ch not in _MARKS)
    total = len(letters) + misses
    if total == 0:
        return 1.0  # nothing beyond ASCII but punctuation every code page here shares
    return max(sum(ch in alphabet for ch in letters) for alphabet in alphabets().values()) / total


def _is_latin(letter: str) -> bool:
    return unicodedata.name(letter, "").startswith("LATIN")
