"""The normal family's references: closed forms (OLS, ridge, the conjugate posterior) and the
library fits (statsmodels, scikit-learn)."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.normal.spec import _to_params, coef_names
from nll_losses.models.family import (
    Problem,
    Unavailable,
)
from nll_losses.models.libraries import library_warnings
from nll_losses.models.numerics import gaussian_closed_forms as gcf
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics import sigma_quadrature as sq
from nll_losses.models.priors import Flat, HalfFlat, HalfNormal


# ----------------------------------------------------------------------------- closed forms
def closed_form(problem: Problem, inputs: dict) -> dict:
    """The posterior mode in closed form: OLS (flat) or ridge (Gaussian), see ``linalg``.

    Returns ``{"mean": params, "sd": params (classical s.e. for flat, else {}), "info": ...}``.
    Classical s.e. use s^2 = RSS / (n - p); the reported sigma is the mode find_MAP targets
    (``sqrt(RSS/n)`` for HalfFlat, the HalfNormal-shrunk root, or the known value).
    """
    spec = problem.spec
    A = la.design(problem.X, spec.intercept)
    y = problem.y
    n, p = A.shape
    tau = spec.prior_scales(p)
    names = coef_names(problem.features, spec)
    if np.all(np.isinf(tau)):
        fit = gcf.ols(A, y, intercept=spec.intercept)
        sigma = (
            la.sigma_mode(fit.rss, n, spec.sigma_prior_scale)
            if spec.sigma_known is None
            else spec.sigma_known
        )
        sd = dict(zip(names, map(float, fit.se), strict=True))
    else:
        fit = gcf.map_estimate(
            A,
            y,
            tau,
            intercept=spec.intercept,
            sigma_known=spec.sigma_known,
            sigma_prior_scale=spec.sigma_prior_scale,
        )
        sigma = fit.sigma
        sd = {}
    info = {}
    if len(fit.modes) > 1:
        info["modes (sigma, -log p)"] = [list(m) for m in fit.modes]
        info["warning"] = (
            f"the joint posterior of the coefficients and σ has {len(fit.modes)} modes (σ = "
            + ", ".join(f"{m[0]:.4g}" for m in fit.modes)
            + f"); the highest (σ = {sigma:.4g}) is reported"
        )
    if spec.sigma_known is None and la.is_exact_fit(fit.rss, y):
        # sigma's mode is 0, where the likelihood is unbounded: no finite estimate exists;
        # classical s.e. (s^2 = RSS/(n-p)) would be rounding noise, so none are reported
        sigma, sd = None, {}
        info["warning"] = (
            f"the data are fitted exactly (RSS = {fit.rss:.3g}): the mode of σ is 0, where "
            "the likelihood is unbounded, so σ has no estimate and no posterior, and the "
            "standard errors are rounding noise (not reported)"
        )
    return {
        "mean": _to_params(fit.beta, sigma, problem),
        "sd": sd,
        "info": info
        | {
            "rss": fit.rss,
            "s2_unbiased": fit.rss / (n - p),
            "sigma_mle": float(np.sqrt(fit.rss / n)),
            "ridge_alpha": float(fit.alpha[-1]) if p else 0.0,
            "condition_number": fit.cond,
            "refinement_iterations": fit.iterations,
            "mle_cov_sd": dict(
                zip(
                    names, map(float, np.sqrt(fit.rss / n * np.diag(fit.cov_unscaled))), strict=True
                )
            ),
        },
    }


def exact_posterior(problem: Problem, inputs: dict) -> dict:
    """Exact posterior mean and sd.

    Known sigma: Gaussian (conjugate).  Unknown sigma: one-dimensional quadrature over sigma of
    the conjugate conditional (``sigma_quadrature.gaussian_posterior_by_quadrature``).  For flat
    coefficients with a HalfFlat sigma the closed form is a multivariate t with
    nu = n - p - 1 degrees of freedom (``gaussian_closed_forms.multivariate_t_posterior``,
    derivation there); both are returned so the report can show that they agree.
    """
    spec = problem.spec
    A = la.design(problem.X, spec.intercept)
    tau = spec.prior_scales(A.shape[1])
    sigma_prior = "halfnormal" if isinstance(spec.sigma, HalfNormal) else "halfflat"
    try:
        q = sq.gaussian_posterior_by_quadrature(
            A,
            problem.y,
            tau,
            sigma_known=spec.sigma_known,
            sigma_prior_scale=spec.sigma_prior_scale,
            sigma_prior=sigma_prior,
        )
    except ValueError as exc:  # e.g. too few degrees of freedom for a finite variance
        raise Unavailable(str(exc)) from None
    info = {
        "method": "conjugate Gaussian" if spec.sigma_known else "1-D quadrature",
        "grid_points": q["grid_points"],
        # trapezoid in (log sigma - mode) / scale; moments at step 2h differ by this many sd
        "grid_check": q["grid_check"],
        "beta_path": q["beta_path"],
    }
    if np.all(np.isinf(tau)) and isinstance(spec.sigma, HalfFlat):
        t = gcf.multivariate_t_posterior(A, problem.y, intercept=spec.intercept)
        info["student_t"] = {
            "mean": _to_params(t["beta_mean"], t["sigma_mean"], problem),
            "sd": _to_params(t["beta_sd"], t["sigma_sd"], problem),
            "nu": t["nu"],
        }
    return {
        "mean": _to_params(q["beta_mean"], q["sigma_mean"], problem),
        "sd": _to_params(q["beta_sd"], q["sigma_sd"], problem),
        "info": info,
    }


# ----------------------------------------------------------------------------- libraries
def _sigma_for_alpha(problem: Problem, closed: dict) -> float:
    """sigma for the libraries' penalty alpha = sigma^2 / tau^2: known, or the closed-form mode."""
    sigma = closed["mean"].get("sigma", problem.spec.sigma_known)
    if sigma is None:
        raise Unavailable(
            "its penalty α = σ²/τ² needs σ, which has no estimate here (data fitted exactly)"
        )
    return float(sigma)


def statsmodels_fit(problem: Problem, inputs: dict) -> dict:
    """statsmodels OLS (params, classical bse) for flat priors; for Gaussian priors its ridge,
    ``OLS.fit_regularized(L1_wt=0, alpha=a)``, which minimises RSS/(2n) + sum_j a_j beta_j^2 / 2,
    so a_j = alpha_j / n with alpha_j = sigma^2 / tau_j^2 (sigma known, or the closed-form mode).
    """
    import statsmodels.api as sm

    spec = problem.spec
    A = la.design(problem.X, spec.intercept)
    n, p = A.shape
    tau = spec.prior_scales(p)
    names = coef_names(problem.features, spec)
    model = sm.OLS(np.asarray(problem.y, float), A)
    if np.all(np.isinf(tau)):
        with library_warnings() as said:
            res = model.fit()
        mean = dict(zip(names, map(float, res.params), strict=True))
        sd = dict(zip(names, map(float, res.bse), strict=True))
        exact = spec.sigma_known is None and la.is_exact_fit(float(res.ssr), problem.y)
        if exact:
            sd = {}  # rounding noise, as in closed_form
        elif isinstance(spec.sigma, HalfFlat):
            mean["sigma"] = float(np.sqrt(res.ssr / n))
        return {
            "mean": mean,
            "sd": sd,
            "info": {
                "call": "sm.OLS(y, [1, X]).fit()",
                "scale (s^2 = RSS/(n-p))": float(res.scale),
                # its conf_int's t quantiles (the simulation studies' classical intervals)
                "df_resid": float(res.df_resid),
            }
            | ({"warning": "statsmodels says: " + "; ".join(said)} if said else {}),
        }
    sigma = _sigma_for_alpha(problem, inputs["closed_form"])
    alpha = np.where(np.isfinite(tau), sigma**2 / tau**2, 0.0)
    res = model.fit_regularized(method="elastic_net", alpha=alpha / n, L1_wt=0.0)
    return {
        "mean": dict(zip(names, map(float, res.params), strict=True)),
        "info": {
            "call": "sm.OLS(y, [1, X]).fit_regularized(L1_wt=0, alpha=alpha/n)",
            "alpha": alpha.tolist(),
        },
    }


def sklearn_fit(problem: Problem, inputs: dict) -> dict:
    """scikit-learn: ``LinearRegression`` (flat) or ``Ridge(alpha=sigma^2/tau^2)`` (Gaussian)."""
    from sklearn.linear_model import LinearRegression, Ridge

    spec = problem.spec
    names = coef_names(problem.features, spec)
    if isinstance(spec.coef_prior, Flat):
        est = LinearRegression(fit_intercept=spec.intercept)
        call = f"LinearRegression(fit_intercept={spec.intercept})"
    else:
        sigma = _sigma_for_alpha(problem, inputs["closed_form"])
        alpha = sigma**2 / spec.coef_prior.scale**2
        est = Ridge(alpha=alpha, fit_intercept=spec.intercept, solver="auto")
        call = f"Ridge(alpha={alpha:.10g}, fit_intercept={spec.intercept})"
    est.fit(np.asarray(problem.X, float), np.asarray(problem.y, float))
    beta = ([float(est.intercept_)] if spec.intercept else []) + [float(c) for c in est.coef_]
    return {"mean": dict(zip(names, beta, strict=True)), "info": {"call": call}}
