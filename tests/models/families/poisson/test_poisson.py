"""The Poisson family's NumPy references, each against something independent of it:
statsmodels' GLM and scikit-learn (with an offset), a generic SciPy minimiser of the MAP
objective written here, the conjugate Gamma posterior against scipy.stats, importance
sampling against the flat-prior posterior of the log rate in closed form, the existence
linear program on data whose MLE does not exist, the loss ledger at extreme linear
predictors, and the target encoding.  Fast: no PyMC compile."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize
from scipy.special import digamma, polygamma
from tolerances import ARITH_RTOL, CLOSED_FORM_SE_RTOL, FIND_MAP_RTOL, MCSE_Z

from nll_losses.models.families.poisson import FAMILY
from nll_losses.models.families.poisson.references import (
    closed_form_fit,
    exact_posterior_fit,
    importance_fit,
    newton_fit,
    sklearn_fit,
    statsmodels_fit,
)
from nll_losses.models.families.poisson.spec import PoissonOptions
from nll_losses.models.family import Settings, new_problem

# the Gamma posterior's mean a/b and sd √a/b, ours and scipy.stats.gamma's: the same two or
# three float64 operations (each ≤ ε relative), so 1e-13 relative is that with margin
GAMMA_FORMULA_RTOL = 1e-13
# log(Σy/Σe), with Σe = exp(logsumexp(offset)) in ours: the exp-log round trip costs a few
# ulp of Σe, so 1e-14 relative (about 45 ulp of the log) is that with margin
LOG_RATE_RTOL = 1e-14


def _problem(X, y, prior="flat", offset=None, tau=1.0, features=None, **options):
    features = features or tuple(f"x{j + 1}" for j in range(X.shape[1]))
    settings = Settings(prior_scale=tau, options=PoissonOptions(**options))
    rows = {} if offset is None else {"offset": offset}
    return new_problem(FAMILY, X, y, features, {}, settings, prior, rows)


def _data(seed=4, n=150):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    offset = np.log(rng.uniform(0.5, 8.0, n))
    y = rng.poisson(np.exp(offset - 0.3 + X @ np.array([0.5, -0.7]))).astype(float)
    return X, y, offset


def _direct_map(X, y, offset, tau):
    """The MAP objective Σ exp(η) − yη + ‖w‖²/(2τ²) (flat intercept), minimised by BFGS."""
    A = np.column_stack([np.ones(len(y)), X])
    prec = np.r_[0.0, np.full(X.shape[1], 1.0 / tau**2 if tau else 0.0)]

    def f(b):
        eta = offset + A @ b
        return np.sum(np.exp(eta) - y * eta) + 0.5 * np.sum(prec * b**2), A.T @ (
            np.exp(eta) - y
        ) + prec * b

    return minimize(f, np.zeros(A.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-10}).x


def _close(ours: dict, ref, rtol=FIND_MAP_RTOL):
    ref = np.asarray(list(ref.values()) if isinstance(ref, dict) else ref, float)
    got = np.asarray(list(ours.values()), float)
    assert np.allclose(got, ref, rtol=rtol, atol=rtol), (got, ref)


def test_newton_is_the_mle_of_statsmodels_glm_with_an_offset():
    X, y, offset = _data()
    problem = _problem(X, y, offset=offset)
    ours, sm = newton_fit(problem, {}), statsmodels_fit(problem, {})
    _close(ours["mean"], sm["mean"])
    _close(ours["sd"], sm["sd"], CLOSED_FORM_SE_RTOL)
    _close(ours["mean"], _direct_map(X, y, offset, None))


@pytest.mark.parametrize("prior", ["flat", "gaussian"])
def test_newton_is_poisson_regressor_with_exposure_weights(prior):
    """scikit-learn has no offset: fitted to y/e with weights e, alpha = 1/(Σe·τ²)."""
    X, y, offset = _data(seed=9)
    problem = _problem(X, y, prior, offset=offset, tau=0.5)
    ours = newton_fit(problem, {})["mean"]
    _close(sklearn_fit(problem, {})["mean"], ours)
    _close(ours, _direct_map(X, y, offset, 0.5 if prior == "gaussian" else None))


def test_zero_counts_on_one_side_have_no_mle_but_a_gaussian_map():
    x = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], float)
    z = np.array([0.3, -0.2, 1.1, 0.5, -1.0, 0.2, 1.4, -0.7, 0.9, -0.3])
    y = np.array([0, 0, 0, 0, 1, 2, 3, 1, 4, 2], float)
    X = np.column_stack([x, z])
    flat = _problem(X, y, features=("x", "z"))
    for method in ("newton", "find_map", "statsmodels", "sklearn", "nuts"):
        support = FAMILY.supports(method, flat)
        assert not support.ok and "x → −∞" in support.reason, (method, support.reason)
    gaussian = _problem(X, y, "gaussian", tau=1.0, features=("x", "z"))
    assert FAMILY.supports("find_map", gaussian).ok
    ours = newton_fit(gaussian, {})["mean"]
    _close(ours, _direct_map(X, y, np.zeros(len(y)), 1.0))
    _close(sklearn_fit(gaussian, {})["mean"], ours)


def test_gamma_model_closed_forms_are_scipys_gamma():
    rng = np.random.default_rng(2)
    y = rng.poisson(3.0, 40).astype(float)
    offset = np.log(rng.uniform(0.5, 2.0, 40))
    problem = _problem(np.zeros((40, 0)), y, "gamma", offset=offset, gamma_a=2.5, gamma_b=0.5)
    a, b = 2.5 + y.sum(), 0.5 + np.exp(offset).sum()
    post = stats.gamma(a, scale=1.0 / b)
    exact = exact_posterior_fit(problem, {})
    assert exact["mean"]["rate"] == pytest.approx(post.mean(), rel=GAMMA_FORMULA_RTOL)
    assert exact["sd"]["rate"] == pytest.approx(post.std(), rel=GAMMA_FORMULA_RTOL)
    mode = minimize(
        lambda t: -post.logpdf(t[0]),
        [post.mean()],
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-15},
    ).x[0]
    # a generic minimiser's argmin: about sqrt(ε) relative, inside the find_MAP tier
    assert closed_form_fit(problem, {})["mean"]["rate"] == pytest.approx(mode, rel=FIND_MAP_RTOL)


def test_importance_sampling_matches_the_log_rate_posterior():
    """Intercept only, flat prior: exp(intercept) ~ Gamma(Σy, Σe), so the intercept has
    mean digamma(Σy) − log Σe and sd √trigamma(Σy)."""
    rng = np.random.default_rng(7)
    y = rng.poisson(0.8, 25).astype(float)
    problem = _problem(np.zeros((25, 0)), y)
    fit = importance_fit(problem, {}, seed=3)
    S, E = y.sum(), 25.0
    mean, sd = digamma(S) - np.log(E), np.sqrt(polygamma(1, S))
    assert abs(fit["mean"]["intercept"] - mean) <= MCSE_Z * fit["mcse_mean"]["intercept"]
    assert abs(fit["sd"]["intercept"] - sd) <= MCSE_Z * fit["info"]["mcse_sd"]["intercept"]
    closed = closed_form_fit(problem, {})
    assert closed["mean"]["intercept"] == pytest.approx(np.log(S / E), rel=LOG_RATE_RTOL)


def test_ledger_agrees_at_extreme_linear_predictors():
    X, y, offset = _data(seed=5, n=80)
    problem = _problem(X, y, offset=offset)
    rows = FAMILY.ledger(problem, {}, np.random.default_rng(0))
    assert max(r.values["max |η|"] for r in rows) >= 45.0  # |x·β| = 50, plus the offset
    for row in rows:
        for left, right in row.checks:
            a, b = row.values[left], row.values[right]
            assert abs(a - b) <= ARITH_RTOL * len(y) * row.magnitude, (row.at, left, right)


@pytest.mark.parametrize(
    "cells, said",
    [
        (["1", "2", "1.5", "0"], "1.5"),
        (["1", "-2", "3", "0"], "-2"),
        (["0", "0", "0"], "0 in every"),
    ],
)
def test_target_must_be_counts(cells, said):
    with pytest.raises(ValueError, match="count") as err:
        FAMILY.encode_target(cells, "visits", PoissonOptions())
    assert said in str(err.value) and "'visits'" in str(err.value)
    y, info = FAMILY.encode_target(["3", "3.0", "0"], "visits", PoissonOptions())
    assert list(y) == [3.0, 3.0, 0.0] and info["zeros"] == 1


def test_large_counts_and_exposures_are_fitted_by_every_reference():
    """Counts of about 2·10⁴ and exposures from 10⁻⁶ to 10⁶: statsmodels' and
    scikit-learn's stopping rules are relative to the data's scale (an absolute one is never
    met there), and both find Newton's MLE."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(60, 2))
    offset = rng.uniform(np.log(1e-6), np.log(1e6), 60)
    y = rng.poisson(np.exp(10.0 + X @ np.array([0.3, -0.2]))).astype(float)
    for off in (None, offset - 10.0):
        problem = _problem(X, y, offset=off)
        ours = newton_fit(problem, {})["mean"]
        _close(statsmodels_fit(problem, {})["mean"], ours)
        _close(sklearn_fit(problem, {})["mean"], ours)


def test_counts_beyond_double_precision_are_refused():
    with pytest.raises(ValueError, match="2\\^53"):
        FAMILY.encode_target(["1", "2", "1e19"], "visits", PoissonOptions())
