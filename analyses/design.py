"""The design matrix from a user's columns, with formulaic (the Wilkinson-formula library
statsmodels and Bambi users know): text columns dummy-coded, or the user's ``--formula``.

One encoding path: the default (every feature column as it is) is the formula ``~ a + b + ...``
over the columns, so text columns get formulaic's treatment coding: the first level in sorted
order is the reference and the dummies are named ``sex[T.male]``; without an intercept the
first text column keeps every level (``sex[female]``, ``sex[male]``), as in R, patsy and
formulaic.  The model adds its own intercept, so formulaic's ``Intercept`` column is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from nll_losses.analyses import csvfile
from nll_losses.analyses.errors import InputError


@dataclass(frozen=True)
class ParsedFormula:
    """A ``--formula``: its target (left side, one column), the columns its right side uses,
    the right side as text and whether it keeps the intercept."""

    text: str
    target: str | None
    columns: tuple[str, ...]
    rhs: object  # formulaic's parsed right side
    intercept: bool
    header: tuple[str, ...] = ()  # every column of the file, for messages


def parse_formula(text: str, columns: list[str]) -> ParsedFormula:
    """Parse ``text`` with formulaic; ``InputError`` naming the problem otherwise."""
    from formulaic import Formula

    try:
        formula = Formula(text)
    except Exception as exc:  # formulaic's syntax errors have several types
        raise InputError(f"--formula {text!r}: cannot be parsed ({_first_line(exc)})") from None
    from formulaic.formula import SimpleFormula

    lhs = getattr(formula, "lhs", None)
    rhs = formula.rhs if lhs is not None else formula
    if not isinstance(rhs, SimpleFormula) or not isinstance(lhs, SimpleFormula | None):
        raise InputError(
            f"--formula {text!r}: a formula here has one left and one right side, as in "
            "'y ~ a + b'; remove '|' (formulaic's multi-part formulas are not supported)"
        )
    target = None
    if lhs is not None:
        terms = list(lhs)
        factors = [f for t in terms for f in t.factors]
        if len(terms) != 1 or len(factors) != 1 or factors[0].expr not in columns:
            raise InputError(
                f"--formula {text!r}: the left side must be one column of the file (the "
                f"target), as in 'y ~ x'; columns are {short_list(columns)}"
            )
        target = factors[0].expr
    used = [c for c in columns if c in rhs.required_variables or _named_in(c, str(rhs))]
    if lhs is not None and target in used:
        raise InputError(f"--formula {text!r}: the target {target!r} is also on the right side")
    terms = [str(t) for t in rhs]
    intercept = "1" in terms
    if not [t for t in terms if t != "1"]:
        raise InputError(f"--formula {text!r}: no feature on the right side; add one")
    return ParsedFormula(text, target, tuple(used), rhs, intercept, tuple(columns))


@dataclass(frozen=True)
class Design:
    """The design matrix (no intercept column), its column names and what was done."""

    X: np.ndarray
    names: tuple[str, ...]
    notes: tuple[str, ...]


def build(
    frame: dict, formula: ParsedFormula | None, intercept: bool, max_levels: int | None
) -> Design:
    """The design of ``frame`` (name -> float64 array, or list of str for a text column):
    the user's ``formula``'s right side (which decides the intercept), or None for every column
    as it is (text columns dummy-coded, at most ``max_levels`` levels each)."""
    import pandas as pd
    from formulaic import model_matrix

    names = list(frame)
    text = [c for c in names if not isinstance(frame[c], np.ndarray)]
    notes = []
    rhs = None if formula is None else formula.rhs
    for c in text:  # one level: no dummy column would be made (the term silently vanished)
        levels = set(frame[c])
        if len(levels) < 2:
            how = "from the formula" if formula is not None else "with --features"
            raise InputError(
                f"column {c!r} is text with one value {next(iter(levels), '')!r} in every row; "
                f"it carries nothing to fit: leave it out {how}"
            )
    if rhs is None:
        alias = {c: f"_v{i}" for i, c in enumerate(names)}
        for c in text:
            levels = sorted(set(frame[c]))
            if max_levels is not None and len(levels) > max_levels:
                raise InputError(
                    f"column {c!r} is text with {len(levels)} different values (limit "
                    f"{max_levels} for dummy coding); leave it out with --features, or group "
                    "its values, or use --formula"
                )
        if not text:  # numbers only: the columns are the design
            X = np.column_stack([frame[c] for c in names])
            return Design(X, tuple(names), ())
        data = pd.DataFrame({alias[c]: frame[c] for c in names}, copy=False)
        spec = ("1 + " if intercept else "0 + ") + " + ".join(alias[c] for c in names)
    else:
        data = pd.DataFrame(frame, copy=False)
        spec = rhs
    if formula is None:  # every column is a term
        _check_size(frame, text, intercept, len(names) - len(text))
    else:  # a number column may make no column of its own (inside I(x * z))
        _check_size(frame, text, formula.intercept, 0)
    try:  # context: the formula sees the columns and formulaic's transforms, nothing else
        mm = model_matrix(spec, data, na_action="raise", context={})
    except InputError:
        raise
    except Exception as exc:
        unknown = _unknown_name(exc)
        if unknown is not None and unknown not in data.columns:
            header = formula.header if formula is not None else list(frame)
            raise InputError(
                f"--formula: {unknown!r} is not a column of the file (nor a function formulaic "
                f"knows); use the file's columns: {short_list(header)}"
            ) from None
        raise InputError(
            f"--formula: cannot be evaluated ({_first_line(exc)}); correct the formula"
        ) from None
    cols = [str(c) for c in mm.columns]
    keep = [i for i, c in enumerate(cols) if c != "Intercept"]
    X = np.asarray(mm.to_numpy(dtype=np.float64) if hasattr(mm, "to_numpy") else mm, dtype=float)
    X = np.ascontiguousarray(X[:, keep])
    out = [cols[i] for i in keep]
    if rhs is None:
        back = {a: c for c, a in alias.items()}
        out = [_rename(c, back) for c in out]
    for c in text:
        levels = sorted(set(frame[c]))
        prefix = c if rhs is None else None
        made = [n for n in out if prefix is not None and n.startswith(prefix + "[")]
        if rhs is None:
            if not any("[T." in n for n in made):
                notes.append(
                    f"text column {c!r} dummy-coded with every level ({len(levels)}: no "
                    "intercept): " + ", ".join(made)
                )
            else:
                notes.append(
                    f"text column {c!r} dummy-coded, reference level {levels[0]!r} (first in "
                    f"sorted order): " + ", ".join(made)
                )
    if rhs is not None:
        notes.append(
            f"design from --formula {formula.text!r} (formulaic; text columns "
            "treatment-coded, the first level in sorted order as reference, or every level "
            "for the first one without an intercept): " + ", ".join(out)
        )
    dupes = sorted({n for n in out if out.count(n) > 1})
    if dupes:
        raise InputError(
            f"design columns {short_list(dupes)} are made twice (a column's name equals a "
            "dummy column's); rename the column"
        )
    return Design(X, tuple(out), tuple(notes))


def _check_size(frame: dict, text: list[str], intercept: bool, numbers: int) -> None:
    """Refuse, before the dense design is built, one with at least as many parameters as rows
    or too large for the memory available.  Its columns are at least each text column's
    levels but one plus ``numbers`` (an identifier used as a factor makes one column a row:
    the memory grows as rows squared)."""
    if not text:
        return
    n = len(frame[text[0]])
    levels = {c: len(set(frame[c])) for c in text}
    k = sum(v - 1 for v in levels.values()) + numbers
    widest = sorted(text, key=lambda c: -levels[c])[:3]
    which = ", ".join(f"{c!r} ({levels[c]:,} values)" for c in widest)
    if k + int(intercept) >= n:
        raise InputError(
            f"the design would have at least {k + int(intercept):,} parameters for {n:,} rows "
            f"(text column(s) {which} dummy-coded); a fit needs more rows than parameters: "
            "leave the column out, or group its values"
        )
    need = csvfile.BYTES_PER_CELL * n * k
    free = csvfile.available_memory()
    if free is not None and need > free:
        raise InputError(
            f"the design of {n:,} rows x at least {k:,} columns (text column(s) {which} "
            f"dummy-coded) would need about {csvfile.size_text(need)} of memory and "
            f"{csvfile.size_text(free)} is available: leave the column out, or group its values"
        )


def _rename(col: str, back: dict[str, str]) -> str:
    """formulaic's name for an aliased column (``_v3[T.male]``) with the column's own name."""
    for a, c in back.items():
        if col == a:
            return c
        if col.startswith(a + "["):
            return c + col[len(a) :]
    return col


def _named_in(column: str, text: str) -> bool:
    """Whether ``text`` (a formula side) names ``column`` as a variable: as a whole word not
    followed by "(" (a call), or in backticks.  formulaic's ``required_variables`` leaves out
    the arguments of its stateful transforms (``poly(x, 2)``, ``scale(x)``, ``center``,
    ``bs``), so the columns are found in the text (a column named like a word used otherwise
    is read, and checked for missing cells, needlessly)."""
    word = rf"(?<![\w.`]){re.escape(column)}(?![\w`])(?!\s*\()"
    return f"`{column}`" in text or re.search(word, text) is not None


def _unknown_name(exc: BaseException) -> str | None:
    """The name a formula used that is neither a column nor a known function, from
    formulaic's evaluation error (a NameError in its message), else None."""
    pattern = r"NameError: (?:name '([^']+)' is not defined|`([^`]+)` is not present)"
    m = re.search(pattern, str(exc))
    return None if m is None else m.group(1) or m.group(2)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:160] if text else type(exc).__name__).replace("\n", " ")


def short_list(names, limit: int = 8) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")
