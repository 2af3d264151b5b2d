"""Which filters a caller's graph may use, and with which options: the sandbox's rules for `filter_complex`.

An allow-list, not a deny-list: a filter not named here is refused, so a filter added to a later FFmpeg
cannot open a file before someone has read what it does. Filters known to open files, libraries or
sockets are refused with their reason. Of those allowed, the few options that name a file are refused,
or held to what the worker owns (its installed fonts, the job's own inputs). Expressions (`select`,
`geq`, `setpts`, `enable`...) are left as they are: FFmpeg's expression evaluator has no function that
reads a file, the environment or the network; the step's time limit bounds what they cost.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from video_ops.media.filter_graph import Filter, Graph, GraphSyntaxError, Option, parse_graph

MAX_GRAPH_CHARS = 20_000
MAX_FILTERS = 200
_NAME = re.compile(r"[a-z0-9_]+")
_INSTANCE = re.compile(r"[A-Za-z0-9_]+")
_KEY = re.compile(r"[A-Za-z0-9_]+")
_LABEL = re.compile(r"[A-Za-z0-9_.:]+")
_INPUT_LABEL = re.compile(r"([0-9]+)(?::[A-Za-z0-9_.:]*)?")
_FONT_FAMILY = re.compile(r"[A-Za-z0-9 _-]+")
_EXPANSION = re.compile(r"%\{\s*([^}:\s]*)")
# drawtext's text functions in this FFmpeg: clocks, frame numbers, frame metadata and arithmetic; none
# reads a file or the environment (`%{env:...}` does not exist, and is refused by name here all the same).
DRAWTEXT_FUNCTIONS = frozenset({"pts", "gmtime", "localtime", "frame_num", "n", "metadata", "expr", "e", "eif",
                                "expr_int_format", "pict_type"})

_OPENS_FILES = "reads or writes files on the worker's disk"
REFUSED: dict[str, str] = {
    **dict.fromkeys(("movie", "amovie"), "opens a file by name; give the file as one of 'inputs'"),
    **dict.fromkeys(("sendcmd", "asendcmd"),
                    "sends commands that change other filters' options after they are checked"),
    **dict.fromkeys(("zmq", "azmq"), "takes commands from a network socket"),
    **dict.fromkeys(("lv2", "ladspa", "frei0r", "frei0r_src"), "loads a plugin library"),
    "sofalizer": "reads a SOFA file from the worker's disk",
    **dict.fromkeys(("lut3d", "lut1d"), "reads a LUT file from the worker's disk (haldclut takes the LUT as an input "
                                        "stream instead)"),
    **dict.fromkeys(("signature", "vidstabdetect", "vidstabtransform", "deshake", "metadata", "ametadata", "psnr",
                     "ssim", "vmafmotion", "libvmaf", "ocr", "removelogo", "find_rect", "cover_rect", "lensfun",
                     "dnn_processing", "dnn_detect", "dnn_classify", "sr", "derain", "program_opencl", "openclsrc",
                     "coreimage", "coreimagesrc"), _OPENS_FILES),
}


@dataclass(frozen=True)
class Rule:
    """An allowed filter: the names its values given by position take (as FFmpeg assigns them), and the
    options it may not be given, with why."""

    positional: tuple[str, ...] = ()
    refused_options: tuple[tuple[str, str], ...] = ()


def _rules() -> dict[str, Rule]:
    plain = Rule()
    by_position = {
        # picture
        "scale": ("w", "h"), "crop": ("out_w", "out_h", "x", "y"), "pad": ("width", "height", "x", "y", "color"),
        "overlay": ("x", "y"), "setpts": ("expr",), "fps": ("fps",), "format": ("pix_fmts",), "setsar": ("sar",),
        "setdar": ("dar",), "transpose": ("dir",), "rotate": ("angle",), "boxblur": ("luma_radius", "luma_power"),
        "gblur": ("sigma",), "drawbox": ("x", "y", "width", "height", "color", "thickness"),
        "fade": ("type", "start_frame", "nb_frames"), "split": ("outputs",), "hstack": ("inputs",),
        "vstack": ("inputs",), "select": ("expr",), "loop": ("loop", "size", "start"), "framerate": ("fps",),
        "minterpolate": ("fps",), "settb": ("expr",), "tile": ("layout",), "colorkey": ("color", "similarity", "blend"),
        "chromakey": ("color", "similarity", "blend"), "color": ("color", "size", "rate", "duration", "sar"),
        "hqdn3d": ("luma_spatial", "chroma_spatial", "luma_tmp", "chroma_tmp"), "thumbnail": ("n",),
        "geq": ("lum_expr",), "yadif": ("mode", "parity", "deint"),
        # sound
        "atempo": ("tempo",), "volume": ("volume",), "asetpts": ("expr",), "asplit": ("outputs",),
        "amix": ("inputs",), "amerge": ("inputs",), "adelay": ("delays",), "aresample": ("sample_rate",),
        "asetrate": ("sample_rate",), "aformat": ("sample_fmts", "sample_rates", "channel_layouts"), "pan": ("args",),
        "highpass": ("frequency",), "lowpass": ("frequency",), "aecho": ("in_gain", "out_gain", "delays", "decays"),
        "aselect": ("expr",), "aevalsrc": ("exprs",),
    }
    named_only = (
        "hflip", "vflip", "null", "copy", "negate", "reverse", "trim", "setfield", "unsharp", "smartblur", "avgblur",
        "eq", "hue", "colorbalance", "colorchannelmixer", "colorlevels", "colortemperature", "vibrance", "lut",
        "lutrgb", "lutyuv", "haldclut", "xfade", "xstack", "zoompan", "tpad", "concat", "blend", "tblend", "vignette",
        "noise", "deband", "delogo", "palettegen", "paletteuse", "edgedetect", "alphaextract", "alphamerge",
        "premultiply", "unpremultiply", "perspective", "lenscorrection", "bwdif", "mpdecimate", "drawgrid",
        "showinfo", "nullsrc", "testsrc", "testsrc2", "smptebars", "rgbtestsrc", "showwaves", "showwavespic",
        "showspectrum", "showfreqs", "avectorscope", "scale2ref", "nlmeans", "atadenoise", "shuffleplanes",
        "colorspace", "setparams", "fillborders", "crossfeed",
        "anull", "areverse", "atrim", "apad", "afade", "acrossfade", "aloop", "anullsrc", "sine", "anoisesrc",
        "loudnorm", "dynaudnorm", "acompressor", "alimiter", "agate", "sidechaincompress", "silenceremove",
        "equalizer", "bass", "treble", "afftdn", "compand", "stereotools", "extrastereo", "channelsplit", "join",
        "volumedetect", "ebur128", "ashowinfo", "rubberband", "chorus", "flanger", "tremolo", "vibrato", "aphaser",
        "apulsator", "asetnsamples", "bandpass", "bandreject", "acopy", "channelmap", "earwax",
        "silencedetect", "firequalizer", "superequalizer", "speechnorm", "virtualbass", "asubboost",
    )
    rules = {name: plain for name in named_only}
    rules.update({name: Rule(positional=names) for name, names in by_position.items()})
    rules["drawtext"] = Rule(refused_options=(
        ("textfile", "drawtext reads no files here: give the words in 'text'"),
        ("reload", "drawtext reads no files here, so there is nothing to reload"),
    ))
    rules["curves"] = Rule(refused_options=(("psfile", "curves reads no files here: give the points in 'r', 'g', "
                                                        "'b' or 'master', or a 'preset'"),))
    for name in ("subtitles", "ass"):
        rules[name] = Rule(positional=("filename",), refused_options=(
            ("fontsdir", f"{name} draws with the worker's installed fonts; 'fontsdir' is not accepted"),
        ))
    return rules


RULES = _rules()
SUBTITLE_FILTERS = ("subtitles", "ass")


class GraphRefused(ValueError):
    """One sentence (without the field's name) saying what in the graph breaks which rule."""


def check_graph(text: str, input_count: int, font_files: Callable[[], Iterable[str]]) -> Graph:
    """The caller's graph, parsed and held to every rule: the allow-list, the refused options, labels that
    name a job input or another filter's output, subtitles only from the job's inputs, fonts only the
    worker's. `font_files` lists the installed font files (asked only when a graph names one)."""
    if len(text) > MAX_GRAPH_CHARS:
        raise GraphRefused(f"the graph is {len(text)} characters long, over the limit of {MAX_GRAPH_CHARS}")
    control = next((char for char in text if unicodedata.category(char) == "Cc" and char not in "\n\t\r"), None)
    if control is not None:
        raise GraphRefused(f"the graph holds a control character (U+{ord(control):04X})")
    try:
        graph = parse_graph(text)
    except GraphSyntaxError as err:
        raise GraphRefused(f"it is not a filter graph FFmpeg would read: {err}") from None
    filters = list(graph.filters())
    if len(filters) > MAX_FILTERS:
        raise GraphRefused(f"the graph has {len(filters)} filters, over the limit of {MAX_FILTERS}")
    produced = {label for one in filters for label in one.outputs}
    for one in filters:
        _check_filter(one, input_count, produced, font_files)
    return graph


def output_labels(graph: Graph) -> set[str]:
    """The labels of the graph's outputs that no filter in it consumes: what an output's `maps` may name."""
    consumed = {label for one in graph.filters() for label in one.inputs}
    return {label for one in graph.filters() for label in one.outputs if label not in consumed}


def subtitle_inputs(graph: Graph) -> set[int]:
    """The job inputs a `subtitles`/`ass` filter draws (by index): files the filter opens itself."""
    return {int(option.value) for one in graph.filters() if one.name in SUBTITLE_FILTERS
            for option in named_options(one) if option.key in ("filename", "f")}


def with_input_paths(graph: Graph, paths: list[str]) -> Graph:
    """The graph with each subtitle filter's input index replaced by that input's downloaded file."""
    for one in graph.filters():
        if one.name in SUBTITLE_FILTERS:
            one.options = [Option(option.key, paths[int(option.value)]) if option.key in ("filename", "f")
                           else option for option in named_options(one)]
    return graph


def named_options(one: Filter) -> list[Option]:
    """The filter's options, each with its name (those given by position named as FFmpeg names them)."""
    positional = RULES[one.name].positional
    return [option if option.key is not None else Option(positional[index], option.value)
            for index, option in enumerate(one.options)]


def _check_filter(one: Filter, input_count: int, produced: set[str],
                  font_files: Callable[[], Iterable[str]]) -> None:
    if one.name in REFUSED:
        raise GraphRefused(f"the filter '{one.name}' is not accepted: it {REFUSED[one.name]}")
    if not _NAME.fullmatch(one.name) or one.name not in RULES:
        raise GraphRefused(f"the filter '{shown(one.name)}' is not on the allow-list (docs/compose.md lists it)")
    if one.instance is not None and not _INSTANCE.fullmatch(one.instance):
        raise GraphRefused(f"the filter '{one.name}' has an instance name other than letters, digits and '_'")
    for label in one.inputs + one.outputs:
        _check_label(one.name, label, input_count, produced)
    _check_positions(one)
    for option in named_options(one):
        _check_option(one.name, option, input_count, font_files)


def _check_label(name: str, label: str, input_count: int, produced: set[str]) -> None:
    if not _LABEL.fullmatch(label):
        raise GraphRefused(f"the label [{shown(label)}] of '{name}' may hold only letters, digits, '_', '.' and ':'")
    if label in produced:
        return
    match = _INPUT_LABEL.fullmatch(label)
    if match is None or int(match.group(1)) >= input_count:
        raise GraphRefused(f"the label [{label}] of '{name}' is neither a job input (0 to {input_count - 1}) nor "
                           "the output of a filter")


def _check_positions(one: Filter) -> None:
    positional = RULES[one.name].positional
    named_seen = False
    for index, option in enumerate(one.options):
        if option.key is not None:
            named_seen = True
        elif named_seen:
            raise GraphRefused(f"the filter '{one.name}' has a value without a name after a named option; FFmpeg "
                               "refuses that order")
        elif index >= len(positional):
            shown = f"its first {len(positional)} by position, the rest" if positional else "all of them"
            raise GraphRefused(f"the filter '{one.name}' takes its options by name here ({shown} as key=value)")


def _check_option(name: str, option: Option, input_count: int, font_files: Callable[[], Iterable[str]]) -> None:
    key = option.key or ""
    if key.startswith("/"):
        raise GraphRefused(f"the option '{shown(key)}' of '{name}' asks FFmpeg to read its value from a file")
    if not _KEY.fullmatch(key):
        raise GraphRefused(f"the filter '{name}' has an option name other than letters, digits and '_' "
                           f"('{shown(key)}')")
    refused = dict(RULES[name].refused_options)
    if key in refused:
        raise GraphRefused(f"the option '{key}' of '{name}' is not accepted: {refused[key]}")
    if name in SUBTITLE_FILTERS and key in ("filename", "f") and not (
            re.fullmatch(r"[0-9]+", option.value) and int(option.value) < input_count):
        raise GraphRefused(f"{name} draws a file of the job's own: its 'filename' must be the index of one of "
                           f"'inputs' (0 to {input_count - 1}), not a path")
    if name == "drawtext":
        _check_drawtext(key, option.value, font_files)


def _check_drawtext(key: str, value: str, font_files: Callable[[], Iterable[str]]) -> None:
    if key == "fontfile" and value not in set(font_files()):
        raise GraphRefused("the option 'fontfile' of 'drawtext' must be one of the worker's installed fonts "
                           "(or give the family in 'font')")
    if key == "font" and not _FONT_FAMILY.fullmatch(value):
        raise GraphRefused("the option 'font' of 'drawtext' must be a font family name (letters, digits, spaces, "
                           "'_' and '-')")
    if key == "expansion" and value not in ("none", "normal"):
        raise GraphRefused("the option 'expansion' of 'drawtext' must be 'none' or 'normal'")
    if key == "text":
        for function in _EXPANSION.findall(value):
            if function not in DRAWTEXT_FUNCTIONS:
                raise GraphRefused(f"drawtext's text function '%{{{shown(function)}}}' is not accepted (it knows "
                                   f"{', '.join(sorted(DRAWTEXT_FUNCTIONS))})")


def shown(text: str) -> str:
    """A caller's name as a refusal may quote it: short, printable ASCII only."""
    cleaned = "".join(char if char.isascii() and char.isprintable() else "?" for char in text)
    return cleaned if len(cleaned) <= 40 else cleaned[:37] + "..."
