"""Datasets: the validated ``Dataset`` value, built-in datasets and user CSV files.

Layering: NumPy/pandas/scikit-learn only; nothing here knows PyMC or reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """A regression/classification dataset, validated once.

    Attributes
    ----------
    name : str
        Short name (case name or CSV file stem); user-provided, escape before HTML.
    X : ndarray, shape (n, k), float64
        Feature matrix, without an intercept column.
    y : ndarray, shape (n,)
        Target (float64 for the normal family).
    feature_names : tuple of str
        One per column of ``X``; user-provided.
    target : str
        Name of the target column.
    description : str
        One paragraph for the report.
    truth : dict or None
        Generating parameter values for synthetic data, by parameter name.
    target_info : dict
        What the family's target encoding found (e.g. which label is 1); empty for numbers.
    source : str
        Where the data came from (path or generator), for provenance.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target: str
    description: str = ""
    truth: dict[str, float] | None = None
    source: str = ""
    target_info: dict = field(default_factory=dict)

    @property
    def n_obs(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


# ----------------------------------------------------------------------------- built-in data
def synthetic_normal(seed: int | np.random.Generator, n: int = 48) -> Dataset:
    """Data shaped like the derivation: a few distinct x values, several y per x.

    y = 1.5 + 2.0 * x - 0.7 * z + N(0, 0.5^2), with x in {0, 1, ..., 5} (8 replicates each)
    and a second, continuous feature z ~ N(0, 1); n = 48 (other n: x cycles through 0..5).
    """
    rng = np.random.default_rng(seed)
    x = np.sort(np.arange(n) % 6.0)
    z = rng.standard_normal(x.size)
    truth = {"intercept": 1.5, "x": 2.0, "z": -0.7, "sigma": 0.5}
    y = truth["intercept"] + truth["x"] * x + truth["z"] * z
    y = y + truth["sigma"] * rng.standard_normal(x.size)
    return Dataset(
        name="synthetic",
        X=np.column_stack([x, z]),
        y=y,
        feature_names=("x", "z"),
        target="y",
        description=f"Simulated: 6 distinct x values with about {n // 6} replicates each and a "
        "continuous z; y = 1.5 + 2.0·x − 0.7·z + N(0, 0.5²).",
        truth=truth,
        source="analyses.datasets.synthetic_normal",
    )


def diabetes() -> Dataset:
    """scikit-learn's diabetes data (ships with scikit-learn; no download).

    442 patients, 10 baseline variables (age, sex, BMI, blood pressure, six serum measurements),
    each mean-centred and scaled by sqrt(n) times its sd (unit Euclidean norm), as scikit-learn
    provides them; target: a quantitative measure of disease progression one year after
    baseline.  Source: Efron, Hastie, Johnstone & Tibshirani (2004), "Least Angle Regression",
    Annals of Statistics 32(2), 407-499.
    """
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    return Dataset(
        name="diabetes",
        X=np.asarray(d.data, dtype=np.float64),
        y=np.asarray(d.target, dtype=np.float64),
        feature_names=tuple(d.feature_names),
        target="disease_progression",
        description="scikit-learn's diabetes data: 442 patients, 10 standardised baseline "
        "variables; target: disease progression one year after baseline (Efron et al. 2004, "
        "Annals of Statistics 32(2), 407–499).",
        source="sklearn.datasets.load_diabetes",
    )


def synthetic_logistic(seed: int | np.random.Generator, n: int = 80) -> Dataset:
    """The derivation's two-feature logistic model with known truth:
    y ~ Bernoulli(sigmoid(0.5 + 1.5 x1 - 2.0 x2)), x1, x2 ~ N(0, 1) independent, n = 80
    (small enough that the posterior is visibly skewed: mean != mode, sd != Laplace sd)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    truth = {"intercept": 0.5, "x1": 1.5, "x2": -2.0}
    z = truth["intercept"] + X @ np.array([truth["x1"], truth["x2"]])
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(float)
    return Dataset(
        name="logistic_synthetic",
        X=X,
        y=y,
        feature_names=("x1", "x2"),
        target="y",
        description="Simulated as in the derivation: y ~ Bernoulli(σ(0.5 + 1.5·x1 − 2.0·x2)), "
        f"x1, x2 ~ N(0, 1), n = {n}.",
        truth=truth,
        source=f"synthetic_logistic(seed={_seed_label(seed)})",
        target_info=_binary_info(y, "1", "0"),
    )


def _binary_info(y, positive: str, negative: str) -> dict:
    return {
        "positive (y = 1)": positive,
        "negative (y = 0)": negative,
        "count y = 1": int(np.sum(y)),
        "count y = 0": int(len(y) - np.sum(y)),
    }


def breast_cancer() -> Dataset:
    """scikit-learn's Wisconsin diagnostic breast cancer data (no download), the ten "mean"
    features, standardised (mean 0, sd 1); y = 1 for malignant.  With all 30 features the two
    classes are completely separated (Konis's LP finds a separating hyperplane), so the MLE
    does not exist; the ten mean features overlap.  Source: Street, Wolberg & Mangasarian
    (1993), Proc. SPIE 1905, 861-870; UCI Machine Learning Repository."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    X = np.asarray(d.data[:, :10], dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (d.target == 0).astype(float)  # scikit-learn codes malignant as 0
    names = tuple(f.replace("mean ", "mean_").replace(" ", "_") for f in d.feature_names[:10])
    return Dataset(
        name="breast_cancer",
        X=X,
        y=y,
        feature_names=names,
        target="diagnosis",
        description="scikit-learn's breast cancer data (569 tumours, Street et al. 1993): the "
        "ten 'mean' features, standardised; y = 1 for malignant. (With all 30 features the "
        "classes are completely separated and the MLE does not exist.)",
        source="sklearn.datasets.load_breast_cancer (first 10 columns, standardised)",
        target_info=_binary_info(y, "malignant", "benign"),
    )


def quasi_separated(seed: int | np.random.Generator) -> Dataset:
    """A small quasi-completely separated set, shaped like the clinical examples of Heinze &
    Schemper (2002): every exposed subject (``exposed = 1``) has the event, the unexposed ones
    have both outcomes depending on a continuous ``score``.  The MLE of ``exposed`` is +inf;
    Gaussian- and Jeffreys-prior MAPs are finite.  n = 30."""
    rng = np.random.default_rng(seed)
    n = 30
    exposed = np.r_[np.ones(8), np.zeros(n - 8)]
    while True:
        score = np.round(rng.standard_normal(n), 2)
        z = -0.5 + 1.0 * score
        y = np.where(exposed == 1, 1.0, (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float))
        rest = y[exposed == 0]
        if 3 <= rest.sum() <= rest.size - 3:  # the unexposed overlap: quasi-, not complete
            break
    return Dataset(
        name="quasi_separated",
        X=np.column_stack([exposed, score]),
        y=y,
        feature_names=("exposed", "score"),
        target="event",
        description="Small quasi-separated set (n = 30): all 8 exposed subjects have the "
        "event; among the unexposed the event depends on a continuous score "
        "(logit = −0.5 + score). The MLE does not exist (exposed → +∞).",
        source=f"quasi_separated(seed={_seed_label(seed)})",
        target_info=_binary_info(y, "event", "no event"),
    )


def _seed_label(seed) -> str:
    """The seed as written in a dataset's ``source`` (provenance)."""
    return str(seed) if isinstance(seed, int) else "generator"


def _class_info(classes, y) -> dict:
    from models.categorical import class_info

    return class_info(list(classes), y, classes[0])


def iris() -> Dataset:
    """Fisher's iris (scikit-learn's copy, no download): 150 flowers, 3 species, the four
    measurements in cm.  setosa is linearly separable from the other two, so the multinomial
    MLE does not exist; the Gaussian prior's MAP does.  Source: Fisher (1936), Annals of
    Eugenics 7(2), 179-188; UCI Machine Learning Repository."""
    from sklearn.datasets import load_iris

    d = load_iris()
    names = tuple(f.replace(" (cm)", "").replace(" ", "_") for f in d.feature_names)
    y = np.asarray(d.target, dtype=float)
    return Dataset(
        name="iris",
        X=np.asarray(d.data, dtype=np.float64),
        y=y,
        feature_names=names,
        target="species",
        description="Fisher's iris (1936): 150 flowers, 3 species, four measurements in cm. "
        "setosa is linearly separable from the others, so the flat-prior MLE does not exist.",
        source="sklearn.datasets.load_iris",
        target_info=_class_info(list(d.target_names), y),
    )


def synthetic_softmax(seed: int | np.random.Generator, n: int = 300) -> Dataset:
    """Three classes, two features, known truth with class "a" as baseline (logits 0):
    z_b = 0.5 + 1.5 x1 - 1.0 x2,  z_c = -0.5 - 1.0 x1 + 2.0 x2,  x ~ N(0, I), n = 300."""
    from scipy.special import softmax

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    truth = {
        "b:intercept": 0.5,
        "b:x1": 1.5,
        "b:x2": -1.0,
        "c:intercept": -0.5,
        "c:x1": -1.0,
        "c:x2": 2.0,
    }
    Z = np.column_stack(
        [
            np.zeros(n),
            truth["b:intercept"] + X @ [truth["b:x1"], truth["b:x2"]],
            truth["c:intercept"] + X @ [truth["c:x1"], truth["c:x2"]],
        ]
    )
    P = softmax(Z, axis=1)
    y = np.array([rng.choice(3, p=row) for row in P], dtype=float)
    return Dataset(
        name="softmax_synthetic",
        X=X,
        y=y,
        feature_names=("x1", "x2"),
        target="y",
        description="Simulated softmax regression, classes a (baseline), b, c: "
        f"z_b = 0.5 + 1.5·x1 − 1.0·x2, z_c = −0.5 − 1.0·x1 + 2.0·x2, x ~ N(0, I), n = {n}.",
        truth=truth,
        source=f"synthetic_softmax(seed={_seed_label(seed)})",
        target_info=_class_info(["a", "b", "c"], y),
    )


def synthetic_rings(seed: int | np.random.Generator) -> Dataset:
    """A non-linear 3-class set in 2-D: class by distance from the origin (inner disc, middle
    ring, outer ring; radii ~ 0.5, 1.5, 2.5 with noise) at uniform angles, n = 150.  No
    linear softmax separates them; a relu network with a few hidden units can."""
    rng = np.random.default_rng(seed)
    per = 50
    radius = np.concatenate([rng.normal(r, 0.35, per) for r in (0.5, 1.5, 2.5)])
    angle = rng.uniform(0, 2 * np.pi, 3 * per)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    y = np.repeat(np.arange(3.0), per)
    return Dataset(
        name="network_rings",
        X=X,
        y=y,
        feature_names=("x1", "x2"),
        target="ring",
        description="Simulated: three noisy concentric rings in 2-D (radii 0.5, 1.5, 2.5, "
        "noise sd 0.35), 50 points each. Not linearly separable: fitted with a "
        "one-hidden-layer relu network.",
        source=f"synthetic_rings(seed={_seed_label(seed)})",
        target_info=_class_info(["inner", "middle", "outer"], y),
    )


def dice(seed: int | np.random.Generator) -> Dataset:
    """Intercept-only: 60 rolls of a loaded four-sided die, q = (0.1, 0.2, 0.3, 0.4)."""
    rng = np.random.default_rng(seed)
    q = np.array([0.1, 0.2, 0.3, 0.4])
    y = rng.choice(4, size=60, p=q).astype(float)
    classes = ["1", "2", "3", "4"]
    return Dataset(
        name="categorical_frequencies",
        X=np.zeros((60, 0)),
        y=y,
        feature_names=(),
        target="face",
        description="Intercept only: 60 rolls of a loaded four-sided die with "
        "q = (0.1, 0.2, 0.3, 0.4); the MLE is the class frequencies.",
        truth={f"P({c})": float(v) for c, v in zip(classes, q, strict=True)},
        source=f"dice(seed={_seed_label(seed)})",
        target_info=_class_info(classes, y),
    )


# ----------------------------------------------------------------------------- user CSV files
def load_csv(
    path,
    target: str,
    features: list[str] | None = None,
    intercept: bool = True,
    family=None,
    options=None,
) -> Dataset:
    """Read and validate a user's CSV; every problem is one ``InputError`` line naming it.

    Features must be numbers; the target is encoded by ``family.encode_target`` (numbers for
    the normal family, two labels for a binary one, ...), whose ``ValueError`` names the column
    and the values found.
    """
    import pandas as pd

    from analyses.errors import InputError

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a CSV file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot be read as CSV ({first})") from None
    columns = [str(c).strip() for c in frame.columns]
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    raw_names = list(frame.columns)
    if any(str(c).startswith("Unnamed: ") for c in raw_names):
        raise InputError(f"{path}: a column has no name in the header")
    if dupes or any(c != c.strip() and c.strip() in columns for c in map(str, raw_names)):
        raise InputError(f"{path}: duplicate column name(s) {', '.join(map(repr, dupes))}")
    frame.columns = columns
    if frame.shape[0] == 0:
        raise InputError(f"{path}: no data rows (header only)")
    if target not in columns:
        raise InputError(
            f"{path}: target column {target!r} not found; columns are {_short_list(columns)}"
        )
    if features is None:
        features = [c for c in columns if c != target]
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
    if not features:
        raise InputError(f"{path}: no feature columns besides the target {target!r}")
    if family is None:
        from models import get_family

        family = get_family("normal")
    values = {c: _numeric_column(frame[c], c, path) for c in features}
    X = np.column_stack([values[c] for c in features])
    try:
        y, target_info = family.encode_target(
            list(frame[target].astype(str)), target, options or family.Options()
        )
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    check_design(X, list(features), intercept, str(path))
    return Dataset(
        name=path.stem,
        X=X,
        y=y,
        feature_names=tuple(features),
        target=target,
        description=f"User data from {path.name}: {X.shape[0]} rows, {len(features)} feature(s).",
        source=str(path),
        target_info=target_info,
    )


def _short_list(names, limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _numeric_column(col, name, path) -> np.ndarray:
    from analyses.errors import InputError
    from models.family import parse_numeric

    try:
        return parse_numeric(list(col.astype(str)), name)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None


def check_design(X, feature_names, intercept: bool, source: str) -> None:
    """Reject designs that have no unique least-squares solution; keep ill-conditioned ones.

    Constant columns are collinear with the intercept (allowed without one); all-zero columns
    never carry information; exact or numerical collinearity is decided on the
    column-equilibrated design (centred when there is an intercept) with numpy's matrix_rank
    tolerance, s_max * max(n, p) * eps, so a design like NIST Filip (scaled condition number
    ~4e9) passes while x3 = x1 + 2 x2 does not.
    """
    from analyses.errors import InputError

    X = np.asarray(X, dtype=np.float64)
    n, k = X.shape
    p = k + int(intercept)
    if n <= p:
        raise InputError(
            f"{source}: {n} rows for {p} parameters (incl. intercept); "
            f"need more rows than parameters"
        )
    for j, name in enumerate(feature_names):
        col = X[:, j]
        if not np.any(col):
            raise InputError(f"{source}: column {name!r} is all zero")
        if intercept and np.all(col == col[0]):
            raise InputError(
                f"{source}: constant column {name!r} (value {col[0]:g}) is "
                f"collinear with the intercept"
            )
    B = X - X.mean(axis=0) if intercept else X
    B = B / np.linalg.norm(B, axis=0)
    if intercept:
        B = np.column_stack([np.full(n, 1 / np.sqrt(n)), B])
    _, s, vt = np.linalg.svd(B, full_matrices=False)
    tol = s[0] * max(B.shape) * np.finfo(np.float64).eps
    null = vt[s <= tol]
    if null.size:
        weights = np.max(np.abs(null), axis=0)
        names = (["(intercept)"] if intercept else []) + list(feature_names)
        involved = [nm for nm, w in zip(names, weights, strict=True) if w > 1e-3 * weights.max()]
        raise InputError(
            f"{source}: columns {', '.join(map(repr, involved))} are collinear "
            f"(a linear combination of them is zero)"
        )
