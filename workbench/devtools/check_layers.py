"""Fail when an import runs against the package's layers or closes a cycle.

The layers, lowest first (a module imports only from its own layer or below)::

    base          errors, config, concurrency, native (the one door to workbench_native)
    market model  contract specs and calendar; orders, fills, trades, codes
    data analysis the catalog and loaders; statistics on any equity/trade record
    strategies risk
    backtest book execution adapters
    alerts        listens to execution, never imported by it
    results
    visualization
    optimize
    cli
    devtools

``analysis`` needs only ``market`` and ``model``, so it sits beside ``data``, below the engines
that use it (a backtest result computes its metrics with it; a paper session will too).

Three rules, checked on the source (nothing is imported):

1. **Layers**: no import of a higher layer, wherever it stands (module top, a function, or an
   ``if TYPE_CHECKING`` block).
2. **No cycles**: the graph of subpackages, counting every import, has no cycle; nor does the
   graph of modules counting the imports that run at import time.
3. **Function-local imports say why**: outside ``cli`` (whose commands load lazily by design),
   an import inside a function (of a workbench module or of any other package) carries a
   comment on its line or within the three lines above it, with the words "start-up" (it keeps
   a light command light) or "optional" (a package that may be absent). A hidden cycle is no
   reason.

``python -m workbench.devtools.check_layers [workbench]`` prints each finding and exits 1.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Rank of each top-level module or subpackage of ``workbench``; imports go to equal or lower.
LAYERS: dict[str, int] = {
    "__init__": 0,
    "errors": 0,
    "config": 0,
    "concurrency": 0,
    "native": 0,
    "market": 1,
    "model": 1,
    "data": 2,
    "analysis": 2,
    "strategies": 3,
    "risk": 3,
    "backtest": 4,
    "book": 4,
    "execution": 4,
    "adapters": 4,
    "alerts": 5,
    "results": 6,
    "visualization": 7,
    "optimize": 8,
    "cli": 9,
    "devtools": 10,
}
#: Subpackages whose function-local imports need no comment (lazy command loading).
LAZY_OK = frozenset({"cli", "devtools"})
#: The words of which a function-local import's comment must contain one.
REASONS = ("start-up", "optional")


@dataclass(frozen=True)
class Import:
    """One import found in the source."""

    source: str  # importing module, dotted
    target: str  # imported module, dotted
    line: int
    local: bool  # inside a function
    type_only: bool  # inside ``if TYPE_CHECKING``
    reasoned: bool  # a "start-up" or "optional" comment on or just above the line


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of ``path`` inside the package folder ``root``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, local: bool, type_only: bool) -> Iterator[tuple[ast.AST, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        child_local = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        child_type = type_only
        if isinstance(node, ast.If) and _is_type_checking(node.test) and child in node.body:
            child_type = True
        yield child, child_local, child_type
        yield from _walk(child, child_local, child_type)


def imports_of(
    path: Path, root: Path, known: set[str] | frozenset[str] = frozenset()
) -> list[Import]:
    """Every import in the file ``path``: of ``workbench`` modules and of other packages.

    ``known`` holds the package's module names: ``from pkg import name`` counts as an import of
    ``pkg.name`` when that is a module, else of ``pkg``.
    """
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    module = module_name(path, root)
    found = []
    for node, local, type_only in _walk(ast.parse(text, str(path)), False, False):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, path.name == "__init__.py")
            # ``from workbench.model import codes`` imports the module workbench.model.codes
            names = [f"{base}.{alias.name}" for alias in node.names]
            targets = [*(name for name in names if name in known), base]
        else:
            continue
        near = " ".join(lines[max(0, node.lineno - 4) : node.lineno])
        found += [
            Import(
                module, target, node.lineno, local, type_only, any(word in near for word in REASONS)
            )
            for target in targets
        ]
    return found


def is_internal(target: str, package: str = "workbench") -> bool:
    """True for ``package`` itself and its modules."""
    return target == package or target.startswith(package + ".")


def layer_of(module: str) -> str:
    """Top-level part of a dotted ``workbench`` module name (``__init__`` for the package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def check(root: Path) -> list[str]:
    """Findings for the package folder ``root`` (empty when every rule holds)."""
    problems: list[str] = []
    modules = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    package_graph: dict[str, set[str]] = {}
    module_graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        where = path.relative_to(root.parent)
        src_layer = layer_of(module)
        if src_layer not in LAYERS:
            problems.append(f"{where}: layer {src_layer!r} is not in LAYERS (add it)")
            continue
        flagged: set[int] = set()  # lines already reported for a local import
        for imp in imports_of(path, root, set(modules)):
            lazy_ok = imp.reasoned or src_layer in LAZY_OK or imp.line in flagged
            if imp.local and not lazy_ok:
                flagged.add(imp.line)
                problems.append(
                    f"{where}:{imp.line}: function-local import of {imp.target} without a "
                    "'start-up' or 'optional' comment: import it at the top of the module"
                )
            if not is_internal(imp.target, root.name):
                continue
            dst_layer = layer_of(imp.target)
            if dst_layer not in LAYERS:
                problems.append(f"{where}:{imp.line}: imports {imp.target}, not in LAYERS")
                continue
            if LAYERS[dst_layer] > LAYERS[src_layer]:
                problems.append(
                    f"{where}:{imp.line}: {src_layer} imports {imp.target}, a higher layer"
                )
            if dst_layer != src_layer:
                package_graph.setdefault(src_layer, set()).add(dst_layer)
            if not imp.local and not imp.type_only and imp.target in modules:
                module_graph.setdefault(module, set()).add(imp.target)
    for cycle in _cycles(package_graph):
        problems.append(f"import cycle between subpackages: {' <-> '.join(cycle)}")
    for cycle in _cycles(module_graph):
        # a package's __init__ importing its own modules is not a cycle of concern
        members = [m for m in cycle if m not in modules or modules[m].name != "__init__.py"]
        if len(members) > 1:
            problems.append(f"import cycle between modules: {' <-> '.join(cycle)}")
    return problems


def main(argv: list[str]) -> int:
    """Check the package folder given (default ``workbench``); exit 1 on any finding."""
    root = Path(argv[0] if argv else "workbench").resolve()
    problems = check(root)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
