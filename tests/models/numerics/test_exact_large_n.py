"""The exact Gaussian posterior at any n (10 to 10^6): quadrature over sigma vs closed forms.

Pure NumPy/SciPy/mpmath, no PyMC.  The tier is the report's: QUADRATURE_RTOL x max(|ref|, sd)
(analyses.tolerances.quadrature), with ``sd`` the reference posterior sd of that parameter.
References are independent of the code under test: the Student t side is the closed form
(checked itself against mpmath below), and with Gaussian or HalfNormal priors the reference is
a Gauss-Legendre integral over log sigma of the conditional posterior evaluated in 30-digit
mpmath from exact (integer) sufficient statistics, never from the quadrature's QR basis or grid.
"""

import mpmath as mp
import numpy as np
import pytest
from tolerances import CURVATURE_SCALE_RTOL, MPMATH_REFERENCE_RTOL, QUADRATURE_RTOL

from nll_losses.models.numerics import gaussian_closed_forms as gcf
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics import sigma_quadrature as sq

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
    mean, sd = gcf.inverse_gamma_sigma_moments(rss, nu)
    with mp.workdps(50):
        a, b = mp.mpf(nu) / 2, mp.mpf(rss) / 2
        m = mp.sqrt(b) * mp.gamma(a - mp.mpf(1) / 2) / mp.gamma(a)
        s = mp.sqrt(b / (a - 1) - m**2)
    # far inside QUADRATURE_RTOL, which it is the reference for
    assert abs(mean - float(m)) <= MPMATH_REFERENCE_RTOL * float(m)
    assert abs(sd - float(s)) <= MPMATH_REFERENCE_RTOL * float(s)


@pytest.mark.parametrize("n", [10, 100, 1_000, 10_000, 100_000])
def test_quadrature_equals_student_t_at_any_n(n):
    """Flat coefficients, HalfFlat sigma: the quadrature's moments are the multivariate t's.
    (beta_mean is OLS on both sides; sigma's moments and the E[sigma^2] in beta_sd are not.)"""
    A, y = _data(n, seed=n)
    q = sq.gaussian_posterior_by_quadrature(A, y, np.full(P, np.inf))
    t = gcf.multivariate_t_posterior(A, y, intercept=True)
    for key, sd in [
        ("sigma_mean", t["sigma_sd"]),
        ("sigma_sd", t["sigma_sd"]),
        ("beta_mean", t["beta_sd"]),
        ("beta_sd", t["beta_sd"]),
    ]:
        assert np.all(_within_tier(q[key], t[key], sd)), (key, q[key], t[key])
    assert q["grid_check"] <= sq.QUADRATURE_CHECK


def test_sigma_quadrature_at_a_million_rows():
    """n = 10^6 (sigma only: the beta moments' refined solves are what is slow there).  The
    reference RSS is NumPy's lstsq residual, not the quadrature's projection."""
    n = 1_000_000
    A, y = _data(n, seed=6)
    q = sq.gaussian_posterior_by_quadrature(A, y, np.full(P, np.inf), beta=False)
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    r = y - A @ beta
    mean, sd = gcf.inverse_gamma_sigma_moments(float(r @ r), n - P - 1)
    assert _within_tier(q["sigma_mean"], mean, sd) and _within_tier(q["sigma_sd"], sd, sd)
    assert abs(q["log_sigma_scale"] * np.sqrt(2 * n) - 1) < CURVATURE_SCALE_RTOL


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
    """Posterior moments by Gauss-Legendre quadrature over u = log sigma of the conditional
    posterior evaluated in mpmath at 30 digits (nodes: NumPy's leggauss, two orders whose
    answers must agree to 1e-13, a check on the reference itself).

    # l(u) = -(n - 1) u - 1/2 log|H| - 1/2 (y'y/s2 - b'H^-1 b / s2) [- s2/(2 S^2)],
    # H = X'X / s2 + P, b = X'y / s2; E[beta | s] = H^-1 b, Var[beta | s] = diag(H^-1).
    """
    S, Xy, yy = stats
    p = S.shape[0]
    with mp.workdps(30):
        Sm = mp.matrix([[int(v) for v in row] for row in S])
        bm = mp.matrix([int(v) for v in Xy])
        Pm = mp.diag([mp.mpf(0) if v == 0 else mp.mpf(v) for v in prec])

        def at(u):
            """log density, E[beta | sigma], Var[beta | sigma] (diagonal) at u."""
            s2 = mp.exp(2 * u)
            H = Sm / s2 + Pm
            inv = mp.inverse(H)
            mu = inv * (bm / s2)
            smin = yy / s2 - (bm.T * mu)[0] / s2
            lp = -(n - 1) * u - mp.log(mp.det(H)) / 2 - smin / 2
            if sigma_prior_scale is not None:
                lp -= s2 / (2 * mp.mpf(sigma_prior_scale) ** 2)
            return lp, [mu[i] for i in range(p)], [inv[i, i] for i in range(p)]

        # centre of the breakpoints: log sqrt(RSS / n) from the exact statistics
        u_c = mp.log((yy - (bm.T * mp.lu_solve(Sm, bm))[0]) / n) / 2
        lp0 = at(u_c)[0]
        s = 1 / mp.sqrt(2 * n)
        # breakpoints: at +-4, 12, 40 curvature-like scales s and, when the posterior is wide
        # (few rows), every 1/2 in u; the upper tail decays like exp(-u) at worst here
        ks = (-12, -8, -4, -2, 0, 2, 4, 8, 12, 20, 40)
        edges = {u_c - 3, *(u_c + s * k for k in ks), u_c + 12, u_c + 25}
        if 40 * s > 1:
            edges |= {u_c + k / 2 for k in range(-6, 12)} | {u_c + k for k in range(6, 25)}
        edges = sorted(edges)

        def moments(order):
            x, wq = np.polynomial.legendre.leggauss(order)
            acc = [mp.mpf(0)] * (3 + 2 * p)
            for a, b in zip(edges[:-1], edges[1:], strict=False):
                for xi, wi in zip(x, wq, strict=True):
                    u = (a + b) / 2 + (b - a) / 2 * mp.mpf(xi)
                    lp, mu, var = at(u)
                    f = mp.exp(lp - lp0) * mp.mpf(wi) * (b - a) / 2
                    vals = [
                        1,
                        mp.exp(u),
                        mp.exp(2 * u),
                        *mu,
                        *(v + m**2 for v, m in zip(var, mu, strict=True)),
                    ]
                    acc = [t + f * v for t, v in zip(acc, vals, strict=True)]
            z = acc[0]
            e1, e2 = acc[1] / z, acc[2] / z
            bmean = [t / z for t in acc[3 : 3 + p]]
            b2 = [t / z for t in acc[3 + p :]]
            return {
                "sigma_mean": float(e1),
                "sigma_sd": float(mp.sqrt(e2 - e1**2)),
                "beta_mean": np.array([float(v) for v in bmean]),
                "beta_sd": np.array([float(mp.sqrt(b2[i] - bmean[i] ** 2)) for i in range(p)]),
            }

        ref, check = moments(24), moments(16)
        for key in ref:
            np.testing.assert_allclose(
                check[key], ref[key], rtol=MPMATH_REFERENCE_RTOL, err_msg="reference"
            )
        return ref


@pytest.mark.parametrize(
    "n, tau, sigma_scale, beta",
    [
        (100_000, 0.05, 2.0, True),  # strong Gaussian prior, HalfNormal sigma
        (1_000_000, 0.01, 1.0, False),  # sigma only (see above)
    ],
)
def test_quadrature_matches_mpmath_with_priors(n, tau, sigma_scale, beta):
    A, y, stats = _integer_data(n, seed=n)
    tau = np.r_[np.inf, np.full(3, tau)]
    prec = np.where(np.isfinite(tau), 1.0 / tau**2, 0.0)
    q = sq.gaussian_posterior_by_quadrature(
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


def test_quadrature_matches_mpmath_with_two_joint_modes():
    """Few rows, a steep signal and a moderate Gaussian prior: the joint posterior has a
    small-sigma mode near the data and a large-sigma one near beta = 0 (map_estimate finds
    both), so the sigma marginal is skewed and wide; the grid must cover it all."""
    rng = np.random.default_rng(0)
    n = 10
    X = rng.integers(-3, 4, size=(n, 3)).astype(float)
    y = np.round(X @ [6.0, -6.0, 6.0] + 0.5 * rng.normal(size=n))
    A = la.design(X, True)
    tau = np.r_[np.inf, np.full(3, 0.8)]
    assert len(gcf.map_estimate(A, y, tau, intercept=True).modes) == 2
    Ai, yi = A.astype(np.int64), y.astype(np.int64)
    prec = np.where(np.isfinite(tau), 1.0 / tau**2, 0.0)
    ref = _mp_reference((Ai.T @ Ai, Ai.T @ yi, int(yi @ yi)), n, prec, None)
    q = sq.gaussian_posterior_by_quadrature(A, y, tau)
    for key, sd in [("sigma_mean", "sigma_sd"), ("sigma_sd", "sigma_sd")] + [
        ("beta_mean", "beta_sd"),
        ("beta_sd", "beta_sd"),
    ]:
        assert np.all(_within_tier(q[key], ref[key], ref[sd])), (key, q[key], ref[key])


@pytest.mark.parametrize("n, finite", [(5, False), (6, True)])
def test_infinite_posterior_variance_is_refused(n, finite):
    """Flat coefficients (p = 2), HalfFlat sigma: Var[sigma] is finite only for n - p - 1 > 2.
    Refused like the Student t, never moments of a truncated tail."""
    A, y = _data(n, seed=n)
    A = A[:, :2]
    if finite:
        q = sq.gaussian_posterior_by_quadrature(A, y, np.full(2, np.inf))
        t = gcf.multivariate_t_posterior(A, y, intercept=True)
        assert _within_tier(q["sigma_sd"], t["sigma_sd"], t["sigma_sd"])
    else:
        with pytest.raises(ValueError, match="variance is infinite"):
            sq.gaussian_posterior_by_quadrature(A, y, np.full(2, np.inf))
        with pytest.raises(ValueError, match="variance is infinite"):
            gcf.multivariate_t_posterior(A, y, intercept=True)
