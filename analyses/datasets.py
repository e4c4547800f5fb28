"""Datasets: the validated ``Dataset`` value and the built-in data sets (a user's CSV file:
``analyses.user_data``).

Layering: NumPy/pandas/scikit-learn only; nothing here knows PyMC or reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import softmax

from nll_losses.models.families.categorical.spec import class_info


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
    rows : dict
        Per-row data the family reads besides y, by role (the Poisson offset; the family's
        ``Options.columns``), aligned with ``X``; empty for most.
    source : str
        Where the data came from (path or generator), for provenance.
    reading : dict
        For a user's CSV file, what reading it decided: ``family`` (the family the target was
        encoded for), ``has_intercept`` (from ``--formula``, or the flag) and ``choices`` (the
        sentences stating them: family chosen, columns dummy-coded, rows dropped), which the
        description repeats; empty for built-in data.
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
    reading: dict = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)

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
        source="nll_losses.analyses.datasets.synthetic_normal",
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

    classes = [str(c) for c in classes]  # plain str: numpy's np.str_ shows its repr on pages
    return class_info(classes, y, classes[0])


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


def synthetic_counts(seed: int | np.random.Generator, n: int = 200) -> Dataset:
    """Counts with known truth: y ~ Poisson(exp(0.5 + 0.8 x1 - 0.4 x2)), x1, x2 ~ N(0, 1)
    independent, n = 200 (means from about 0.3 to 15)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    truth = {"intercept": 0.5, "x1": 0.8, "x2": -0.4}
    eta = truth["intercept"] + X @ np.array([truth["x1"], truth["x2"]])
    y = rng.poisson(np.exp(eta)).astype(float)
    return Dataset(
        name="counts_synthetic",
        X=X,
        y=y,
        feature_names=("x1", "x2"),
        target="y",
        description="Simulated counts: y ~ Poisson(exp(0.5 + 0.8·x1 − 0.4·x2)), x1, x2 ~ N(0, 1), "
        f"n = {n}.",
        truth=truth,
        source=f"synthetic_counts(seed={_seed_label(seed)})",
        target_info=_count_info(y),
    )


def _count_info(y) -> dict:
    return {"total count": int(np.sum(y)), "zeros": int(np.sum(np.asarray(y) == 0))}


def tv_news() -> Dataset:
    """The 1996 American National Election Study (statsmodels.datasets.anes96, public domain;
    ships with statsmodels): days in the past week the respondent watched TV news (0-7) of
    944 respondents, against log population of their area, age, education and income (each
    standardised: mean 0, sd 1, so that one τ suits every weight)."""
    import statsmodels.api as sm

    d = sm.datasets.anes96.load_pandas().data
    names = ("logpopul", "age", "educ", "income")
    X = np.asarray(d[list(names)], dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.asarray(d["TVnews"], dtype=np.float64)
    return Dataset(
        name="tv_news",
        X=X,
        y=y,
        feature_names=names,
        target="TVnews",
        description="The 1996 American National Election Study (statsmodels' anes96): days of "
        "TV news in the past week (0–7) of 944 respondents, against the log population of "
        "their area, age, education and income, each standardised. The counts stop at 7 and "
        "pile up at 0 and 7, which no Poisson mean can produce: the posterior predictive check "
        "shows the misfit. The agreement claims are about the estimators of this model, "
        "whether or not it suits the data.",
        source="statsmodels.datasets.anes96",
        target_info=_count_info(y),
    )


def cancer_rates() -> Dataset:
    """Breast cancer cases in 301 counties with each county's population as the exposure
    (statsmodels.datasets.cancer, from Rice, *Mathematical Statistics and Data Analysis*;
    ships with statsmodels): intercept only, offset log(population), so the rate is cases
    per person."""
    import statsmodels.api as sm

    d = sm.datasets.cancer.load_pandas().data
    y = np.asarray(d["cancer"], dtype=np.float64)
    return Dataset(
        name="cancer_rates",
        X=np.zeros((len(y), 0)),
        y=y,
        feature_names=(),
        target="cancer",
        description="Breast cancer cases in 301 counties (statsmodels' cancer data, from Rice, "
        "Mathematical Statistics and Data Analysis) with log(population) as the offset: one "
        "rate per person, intercept only.",
        source="statsmodels.datasets.cancer",
        target_info=_count_info(y),
        rows={"offset": np.log(np.asarray(d["population"], dtype=np.float64))},
    )


# the family a CSV is read for when none is named (``analyses.user_data.load_csv``)
DEFAULT_FAMILY = "normal"
