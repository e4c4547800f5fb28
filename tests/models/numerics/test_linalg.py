"""Closed forms (models.numerics.linalg) against 60-digit references on badly conditioned
designs."""

import numpy as np
import pytest
from reference import design_matrices, mp_lstsq
from tolerances import (
    CLOSED_FORM_COEF_RTOL,
    CLOSED_FORM_SE_RTOL,
    FACTOR_SOLVE_RTOL,
    QUADRATURE_RTOL,
)

from nll_losses.models.numerics import gaussian_closed_forms as gcf
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics import sigma_quadrature as sq

DESIGNS = design_matrices()


def rel_err(a, b):
    return np.abs(np.asarray(a) - b) / np.abs(b)


@pytest.fixture(scope="module", params=sorted(DESIGNS))
def problem(request):
    X, y, intercept = DESIGNS[request.param]
    A = la.design(X, intercept)
    beta, cov, rss = mp_lstsq(A, y)
    return request.param, A, y, intercept, beta, cov, rss


def test_ols_coefficients_and_standard_errors(problem):
    name, A, y, intercept, beta, cov, rss = problem
    n, p = A.shape
    fit = gcf.ols(A, y, intercept=intercept)
    assert np.all(rel_err(fit.beta, beta) <= CLOSED_FORM_COEF_RTOL), name
    se = np.sqrt(rss / (n - p) * np.diag(cov))
    if np.all(se > 0):
        assert np.all(rel_err(fit.se, se) <= CLOSED_FORM_SE_RTOL), name
    assert fit.sigma == pytest.approx(np.sqrt(rss / n), rel=CLOSED_FORM_SE_RTOL)


def test_ridge_matches_reference(problem):
    name, A, y, intercept, beta, _, rss = problem
    n, p = A.shape
    sigma = np.sqrt(rss / n)
    tau = np.full(p, 0.05 * np.max(np.abs(beta)))
    if intercept:
        tau[0] = np.inf  # flat intercept, as in the models
    L = np.where(np.isfinite(tau), sigma / tau, 0.0)
    ref, _, _ = mp_lstsq(A, y, L)
    fit = gcf.map_estimate(A, y, tau, intercept=intercept, sigma_known=sigma)
    assert np.all(rel_err(fit.beta, ref) <= CLOSED_FORM_COEF_RTOL), name
    np.testing.assert_allclose(fit.alpha, L**2)


def test_normal_equations_fail_the_promise():
    """The tier discriminates: the textbook normal equations miss 7 digits on Filip-like data."""
    X, y, intercept = DESIGNS["poly10_filip_like"]
    A = la.design(X, intercept)
    beta, _, _ = mp_lstsq(A, y)
    naive = np.linalg.solve(A.T @ A, A.T @ y)
    assert np.max(rel_err(naive, beta)) > CLOSED_FORM_COEF_RTOL


def test_wampler1_exact():
    """NIST StRD Wampler1: y = 1 + x + ... + x^5 on x = 0..20; certified beta = 1, RSS = 0."""
    x = np.arange(21.0)
    X = np.column_stack([x**k for k in range(1, 6)])
    y = np.polyval(np.ones(6), x)
    fit = gcf.ols(la.design(X, True), y, intercept=True)
    np.testing.assert_allclose(fit.beta, np.ones(6), rtol=CLOSED_FORM_COEF_RTOL)


@pytest.mark.parametrize(("name", "scale"), [("near_collinear", 0.1), ("poly10_filip_like", 1.0)])
def test_unknown_sigma_map_is_stationary(name, scale):
    """Joint (beta, sigma) mode: gradient of the find_MAP objective vanishes there (the
    Filip-like case with tau = 1 needs thousands of plain fixed-point steps)."""
    X, y, _ = DESIGNS[name]
    A = la.design(X, True)
    n, p = A.shape
    tau = np.full(p, scale)
    tau[0] = np.inf
    for S in (None, 2.0):
        fit = gcf.map_estimate(A, y, tau, intercept=True, sigma_prior_scale=S)
        r = y - A @ fit.beta
        prec = np.where(np.isfinite(tau), 1 / tau**2, 0.0)
        g_beta = -A.T @ r / fit.sigma**2 + prec * fit.beta
        g_sigma = n / fit.sigma - r @ r / fit.sigma**3 + (0 if S is None else fit.sigma / S**2)
        scale = np.abs(A.T) @ np.abs(r) / fit.sigma**2 + prec * np.abs(fit.beta)
        assert np.all(np.abs(g_beta) <= 1e-8 * scale)  # relative to the terms' size
        assert abs(g_sigma) <= 1e-10 * n / fit.sigma


@pytest.mark.parametrize("n", [12, 40, 400])
def test_quadrature_equals_student_t(n):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 3))
    y = 1 + X @ [1.0, -2.0, 0.5] + rng.normal(size=n)
    A = la.design(X, True)
    t = gcf.multivariate_t_posterior(A, y, intercept=True)
    q = sq.gaussian_posterior_by_quadrature(A, y, np.full(4, np.inf))
    for key in ("beta_mean", "beta_sd", "sigma_mean", "sigma_sd"):
        np.testing.assert_allclose(q[key], t[key], rtol=QUADRATURE_RTOL, err_msg=key)
    assert t["nu"] == n - 4 - 1


def test_known_sigma_posterior_is_conjugate_gaussian():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 2))
    y = X @ [0.5, 1.0] + 0.3 * rng.normal(size=30)
    A = la.design(X, True)
    tau = np.array([np.inf, 0.4, 0.4])
    q = sq.gaussian_posterior_by_quadrature(A, y, tau, sigma_known=0.3)
    H = A.T @ A / 0.09 + np.diag([0, 1 / 0.16, 1 / 0.16])
    np.testing.assert_allclose(q["beta_mean"], np.linalg.solve(H, A.T @ y / 0.09), rtol=1e-12)
    np.testing.assert_allclose(q["beta_sd"], np.sqrt(np.diag(np.linalg.inv(H))), rtol=1e-12)


def test_sigma_mode_halfnormal_root():
    rss, n, S = 7.3, 25, 0.4
    s = la.sigma_mode(rss, n, S)
    assert -n / s + rss / s**3 - s / S**2 == pytest.approx(0, abs=1e-12 * n / s)
    assert la.sigma_mode(rss, n, None) == pytest.approx(np.sqrt(rss / n))


def _large_design(kind: str, n: int = 1500):
    """Designs above ALWAYS_REFINE_ROWS: random columns with offsets (the factor's answer is
    enough) and a degree-6 polynomial on 0..20 (scaled condition ~1e5: refined)."""
    rng = np.random.default_rng(17)
    if kind == "random":
        X = rng.normal(size=(n, 4)) * [1.0, 30.0, 0.2, 5.0] + [0.0, 100.0, 0.0, -3.0]
    else:
        x = np.linspace(0.0, 20.0, n)
        X = np.column_stack([x**k for k in range(1, 7)])
    y = 2.0 + X @ np.linspace(1.0, 0.1, X.shape[1]) + rng.normal(size=n)
    return la.design(X, True), y


@pytest.mark.parametrize("kind", ["random", "polynomial"])
def test_factor_solves_match_reference_above_refine_rows(kind):
    """Penalised solves from one factor of [A y] (and refinement where its error estimate
    asks) against a 60-digit reference: coefficients, RSS and covariance, ridge and OLS."""
    A, y = _large_design(kind)
    n, p = A.shape
    assert n > la.ALWAYS_REFINE_ROWS
    fac = la.lstsq_factor(A, y, intercept=True)
    L = np.r_[0.0, np.full(p - 1, 3.0)]
    for pen in (None, L):
        beta, cov, rss = mp_lstsq(A, y, pen)
        fit = la.penalised_lstsq(A, y, pen, intercept=True, factor=fac)
        assert np.all(rel_err(fit.beta, beta) <= CLOSED_FORM_COEF_RTOL), (kind, pen)
        assert np.linalg.norm(fit.beta - beta) <= FACTOR_SOLVE_RTOL * np.linalg.norm(beta)
        assert fit.rss == pytest.approx(rss, rel=FACTOR_SOLVE_RTOL)
        assert np.all(rel_err(np.diag(fit.cov_unscaled), np.diag(cov)) <= FACTOR_SOLVE_RTOL)
        # the well-conditioned design is answered from the factor, the polynomial is refined
        assert (fit.iterations == 0) == (kind == "random"), (kind, fit.iterations)


def test_factor_estimate_flags_exact_fit():
    """An exact fit above ALWAYS_REFINE_ROWS: the RSS from the factor (rho^2) is rounding
    noise relative to y, so the estimate sends it to refinement, which finds RSS ~ 0."""
    x = np.linspace(0.0, 20.0, 1200)
    X = np.column_stack([x, x**2])
    y = 1.0 + x + x**2
    A = la.design(X, True)
    fit = la.penalised_lstsq(A, y, intercept=True)
    assert fit.iterations > 0
    assert la.is_exact_fit(fit.rss, y)
    np.testing.assert_allclose(fit.beta, np.ones(3), rtol=CLOSED_FORM_COEF_RTOL)


def test_factor_cache_is_keyed_by_content():
    """The same bytes give the cached factor; one changed value of y gives a new one."""
    A, y = _large_design("random")
    f1 = la.lstsq_factor(A, y, intercept=True)
    assert la.lstsq_factor(A.copy(), y.copy(), intercept=True) is f1
    y2 = y.copy()
    y2[7] += 1e-9
    f2 = la.lstsq_factor(A, y2, intercept=True)
    assert f2 is not f1 and f2.rho != f1.rho
    assert la.lstsq_factor(A, y, intercept=False) is not f1


def test_refined_covariance_in_blocks(monkeypatch):
    """The covariance refinement in blocks of 2 right-hand sides (the memory bound at large
    n) against the 60-digit reference."""
    A, y = _large_design("polynomial")
    monkeypatch.setattr(la, "REFINE_BLOCK_BYTES", 16 * A.shape[0] * 2)
    _, cov, _ = mp_lstsq(A, y)
    fit = la.penalised_lstsq(A, y, intercept=True)
    assert fit.iterations > 0
    assert np.all(rel_err(np.diag(fit.cov_unscaled), np.diag(cov)) <= FACTOR_SOLVE_RTOL)
