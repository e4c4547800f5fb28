"""The hyperparameter translation table (each family's translations.py, analyses/translate.py): one
test per row, on small fixed problems.

Each row's library fit is verified against our MAP, computed here independently of every
library: the family's own closed form (normal: refined-QR ridge, with σ's mode when σ is
unknown; intercept-only Dirichlet: (α + c − 1)/(Σα + n − K)) or Newton solver (bernoulli,
softmax regression), never seeded with a library's answer.  Each test also recomputes the
translated value from the problem's n, σ, τ (K, α) by the formula written here.  The network's
rows are verified by objective identity (no MAP needed).  Tolerances are the report's tiers
(``analyses.tolerances``): optimiser for parameters, arithmetic for objective values.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from nll_losses.analyses import tolerances
from nll_losses.analyses.datasets import Dataset
from nll_losses.analyses.problems import make_problem
from nll_losses.analyses.results import Estimate
from nll_losses.analyses.translate import KEYS, verify
from nll_losses.models import FAMILIES
from nll_losses.models.families.categorical.spec import CategoricalOptions
from nll_losses.models.families.normal.spec import NormalOptions
from nll_losses.models.family import Settings
from nll_losses.models.priors import Known

N_NORMAL, SIGMA, TAU_NORMAL = 40, 0.7, 0.5
N_BERN, TAU_BERN = 60, 1.5
N_SOFT, TAU_SOFT = 90, 1.0
N_NET, TAU_NET, HIDDEN = 60, 1.0, 3
N_DICE, ALPHA, K_DICE = 40, 2.0, 4


# ------------------------------------------------------------------------------ problems
def _categorical_data(name, X, y_codes, labels) -> tuple:
    family = FAMILIES["categorical"]
    cells = [labels[k] for k in y_codes]
    y, info = family.encode_target(cells, "y", None)
    feats = tuple(f"x{j + 1}" for j in range(X.shape[1]))
    return family, Dataset(name, X, y, feats, "y", target_info=info)


def _softmax_codes(rng, X, B) -> np.ndarray:
    Z = np.column_stack([np.ones(len(X)), X]) @ B
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return np.array([rng.choice(B.shape[1], p=p) for p in P])


@functools.cache
def problem(key: str):
    """(family, Problem) of each small fixed problem."""
    if key.startswith("normal"):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(N_NORMAL, 2))
        y = 1.0 + 2.0 * X[:, 0] - 0.5 * X[:, 1] + SIGMA * rng.normal(size=N_NORMAL)
        family = FAMILIES["normal"]
        data = Dataset("normal", X, y, ("x1", "x2"), "y")
        options = NormalOptions(Known(SIGMA)) if key == "normal-known" else NormalOptions()
        tau0 = 2.0 if key == "normal-tau0" else None
        settings = Settings(prior_scale=TAU_NORMAL, options=options, intercept_prior_scale=tau0)
    elif key == "bernoulli":
        rng = np.random.default_rng(3)
        X = rng.normal(size=(N_BERN, 2))
        p = 1 / (1 + np.exp(-(0.4 + 1.2 * X[:, 0] - 0.8 * X[:, 1])))
        y = (rng.uniform(size=N_BERN) < p).astype(float)
        family = FAMILIES["bernoulli"]
        data = Dataset("bernoulli", X, y, ("x1", "x2"), "y", target_info={})
        settings = Settings(prior_scale=TAU_BERN)
    elif key == "softmax":
        rng = np.random.default_rng(5)
        X = rng.normal(size=(N_SOFT, 2))
        B = np.array([[0.0, 0.3, -0.2], [0.0, 1.0, -0.5], [0.0, -0.4, 0.8]])
        family, data = _categorical_data(key, X, _softmax_codes(rng, X, B), "abc")
        settings = Settings(prior_scale=TAU_SOFT)
    elif key == "network":
        rng = np.random.default_rng(7)
        X = rng.normal(size=(N_NET, 2))
        r = np.hypot(X[:, 0], X[:, 1])
        codes = np.digitize(r + 0.3 * rng.normal(size=N_NET), [0.8, 1.4])  # noisy rings
        family, data = _categorical_data(key, X, codes, "abc")
        settings = Settings(prior_scale=TAU_NET, options=CategoricalOptions(hidden=HIDDEN))
    elif key == "dirichlet":
        rng = np.random.default_rng(9)
        codes = rng.choice(K_DICE, p=[0.1, 0.2, 0.3, 0.4], size=N_DICE)
        family, data = _categorical_data(key, np.zeros((N_DICE, 0)), codes, "1234")
        settings = Settings(options=CategoricalOptions(dirichlet_alpha=ALPHA))
    else:
        raise KeyError(key)
    prior = "dirichlet" if key == "dirichlet" else "gaussian"
    return family, make_problem(family, data, settings, prior)


@functools.cache
def our_map(key: str) -> tuple[Estimate | None, dict]:
    """Our MAP from the family's own reference (no library, no PyMC) and the sd scaling the
    optimiser tier; None for the network (its rows compare objective values)."""
    family, pb = problem(key)
    refs = family.references()
    if key == "network":
        return None, {}
    ref = "newton" if key in ("bernoulli", "softmax") else "closed_form"
    fit = refs[ref].fit(pb, {})
    sd = (
        refs["exact_posterior"].fit(pb, {})["sd"] if key.startswith("normal") else fit.get("sd", {})
    )
    return Estimate(ref, pb.prior, mean=fit["mean"], sd=sd), sd


class OneRow:
    """The family with its table cut to one row (each test fits only its own row)."""

    def __init__(self, family, row_id, change=None):
        self.family, self.row_id, self.change = family, row_id, change

    def translations(self, pb, mode=None, seed=0):
        rows = [r for r in self.family.translations(pb, mode, seed) if r.id == self.row_id]
        assert len(rows) == 1, f"no row {self.row_id}"
        return [self.change(rows[0]) if self.change else rows[0]]

    def objective(self, *args):
        return self.family.objective(*args)


def verify_row(key: str, row_id: str, change=None) -> dict:
    family, pb = problem(key)
    estimate, sd = our_map(key)
    (row,) = verify(OneRow(family, row_id, change), pb, estimate, sd)
    assert set(row) == set(KEYS)
    return row


# ------------------------------------------------------------------------------ the formulas
def _sigma(key: str) -> float:
    """σ the rows must use: the known value, or our MAP's mode of σ (unknown σ)."""
    return SIGMA if key == "normal-known" else our_map(key)[0].mean["sigma"]


def expected_value(key: str, row_id: str) -> float:
    """Each row's value from first principles (the MAP objective times the library's scale)."""
    if key.startswith("normal"):
        n, s2, t2 = N_NORMAL, _sigma(key) ** 2, TAU_NORMAL**2
        return {
            "normal:sklearn-ridge": s2 / t2,  # ‖r‖² + α‖w‖² = 2σ² (‖r‖²/(2σ²) + ‖w‖²/(2τ²))
            "normal:statsmodels-ols": s2 / (n * t2),  # RSS/(2n) + a‖w‖²/2 = σ²/n × ...
            "normal:sgd-half-mse": s2 / (n * t2),  # mean r²/2 + λ‖w‖²/2 = σ²/n × ...
            "normal:sgd-mseloss": 2 * s2 / (n * t2),  # mean r² + λ‖w‖²/2 = 2σ²/n × ...
        }[row_id]
    if key == "bernoulli":
        n, t2 = N_BERN, TAU_BERN**2
    elif key == "softmax":
        n, t2 = N_SOFT, TAU_SOFT**2
    elif key == "network":
        n, t2 = N_NET, TAU_NET**2
    else:  # Dirichlet(α): smoothed targets' mean = the mode (c + α − 1)/(n + K(α − 1))
        return K_DICE * (ALPHA - 1) / (N_DICE + K_DICE * (ALPHA - 1))
    return {
        "sklearn-logistic": t2,  # C Σ CE + ‖w‖²/2 = τ² (Σ CE + ‖w‖²/(2τ²))
        "statsmodels-glm": 1 / (n * t2),  # −loglike/n + a‖w‖²/2 = 1/n × ...
        "statsmodels": 1 / (n * t2),
        "sgd-bce": 1 / (n * t2),  # mean CE + λ‖w‖²/2 = 1/n × ...
        "sgd-ce": 1 / (n * t2),
        "sklearn-mlp": 1 / t2,  # mean CE + α‖W‖²/(2n) = 1/n × (Σ CE + ‖W‖²/(2τ²))
        "sgd-network": 1 / (n * t2),
    }[row_id.split(":")[1]]


CASES = [
    ("normal-known", "normal:sklearn-ridge"),
    ("normal-known", "normal:statsmodels-ols"),
    ("normal-known", "normal:sgd-half-mse"),
    ("normal-known", "normal:sgd-mseloss"),
    ("normal-unknown", "normal:sklearn-ridge"),
    ("normal-unknown", "normal:statsmodels-ols"),
    ("normal-unknown", "normal:sgd-half-mse"),
    ("normal-unknown", "normal:sgd-mseloss"),
    ("bernoulli", "bernoulli:sklearn-logistic"),
    ("bernoulli", "bernoulli:statsmodels-glm"),
    ("bernoulli", "bernoulli:sgd-bce"),
    ("softmax", "categorical:sklearn-logistic"),
    ("softmax", "categorical:sgd-ce"),
    ("network", "categorical:sklearn-mlp"),
    ("network", "categorical:sgd-network"),
    ("dirichlet", "categorical:label-smoothing"),
]


# ------------------------------------------------------------------------------ the tests
def test_every_row_has_a_test():
    """The parametrisation below covers every row the families build for these problems."""
    built = {
        (key, r.id)
        for key in (
            "normal-known",
            "normal-unknown",
            "bernoulli",
            "softmax",
            "network",
            "dirichlet",
        )
        for r in problem(key)[0].translations(
            problem(key)[1], our_map(key)[0].mean if our_map(key)[0] else None
        )
    }
    assert built == set(CASES) | {("softmax", "categorical:statsmodels")}


@pytest.mark.parametrize(("key", "row_id"), CASES, ids=[f"{k}|{r}" for k, r in CASES])
def test_row_agrees_with_our_map(key, row_id):
    row = verify_row(key, row_id)
    assert row["value"] == pytest.approx(expected_value(key, row_id), rel=1e-14)
    assert row["ok"] is True, row
    assert row["max_abs_diff"] <= row["tolerance"]
    if row["compare"] == "objective":
        assert row["tier"] == "arithmetic" and row["at"] == "objective"
    else:
        estimate, sd = our_map(key)
        ref = estimate.mean[row["at"]]
        assert row["tier"] == "optimiser"
        assert row["tolerance"] == tolerances.optimiser(ref, sd.get(row["at"]))


def test_statsmodels_has_no_multinomial_l2():
    """Listed with its value, marked not available (never a made-up fit)."""
    row = verify_row("softmax", "categorical:statsmodels")
    assert row["value"] == pytest.approx(1 / (N_SOFT * TAU_SOFT**2), rel=1e-14)
    assert row["ok"] is None and row["reason"].startswith("not available in statsmodels")
    assert "L1" in row["reason"]


def test_intercept_prior_penalised_where_the_library_can():
    """With a N(0, τ₀²) intercept prior: Ridge cannot (ok None, reason), statsmodels' alpha
    vector and the SGD bias group can, and agree with our closed form."""
    ridge = verify_row("normal-tau0", "normal:sklearn-ridge")
    assert ridge["ok"] is None and "intercept" in ridge["reason"]
    for row_id in ("normal:statsmodels-ols", "normal:sgd-half-mse", "normal:sgd-mseloss"):
        row = verify_row("normal-tau0", row_id)
        assert row["ok"] is True, row


def test_a_wrong_translation_fails():
    """Ridge at the per-sample alpha σ²/(nτ²) (the statsmodels value) is a different estimate;
    MLPClassifier at alpha = 1/(nτ²) has a different objective: both rows must fail."""
    from sklearn.linear_model import Ridge
    from sklearn.neural_network import MLPClassifier

    from nll_losses.models.families.categorical.network import network_params
    from nll_losses.models.translation import Fitted

    key = "normal-known"
    _, pb = problem(key)
    wrong_alpha = SIGMA**2 / (N_NORMAL * TAU_NORMAL**2)

    def wrong_ridge(row):
        def fit():
            est = Ridge(alpha=wrong_alpha).fit(pb.X, pb.y)
            return Fitted(
                {"intercept": float(est.intercept_)}
                | dict(zip(pb.features, est.coef_, strict=True))
            )

        return dataclasses.replace(row, fit=fit)

    row = verify_row(key, "normal:sklearn-ridge", wrong_ridge)
    assert row["ok"] is False and row["max_abs_diff"] > 100 * row["tolerance"], row

    _, net = problem("network")

    def wrong_mlp(row):
        def fit():
            clf = MLPClassifier(
                hidden_layer_sizes=(HIDDEN,),
                solver="lbfgs",
                alpha=1 / (N_NET * TAU_NET**2),
                max_iter=2000,
                random_state=0,
            ).fit(net.X, net.y.astype(int))
            (W1, W2), (b1, b2) = clf.coefs_, clf.intercepts_
            params = network_params(net, W1, b1, W2, b2)
            return Fitted(params, objective=float(N_NET * clf.loss_))

        return dataclasses.replace(row, fit=fit)

    row = verify_row("network", "categorical:sklearn-mlp", wrong_mlp)
    assert row["ok"] is False and row["max_abs_diff"] > 100 * row["tolerance"], row


def test_without_find_map_parameter_rows_are_not_judged():
    family, pb = problem("bernoulli")
    failed = Estimate("find_map", "gaussian", status="failed", reason="it diverged")
    rows = verify(family, pb, failed, {})
    assert [r["ok"] for r in rows] == [None, None, None]
    assert all(r["reason"] == "find_MAP is failed: it diverged" for r in rows)
    rows = verify(family, pb, None, {})
    assert all(r["ok"] is None and r["reason"] == "find_MAP was not run" for r in rows)
    # σ unknown and no mode: the normal rows have no value to use
    family, pb = problem("normal-unknown")
    rows = verify(family, pb, None, {})
    assert rows and all(r["ok"] is None and "needs σ" in r["reason"] for r in rows)


def test_a_fit_that_raises_is_a_failed_row_not_a_traceback():
    def broken(row):
        def fit():
            raise np.linalg.LinAlgError("Singular matrix\nsecond line")

        return dataclasses.replace(row, fit=fit)

    row = verify_row("bernoulli", "bernoulli:sgd-bce", broken)
    assert row["ok"] is False and row["reason"] == "LinAlgError: Singular matrix"


def test_flat_and_jeffreys_problems_have_no_rows():
    for key, priors in (("bernoulli", ("flat", "jeffreys")), ("softmax", ("flat",))):
        family, pb = problem(key)
        data = Dataset("t", pb.X, pb.y, pb.features, "y", target_info=pb.target_info)
        for prior in priors:
            assert family.translations(make_problem(family, data, Settings(), prior)) == []
