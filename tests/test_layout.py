"""The package's layers, read from the source with `ast`: imports only go down, and never in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "video_ops"

# Lower numbers are lower layers. A module may import its own folder and any lower layer.
LAYERS = {
    "base": 0,
    "media": 1,
    "io": 1,
    "subtitles": 1,
    "speech": 1,
    "jobkit": 2,
    "ops": 3,
    "worker": 4,
    "stop_guard": 4,
    "client": 4,
    "local_endpoint": 4,
    "gateway": 5,
}
# The front doors stand side by side: none imports another (the gateway is built on the client and
# the local endpoint, so it sits one step above them).
FRONT_DOORS = {"worker", "client", "local_endpoint"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every `video_ops` module this file imports, relative imports resolved, TYPE_CHECKING ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules and name != module_name(path)}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "package"


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_folder_and_top_module_has_a_layer() -> None:
    unknown = {layer_of(m) for m in graph()} - set(LAYERS) - {"package"}
    assert not unknown, f"add these to LAYERS: {sorted(unknown)}"


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in edges.items():
        here = layer_of(module)
        for target in targets:
            there = layer_of(target)
            if there == here or target == "video_ops":
                continue
            if here in FRONT_DOORS and there in FRONT_DOORS:
                wrong.append(f"{module} -> {target} (front doors import no other front door)")
            elif LAYERS.get(there, 0) >= LAYERS.get(here, 0):
                wrong.append(f"{module} -> {target} ({there} is not below {here})")
    return wrong


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once, found by depth-first search."""
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return found


def test_imports_only_go_down_a_layer() -> None:
    assert upward_imports(graph()) == []


def test_there_is_no_import_circle() -> None:
    assert circles(graph()) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"video_ops.base.errors": {"video_ops.ops.caption"}}, "ops is not below base"),
        ({"video_ops.client.api": {"video_ops.worker"}}, "front doors import no other front door"),
        ({"video_ops.media.probe": {"video_ops.io.keys"}}, "io is not below media"),
    ],
)
def test_the_layer_check_catches_an_upward_import(edges: dict[str, set[str]], expected: str) -> None:
    assert expected in upward_imports(edges)[0]


def test_the_circle_check_catches_a_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert circles(edges) == [["a", "b", "c", "a"]]

