"""The kbctl package imports without cycles.

Layering rule: a module may import only modules below it, never one that (directly or through
others) imports it back. What two modules both need goes down into a third that both import,
rather than one importing the other inside a function to dodge the cycle at import time: a
deferred import is still an edge here, because it still ties the two modules together (either
can break the other, and neither can be read or tested alone). Only imports under
`if TYPE_CHECKING:` are skipped, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kbctl"


def module_name(path: Path) -> str:
    parts = ["kbctl", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(tree: ast.AST):
    """Every import statement that can run: at module level, in functions and classes."""
    for node in ast.iter_child_nodes(tree):
        if is_type_checking_block(node):
            yield from (imp for child in node.orelse for imp in runtime_imports_in(child))
            continue
        yield from runtime_imports_in(node)


def runtime_imports_in(node: ast.AST):
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from runtime_imports(node)


def resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a `from … import` names, relative imports included."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(module: str, source: str, is_package: bool, known: set[str]) -> set[str]:
    """The kbctl modules `module` imports: `from kbctl.x import name` counts as an import
    of kbctl.x.name when that is a module, else of kbctl.x."""
    tree = ast.parse(source, filename=module)
    targets: set[str] = set()
    for node in runtime_imports(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        origin = resolve_from(module, is_package, node)
        for alias in node.names:
            submodule = f"{origin}.{alias.name}"
            targets.add(submodule if submodule in known else origin)
    return {target for target in targets if target in known and target != module}


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imported_modules(name, path.read_text(encoding="utf-8"),
                                   path.name == "__init__.py", known)
            for name, path in modules.items()}


def strongly_connected_groups(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that reach each other, each of two or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def shortest_cycle_through(start: str, graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest import chain from `start` back to itself, inside its group."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{start} is in a cycle group but no chain returns to it")


def rotated_to_first(cycle: list[str]) -> tuple[str, ...]:
    """The same cycle however it was entered: a -> b -> a and b -> a -> b are one."""
    ring = cycle[:-1]
    start = ring.index(min(ring))
    ring = ring[start:] + ring[:start]
    return (*ring, ring[0])


def describe(group: list[str], graph: dict[str, set[str]]) -> str:
    members = set(group)
    cycles = {rotated_to_first(shortest_cycle_through(name, graph, members)) for name in group}
    listing = "\n".join(f"    {' -> '.join(cycle)}" for cycle in sorted(cycles, key=lambda c: (len(c), c)))
    return f"  {len(group)} modules import each other: {', '.join(group)}\n{listing}"


def test_the_import_graph_sees_imports_inside_functions_and_skips_type_checking():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from kbctl import build\n"
        "def later():\n    from kbctl.load import controlchars\n    import kbctl.errors\n"
        "from . import model\n"
        "from .config import Config\n")
    known = {"kbctl", "kbctl.build", "kbctl.load", "kbctl.load.controlchars", "kbctl.errors",
             "kbctl.model", "kbctl.config"}
    found = imported_modules("kbctl.probe", source, False, known)
    assert found == {"kbctl.load.controlchars", "kbctl.errors", "kbctl.model", "kbctl.config"}


def test_no_import_cycles():
    graph = import_graph()
    groups = strongly_connected_groups(graph)
    if groups:
        report = "\n".join(describe(group, graph) for group in groups)
        pytest.fail(f"import cycles in kbctl ({len(groups)} groups):\n{report}", pytrace=False)
