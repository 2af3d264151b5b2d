"""FFmpeg's filter graph syntax, read as FFmpeg reads it and written back with the worker's own escaping.

A graph a caller wrote is only safe to run if the worker sees exactly what FFmpeg will see. So the text is
split by the rules of libavfilter's parser (`;` between chains, `,` between filters, `[labels]`, `name=args`)
and of `av_get_token` (quotes and backslashes, two levels: the graph's, then each filter's `key=value:`
list), and the graph FFmpeg runs is then rebuilt from the parsed pieces, every value escaped at both
levels. A value can therefore never turn into another filter, option or label, whatever its spelling.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

_WHITESPACE = " \n\t\r"  # FFmpeg's WHITESPACES
_GRAPH_SPECIALS = "\\'[],;"
_OPTION_SPECIALS = "\\':="


class GraphSyntaxError(ValueError):
    """The text is not a filter graph FFmpeg would accept."""


@dataclass(frozen=True)
class Option:
    """One `key=value` of a filter; `key` is None for a value given by position."""

    key: str | None
    value: str


@dataclass
class Filter:
    name: str
    instance: str | None  # the `@id` of `name@id`
    options: list[Option]
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass
class Graph:
    chains: list[list[Filter]]

    def filters(self) -> Iterator[Filter]:
        for chain in self.chains:
            yield from chain

    def text(self) -> str:
        """The graph as FFmpeg is given it: every value escaped for both levels of its parser."""
        return ";".join(",".join(_filter_text(one) for one in chain) for chain in self.chains)


def get_token(text: str, start: int, terminators: str) -> tuple[str, int]:
    """`av_get_token`: the token at `start` up to an unescaped terminator, and where it stopped.

    Leading whitespace is skipped, `\\x` is `x`, `'...'` is taken as it is, and trailing whitespace that
    was not escaped or quoted is dropped."""
    at = start
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    out: list[str] = []
    kept = 0  # the length up to which whitespace was escaped or quoted, so it stays
    while at < len(text) and text[at] not in terminators:
        char = text[at]
        at += 1
        if char == "\\" and at < len(text):
            out.append(text[at])
            at += 1
            kept = len(out)
        elif char == "'":
            while at < len(text) and text[at] != "'":
                out.append(text[at])
                at += 1
            if at < len(text):
                at += 1
                kept = len(out)
        else:
            out.append(char)
    while len(out) > kept and out[-1] in _WHITESPACE:
        out.pop()
    return "".join(out), at


def parse_graph(text: str) -> Graph:
    """The graph in `text`, as libavfilter's `avfilter_graph_parse2` reads it."""
    chains: list[list[Filter]] = [[]]
    at = 0
    while True:
        at = _skip_space(text, at)
        inputs, at = _labels(text, at)
        one, at = _filter(text, at)
        one.inputs = inputs
        one.outputs, at = _labels(text, at)
        chains[-1].append(one)
        at = _skip_space(text, at)
        if at >= len(text):
            return Graph(chains)
        separator = text[at]
        at += 1
        if separator == ";":
            chains.append([])
        elif separator != ",":
            raise GraphSyntaxError(f"unexpected {separator!r} after the filter '{one.name}'")


def parse_options(args: str) -> list[Option]:
    """A filter's argument text split as libavfilter's `process_options` splits it: `key=value` pairs and
    values by position, separated by `:`, each value unescaped once more."""
    options: list[Option] = []
    at = 0
    while at < len(args):
        key, after_key = _key(args, at)
        value, at = get_token(args, after_key if key is not None else at, ":")
        options.append(Option(key, value))
        if at < len(args):
            at += 1  # the ':'
    return options


def escape(value: str, specials: str) -> str:
    """Backslash-escape `specials` and whitespace, so `get_token` gives `value` back exactly."""
    return "".join("\\" + char if char in specials or char in _WHITESPACE else char for char in value)


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def _labels(text: str, at: int) -> tuple[list[str], int]:
    labels = []
    while at < len(text) and text[at] == "[":
        name, at = get_token(text, at + 1, "]")
        if not name:
            raise GraphSyntaxError("a label is empty ('[]')")
        if at >= len(text):
            raise GraphSyntaxError(f"the label '[{name}' has no closing ']'")
        labels.append(name)
        at = _skip_space(text, at + 1)
    return labels, at


def _filter(text: str, at: int) -> tuple[Filter, int]:
    name, at = get_token(text, at, "=,;[")
    if not name:
        raise GraphSyntaxError("a filter has no name (two separators in a row, or a label with no filter)")
    args = None
    if at < len(text) and text[at] == "=":
        args, at = get_token(text, at + 1, "[],;")
    name, _, instance = name.partition("@")
    return Filter(name=name, instance=instance or None, options=parse_options(args or "")), at


def _key(args: str, at: int) -> tuple[str | None, int]:
    """`get_key`: a key (letters, digits, `-_/.`) followed by `=`, or None when the value has no key."""
    start = _skip_space(args, at)
    end = start
    while end < len(args) and ((args[end].isascii() and args[end].isalnum()) or args[end] in "-_/."):
        end += 1
    after = _skip_space(args, end)
    if after < len(args) and args[after] == "=":
        return args[start:end], after + 1
    return None, at


def _filter_text(one: Filter) -> str:
    name = one.name + (f"@{one.instance}" if one.instance else "")
    args = ":".join((f"{option.key}=" if option.key else "") + escape(option.value, _OPTION_SPECIALS)
                    for option in one.options)
    labels_in = "".join(f"[{label}]" for label in one.inputs)
    labels_out = "".join(f"[{label}]" for label in one.outputs)
    return f"{labels_in}{name}{'=' + escape(args, _GRAPH_SPECIALS) if one.options else ''}{labels_out}"
