"""The filter graph parser reads a graph as FFmpeg itself reads it (checked against FFmpeg's own log of the
options it sets), and the graph it rebuilds means exactly what was checked, whatever the spelling."""

from __future__ import annotations

import re
import subprocess

import pytest

from video_ops.media.filter_graph import Option, get_token, parse_graph
from video_ops.media.filter_policy import RULES, GraphRefused, check_graph, named_options, with_input_paths

# Graphs of `metadata` filters (string options FFmpeg sets without judging them) in tricky spellings.
TRICKY = [
    r"metadata=mode=add:key=k:value=plain",
    r"metadata=mode=add:key=k:value='quoted, with; [brackets]'",
    r"metadata=mode=add:key=k:value=a\\\:b\,c",
    r"metadata=mode=add:key=k:value='it'\''s'",
    r"metadata=mode=add:key=k:value=\ \ spaced\ \ ,metadata=mode=add:key=j:value=two",
    r"metadata = mode=add : key=k : value = trimmed ",
    r"metadata=add:k:positional;metadata=mode=add:key=x:value='a\\,movie=/etc/passwd'",
    "metadata=mode=add:key=k:value='%{env\\:HOME}\\\\':function=same_str",
    r"metadata=mode=add:key=k:value='unclosed, quote",
    r"metadata=mode=add:key=k:value=back\\\\slash\\",
]


def ffmpeg_settings(graph: str) -> list[tuple[str, str, str]]:
    """(filter, option, value) as FFmpeg logs them while it builds `graph` on a test source."""
    run = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "debug", "-f", "lavfi", "-i", "nullsrc=s=16x16",
                          "-filter_complex", graph, "-frames:v", "1", "-f", "null", "-"],
                         capture_output=True, text=True, errors="replace")
    found = re.findall(r"\[Parsed_(\w+?)_(\d+) @ (0x[0-9a-f]+)\] Setting '([^']*)' to value '(.*)'\n", run.stderr)
    first: dict[tuple[str, str], str] = {}  # the command line may build the graph twice: keep the first build
    return [(name, key, value) for name, number, address, key, value in found
            if name != "nullsrc" and first.setdefault((name, number), address) == address]


def our_settings(graph: str) -> list[tuple[str, str, str]]:
    positional = {"metadata": ("mode", "key", "value")}
    settings = []
    for one in parse_graph(graph).filters():
        for index, option in enumerate(one.options):
            settings.append((one.name, option.key or positional[one.name][index], option.value))
    return settings


@pytest.mark.parametrize("graph", TRICKY)
def test_the_parser_reads_a_graph_as_ffmpeg_does(graph: str) -> None:
    assert our_settings(graph) == ffmpeg_settings(graph)


def test_the_rebuilt_graphs_set_the_same_values() -> None:
    rebuilt = [parse_graph(graph).text() for graph in TRICKY]
    for graph, again in zip(TRICKY, rebuilt, strict=True):
        assert our_settings(again) == our_settings(graph)
    assert ffmpeg_settings(";".join(rebuilt)) == [one for graph in TRICKY for one in our_settings(graph)]


def test_a_value_cannot_become_another_filter_when_rebuilt() -> None:
    graph = parse_graph("[0:v]drawtext=text=x[v]")
    drawtext = next(graph.filters())
    drawtext.options = [Option("text", "a',movie=/etc/passwd[x];[x]null\\")]
    again = parse_graph(graph.text())
    assert [one.name for one in again.filters()] == ["drawtext"]
    assert next(again.filters()).options == drawtext.options


def test_get_token_follows_av_get_token() -> None:
    assert get_token("  a\\ b  ,rest", 0, ",") == ("a b", 8)
    assert get_token("'x y' ;", 0, ";") == ("x y", 6)
    assert get_token("tail\\", 0, ",") == ("tail\\", 5)


def test_every_allowed_filter_and_its_positions_are_this_ffmpeg_s() -> None:
    listed = subprocess.run(["ffmpeg", "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    known = {line.split()[1] for line in listed.splitlines()[8:] if len(line.split()) > 2}
    assert set(RULES) <= known
    full = subprocess.run(["ffmpeg", "-hide_banner", "-h", "full"], capture_output=True, text=True).stdout
    options = set(re.findall(r"^   ?(\w+)\s+<", full, re.MULTILINE))
    assert {name for rule in RULES.values() for name in rule.positional} <= options


def test_subtitles_take_the_job_s_own_file_by_index() -> None:
    graph = check_graph("[0:v]subtitles=1:force_style='Fontsize=30'[v]", 2, lambda: ())
    with_input_paths(graph, ["/jobs/a", "/jobs/it's: [b]"])
    subtitles = next(graph.filters())
    assert named_options(subtitles)[0] == Option("filename", "/jobs/it's: [b]")
    assert next(parse_graph(graph.text()).filters()).options == subtitles.options


def test_a_worker_font_file_is_accepted() -> None:
    check_graph("[0:v]drawtext=fontfile=/fonts/a.ttf:text='%{pts\\:hms}'[v]", 1, lambda: ["/fonts/a.ttf"])
    with pytest.raises(GraphRefused, match="installed fonts"):
        check_graph("[0:v]drawtext=fontfile=/fonts/b.ttf:text=x[v]", 1, lambda: ["/fonts/a.ttf"])


def test_a_control_character_is_refused() -> None:
    with pytest.raises(GraphRefused, match="U\\+0000"):
        check_graph("[0:v]null[v]\x00;movie=/etc/passwd", 1, lambda: ())
