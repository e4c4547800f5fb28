"""The Gaussian linear model's posterior over σ by quadrature (Gaussian coefficient priors,
unknown σ): the coefficients' moments are closed-form given σ, and one trapezoid rule on log σ,
checked against the same rule at step 2h, integrates them.  Pure NumPy/SciPy; the least-squares
solves come from ``models.numerics.linalg``."""

from __future__ import annotations

import numpy as np
from scipy import linalg as sla

from nll_losses.models.content_cache import ContentCache, digest
from nll_losses.models.numerics.linalg import EPS, lstsq_factor, penalised_lstsq

# Trapezoid convergence check: the moments on every other grid point (step 2h) must agree with
# those on the full grid (step h) to this fraction of the sd.  For an integrand analytic in a
# strip the trapezoid error falls like exp(-c / h), so an error of 1e-6 at 2h means about 1e-12
# at h; the grid is doubled (up to QUADRATURE_MAX_DOUBLINGS times) until it holds.
QUADRATURE_CHECK = 1e-6
QUADRATURE_MAX_DOUBLINGS = 4
# The grid covers the log sigma values where the log density is within this many nats of its
# peak (e^-60 ~ 1e-26 of the peak density is left out on each side).
QUADRATURE_NATS = 60.0


def _trapezoid_weights(lp: np.ndarray) -> np.ndarray:
    """Normalised trapezoid weights on an even grid from log density values."""
    w = np.exp(lp - lp.max())
    w[0] *= 0.5
    w[-1] *= 0.5
    return w / w.sum()


def _sigma_moments(w: np.ndarray, delta: np.ndarray) -> tuple[float, float]:
    """Mean and sd of sigma / sigma0 = exp(delta) under weights ``w``, centred (no E[x^2] - E[x]^2).

    # t = exp(delta) - 1 (expm1: exact near the mode); mean = 1 + sum w t;
    # var = sum w (t - sum w t)^2.
    """
    t = np.expm1(delta)
    mt = float(w @ t)
    return 1.0 + mt, float(np.sqrt(w @ (t - mt) ** 2))


# The quadrature's own QR of one data set, shared by its calls under every prior (not with
# ``lstsq_factor``: the exact posterior stays independent of the closed form it is compared
# with).  Small arrays only.
_QUADRATURE_BASES = ContentCache(size=4)


def _quadrature_basis(A: np.ndarray, y: np.ndarray) -> tuple:
    """``(intercept, col, R, Q'y, RSS0)`` of the column-scaled design ``A / col = Q R``: RSS0
    is the squared norm of the residual of y's projection on the column space, centred first
    when the ones column is in it, projected out a second time (Gram-Schmidt "twice is
    enough"), not y'y - c'c, which cancels when the fit is good."""

    def make():
        intercept = bool(np.all(A[:, 0] == 1.0))
        col = np.linalg.norm(A, axis=0)
        col[col == 0] = 1.0
        Q, R = np.linalg.qr(A / col)
        r = y - y.mean() if intercept else y.copy()
        r -= Q @ (Q.T @ r)
        r -= Q @ (Q.T @ r)
        return intercept, col, R, Q.T @ y, float(r @ r)

    return _QUADRATURE_BASES.get(digest(A, y, extra=("quadrature basis",)), make)


def gaussian_posterior_by_quadrature(
    A: np.ndarray,
    y: np.ndarray,
    prior_scales: np.ndarray,
    *,
    sigma_known: float | None = None,
    sigma_prior_scale: float | None = None,
    sigma_prior: str = "halfflat",
    n_grid: int = 4001,
    path_step: float = 0.25,
    beta: bool = True,
) -> dict:
    """Exact posterior moments of (beta, sigma), any mix of flat and N(0, tau_j^2) priors.

    # Given sigma, beta | sigma, y is Gaussian (conjugate):
    #   H(sigma) = A^T A / sigma^2 + P,  P = diag(1 / tau_j^2)  (0 for flat),
    #   E[beta | sigma] = inv(H) A^T y / sigma^2,  Cov[beta | sigma] = inv(H).
    # Integrating beta out leaves a one-dimensional density for sigma:
    #   log p(sigma | y) = log p(sigma) - n log sigma - 1/2 log|H(sigma)| - 1/2 S_min(sigma) + c,
    #   S_min(sigma) = min_beta ||y - A beta||^2 / sigma^2 + beta^T P beta.
    # Computed in the QR basis A = Q R0: with G = inv(R0)^T P inv(R0) = V diag(g) V^T and
    # d = V^T Q^T y, everything is diagonal: log|H| = 2 log|R0| + sum log(1/sigma^2 + g_i),
    # S_min = RSS0 / sigma^2 + sum d_i^2 g_i / (1 + sigma^2 g_i).  In u = log sigma (with the
    # Jacobian sigma) and x = sigma^2 = exp(2u), m = n - p - 1:
    #   l(u) = -m u - 1/2 sum log(1 + g_i x) - RSS0 / (2x) - 1/2 sum d_i^2 g_i / (1 + g_i x)
    #          [- x / (2 S^2) for a HalfNormal(S) sigma].
    #
    # Integration on the scale where the integrand is well conditioned: the mode u0 of l is
    # found by safeguarded Newton steps, s = 1/sqrt(-l''(u0)) is the curvature scale (~1/sqrt(2n)
    # for large n), and the trapezoid rule runs on an even grid in z = (u - u0)/s over the range
    # where l is within QUADRATURE_NATS of its peak.  l(u0 + s z) - l(u0) is evaluated in
    # differences (expm1/log1p), never as a difference of two values of size ~n, and the moments
    # are centred (no E[x^2] - E[x]^2).  The grid is doubled until the moments on every other
    # point agree (QUADRATURE_CHECK).  RSS0 is the squared norm of the residual projected out
    # twice (not y'y - c'c, which cancels when the fit is good).  Moments of beta follow from
    # the laws of total expectation and variance, the variance centred.  With known sigma the
    # grid is that one point.  ``beta=False`` returns the moments of sigma only (beta's NaN).
    """
    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = A.shape
    tau = np.asarray(prior_scales, dtype=np.float64)
    prec = np.where(np.isfinite(tau), 1.0 / tau**2, 0.0)
    intercept, col, R, Qty, rss0 = _quadrature_basis(A, y)
    R0inv = sla.solve_triangular(R, np.eye(p)) / col[:, None]  # inv(R0), R0 = R diag(col)
    G = R0inv.T @ (prec[:, None] * R0inv)
    g, V = np.linalg.eigh(0.5 * (G + G.T))
    g = np.clip(g, 0.0, None)
    d = V.T @ Qty
    n_flat = int(np.sum(prec == 0))
    m = n - p - 1
    halfnormal = sigma_prior == "halfnormal"
    inv_s2 = 1.0 / sigma_prior_scale**2 if halfnormal else 0.0

    def rel_log_post(delta, u0):
        """l(u0 + delta) - l(u0) for an array of delta, in differences."""
        x0 = np.exp(2.0 * u0)
        gx0 = g * x0
        e2 = np.expm1(2.0 * delta)[:, None]  # x / x0 - 1
        out = -m * delta - 0.5 * rss0 / x0 * np.expm1(-2.0 * delta)
        out -= 0.5 * np.sum(np.log1p(gx0 / (1.0 + gx0) * e2), axis=1)
        out += 0.5 * np.sum(d**2 * g * gx0 * e2 / ((1.0 + gx0 * (1.0 + e2)) * (1.0 + gx0)), axis=1)
        return out - 0.5 * x0 * inv_s2 * e2[:, 0]

    def derivatives(u):
        """l'(u), l''(u)."""
        x = np.exp(2.0 * u)
        gx = g * x
        d1 = -m - np.sum(gx / (1 + gx)) + rss0 / x + np.sum(d**2 * g * gx / (1 + gx) ** 2)
        d1 -= x * inv_s2
        d2 = -np.sum(2 * gx / (1 + gx) ** 2) - 2 * rss0 / x - 2 * x * inv_s2
        d2 += np.sum(2 * d**2 * g * gx * (1 - gx) / (1 + gx) ** 3)
        return float(d1), float(d2)

    if sigma_known is not None:
        u0, scale = float(np.log(sigma_known)), 1.0
        delta = np.zeros(1)
        w = np.ones(1)
        doublings, check = 0, 0.0
    else:
        if sigma_prior == "halfflat" and n - n_flat - 1 <= 0 and rss0 == 0:
            raise ValueError("posterior of sigma is improper")
        start = 0.5 * np.log(max(rss0, EPS * float(y @ y), np.finfo(float).tiny) / max(m, 1))
        u0, scale = _log_sigma_mode(rel_log_post, derivatives, start)
        lo, hi = _nats_range(rel_log_post, u0, scale)
        points = n_grid
        for doublings in range(QUADRATURE_MAX_DOUBLINGS + 1):  # noqa: B007
            delta = scale * np.linspace(lo, hi, points)
            w = _trapezoid_weights(rel_log_post(delta, u0))
            mean_h, sd_h = _sigma_moments(w, delta)
            mean_2h, sd_2h = _sigma_moments(
                _trapezoid_weights(rel_log_post(delta[::2], u0)), delta[::2]
            )
            check = max(abs(mean_h - mean_2h), abs(sd_h - sd_2h)) / sd_h
            if check <= QUADRATURE_CHECK:
                break
            points = 2 * points - 1
        else:
            raise ValueError(
                f"quadrature over sigma did not converge: step-2h moments differ by {check:.1e} sd"
            )
    sig0 = float(np.exp(u0))
    mean_rel, sd_rel = _sigma_moments(w, delta)
    s_mean, s_sd = sig0 * mean_rel, sig0 * sd_rel
    e_sigma2 = s_sd**2 + s_mean**2
    path = ""
    if not beta:  # sigma only (no solves beyond the QR)
        mean = var = np.full(p, np.nan)
    elif n_flat == p:
        # Flat prior: E[beta | sigma, y] = OLS for every sigma, Cov = sigma^2 inv(A^T A), so
        # E[beta | y] = OLS and Var = E[sigma^2] diag(inv(A^T A)): refined, no quadrature error.
        fit = penalised_lstsq(A, y, intercept=intercept)
        mean = fit.beta
        var = e_sigma2 * np.diag(fit.cov_unscaled)
    else:
        mean, var, path = _ridge_path_moments(
            A, y, prec, intercept, R0inv @ V, g, d, sig0, delta, w, scale, path_step, rel_log_post
        )
    return {
        "beta_mean": mean,
        "beta_sd": np.sqrt(var),
        "sigma_mean": s_mean,
        "sigma_sd": s_sd,
        "grid_points": int(delta.size),
        "log_sigma_mode": u0,
        "log_sigma_scale": scale,
        "grid_doublings": doublings,
        "grid_check": check,
        "beta_path": path if n_flat < p else "flat prior: OLS at every sigma",
    }


# A path of E[beta | sigma] from the QR basis, anchored on a refined solve at the mode, is
# accepted when it matches refined solves at +-3 curvature scales to this fraction of the
# posterior sd of beta (a tenth of the quadrature tier, analyses.tolerances.QUADRATURE_RTOL).
PATH_CHECK = 1e-9


def _ridge_path_moments(A, y, prec, intercept, W, g, d, sig0, delta, w, scale, step, rel_log_post):
    """Posterior mean and variance of beta over the sigma grid (laws of total expectation and
    of total variance, centred), and how the path E[beta | sigma] was computed.

    # E[beta | sigma] = W diag(1 / (1 + sigma^2 g)) d   (W = inv(R0) V, the QR basis)
    # Cov[beta | sigma] diag = (W^2) (sigma^2 / (1 + sigma^2 g))
    # The basis formula carries a relative error ~ eps * cond(A); the path used is a refined
    # solve at the mode plus the basis formula's change from the mode, which is exact in
    # exact arithmetic and small where the posterior of sigma is narrow (large n).  Two more
    # refined solves (z = -3, +3) check it; if they differ by more than PATH_CHECK sd, refined
    # solves on a grid of step ``step`` curvature scales are used instead (trapezoid).
    """
    root_prec = np.sqrt(prec)
    fac = lstsq_factor(A, y, intercept=intercept)  # one QR of the data for every sigma

    def refined(dl):
        L = sig0 * np.exp(dl) * root_prec
        return penalised_lstsq(A, y, L, intercept=intercept, cov=False, factor=fac).beta

    def cond_var(dl):
        s2 = (sig0 * np.exp(dl)[:, None]) ** 2
        return (s2 / (1.0 + s2 * g)) @ (W**2).T

    def moments(wt, dl, beta_path):
        mean = wt @ beta_path
        return mean, wt @ (cond_var(dl) + (beta_path - mean) ** 2)

    if delta.size == 1:  # known sigma
        beta = refined(delta)[None, :]
        mean, var = moments(w, delta, beta)
        return mean, var, "refined solve"
    s2 = (sig0 * np.exp(delta)[:, None]) ** 2
    basis = (d / (1.0 + s2 * g)) @ W.T
    i0 = int(np.argmin(np.abs(delta)))
    path = refined(delta[i0]) + (basis - basis[i0])
    mean, var = moments(w, delta, path)
    sd = np.sqrt(var)
    checks = [
        np.max(np.abs(refined(delta[i]) - path[i]) / sd)
        for i in np.searchsorted(delta, [-3 * scale, 3 * scale]).clip(0, delta.size - 1)
    ]
    if max(checks) <= PATH_CHECK:
        return mean, var, f"QR basis anchored at the mode (checked: {max(checks):.1e} sd)"
    k = max(int(np.ceil((delta[-1] - delta[0]) / scale / step)), 2)
    coarse = np.linspace(delta[0], delta[-1], k + 1)
    wc = _trapezoid_weights(rel_log_post(coarse, np.log(sig0)))
    mean, var = moments(wc, coarse, np.array([refined(c) for c in coarse]))
    return mean, var, f"refined solves at {k + 1} points"


def _log_sigma_mode(rel_log_post, derivatives, start: float, max_iter: int = 200):
    """Mode u0 of the log-sigma density and its curvature scale 1/sqrt(-l''(u0)).

    Newton steps -l'/l'' where l'' < 0 (else a unit step uphill), halved until l increases;
    stops when the step is below 1e-12 curvature scales.  A mode running off by more than 200
    in log sigma means an improper posterior.
    """
    u = start
    for _ in range(max_iter):
        d1, d2 = derivatives(u)
        step = -d1 / d2 if d2 < 0 else np.sign(d1)
        if d2 < 0 and abs(step) <= 1e-12 / np.sqrt(-d2):
            return u, 1.0 / np.sqrt(-d2)
        step = float(np.clip(step, -1.0, 1.0))
        for _ in range(60):
            if rel_log_post(np.array([step]), u)[0] >= 0:
                break
            step *= 0.5
        u += step
        if u - start < -200:
            raise ValueError("posterior of sigma is improper at 0 (the data are fitted exactly)")
        if u - start > 200:
            raise ValueError("posterior of sigma is improper or too heavy-tailed")
    d1, d2 = derivatives(u)
    if not d2 < 0:
        raise ValueError("no mode of the posterior of sigma found")
    return u, 1.0 / np.sqrt(-d2)


def _nats_range(rel_log_post, u0: float, scale: float):
    """Bounds (in curvature scales from u0) where l is QUADRATURE_NATS below its peak.

    Upwards the bound is where l(u) + 2 (u - u0) is, so that the integrand of E[sigma^2] (the
    heaviest moment used) is as negligible as the density: with few degrees of freedom the
    tail of l falls only like -m u (m = 3: 60 nats of density leave 2e-9 of E[sigma^2]).
    Steps outwards of max(1, |z|/4) scales (a heavy tail is reached in few steps), tracking
    the peak (another, higher mode found on the way raises the bar).
    """
    bounds = []
    peak = 0.0
    for sign in (-1.0, 1.0):
        z = 0.0
        while True:
            z += sign * max(1.0, abs(z) / 4)
            density = rel_log_post(np.array([scale * z]), u0)[0]
            peak = max(peak, density)
            if density + max(2.0 * scale * z, 0.0) < peak - QUADRATURE_NATS:
                break
            if abs(scale * z) > 200:
                if sign < 0:
                    raise ValueError(
                        "posterior of sigma is improper at 0 (the data are fitted exactly)"
                    )
                if density < peak - QUADRATURE_NATS:  # proper, but sigma^2 has no mean
                    raise ValueError(
                        "posterior variance is infinite: the tail of sigma is too heavy "
                        "(needs n - (flat coefficients) - 1 > 2, or a HalfNormal sigma)"
                    )
                raise ValueError("posterior of sigma is improper or too heavy-tailed")
        bounds.append(z)
    return bounds[0], bounds[1]
