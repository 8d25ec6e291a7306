"""No import circles: every package imports from below, never from a facade above it.

The graph is read from the source with ``ast``: one node per module of
``otp``, ``web`` and ``benchmarks``, one edge per ``import`` or ``from ...
import`` naming another of them, module-level or inside a function alike (a
lazy import that only works because of import order is still a circle).
Imports under ``if TYPE_CHECKING:`` are left out: they never run.

The kernel (``otp/_kernel``) is the one place allowed a circle of its own,
as trio's ``_core`` is: its modules share one process record. Nothing
outside it may take part in a circle, so that one cannot come back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("otp", "web", "benchmarks")
ALLOWED = "otp._kernel"


def module_files() -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (path, is_package)}`` for every module of PACKAGES."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def imported_modules(name: str, path: Path, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``name`` imports (see the module docstring)."""
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(_closest(alias.name, known) for alias in node.names)
        else:
            base = _absolute(node, package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in known else _closest(base, known))
    targets.discard(None)
    targets.discard(name)
    return targets


def _runtime_imports(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _runtime_imports_of(child))
            continue
        yield from _runtime_imports_of(node)


def _runtime_imports_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _runtime_imports(node)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _closest(dotted: str, known: set[str]) -> str | None:
    """``dotted`` or its nearest enclosing package among ``known`` (None: a third-party module)."""
    while dotted and dotted not in known:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, is_package, known) for name, (path, is_package) in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
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


def test_no_import_circle_outside_the_kernel():
    outside = [c for c in circles(import_graph()) if not all(m.startswith(ALLOWED + ".") for m in c)]
    assert outside == []


def test_the_kernel_imports_nothing_else_from_otp():
    graph = import_graph()
    kernel = {name for name in graph if name == ALLOWED or name.startswith(ALLOWED + ".")}
    reaching_out = {name: sorted(graph[name] - kernel) for name in kernel if graph[name] - kernel}
    assert reaching_out == {}


def test_otp_never_imports_web_or_benchmarks():
    graph = import_graph()
    wrong = {
        name: sorted(t for t in targets if t.split(".")[0] != "otp")
        for name, targets in graph.items()
        if name.split(".")[0] == "otp" and any(t.split(".")[0] != "otp" for t in targets)
    }
    assert wrong == {}


# ---------------------------------------------------------------- the check itself


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b"], ["c", "d"]]),
    ],
)
def test_circles_finds_every_strongly_connected_component(graph, expected):
    assert sorted(circles(graph)) == expected


def test_a_lazy_import_inside_a_function_counts(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from .other import thing\n\nif TYPE_CHECKING:\n    from . import typed\n")
    found = imported_modules("pkg.m", module, False, {"pkg", "pkg.m", "pkg.other", "pkg.typed"})
    assert found == {"pkg.other"}
