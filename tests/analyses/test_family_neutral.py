"""Layering and family neutrality: ``models/`` imports nothing from ``analyses/``, and no
module under ``analyses/`` but the case list and its data loaders names a family, an outcome
kind, a family's parameter or its loss; every agreement pair a family declares names one of
the tolerance tiers (``analyses.tolerances.TIERS``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tiny import FEATURES, tiny_problems

from nll_losses.analyses import tolerances
from nll_losses.models import FAMILIES

ROOT = Path(__file__).resolve().parents[2]


def test_every_pair_names_a_tier():
    for family in FAMILIES.values():
        for problem in tiny_problems(family.name).values():
            for pair in family.agreement_pairs(problem):
                assert pair.tier in tolerances.TIERS, (family.name, pair.left, pair.right)


def _imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_models_do_not_import_analyses():
    bad = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in sorted((ROOT / "models").rglob("*.py"))
        for line, module in _imported_modules(path)
        if module.removeprefix("nll_losses.").partition(".")[0] == "analyses"
    ]
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------------------ family-neutral
# Every module under analyses/ is family-neutral but the case list and its data loaders, which
# name the built-in cases' families and their generators' truths (adding a family adds its
# cases there: issue 19's "the registry line and the case list with its data loader").
CASE_LIST = {"analyses/cases.py", "analyses/datasets.py"}
# The analysis scripts (analyses/scripts/) are one claim each, so one family each, written out
# in PyMC for a reader to copy; nothing in the package imports them.
SCRIPTS = ROOT / "analyses" / "scripts"


def neutral_files() -> list[Path]:
    return [
        path
        for path in sorted((ROOT / "analyses").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in CASE_LIST and SCRIPTS not in path.parents
    ]


def _forbidden_patterns() -> dict[str, re.Pattern]:
    """What may only appear inside a family: its parameter and variable names (as string
    literals, or indexed as ``var[``), its distribution, and the words of its loss."""
    names, variables = set(), set()
    for family in FAMILIES.values():
        for problem in tiny_problems(family.name).values():
            spec = problem.spec
            layout = family.layout(FEATURES, problem.target_info, spec)
            for p in layout.params:
                names |= {p.name, p.var}
                variables.add(p.var)
    names -= set(FEATURES)
    variables -= set(FEATURES)
    out = {}
    for nm in sorted(names):
        out[f'"{nm}"'] = re.compile(re.escape(f'"{nm}"'))
        out[f"'{nm}'"] = re.compile(re.escape(f"'{nm}'"))
    for var in sorted(variables):
        out[f"{var}["] = re.compile(r"(?<![\w.])" + re.escape(f"{var}["))
    for family in FAMILIES.values():
        dist = family.name.capitalize() + "("
        out[dist] = re.compile(r"(?<!\w)" + re.escape(dist))  # also pm.Normal(
    for word in ("MSE", "mean_squared_error"):
        out[word] = re.compile(rf"\b{word}\b")
    # a switch on a family or an outcome: a family's name as a string, or the old outcome kinds
    for name in [*FAMILIES, "continuous", "binary"]:
        out[f'"{name}"'] = re.compile(re.escape(f'"{name}"'))
    out[".outcome"] = re.compile(r"\.outcome\b")
    return out


def test_analyses_are_family_neutral():
    files = neutral_files()
    assert len(files) > 30 and ROOT / "analyses" / "pictures.py" in files
    files += sorted((ROOT / "analyses" / "templates").glob("*.html"))
    patterns = _forbidden_patterns()
    hits = []
    for path in files:
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            for label, pattern in patterns.items():
                if pattern.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{lineno}: {label}: {line.strip()}")
    assert not hits, "family-specific names in family-neutral code:\n" + "\n".join(hits)


def test_nothing_in_the_package_imports_the_scripts():
    """The scripts may name a family because nothing depends on them."""
    users = [
        path.relative_to(ROOT)
        for path in sorted((ROOT / "analyses").rglob("*.py"))
        if SCRIPTS not in path.parents and "analyses.scripts" in path.read_text()
    ]
    assert not users
