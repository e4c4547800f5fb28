"""The exact Gaussian posterior at any n (10 to 10^6): quadrature over sigma vs closed forms.

Pure NumPy/SciPy/mpmath, no PyMC.  The tier is the report's: QUADRATURE_RTOL x max(|ref|, sd)
(analyses.tolerances.quadrature), with ``sd`` the reference posterior sd of that parameter.
References are independent of the code under test: the Student t side is the closed form
(checked itself against mpmath below), and with Gaussian or HalfNormal priors the reference is
an mpmath integral over log sigma of the 60-digit conditional posterior built from exact
(integer) sufficient statistics, never from the quadrature's QR basis or grid.
"""

import mpmath as mp
import numpy as np
import pytest
from tolerances import QUADRATURE_RTOL

from models import linalg as la

P = 5


def _data(n, seed, offset=1e3):
    """y = X w + b + noise with a large intercept and offset features (cancellation bait)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P - 1)) * [1.0, 3.0, 0.2, 10.0] + [5.0, -40.0, 0.0, 300.0]
    y = offset + X @ [1.0, -0.5, 2.0, 0.01] + rng.normal(scale=1.5, size=n)
    return la.design(X, True), y


def _within_tier(got, ref, sd):
    got, ref, sd = map(np.atleast_1d, (got, ref, sd))
    return np.abs(got - ref) <= QUADRATURE_RTOL * np.maximum(np.abs(ref), np.abs(sd))


@pytest.mark.parametrize("nu", [3, 4, 7, 19, 20, 21, 101, 2_001, 19_990, 999_994, 10**8])
def test_inverse_gamma_sigma_moments_match_mpmath(nu):
    """E[sigma] and sd(sigma) for sigma^2 ~ InvGamma(nu/2, RSS/2) against 50-digit mpmath
    (the gammaln-difference form lost 2e-3 of the sd at nu ~ 1e6)."""
    rss = 1.7 * nu
    mean, sd = la.inverse_gamma_sigma_moments(rss, nu)
    with mp.workdps(50):
        a, b = mp.mpf(nu) / 2, mp.mpf(rss) / 2
        m = mp.sqrt(b) * mp.gamma(a - mp.mpf(1) / 2) / mp.gamma(a)
        s = mp.sqrt(b / (a - 1) - m**2)
    # the closed form is far inside the tier: 1e-13 relative
    assert abs(mean - float(m)) <= 1e-13 * float(m)
    assert abs(sd - float(s)) <= 1e-13 * float(s)


@pytest.mark.parametrize("n", [10, 100, 1_000, 10_000, 100_000])
def test_quadrature_equals_student_t_at_any_n(n):
    """Flat coefficients, HalfFlat sigma: the quadrature's moments are the multivariate t's.
    (beta_mean is OLS on both sides; sigma's moments and the E[sigma^2] in beta_sd are not.)"""
    A, y = _data(n, seed=n)
    q = la.gaussian_posterior_by_quadrature(A, y, np.full(P, np.inf))
    t = la.multivariate_t_posterior(A, y, intercept=True)
    for key, sd in [
        ("sigma_mean", t["sigma_sd"]),
        ("sigma_sd", t["sigma_sd"]),
        ("beta_mean", t["beta_sd"]),
        ("beta_sd", t["beta_sd"]),
    ]:
        assert np.all(_within_tier(q[key], t[key], sd)), (key, q[key], t[key])
    assert q["grid_check"] <= la.QUADRATURE_CHECK


def test_sigma_quadrature_at_a_million_rows():
    """n = 10^6 (sigma only: the beta moments' refined solves are what is slow there).  The
    reference RSS is NumPy's lstsq residual, not the quadrature's projection."""
    n = 1_000_000
    A, y = _data(n, seed=6)
    q = la.gaussian_posterior_by_quadrature(A, y, np.full(P, np.inf), beta=False)
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    r = y - A @ beta
    mean, sd = la.inverse_gamma_sigma_moments(float(r @ r), n - P - 1)
    assert _within_tier(q["sigma_mean"], mean, sd) and _within_tier(q["sigma_sd"], sd, sd)
    assert abs(q["log_sigma_scale"] * np.sqrt(2 * n) - 1) < 0.01  # the curvature scale


def _integer_data(n, seed):
    """Small-integer X and y: X'X, X'y and y'y are exact in float64 (all sums < 2^53)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-5, 6, size=(n, 3)).astype(float)
    y = np.round(7 + X @ [1.0, -2.0, 0.5] + 3.0 * rng.normal(size=n))
    A = la.design(X, True)
    Ai = A.astype(np.int64)
    stats = (Ai.T @ Ai, Ai.T @ y.astype(np.int64), int(y.astype(np.int64) @ y.astype(np.int64)))
    return A, y, stats


def _mp_reference(stats, n, prec, sigma_prior_scale):
    """Posterior moments by mpmath Gauss-Legendre quadrature over u = log sigma at 25 digits.

    # l(u) = -(n - 1) u - 1/2 log|H| - 1/2 (y'y/s2 - b'H^-1 b / s2) [- s2/(2 S^2)],
    # H = X'X / s2 + P, b = X'y / s2; E[beta | s] = H^-1 b, Var[beta | s] = diag(H^-1).
    """
    S, Xy, yy = stats
    p = S.shape[0]
    with mp.workdps(25):
        Sm = mp.matrix([[int(v) for v in row] for row in S])
        bm = mp.matrix([int(v) for v in Xy])
        Pm = mp.diag([mp.mpf(0) if v == 0 else mp.mpf(v) for v in prec])
        cache = {}

        def at(u):
            if u not in cache:
                s2 = mp.exp(2 * u)
                H = Sm / s2 + Pm
                mu = mp.lu_solve(H, bm / s2)
                logdet = mp.log(mp.det(H))
                smin = yy / s2 - (bm.T * mu)[0] / s2
                lp = -(n - 1) * u - logdet / 2 - smin / 2
                if sigma_prior_scale is not None:
                    lp -= s2 / (2 * mp.mpf(sigma_prior_scale) ** 2)
                inv = mp.inverse(H)
                cache[u] = (lp, mu, [inv[i, i] for i in range(p)])
            return cache[u]

        # centre of the breakpoints: log sqrt(RSS / n) from the exact statistics
        u_c = mp.log((yy - (bm.T * mp.lu_solve(Sm, bm))[0]) / n) / 2
        lp0 = at(u_c)[0]
        s = 1 / mp.sqrt(2 * n)
        pts = sorted({u_c - 3, *(u_c + s * k for k in (-12, -4, 0, 4, 12, 40)), u_c + 12})

        def integral(f):
            return mp.quad(lambda u: mp.exp(at(u)[0] - lp0) * f(u), pts, method="gauss-legendre")

        z = integral(lambda u: 1)
        e1 = integral(lambda u: mp.exp(u)) / z
        e2 = integral(lambda u: mp.exp(2 * u)) / z
        bmean = [integral(lambda u, i=i: at(u)[1][i]) / z for i in range(p)]
        b2 = [integral(lambda u, i=i: at(u)[2][i] + at(u)[1][i] ** 2) / z for i in range(p)]
        return {
            "sigma_mean": float(e1),
            "sigma_sd": float(mp.sqrt(e2 - e1**2)),
            "beta_mean": np.array([float(v) for v in bmean]),
            "beta_sd": np.array([float(mp.sqrt(b2[i] - bmean[i] ** 2)) for i in range(p)]),
        }


@pytest.mark.parametrize(
    "n, tau, sigma_scale, beta",
    [
        (40, 0.5, None, True),  # Gaussian coefficients, HalfFlat sigma, few rows
        (100_000, 0.05, 2.0, True),  # strong Gaussian prior, HalfNormal sigma
        (1_000_000, 0.01, 1.0, False),  # sigma only (see above)
    ],
)
def test_quadrature_matches_mpmath_with_priors(n, tau, sigma_scale, beta):
    A, y, stats = _integer_data(n, seed=n)
    tau = np.r_[np.inf, np.full(3, tau)]
    prec = np.where(np.isfinite(tau), 1.0 / tau**2, 0.0)
    q = la.gaussian_posterior_by_quadrature(
        A,
        y,
        tau,
        sigma_prior="halfflat" if sigma_scale is None else "halfnormal",
        sigma_prior_scale=sigma_scale,
        beta=beta,
    )
    ref = _mp_reference(stats, n, prec, sigma_scale)
    keys = [("sigma_mean", "sigma_sd"), ("sigma_sd", "sigma_sd")]
    if beta:
        keys += [("beta_mean", "beta_sd"), ("beta_sd", "beta_sd")]
    for key, sd in keys:
        assert np.all(_within_tier(q[key], ref[key], ref[sd])), (key, q[key], ref[key])
