"""An SRT cue's text -> ASS event text: its formatting tags honoured, everything else shown as typed.

pysubs2 would turn `<font color>` into nothing and pass `{...}` and backslashes through as ASS override
codes, so a cue reading `{\\pos(0,0)}` or `C:\\new` would move or break the text. Here only the SRT
tags people use (<b> <i> <u> <s> <font color>) and a leading `{\\anN}` (the position tag that SRT
editors write) become ASS codes; braces and backslashes are escaped so libass draws them.
"""

from __future__ import annotations

import re

from video_ops.subtitles.colours import Rgba, parse_html_colour

_TAG = re.compile(r"<\s*(/?)\s*(b|i|u|s|font)\b([^<>]*)>", re.IGNORECASE)
# `{\anN}` at the very start, or after the SRT tags a cue opens with (`<i>{\an8}...`).
_POSITION = re.compile(r"^((?:\s*<[^<>]*>)*)\s*\{\\an([1-9])\}")
_COLOUR_ATTRIBUTE = re.compile(r"""\bcolou?r\s*=\s*["']?\s*([#\w]+)""", re.IGNORECASE)
_LINE_BREAK = "\\N"
_WORD_JOINER = "\u2060"  # invisible; keeps libass from reading `\n`, `\h` or `\{` as codes


def to_ass_text(text: str, uppercase: bool = False) -> str:
    """`text` as read from SRT (lines joined by `\\N`, tags in place) as safe ASS text."""
    position, body = split_position(text)
    out = [f"{{\\an{position}}}"] if position else []
    colours: list[Rgba | None] = []  # open <font> tags, innermost last
    cursor = 0
    for tag in _TAG.finditer(body):
        out.append(_plain(body[cursor:tag.start()], uppercase))
        out.append(_override(tag, colours))
        cursor = tag.end()
    out.append(_plain(body[cursor:], uppercase))
    return "".join(out)


def split_position(text: str) -> tuple[int | None, str]:
    """A cue's leading position tag (`{\\an8}`: top centre) as a number, and the text without it."""
    found = _POSITION.match(text)
    if found is None:
        return None, text
    return int(found.group(2)), found.group(1) + text[found.end():]


def _plain(text: str, uppercase: bool) -> str:
    lines = text.split(_LINE_BREAK)
    if uppercase:
        lines = [line.upper() for line in lines]
    return _LINE_BREAK.join(escape_text(line) for line in lines)


def escape_text(text: str) -> str:
    """Plain text that libass draws as typed: no override block, no `\\N`-style code can start in it."""
    return text.replace("\\", "\\" + _WORD_JOINER).replace("{", "\\{")


def _override(tag: re.Match[str], colours: list[Rgba | None]) -> str:
    closing, name, attributes = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
    if name != "font":
        return f"{{\\{name}{0 if closing else 1}}}"
    if closing:
        if colours:
            colours.pop()
    else:
        found = _COLOUR_ATTRIBUTE.search(attributes)
        colour = parse_html_colour(found.group(1)) if found else None
        colours.append(colour)
        if colour is None:
            return ""
    current = next((c for c in reversed(colours) if c is not None), None)
    return f"{{\\c{current.inline()}}}" if current else "{\\c}"  # bare \c: back to the style's colour


_SENTENCE_GAP = re.compile(r"\. +(?=\S)")
_LAST_WORD = re.compile(r"([^\W\d_]+)\s*$")
# Titles and initials end with a full stop without ending the sentence (English and Portuguese).
ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "dra", "sr", "sra", "srta", "jr", "prof", "profa", "st", "av",
                           "vs", "exmo", "exma"})


def break_after_sentences(text: str) -> str:
    """A line break after each `. ` that ends a sentence: not in `...`, not after `Mr.`, `Dr.`, `Sr.` or an initial."""
    def replace(gap: re.Match[str]) -> str:
        before = text[:gap.start()]
        word = _LAST_WORD.search(before)
        keep = (before.endswith(".") or word is None or word.group(1).lower() in ABBREVIATIONS
                or (len(word.group(1)) == 1 and word.group(1).isupper()))
        return gap.group(0) if keep else "." + _LINE_BREAK

    return _SENTENCE_GAP.sub(replace, text)
