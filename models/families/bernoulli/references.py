"""The Bernoulli family's references: our Newton solver, importance sampling, statsmodels, scikit-
learn and firthmodels."""

from __future__ import annotations

import warnings

import numpy as np

from nll_losses.models.families.bernoulli.spec import (
    IMPORTANCE_DRAWS,
    IMPORTANCE_FLOPS,
    IMPORTANCE_MIN_ESS,
    _design,
    _params,
)
from nll_losses.models.family import (
    Problem,
    Unavailable,
)
from nll_losses.models.libraries import library_warnings, sklearn_logistic
from nll_losses.models.numerics import logistic as lg
from nll_losses.models.priors import Gaussian


# ----------------------------------------------------------------------------- references
def newton_fit(problem: Problem, inputs: dict) -> dict:
    """Our Newton/IRLS solver (``models.numerics.logistic.newton``): MLE, L2 MAP or Firth."""
    spec = problem.spec
    A = _design(problem)
    prec = spec.prior_precision(A.shape[1])
    r = lg.newton(A, problem.y, prec, firth=spec.jeffreys)
    if not r.converged:
        raise RuntimeError(
            f"Newton did not converge: step still {r.scaled_step:.3g} sds after "
            f"{r.iterations} iterations"
        )
    sd_kind = (
        "sqrt(diag I(β̂)⁻¹), the unpenalised Fisher information (as R's logistf)"
        if spec.jeffreys
        else "sqrt(diag H⁻¹), H the Hessian of the objective"
    )
    if spec.jeffreys:
        z = A @ r.beta
        w = lg._weights(z)
        cov = np.linalg.inv((A * w[:, None]).T @ A)
    else:
        cov = r.cov
    return {
        "mean": _params(r.beta, problem),
        "sd": _params(np.sqrt(np.diag(cov)), problem),
        "info": {
            "solver": "Newton-Raphson (IRLS) with step halving"
            + (", Firth's modified score" if spec.jeffreys else ""),
            "criterion": f"Newton step still to go ≤ {lg.NEWTON_STEP_TOL:g} sds",
            "iterations": r.iterations,
            "scaled_step": r.scaled_step,
            "objective": r.objective,
            "sd": sd_kind,
        },
    }


def importance_fit(problem: Problem, inputs: dict, seed: int) -> dict:
    """Posterior mean and sd by importance sampling
    (``models.numerics.logistic.importance_posterior``)."""
    spec = problem.spec
    A = _design(problem)
    n, p = A.shape
    cost = n * p * (p + 1 if spec.jeffreys else 1)
    draws = int(np.clip(IMPORTANCE_FLOPS / cost, 4000, IMPORTANCE_DRAWS))
    r = lg.importance_posterior(
        A,
        problem.y,
        spec.prior_precision(p),
        spec.jeffreys,
        np.random.default_rng(seed),
        draws=draws,
    )
    if r["ess"] < IMPORTANCE_MIN_ESS:
        # the delta-method MCSE is itself unreliable when a few weights dominate
        raise Unavailable(
            f"importance sampling is unreliable here: effective sample size {r['ess']:.0f} "
            f"of {r['draws']} draws (< {IMPORTANCE_MIN_ESS})"
        )
    return {
        "mean": _params(r["mean"], problem),
        "sd": _params(r["sd"], problem),
        "mcse_mean": _params(r["mcse_mean"], problem),
        "info": {
            "method": "self-normalised importance sampling, multivariate t(5) proposal at "
            "the Newton mode (covariance 1.3² × inverse Hessian)",
            "draws": r["draws"],
            "effective sample size": r["ess"],
            "largest normalised weight": r["max_weight"],
            "seed": seed,
            "mcse_sd": _params(r["mcse_sd"], problem),
        },
    }


def statsmodels_fit(problem: Problem, inputs: dict) -> dict:
    """statsmodels ``Logit(y, [1, X]).fit(method="newton")``: the MLE and its standard errors
    (inverse observed information)."""
    import statsmodels.api as sm

    A = _design(problem)
    with library_warnings() as said:
        res = sm.Logit(np.asarray(problem.y, float), A).fit(
            method="newton", tol=1e-14, maxiter=200, disp=0
        )
    if not res.mle_retvals.get("converged", False):
        raise RuntimeError("statsmodels Logit did not converge")
    return {
        "mean": _params(res.params, problem),
        "sd": _params(res.bse, problem),
        "info": {"call": "sm.Logit(y, [1, X]).fit(method='newton', tol=1e-14)"}
        | ({"warning": "statsmodels says: " + "; ".join(said)} if said else {}),
    }


def sklearn_fit(problem: Problem, inputs: dict) -> dict:
    """scikit-learn ``LogisticRegression``: it minimises C·sum log-loss + ½‖w‖² (intercept
    unpenalised), i.e. NLL + ‖w‖²/(2C): C = τ² is the N(0, τ²) prior, C = inf the MLE.
    Solver newton-cholesky with tol 1e-12 on the gradient of the mean loss (its rounding floor
    is ~1e-16), so it is not the weak side of the optimiser tier."""
    spec = problem.spec
    C = spec.coef_prior.scale**2 if isinstance(spec.coef_prior, Gaussian) else np.inf
    B, iterations, call = sklearn_logistic(
        problem.X, np.asarray(problem.y, float), C, spec.intercept
    )
    return {"mean": _params(B[:, 0], problem), "info": {"call": call, "iterations": iterations}}


def firth_library_fit(problem: Problem, inputs: dict) -> dict:
    """Firth's estimate from the PyPI package ``firthmodels`` (independent implementation)."""
    try:
        from firthmodels import FirthLogisticRegression
    except ImportError:
        raise Unavailable("the package firthmodels is not installed") from None
    spec = problem.spec
    # It stops when max|U*| < gtol and max|step| < xtol and returns the point before that last
    # step, so its accuracy is about xtol.  Tight settings can end in "step-halving failed"
    # (the objective's rounding floor; measured on breast_cancer: 1e-9 and 1e-8 fail, 1e-7
    # converges within 1e-8 relative of our Newton), so the tightest that converges is used.
    for tol in (1e-9, 1e-8, 1e-7, 1e-6):
        est = FirthLogisticRegression(
            fit_intercept=spec.intercept, gtol=tol, xtol=tol, max_iter=500, backend="numpy"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(np.asarray(problem.X, float), np.asarray(problem.y, float))
        if est.converged_:
            break
    else:
        raise RuntimeError("firthmodels did not converge (gtol = xtol = 1e-6)")
    beta = ([float(est.intercept_)] if spec.intercept else []) + [
        float(c) for c in np.ravel(est.coef_)
    ]
    return {
        "mean": _params(beta, problem),
        "info": {"call": f"firthmodels.FirthLogisticRegression(gtol=xtol={tol:g})"},
    }
