"""Dependencies point down: no module under stream/ or runtime/ imports a layer above its own.

The chain, top to bottom: runtime.cli and runtime.bench -> runtime.daemon ->
runtime.live, runtime.web and runtime.recap (side by side) -> runtime.report, runtime.store and
runtime.mqtt (side by side) -> runtime.summary and runtime.language (side by side) ->
runtime.engines -> runtime.common -> stream.
Imports within one package are free. vgsum.models and vgsum.export (torch) may
be imported only by runtime.cli and runtime.bench, and only inside a function, so
the edge never loads them. Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from vgsum.runtime.common.paths import REPO_ROOT

# package -> rank; a module may import its own package and anything of a lower rank
LAYERS: dict[str, int] = {
    "vgsum.stream": 0,
    "vgsum.runtime.common": 1,
    "vgsum.runtime.engines": 2,
    "vgsum.runtime.summary": 3,
    "vgsum.runtime.language": 3,
    "vgsum.runtime.report": 4,
    "vgsum.runtime.store": 4,
    "vgsum.runtime.mqtt": 4,
    "vgsum.runtime.web": 5,
    "vgsum.runtime.live": 5,
    "vgsum.runtime.recap": 5,
    "vgsum.runtime.daemon": 6,
    "vgsum.runtime.cli": 7,
    "vgsum.runtime.bench": 7,
}
TRAINING = ("vgsum.models", "vgsum.export")
MAY_IMPORT_TRAINING = ("vgsum.runtime.cli", "vgsum.runtime.bench")
# The namespace packages' own __init__ files: docstrings only, imported by everything.
ROOTS = ("vgsum.stream", "vgsum.runtime")


@dataclass(frozen=True)
class Edge:
    """One import statement: which module imports what, where, and whether inside a function."""

    importer: str
    imported: str
    line: int
    nested: bool

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


def module_name(path: Path) -> str:
    """`<repo>/runtime/daemon/pipeline.py` -> `vgsum.runtime.daemon.pipeline` (a package is its __init__)."""
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["vgsum", *parts])


def package_of(module: str) -> str | None:
    """The layer package a module belongs to (None for a module outside every layer)."""
    matches = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def imports_of(source: str, module: str, is_package: bool = False) -> list[Edge]:
    """Every vgsum import in `source` (relative ones resolved), with whether it sits inside a function."""
    tree = ast.parse(source)
    nested_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    nested_lines.add(inner.lineno)
    edges: list[Edge] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] if base else []
        for target in targets:
            if target == "vgsum" or target.startswith("vgsum."):
                edges.append(Edge(module, target, node.lineno, node.lineno in nested_lines))
    return edges


def violations(edges: list[Edge]) -> list[str]:
    """The edges that break the layering, each as one readable line."""
    bad: list[str] = []
    for edge in edges:
        if edge.imported.startswith(TRAINING):
            allowed = edge.importer.startswith(MAY_IMPORT_TRAINING)
            if not allowed:
                bad.append(f"{edge}: the edge never imports {edge.imported.split('.')[1]}/")
            elif not edge.nested:
                bad.append(f"{edge}: import it inside the function that needs it (torch must stay lazy)")
            continue
        source, target = package_of(edge.importer), package_of(edge.imported)
        if source is None or target is None or source == target:
            continue
        if LAYERS[target] > LAYERS[source]:
            bad.append(f"{edge}: {target} (rank {LAYERS[target]}) is above {source} (rank {LAYERS[source]})")
    return bad


def _edge_files() -> list[Path]:
    return sorted(p for folder in ("stream", "runtime") for p in (REPO_ROOT / folder).rglob("*.py"))


def _all_edges() -> list[Edge]:
    edges: list[Edge] = []
    for path in _edge_files():
        edges += imports_of(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
    return edges


def test_every_edge_module_belongs_to_a_layer() -> None:
    orphans = [
        module_name(p) for p in _edge_files() if package_of(module_name(p)) is None and module_name(p) not in ROOTS
    ]
    assert orphans == [], f"give these packages a rank in LAYERS: {orphans}"


def test_no_module_imports_a_layer_above_its_own() -> None:
    edges = _all_edges()
    assert len(edges) > 50  # the walk found the imports (a broken walk would pass vacuously)
    assert violations(edges) == []


@pytest.mark.parametrize(
    ("module", "source", "fragment"),
    [
        ("vgsum.runtime.engines.loader", "from vgsum.runtime.daemon.config import EngineConfig\n", "rank 6"),
        ("vgsum.stream.ingest", "def f():\n    import vgsum.runtime.common.errors\n", "rank 1"),
        ("vgsum.runtime.summary.queries", "from ..report import thumbnail\n", "vgsum.runtime.report"),
        ("vgsum.runtime.daemon.pipeline", "from vgsum.models import videograph\n", "never imports models/"),
        ("vgsum.runtime.cli.run", "from vgsum.export.cli import main\n", "inside the function"),
    ],
)
def test_the_check_catches_an_upward_import(module: str, source: str, fragment: str) -> None:
    found = violations(imports_of(source, module))
    assert len(found) == 1 and fragment in found[0], found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("vgsum.runtime.daemon.pipeline", "from vgsum.runtime.summary.queries import StreamQueries\n"),
        ("vgsum.runtime.daemon.pipeline", "from . import control\n"),
        ("vgsum.runtime.cli.demo", "def f():\n    from vgsum.export.cli import main\n"),
        ("vgsum.runtime.bench.pipeline", "from vgsum.runtime.bench.ingest import cpu_model\n"),
    ],
)
def test_downward_and_sibling_imports_pass(module: str, source: str) -> None:
    assert violations(imports_of(source, module)) == []
