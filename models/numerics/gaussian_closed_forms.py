"""The Gaussian linear model's closed forms: OLS with classical standard errors, the joint mode
under N(0, τ²) coefficient priors (ridge, with known or unknown σ), the flat-prior posterior
(multivariate t) and the moments of σ under an inverse-gamma posterior.  Pure NumPy/SciPy on
the least-squares solves of ``models.numerics.linalg``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from nll_losses.models.numerics.linalg import (
    EPS,
    lstsq_factor,
    penalised_lstsq,
    sigma_mode,
)

# Points of the log grid on which the sigma equation of the Gaussian-prior mode is scanned for
# sign changes; two joint modes closer than one grid step (a factor (hi/lo)^(1/63)) would be
# seen as one.
SIGMA_SCAN_POINTS = 64


@dataclass(frozen=True)
class PointEstimate:
    """A closed-form mode: coefficients, sigma and, for OLS, classical standard errors."""

    beta: np.ndarray
    sigma: float
    rss: float
    alpha: np.ndarray  # the ridge penalty per coefficient actually used: sigma^2 / tau_j^2
    se: np.ndarray | None  # classical s.e. sqrt(s^2 diag(inv(A^T A))), s^2 = RSS/(n-p)
    cov_unscaled: np.ndarray
    cond: float
    iterations: int
    # unknown sigma with Gaussian priors: every local joint mode found, as (sigma, objective);
    # the reported one is the global minimum of the objective (the joint posterior can be
    # bimodal: a small-sigma mode near the data and a large-sigma mode near beta = 0)
    modes: tuple = ()


def ols(A: np.ndarray, y: np.ndarray, *, intercept: bool) -> PointEstimate:
    """Ordinary least squares with classical standard errors.

    # beta = argmin ||y - A beta||^2;  s^2 = RSS / (n - p);  se = sqrt(s^2 diag(inv(A^T A)))
    # sigma returned is the MLE sqrt(RSS / n) (flat prior, HalfFlat sigma, no Jacobian)
    """
    n, p = A.shape
    res = penalised_lstsq(A, y, intercept=intercept)
    s2 = res.rss / (n - p)
    se = np.sqrt(s2 * np.diag(res.cov_unscaled))
    return PointEstimate(
        beta=res.beta,
        sigma=float(np.sqrt(res.rss / n)),
        rss=res.rss,
        alpha=np.zeros(p),
        se=se,
        cov_unscaled=res.cov_unscaled,
        cond=res.cond,
        iterations=res.iterations,
    )


def map_estimate(
    A: np.ndarray,
    y: np.ndarray,
    prior_scales: np.ndarray,
    *,
    intercept: bool,
    sigma_known: float | None = None,
    sigma_prior_scale: float | None = None,
    max_iter: int = 500,
) -> PointEstimate:
    """Posterior mode with independent N(0, tau_j^2) priors (``inf`` = flat) on ``beta``.

    # known sigma:   beta = argmin ||y - A beta||^2 + sum_j alpha_j beta_j^2,
    #                alpha_j = sigma^2 / tau_j^2                              (ridge)
    # unknown sigma: the joint mode of  n log(sigma) + ||y - A beta||^2 / (2 sigma^2)
    #                + sum_j beta_j^2 / (2 tau_j^2) - log p(sigma)   (no Jacobian, as find_MAP)
    #                is ridge with alpha_j = sigma*^2 / tau_j^2 at the mode sigma*, where sigma*
    #                solves sigma = sigma_mode(RSS(beta_ridge(sigma))).  RSS(beta_ridge(s)) grows
    #                with s from RSS_OLS towards RSS of the unpenalised columns alone, so the root
    #                is bracketed by the two sigma_modes.  The gap s - sigma_mode(RSS(s)) can
    #                change sign more than once (two joint modes and a saddle between): it is
    #                scanned on a log grid, every upward crossing (a local minimum of the
    #                profile objective) is polished by Brent's method to machine precision, and
    #                the one with the smallest objective is the mode.
    """
    tau = np.asarray(prior_scales, dtype=np.float64)
    inv_tau = np.where(np.isfinite(tau), 1.0 / tau, 0.0)
    n = A.shape[0]
    modes: tuple = ()
    fac = lstsq_factor(A, y, intercept=intercept)  # one QR of the data for every sigma
    if sigma_known is not None:
        sigma = float(sigma_known)
    else:

        def fit_at(s):
            return penalised_lstsq(A, y, s * inv_tau, intercept=intercept, cov=False, factor=fac)

        def gap(s):
            return s - sigma_mode(fit_at(s).rss, n, sigma_prior_scale)

        def objective(s):  # the joint objective profiled over beta (find_MAP's, no Jacobian)
            r = fit_at(s)
            pen = 0.5 * float(np.sum((inv_tau * r.beta) ** 2))
            prior = 0.0 if sigma_prior_scale is None else 0.5 * (s / sigma_prior_scale) ** 2
            return n * np.log(s) + r.rss / (2 * s * s) + pen + prior

        lo = sigma_mode(fit_at(0.0).rss, n, sigma_prior_scale)
        free = inv_tau == 0
        rss_hi = (
            penalised_lstsq(A[:, free], y, intercept=intercept and free[0], cov=False).rss
            if free.any()
            else float(y @ y)
        )
        hi = sigma_mode(rss_hi, n, sigma_prior_scale)
        if not hi > lo or lo <= 0.0:
            # lo = 0: exact fit, the objective falls without bound as sigma -> 0 (no mode);
            # the caller reports that (is_exact_fit)
            sigma = lo
        else:
            grid = np.geomspace(lo, hi, SIGMA_SCAN_POINTS)
            gaps = np.array([gap(s) for s in grid])
            roots = [lo] if gaps[0] >= 0 else []
            for a, b, ga, gb in zip(grid[:-1], grid[1:], gaps[:-1], gaps[1:], strict=True):
                if ga < 0 <= gb:
                    roots.append(
                        optimize.brentq(gap, a, b, xtol=1e-300, rtol=4 * EPS, maxiter=max_iter)
                    )
            if gaps[-1] <= 0:
                roots.append(hi)
            found = [(float(r), float(objective(r))) for r in roots]
            sigma = min(found, key=lambda m: m[1])[0]
            modes = tuple(found)
    res = penalised_lstsq(A, y, sigma * inv_tau, intercept=intercept, factor=fac)
    return PointEstimate(
        beta=res.beta,
        sigma=sigma,
        rss=res.rss,
        alpha=(sigma * inv_tau) ** 2,
        se=None,
        cov_unscaled=res.cov_unscaled,
        cond=res.cond,
        iterations=res.iterations,
        modes=modes,
    )


def _log_gamma_ratio_half(a: float) -> float:
    """delta(a) = log Gamma(a - 1/2) - log Gamma(a) + log(a) / 2, to full relative precision.

    # delta ~ 3/(8a) is small: from ``gammaln`` differences it carries an absolute error of
    # eps * log Gamma(a) ~ eps * a log a (all digits lost by a ~ 1e13, 1e-9 relative at 1e3).
    # For a >= 10 the asymptotic expansion of a ratio of Gamma functions (Tricomi & Erdelyi
    # 1951; DLMF 5.11.13 in logarithmic form)
    #   log Gamma(a + x) - log Gamma(a + y) ~ (x - y) log a
    #       + sum_k (-1)^(k+1) (B_{k+1}(x) - B_{k+1}(y)) / (k (k+1) a^k)
    # with x = -1/2, y = 0 and B_m(-1/2) - B_m(0) = (2^(1-m) - 2) B_m - m (-1/2)^(m-1)
    # (from B_m(1/2) = (2^(1-m) - 1) B_m and B_m(x + 1) - B_m(x) = m x^(m-1)).
    # 16 terms: below 1e-16 relative for a >= 10 (the terms shrink like k!/(2 pi a)^k).
    """
    if a < 10.0:
        return float(special.gammaln(a - 0.5) - special.gammaln(a) + 0.5 * np.log(a))
    return float(np.polynomial.polynomial.polyval(1.0 / a, _HALF_RATIO_COEF))


def _half_ratio_coefficients(terms: int = 16) -> np.ndarray:
    m = np.arange(2, terms + 2)
    bern = special.bernoulli(terms + 1)[2:]
    diff = (2.0 ** (1 - m) - 2.0) * bern - m * (-0.5) ** (m - 1)
    k = m - 1
    return np.r_[0.0, (-1.0) ** (k + 1) * diff / (k * (k + 1))]


_HALF_RATIO_COEF = _half_ratio_coefficients()


def multivariate_t_posterior(A: np.ndarray, y: np.ndarray, *, intercept: bool) -> dict:
    """Exact posterior for flat coefficients and a HalfFlat sigma, in closed form.

    # p(beta, sigma | y) ∝ sigma^-n exp(-S(beta) / (2 sigma^2)),  p(sigma) ∝ 1 on sigma > 0,
    # S(beta) = RSS + (beta - b)^T A^T A (beta - b),  b = OLS.
    # Integrating sigma out:  p(beta | y) ∝ S(beta)^(-(n-1)/2)
    #   = multivariate t, nu = n - p - 1 degrees of freedom (a Jeffreys 1/sigma prior would
    #     give n - p), location b, scale matrix RSS / nu * inv(A^T A),
    #     covariance RSS / (nu - 2) * inv(A^T A) = RSS / (n - p - 3) * inv(A^T A).
    # sigma^2 | y ~ InvGamma(shape a = (n - p - 1) / 2, scale RSS / 2), so
    #   E[sigma] = sqrt(RSS / 2) Gamma(a - 1/2) / Gamma(a),  E[sigma^2] = RSS / (n - p - 3).

    Returns mean/sd of beta and sigma and ``nu``; needs n - p > 3 for finite variances.
    """
    n, p = A.shape
    nu = n - p - 1
    if nu <= 2:
        raise ValueError(f"posterior variance is infinite: n - p - 1 = {nu} <= 2")
    fit = ols(A, y, intercept=intercept)
    cov = fit.rss / (nu - 2) * fit.cov_unscaled
    e_sigma, sd_sigma = inverse_gamma_sigma_moments(fit.rss, nu)
    return {
        "beta_mean": fit.beta,
        "beta_sd": np.sqrt(np.diag(cov)),
        "sigma_mean": e_sigma,
        "sigma_sd": sd_sigma,
        "nu": nu,
    }


def inverse_gamma_sigma_moments(rss: float, nu: int) -> tuple[float, float]:
    """Mean and sd of sigma when sigma^2 ~ InvGamma(nu / 2, rss / 2) (needs nu > 2).

    # With a = nu / 2, b = RSS / 2 and delta = log Gamma(a - 1/2) - log Gamma(a) + log(a) / 2:
    #   E[sigma] = sqrt(b / a) exp(delta),
    #   Var[sigma] = b / (a - 1) - E[sigma]^2 = b / (a - 1) * (1 - exp(q)),
    #   q = 2 delta + log(1 - 1/a) ~ -1/(4a),
    # computed as -expm1(q): the difference of the two moments (~1/(4a) of each) would lose
    # log10(4a) digits, and delta from a difference of gammaln values all of them at large a.
    """
    a, b = nu / 2.0, rss / 2.0
    delta = _log_gamma_ratio_half(a)
    e_sigma = np.sqrt(b / a) * np.exp(delta)
    var_sigma = b / (a - 1.0) * -np.expm1(2.0 * delta + np.log1p(-1.0 / a))
    return float(e_sigma), float(np.sqrt(var_sigma))
