"""The package layering of docs/design.md holds: every import of every module (function-local and
``TYPE_CHECKING`` ones included) goes to a package its row allows, and no modules import each
other around a loop — importing ``a.b.c`` runs ``a/b/__init__.py`` too, so a loop through a
package's ``__init__`` counts. The allow-list names the sites not fixed yet; each must still exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: (importer module, imported module) edges that break the table, left for now. None: the web
#: app reads the crawl state and the sources registry through pipeline.sources_status.
ALLOWED_LAYER_BREAKS: set[tuple[str, str]] = set()
#: Module cycles left for now (each as the set of its modules). None: every loop is a failure.
ALLOWED_CYCLES: set[frozenset[str]] = set()


def layer_table(design: str) -> dict[str, set[str] | None]:
    """{package: the packages it may import} from the layout table (None: everything)."""
    rows: dict[str, set[str] | None] = {}
    for line in design.splitlines():
        m = re.match(r"^\| `(\w+)/` \|.*\| ([^|]+) \|$", line)
        if not m or m.group(2).strip() == "—":
            continue
        allowed = m.group(2).strip()
        rows[m.group(1)] = None if allowed == "everything" else set(re.findall(r"`(\w+)`", allowed))
    return rows


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, packages: list[str]) -> dict[str, set[str]]:
    """{module: the modules of ``packages`` it imports anywhere in its body, with the packages
    whose ``__init__`` that import runs (``a.b`` for ``a.b.c``; not the module's own packages,
    which are always imported before it)}."""
    files = {_module_name(root, f): f for pkg in packages for f in sorted((root / pkg).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                    here = here[: len(here) - node.level + 1]
                    base = ".".join([*here, *([node.module] if node.module else [])])
                names = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            for imported in names:
                parts = imported.split(".")
                while parts and ".".join(parts) not in files:
                    parts.pop()
                targets |= {".".join(parts[:n]) for n in range(1, len(parts) + 1)}
        own = {".".join(name.split(".")[:n]) for n in range(1, name.count(".") + 2)}
        graph[name] = {t for t in targets if t in files} - own
    return graph


def layer_breaks(graph: dict[str, set[str]], table: dict[str, set[str] | None]) -> set[tuple[str, str]]:
    """The (module, imported module) edges against the table; a package whose ``__init__`` runs
    only on the way to a module of it is not named again beside that module."""
    breaks = set()
    for module, targets in graph.items():
        allowed = table[module.split(".")[0]]
        for target in targets:
            if any(other.startswith(target + ".") for other in targets):
                continue
            package = target.split(".")[0]
            if allowed is not None and package != module.split(".")[0] and package not in allowed:
                breaks.add((module, target))
    return breaks


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


@pytest.fixture(scope="module")
def table() -> dict[str, set[str] | None]:
    return layer_table((REPO / "docs" / "design.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def graph(table) -> dict[str, set[str]]:
    return import_graph(REPO, sorted(table))


def test_the_design_table_lists_every_package(table) -> None:
    assert {"hpbase", "guard", "index", "classifiers", "crawlers", "pipeline", "alerts", "web", "hpmon"} <= set(table)
    assert table["hpbase"] == set() and table["hpmon"] is None


def test_imports_only_go_down_the_design_table(graph, table) -> None:
    breaks = layer_breaks(graph, table)
    assert breaks - ALLOWED_LAYER_BREAKS == set(), "imports against docs/design.md's table"
    assert ALLOWED_LAYER_BREAKS - breaks == set(), "fixed: take these off the allow-list"


def test_no_modules_import_each_other(graph) -> None:
    found = cycles(graph)
    assert found - ALLOWED_CYCLES == set(), "import cycles"
    assert ALLOWED_CYCLES - found == set(), "fixed: take these off the allow-list"


def test_the_checker_sees_an_upward_import_a_function_local_one_and_a_cycle(tmp_path) -> None:
    for pkg, body in {
        "low": {"__init__.py": "", "a.py": "def f():\n    from high.b import g\n"},
        "high": {"__init__.py": "", "b.py": "from low import a\n\ndef g():\n    pass\n",
                 "c.py": "from . import d\n", "d.py": "from .c import x\n"},
        # a loop through a package's __init__: svc imports its jobs, a job calls report, and
        # report imports a module of svc (which runs svc/__init__.py)
        "top": {"__init__.py": "", "report.py": "from top.svc.lock import pid\n",
                "svc": {"__init__.py": "from top.svc.jobs import run\n", "lock.py": "pid = 1\n",
                        "jobs.py": "from top.svc import lock\n\ndef run():\n    from top.report import x\n"}},
    }.items():
        for folder, files in [(pkg, body)] + [(f"{pkg}/{k}", v) for k, v in body.items() if isinstance(v, dict)]:
            (tmp_path / folder).mkdir()
            for name, text in files.items():
                if isinstance(text, str):
                    (tmp_path / folder / name).write_text(text, encoding="utf-8")
    graph = import_graph(tmp_path, ["low", "high", "top"])
    assert layer_breaks(graph, {"low": set(), "high": {"low"}, "top": set()}) == {("low.a", "high.b")}
    assert cycles(graph) == {frozenset({"low.a", "high.b"}), frozenset({"high.c", "high.d"}),
                             frozenset({"top.report", "top.svc", "top.svc.jobs"})}
    assert graph["top.svc.jobs"] == {"top.svc.lock", "top.report"}, "a module's own packages are no edge"


def test_the_base_package_needs_only_the_standard_library_and_pyyaml() -> None:
    import sys

    outside = set()
    for path in (REPO / "hpbase").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            outside |= {n.split(".")[0] for n in names} - set(sys.stdlib_module_names) - {"__future__", "hpbase"}
    assert outside == {"yaml"}
