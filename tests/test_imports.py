"""No import cycles among the project's modules, counting every import: module-level and
function-level alike (a function-level import hides a cycle from Python, not from the design).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "analyses")  # installed as nll_losses.models, nll_losses.analyses
PREFIX = "nll_losses."


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[PREFIX + name] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """{module: the project modules it imports anywhere in its text}."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [known(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else known(base)
                    for a in node.names
                ]
            else:
                continue
            graph[mod] |= {t for t in targets if t and t != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert not cycles(import_graph()), cycles(import_graph())


def test_the_checker_finds_a_cycle():
    # the checker itself: a graph with a cycle through a function-level import is reported
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert "nll_losses.analyses.problems" in import_graph()["nll_losses.analyses.sweeps"]


def test_no_family_imports_another():
    graph = import_graph()
    fam = f"{PREFIX}models.families."
    families = {m.split(".")[3] for m in graph if m.startswith(fam) and m.count(".") >= 3}
    for mod, targets in graph.items():
        if not mod.startswith(fam) or mod.count(".") < 3:
            continue
        own = mod.split(".")[3]
        other = {t for t in targets if t.startswith(fam) and t.count(".") >= 3}
        assert all(t.split(".")[3] == own for t in other), (mod, other, families)


def _imported(path: Path) -> list[str]:
    """Every module name ``path`` imports, at module level or in a function."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append(node.module or "")
    return out


def _importing(folder: Path, banned: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(folder.rglob("*.py"))
        for name in _imported(path)
        if name.removeprefix(PREFIX).split(".")[0] in banned
    ]


def test_tests_of_models_do_not_import_analyses():
    """The tests mirror the tree (tests/models, tests/analyses); those of models/ check it
    without analyses/, as models/ itself is without it."""
    assert len(list((ROOT / "tests" / "models").rglob("test_*.py"))) >= 8
    bad = _importing(ROOT / "tests" / "models", {"analyses"})
    assert not bad, bad


def test_models_import_neither_analyses_nor_argparse():
    """models/ is below analyses/, and a family's flags are data (``models.options``) that
    the CLI turns into arguments."""
    assert "argparse" in _imported(ROOT / "analyses" / "cli.py")  # the checker sees imports
    bad = _importing(ROOT / "models", {"analyses", "argparse"})
    assert not bad, bad
