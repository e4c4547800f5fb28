"""Reading a user's CSV file into a ``Dataset``: columns, missing cells, text features
(dummy-coded, ``analyses.design``) or a formula, the target encoded by its family (``--family
auto`` asks every family, ``Family.auto``), the columns a family's options name, and the
design's scale and rank; every problem one ``InputError`` line naming it and how to fix it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nll_losses.analyses import csvfile, design
from nll_losses.analyses.datasets import DEFAULT_FAMILY, Dataset
from nll_losses.analyses.errors import InputError
from nll_losses.models import FAMILIES, get_family
from nll_losses.models.targets import TargetValues

# A text feature column with more different values than this is refused by the default coding
# (an identifier or free text, not a category); a --formula may still use it.
MAX_LEVELS = 50
# Magnitudes the models can square and sum: n * max|x|^2 must stay well inside double range
# (1.8e308), with room for products with coefficients; and a column whose largest value is
# below TINY has squares that underflow (1e-300 is near the subnormal range, 2.2e-308).
HUGE_SUM_OF_SQUARES = 1e300
TINY = 1e-150


def load_csv(
    path,
    target: str | None,
    features: list[str] | None = None,
    intercept: bool = True,
    family=None,
    options=None,
    formula: str | None = None,
    dropna: bool = False,
) -> Dataset:
    """Read and validate a user's CSV; every problem is one ``InputError`` line naming it and
    saying how to fix it.

    ``family``: a family object, None (normal) or ``"auto"`` (chosen from the target's values,
    see ``choose_family``).  Feature columns are numbers or text (dummy-coded, analyses.design),
    or the right side of ``formula`` (``"y ~ age + C(sex)"``; its left side is the target).
    Missing cells (blank, NA, NaN, null, none, n/a) are refused, or with ``dropna`` their rows
    are dropped.  The target is encoded by ``family.encode_target``.  What was decided is in
    the result's ``reading`` and description.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a CSV file")
    columns = csvfile.read_header(path)
    parsed = None
    if formula is not None:
        parsed = design.parse_formula(formula, columns)
        if features is not None:
            raise InputError("--features and --formula both choose the features; give one")
        if parsed.target is None and target is None:
            raise InputError(f"--formula {formula!r} has no left side; write 'y ~ ...'")
        if parsed.target is not None and target is not None and parsed.target != target:
            raise InputError(
                f"--target {target!r} and --formula {formula!r} name different targets; "
                "give one of them"
            )
        target = parsed.target or target
        if not intercept and parsed.intercept:
            raise InputError(
                f"--no-intercept and --formula {formula!r} (which keeps the intercept) "
                "disagree; write '0 + ...' or '- 1' in the formula, or drop --no-intercept"
            )
        intercept = parsed.intercept
        features = list(parsed.columns)
    if target is None:
        raise InputError("no target: give --target COLUMN or --formula 'y ~ ...'")
    if target not in columns:
        raise InputError(
            f"{path}: target column {target!r} not found; columns are {_short_list(columns)}"
        )
    roles = _role_columns(path, columns, target, features, family, options)
    if features is None:
        features = [c for c in columns if c != target and c not in roles.values()]
    else:
        unknown = [f for f in features if f not in columns]
        if unknown:
            raise InputError(
                f"{path}: unknown feature column(s) {_short_list(unknown)}; "
                f"columns are {_short_list(columns)}"
            )
        if target in features:
            raise InputError(f"{path}: target column {target!r} is also listed as a feature")
        if len(set(features)) != len(features):
            raise InputError(f"{path}: a feature column is listed twice")
    if not features and parsed is None:
        raise InputError(f"{path}: no feature columns besides the target {target!r}")
    used = [c for c in columns if c in features or c == target or c in roles.values()]
    csvfile.check_memory(path, len(columns), len(used))
    table = csvfile.read_table(path, columns, used, text=(target,))
    if table.n_rows == 0:
        raise InputError(f"{path}: no data rows (header only)")
    choices: list[str] = []
    rows = _drop_missing(table, used, dropna, choices)  # data rows kept (0-based)
    cells = {c: table.cells[c] for c in used}
    if rows is not None:
        cells = {c: csvfile.take(col, rows) for c, col in cells.items()}
    else:
        rows = np.arange(table.n_rows)
    del table
    frame = {}
    for c in features:
        frame[c] = _feature_column(path, c, cells[c], rows)
    per_row = {role: _number_column(path, c, cells[c], rows) for role, c in roles.items()}
    choices.extend(f"column {c!r} is the {role}, not a feature" for role, c in roles.items())
    family = get_family(DEFAULT_FAMILY) if family is None else family
    family, choice = _resolve_family(path, target, cells[target], rows, family)
    if choice:
        choices.insert(0, choice)
    labels = None
    if family.observation.numeric_target:  # numbers already parsed (exactly) stay numbers
        labels = csvfile.numeric_column(cells[target]).values
    labels = cells[target].to_pylist() if labels is None else labels
    del cells
    try:
        y, target_info = family.encode_target(labels, target, options or family.Options())
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    if choice and (note := family.auto_note(target_info)):
        choices[0] += f"; {note}"
    if family.observation.numeric_target:
        _check_scale(path, target, y, rows)
    try:
        made = design.build(frame, parsed, intercept, None if parsed else MAX_LEVELS)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    del frame
    choices.extend(made.notes)
    for j, name in enumerate(made.names):
        _check_scale(path, name, made.X[:, j], rows)
    check_design(made.X, list(made.names), intercept, str(path))
    n, k = made.X.shape
    description = f"User data from {path.name}: {n} rows, {k} feature column(s)."
    return Dataset(
        name=path.stem,
        X=made.X,
        y=y,
        feature_names=made.names,
        target=target,
        description=" ".join([description, *(_sentence(c) for c in choices)]),
        source=str(path),
        target_info=target_info,
        reading={"family": family.name, "has_intercept": intercept, "choices": list(choices)}
        | ({"columns": dict(roles)} if roles else {}),
        rows=per_row,
    )


def _role_columns(path, columns, target, features, family, options) -> dict[str, str]:
    """{role: column} the family's options name besides the target and features (the
    Poisson --offset), each refused when missing or already the target or a feature."""
    if options is None:
        return {}
    roles = options.columns()
    for role, c in roles.items():
        if c not in columns:
            raise InputError(
                f"{path}: {role} column {c!r} not found; columns are {_short_list(columns)}"
            )
        if c == target or (features is not None and c in features):
            what = "the target" if c == target else "a feature"
            raise InputError(f"{path}: {role} column {c!r} is also {what}; give another column")
    return roles


def _number_column(path, name, cells, rows) -> np.ndarray:
    """A column that must hold finite numbers (a role column: the Poisson offset)."""
    col = csvfile.numeric_column(cells)
    if col.values is None:
        line = csvfile.file_lines(path, [rows[col.first_text]])[0]
        raise InputError(
            f"{path}: column {name!r} must hold numbers, not {col.first_text_value[:40]!r} "
            f"(line {line}); correct the cells"
        )
    _check_finite(path, name, cells, col.values, rows)
    return np.asarray(col.values, dtype=np.float64)


def _sentence(text: str) -> str:
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _drop_missing(table, used: list[str], dropna: bool, choices: list[str]):
    """The data rows to keep (None: all), after refusing missing cells or, with ``dropna``,
    dropping their rows; says what it did in ``choices``."""
    masks = {c: csvfile.missing_mask(table.cells[c]) for c in used}
    counts = {c: int(m.sum()) for c, m in masks.items() if m.any()}
    if not counts:
        return None
    any_missing = np.zeros(table.n_rows, dtype=bool)
    for m in masks.values():
        any_missing |= m
    bad = int(any_missing.sum())
    worst = sorted(counts, key=lambda c: -counts[c])
    per = ", ".join(f"{c!r} ({counts[c]:,})" for c in worst[:4])
    per += f" and {len(worst) - 4} more column(s)" if len(worst) > 4 else ""
    total = sum(counts.values())
    if not dropna:
        first = np.flatnonzero(any_missing)[:3]
        lines = csvfile.file_lines(table.path, first)
        where = ", ".join(str(v) for v in lines if v)
        raise InputError(
            f"{table.path}: {total:,} missing value(s) (blank, NA, NaN, null, none, n/a) in "
            f"{bad:,} of {table.n_rows:,} rows: {per}; first at file line(s) {where} (header = "
            "line 1); fill them in, or use --dropna to drop those rows"
        )
    keep = np.flatnonzero(~any_missing)
    if keep.size == 0:
        raise InputError(
            f"{table.path}: every row has a missing value ({per}); --dropna leaves no data; "
            "fill the cells in, or leave the emptiest columns out with --features"
        )
    choices.append(
        f"--dropna: dropped {bad:,} of {table.n_rows:,} rows with missing values "
        f"(missing cells per column: {per}); {keep.size:,} rows kept"
    )
    return keep


def _feature_column(path, name, cells, rows):
    """A feature column as float64, or as a list of str (a text column, dummy-coded later)."""
    col = csvfile.numeric_column(cells)
    if col.values is not None:
        _check_finite(path, name, cells, col.values, rows)
        return col.values
    if col.n_numbers >= col.n_text:
        line = csvfile.file_lines(path, [rows[col.first_text]])[0]
        raise InputError(
            f"{path}: column {name!r} holds numbers but {col.n_text:,} cell(s) are not, e.g. "
            f"{col.first_text_value[:40]!r} at line {line}; correct them, or blank them and use "
            "--dropna"
        )
    return cells.to_pylist()


def _check_finite(path, name, cells, values, rows) -> None:

    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        line = csvfile.file_lines(path, [rows[bad[0]]])[0]
        raise InputError(
            f"{path}: column {name!r} line {line}: value {str(cells[int(bad[0])].as_py())[:40]!r} "
            "is not a finite number (too large for a double, or inf/nan); correct it, or blank "
            "it and use --dropna"
        )


def _check_scale(path, name, v, rows) -> None:
    """Refuse a column whose squares over- or underflow double precision (naming the value)."""
    v = np.asarray(v, dtype=np.float64)
    if v.size == 0:
        return
    i = int(np.argmax(np.abs(v)))
    big = abs(float(v[i]))
    if big == 0.0:
        return  # an all-zero column: check_design says so
    limit = np.sqrt(HUGE_SUM_OF_SQUARES / v.size)
    if big > limit or big < TINY:
        line = csvfile.file_lines(path, [rows[i]])[0]
        factor = 10.0 ** np.floor(np.log10(big))
        what = (
            f"too large: its square summed over {v.size:,} rows overflows double precision "
            f"(limit about {limit:.0e}); divide the column by {factor:.0e}"
            if big > limit
            else f"too small: every value is below {TINY:.0e}, so squares underflow double "
            f"precision; multiply the column by {1 / factor:.0e}"
        )
        raise InputError(f"{path}: column {name!r} value {big:.6g} (line {line}) is {what}")


def _resolve_family(path, target, cells, rows, family):
    """(family, sentence saying the choice or ""): ``family`` unless it is "auto"; then
    ``choose_family``; also refuses a text target for a family that needs numbers."""
    if family == "auto":
        try:
            name, why = choose_family(cells, target)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        return get_family(name), why
    if family.observation.numeric_target:
        col = csvfile.numeric_column(cells)
        if col.values is None:
            line = csvfile.file_lines(path, [rows[col.first_text]])[0]
            labels = sorted({str(x) for x in cells.to_pylist() if x is not None})
            values = TargetValues(target, tuple(labels), None, len(cells))
            readers = {n: f.auto(values) for n, f in FAMILIES.items() if n != family.name}
            hint = ", or ".join(f"--family {n} {c.hint}" for n, c in readers.items() if c)
            raise InputError(
                f"{path}: target column {target!r} is text ({col.first_text_value[:40]!r} at "
                f"line {line}) and --family {family.name} needs numbers; use "
                f"{hint or 'another family'}, or correct the cells"
            )
        _check_finite(path, target, cells, col.values, rows)
    return family, ""


def choose_family(cells, target: str) -> tuple[str, str]:
    """The family for ``--family auto`` from the target's values, and the sentence saying so.

    Each family answers for itself (``Family.auto``): sure (two values, text labels, numbers
    that are not counts), or one reading of several (whole non-negative numbers: numbers,
    classes, counts); exactly one sure family is chosen, otherwise the user is asked to choose
    among the readings.  When
    every cell is a number, values are compared as numbers (``1`` and ``1.0`` are one value,
    as are ``0`` and ``-0``), as the families' target encoders compare them."""
    values = _target_values(cells, target)
    claims = {name: f.auto(values) for name, f in FAMILIES.items()}
    claims = {name: c for name, c in claims.items() if c is not None}
    sure = [name for name, c in claims.items() if c.sure]
    if len(sure) == 1:
        name = sure[0]
        return (
            name,
            f"family {name} chosen (--family auto): target {target!r} {claims[name].reason}",
        )
    if values.whole_non_negative:
        v = values.numbers
        what = (
            f"holds whole numbers from {float(v.min()):g} to {float(v.max()):g} "
            f"({len(values.distinct)} values: counts or coded classes?)"
        )
    else:
        what = f"has {len(values.distinct)} values ({values.shown})"
    options = ", or ".join(f"--family {name} {c.hint}" for name, c in claims.items())
    raise InputError(
        f"target column {target!r} {what}; --family auto does not guess: use {options}"
        if claims
        else f"target column {target!r} {what}; no family reads it"
    )


def _target_values(cells, target: str) -> TargetValues:
    """What the families see of the target for ``--family auto``; refuses a constant target,
    a number that is not finite, and a column of numbers with some text cells."""
    import pyarrow.compute as pc

    col = csvfile.numeric_column(cells)
    numbers = None
    if col.values is not None:
        v = col.values[~np.isnan(col.values)] if np.isnan(col.values).any() else col.values
        if not np.all(np.isfinite(v)):
            raise InputError(
                f"target column {target!r} has a value that is not a finite number; correct "
                "it, or blank it and use --dropna"
            )
        numbers = v
        distinct = [_number_label(x) for x in np.unique(v)]  # -0.0 == 0.0: one value
    else:
        distinct = sorted(str(x) for x in pc.unique(cells).to_pylist() if x is not None)
        if col.n_numbers >= col.n_text and len(distinct) > 2:
            raise InputError(
                f"target column {target!r} holds numbers but {col.n_text:,} cell(s) are not, "
                f"e.g. {col.first_text_value[:40]!r}; correct them, or blank them and use --dropna"
            )
    values = TargetValues(target, tuple(distinct), numbers, len(cells))
    if len(distinct) < 2:
        raise InputError(
            f"target column {target!r} is constant (value {values.shown}); nothing to fit"
        )
    return values


def _number_label(x: float) -> str:
    """A number as a label in messages: ``1`` for 1.0, ``-0.5`` as it is (no np.float64)."""
    x = float(x) + 0.0  # -0.0 -> 0.0
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _short_list(names, limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _scaled_r(X: np.ndarray, intercept: bool, block: int = 65536) -> np.ndarray:
    """R of the QR factorisation of the column-equilibrated design B (each column divided by
    its largest |x|, centred with an intercept, then of unit norm), built block by block
    (R of [R_prev; next rows]), so no n x p copy is made: B's singular values and right
    singular vectors are R's.  FloatingPointError if a column cannot be scaled."""
    with np.errstate(all="raise", under="ignore"):
        scale = np.maximum(X.max(axis=0), -X.min(axis=0))  # largest |x|, without a copy
        mean = np.mean(X, axis=0) / scale if intercept else np.zeros(X.shape[1])
        R = np.zeros((0, X.shape[1]))
        for start in range(0, X.shape[0], block):
            B = X[start : start + block] / scale - mean
            R = np.linalg.qr(np.vstack([R, B]), mode="r")
        R = R / np.linalg.norm(R, axis=0)  # unit columns of B: B D = Q (R D)
    if not np.all(np.isfinite(R)):
        raise FloatingPointError("a column's values span more than double precision's range")
    return R


def check_design(X, feature_names, intercept: bool, source: str) -> None:
    """Reject designs that have no unique least-squares solution; keep ill-conditioned ones.

    Constant columns are collinear with the intercept (allowed without one); all-zero columns
    never carry information; exact or numerical collinearity is decided on the
    column-equilibrated design (centred when there is an intercept) with numpy's matrix_rank
    tolerance, s_max * max(n, p) * eps, so a design like NIST Filip (scaled condition number
    ~4e9) passes while x3 = x1 + 2 x2 does not.
    """
    X = np.asarray(X, dtype=np.float64)
    n, k = X.shape
    p = k + int(intercept)
    if n <= p:
        raise InputError(
            f"{source}: {n} rows for {p} parameters (incl. intercept); "
            f"need more rows than parameters (fewer features, or more rows)"
        )
    if k == 0:
        return
    for j, name in enumerate(feature_names):
        col = X[:, j]
        if not np.any(col):
            raise InputError(f"{source}: column {name!r} is all zero; leave it out (--features)")
        if intercept and np.all(col == col[0]):
            raise InputError(
                f"{source}: constant column {name!r} (value {col[0]:g}) is "
                f"collinear with the intercept; leave it out (--features) or use --no-intercept"
            )
    try:
        R = _scaled_r(X, intercept)
        _, s, vt = np.linalg.svd(R, full_matrices=False)
    except (np.linalg.LinAlgError, FloatingPointError) as exc:
        raise InputError(
            f"{source}: the design's rank cannot be computed ({exc}); rescale the columns"
        ) from None
    if intercept:  # the unit column 1/sqrt(n) is orthogonal to the centred columns
        s = np.r_[1.0, s]
        vt = np.block([[np.ones((1, 1)), np.zeros((1, k))], [np.zeros((k, 1)), vt]])
        order = np.argsort(-s, kind="stable")
        s, vt = s[order], vt[order]
    tol = s[0] * max(n, p) * np.finfo(np.float64).eps  # numpy's matrix_rank tolerance
    null = vt[s <= tol]
    if null.size:
        weights = np.max(np.abs(null), axis=0)
        names = (["(intercept)"] if intercept else []) + list(feature_names)
        involved = [nm for nm, w in zip(names, weights, strict=True) if w > 1e-3 * weights.max()]
        raise InputError(
            f"{source}: columns {', '.join(map(repr, involved))} are collinear "
            f"(a linear combination of them is zero); leave one of them out (--features)"
        )
