"""The package's shape: no import cycles, and the simulation core imports nothing above it.

Data flows one way — scenario → model → outcomes → store → report — so a module never
needs one that needs it back. The graph is read from the source with ``ast`` (no import
runs): every ``import`` counts, inside functions too, except those under ``if
TYPE_CHECKING:`` (annotations only, never run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "sanshe"

#: The simulation core and its inputs (the layer packages).
CORE = ("sim",)
INPUTS = ("inputs",)


def _modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every module of the package at ``root``."""
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Ids of the nodes under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    return skipped


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement asks for (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    return [f"{base}.{alias.name}" for alias in node.names]


def import_graph(root: Path) -> nx.DiGraph:
    """Module → module it imports, within the package at ``root``."""
    modules = _modules(root)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in skipped:
                continue
            for target in _targets(node, module, path.name == "__init__.py"):
                found = _known(target, modules)
                if found and found != module:
                    graph.add_edge(module, found)
    return graph


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The package module ``name`` refers to: itself, or the module holding the attribute.

    ``from sanshe import x`` names the module ``sanshe.x`` when there is one; only a name
    that is no module (``from sanshe import run``) points at the package's ``__init__``.
    """
    if name in modules:
        return name
    parent = name.rpartition(".")[0]
    return parent if parent in modules else None


def cycles(root: Path) -> list[list[str]]:
    """Every import cycle of the package at ``root``, shortest first, each from its first name."""
    found = []
    for cycle in nx.simple_cycles(import_graph(root)):
        start = cycle.index(min(cycle))
        found.append(cycle[start:] + cycle[:start])
    return sorted(found, key=lambda c: (len(c), c))


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_the_package_has_no_import_cycles() -> None:
    found = cycles(PACKAGE)
    assert not found, "import cycles (a → b → … → a): " + "; ".join(
        " → ".join([*c, c[0]]) for c in found[:5]
    )


def test_the_simulation_core_imports_nothing_above_it() -> None:
    graph = import_graph(PACKAGE)
    allowed = {m for m in graph if m.split(".")[1:2] and m.split(".")[1] in CORE + INPUTS}
    core = {m for m in allowed if m.split(".")[1] in CORE}
    assert "sanshe.sim.model" in core or any(m.startswith("sanshe.sim") for m in core)
    upward = sorted((a, b) for a in core for b in graph.successors(a) if b not in allowed)
    assert not upward, f"the core imports experiments, reporting or interfaces: {upward}"


def test_cycles_are_found_even_inside_functions(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "def f():\n    from pkg.c import g\n",
        "pkg/c.py": "from . import a\n",
    })
    assert cycles(root) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_annotation_only_imports_are_no_cycle(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "pkg/__init__.py": "from pkg.a import A\n",
        "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                    "    from pkg.b import B\nclass A: ...\n",
        "pkg/b.py": "from pkg.a import A\nfrom pkg import a\n",
    })
    graph = import_graph(root)
    assert set(graph.edges) == {("pkg", "pkg.a"), ("pkg.b", "pkg.a")}
    assert cycles(root) == []


def test_the_layers_contract_holds() -> None:
    """pyproject.toml's import-linter contract: ui → experiments → reporting → sim → inputs,
    each layer importing only those below it."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=PACKAGE.parent, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout
