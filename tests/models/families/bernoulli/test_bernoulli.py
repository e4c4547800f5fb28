"""The Bernoulli family's NumPy references, each against something independent of it: the loss
identities, separation detection on data built to be (or not be) separated, Newton against
statsmodels / a generic SciPy minimiser / firthmodels, importance sampling against quadrature,
and the target encoding.  Fast: no PyMC compile."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit
from tolerances import ARITH_RTOL, FIND_MAP_RTOL, MCSE_Z

from nll_losses.models.families.bernoulli import FAMILY
from nll_losses.models.families.bernoulli.spec import NLL_LOGLOSS, BernoulliOptions
from nll_losses.models.family import Settings, new_problem
from nll_losses.models.numerics import logistic as lg

FAMILY = FAMILY


def _data(seed=3, n=60, w=(0.4, 1.2, -0.8)):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(w) - 1))
    A = np.column_stack([np.ones(n), X])
    y = (rng.random(n) < expit(A @ np.array(w))).astype(float)
    return A, y


# ------------------------------------------------------------------------------ ledger
def test_loss_identities_moderate_logits():
    """-log pmf = n * sklearn log_loss = BCE from logits, summed in float64 (Higham §4.2)."""
    from sklearn.metrics import log_loss

    A, y = _data()
    z = A @ np.array([0.3, -2.0, 1.5])
    pmf, bce = lg.nll_pmf(y, z), lg.bce_from_logits(y, z)
    ll = len(y) * log_loss(y, expit(z), labels=[0, 1])
    # the direct formula, written out here independently
    direct = -np.sum(y * np.log(expit(z)) + (1 - y) * np.log(1 - expit(z)))
    for v in (bce, ll, direct):
        assert abs(pmf - v) <= ARITH_RTOL * len(y) * max(abs(pmf), 1.0)


def test_bce_from_logits_is_stable_at_extreme_logits():
    """At |z| = 50 the naive formula overflows/loses everything; ours is exact: a wrong
    prediction at z costs softplus(z) = z + log1p(e^-z), a right one log1p(e^-|z|)."""
    z = np.array([50.0, -50.0, 50.0, -50.0, 700.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.0])
    expected = 2 * np.log1p(np.exp(-50.0)) + 2 * (50.0 + np.log1p(np.exp(-50.0))) + 700.0
    with np.errstate(all="raise"):  # no overflow warning either
        assert lg.bce_from_logits(y, z) == pytest.approx(expected, rel=4 * np.finfo(float).eps)
        assert lg.nll_pmf(y, z) == pytest.approx(expected, rel=4 * np.finfo(float).eps)


def test_family_ledger_rows_all_agree():
    A, y = _data()
    problem = _problem(A[:, 1:], y, "flat")
    rows = FAMILY.ledger(problem, {}, np.random.default_rng(0))
    extreme = [r for r in rows if "extreme" in r.at]
    assert extreme and extreme[0].values["max |z|"] == pytest.approx(50.0)
    assert NLL_LOGLOSS not in extreme[0].values  # clipped there, so not compared
    for row in rows:
        for left, right in row.checks:
            a, b = row.values[left], row.values[right]
            assert np.isfinite(a) and np.isfinite(b)
            assert abs(a - b) <= ARITH_RTOL * len(y) * row.magnitude, (row.at, left, right)


# ------------------------------------------------------------------------------ separation
def test_separation_complete():
    x = np.arange(8.0)
    y = (x >= 4).astype(float)
    sep = lg.detect_separation(np.column_stack([np.ones(8), x]), y)
    assert sep.kind == "complete"
    assert sep.direction[1] > 0  # the slope runs to +inf


def test_separation_quasi_complete():
    """Every x1 = 1 row has y = 1; the x1 = 0 rows overlap (ties at the boundary)."""
    x1 = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1.0])
    x2 = np.array([0.3, -0.2, 0.5, 1.0, -1.1, 0.2, 0.0, 2.0, -1.0])
    y = np.array([0, 1, 0, 1, 0, 1, 1, 1, 1.0])
    sep = lg.detect_separation(np.column_stack([np.ones(9), x1, x2]), y)
    assert sep.kind == "quasi-complete"
    assert sep.direction[1] > 0 and sep.direction[2] == 0


def test_no_separation_on_overlapping_data():
    A, y = _data()
    assert lg.detect_separation(A, y).kind == "none"


def test_separation_only_in_combination():
    """y = 1 iff x1 + x2 > 0: neither column separates alone, together they do."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(float)
    for j in (0, 1):
        alone = lg.detect_separation(np.column_stack([np.ones(40), X[:, j]]), y)
        assert alone.kind == "none", j
    both = lg.detect_separation(np.column_stack([np.ones(40), X]), y)
    assert both.kind == "complete"
    d = both.direction
    assert d[1] > 0 and d[2] > 0


def test_separated_flat_estimators_unavailable_naming_the_variable():
    x1 = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1.0])
    x2 = np.array([0.3, -0.2, 0.5, 1.0, -1.1, 0.2, 0.0, 2.0, -1.0])
    y = np.array([0, 1, 0, 1, 0, 1, 1, 1, 1.0])
    X = np.column_stack([x1, x2])
    flat = _problem(X, y, "flat", features=("exposed", "score"))
    for method in ("find_map", "laplace", "nuts", "statsmodels", "sklearn", "newton"):
        support = FAMILY.supports(method, flat)
        assert not support.ok and support.offered
        assert "exposed → +∞" in support.reason and "score" not in support.reason
    for prior in ("gaussian", "jeffreys"):
        assert FAMILY.supports("find_map", _problem(X, y, prior)).ok


# ------------------------------------------------------------------------------ Newton
def _problem(X, y, prior, features=None, prior_scale=1.5):
    features = features or tuple(f"x{j + 1}" for j in range(X.shape[1]))
    return new_problem(FAMILY, X, y, features, {}, Settings(prior_scale=prior_scale), prior)


def _minimise(A, y, prec, firth):
    """An independent minimiser of the same objective written out here (BFGS, numerical
    gradient-free check by its own convergence), from zero."""

    def f(b):
        z = A @ b
        val = np.sum(np.logaddexp(0, z) - y * z) + 0.5 * np.sum(prec * b**2)
        if firth:
            w = expit(z) * (1 - expit(z))
            val -= 0.5 * np.linalg.slogdet(A.T @ (w[:, None] * A))[1]
        return val

    res = minimize(
        f,
        np.zeros(A.shape[1]),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 40000, "maxfev": 40000},
    )
    res = minimize(f, res.x, method="BFGS", options={"gtol": 1e-10})
    return res.x


def test_newton_mle_matches_statsmodels():
    import statsmodels.api as sm

    A, y = _data()
    r = lg.newton(A, y)
    sm_res = sm.Logit(y, A).fit(method="bfgs", gtol=1e-12, maxiter=5000, disp=0)
    sd = np.sqrt(np.diag(r.cov))
    assert r.converged
    assert np.all(np.abs(r.beta - sm_res.params) <= FIND_MAP_RTOL * np.maximum(abs(r.beta), sd))
    assert np.allclose(sd, sm_res.bse, rtol=1e-5)


@pytest.mark.parametrize("firth", [False, True])
def test_newton_map_and_firth_match_a_generic_minimiser(firth):
    A, y = _data(seed=9, n=40)
    prec = np.array([0.0, 0.5, 0.5]) if not firth else np.zeros(3)
    r = lg.newton(A, y, prec, firth=firth)
    ref = _minimise(A, y, prec, firth)
    sd = np.sqrt(np.diag(r.cov))
    assert r.converged
    # BFGS's gtol 1e-10 is the weak side: |db| <= H^-1 g ~ 1e-9 sd
    assert np.all(np.abs(r.beta - ref) <= FIND_MAP_RTOL * np.maximum(abs(ref), sd))


def test_firth_matches_firthmodels_also_under_separation():
    firthmodels = pytest.importorskip("firthmodels")
    x = np.arange(6.0)
    for X, y in [
        (x[:, None], np.array([0, 0, 0, 1, 1, 1.0])),  # completely separated
        (_data(seed=4, n=50)[0][:, 1:], _data(seed=4, n=50)[1]),
    ]:
        A = np.column_stack([np.ones(len(y)), X])
        r = lg.newton(A, y, firth=True)
        # its NumPy backend, as the report's firth reference (its Numba one compiles for 12 s)
        est = firthmodels.FirthLogisticRegression(
            gtol=1e-8, xtol=1e-8, max_iter=500, backend="numpy"
        )
        est.fit(X, y)
        ref = np.r_[est.intercept_, est.coef_]
        sd = np.sqrt(np.diag(r.cov))
        assert np.all(np.isfinite(r.beta))
        assert np.all(np.abs(r.beta - ref) <= FIND_MAP_RTOL * np.maximum(abs(ref), sd))


# ------------------------------------------------------------------------------ posterior
def test_importance_sampling_matches_quadrature():
    """Posterior mean and sd of a two-coefficient model by a 2-D grid (trapezoid, 401^2 points
    over +-12 Laplace sds) vs importance sampling: within MCSE_Z Monte Carlo standard errors."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=25)
    A = np.column_stack([np.ones(25), x])
    y = (rng.random(25) < expit(0.3 + 1.5 * x)).astype(float)
    prec = np.array([0.0, 0.25])
    mode = lg.newton(A, y, prec)
    sd = np.sqrt(np.diag(mode.cov))
    g0 = np.linspace(mode.beta[0] - 12 * sd[0], mode.beta[0] + 12 * sd[0], 401)
    g1 = np.linspace(mode.beta[1] - 12 * sd[1], mode.beta[1] + 12 * sd[1], 401)
    B0, B1 = np.meshgrid(g0, g1, indexing="ij")
    Z = B0[..., None] + B1[..., None] * x
    logp = -(np.sum(np.logaddexp(0, Z) - y * Z, axis=-1) + 0.5 * prec[1] * B1**2)
    w = np.exp(logp - logp.max())
    total = np.trapezoid(np.trapezoid(w, g1, axis=1), g0)
    mean = [np.trapezoid(np.trapezoid(w * B, g1, axis=1), g0) / total for B in (B0, B1)]
    var = [
        np.trapezoid(np.trapezoid(w * (B - m) ** 2, g1, axis=1), g0) / total
        for B, m in zip((B0, B1), mean, strict=True)
    ]
    r = lg.importance_posterior(A, y, prec, False, np.random.default_rng(0), draws=60000)
    assert np.all(np.abs(r["mean"] - mean) <= MCSE_Z * r["mcse_mean"])
    assert np.all(np.abs(r["sd"] - np.sqrt(var)) <= MCSE_Z * r["mcse_sd"])
    assert r["ess"] > 10000


def test_fisher_logdets_match_one_matrix_at_a_time():
    """The batched log det(A' W A) (one BLAS product over rows, kept or rebuilt a row block at a
    time) vs numpy's slogdet of each weighted cross-product: first-order perturbation bound
    p · cond(F) · (sum of n terms, ARITH_RTOL · n)."""
    rng = np.random.default_rng(5)
    n, p = 500, 4
    A = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    W = lg._weights(rng.normal(size=(7, p)) @ A.T)
    for block in (lg.BLOCK_ELEMENTS, 25):  # K kept / K rebuilt in blocks of 2 rows
        got = lg.fisher_logdets(A, W, block)
        for k in range(len(W)):
            F = (A * W[k][:, None]).T @ A
            ref = np.linalg.slogdet(F)[1]
            assert abs(got[k] - ref) <= p * np.linalg.cond(F) * n * ARITH_RTOL


def test_importance_sampling_does_not_depend_on_block_size():
    """Blocks of draws x rows are a memory bound, not a change of estimator: a tiny block (many
    sub-chunks, Fisher products rebuilt per row block) gives the same Jeffreys-prior draws and
    weights as the default, so the same mean to rounding (sums of n terms: ARITH_RTOL · n)."""
    A, y = _data(n=80)
    prec = np.zeros(A.shape[1])
    a = lg.importance_posterior(A, y, prec, True, np.random.default_rng(1), draws=3000)
    b = lg.importance_posterior(
        A, y, prec, True, np.random.default_rng(1), draws=3000, block_elements=170
    )
    tol = ARITH_RTOL * len(y)
    assert a["ess"] == pytest.approx(b["ess"], rel=tol)
    assert np.all(np.abs(a["mean"] - b["mean"]) <= tol * a["sd"])


# ------------------------------------------------------------------------------ target
def test_encode_target_labels_and_positive():
    y, info = FAMILY.encode_target(["0", "1", "1"], "t", None)
    assert y.tolist() == [0, 1, 1] and info["positive (y = 1)"] == "1"
    y, info = FAMILY.encode_target(["no", "yes", "no"], "t", None)
    assert y.tolist() == [0, 1, 0] and info["negative (y = 0)"] == "no"
    y, _ = FAMILY.encode_target(["no", "yes", "no"], "t", BernoulliOptions("no"))
    assert y.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    "cells, options, words",
    [
        (["a", "b", "c"], None, ["'t'", "found 3", "'a'", "'c'", "--family categorical"]),
        (["0.5", "1.25", "-2", "3.5"], BernoulliOptions("yes"), ["--family normal"]),
        (["1", "2", "3", "1", "2", "3"], None, ["found 3", "--family categorical"]),
        (["a", "a"], None, ["'t'", "found 1"]),
        (["a", "", "b"], None, ["'t'", "row 3", "missing"]),
        (["a", "b"], BernoulliOptions("z"), ["'z'", "'t'", "'a'", "'b'"]),
    ],
)
def test_encode_target_errors_name_column_and_values(cells, options, words):
    with pytest.raises(ValueError) as exc:
        FAMILY.encode_target(cells, "t", options)
    msg = str(exc.value)
    assert "\n" not in msg
    for word in words:
        assert word in msg, (word, msg)
