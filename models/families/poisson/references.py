"""The Poisson family's references, each independent of PyMC and of each other: our Newton
solver (NumPy), importance sampling of the posterior (NumPy), statsmodels' GLM, scikit-learn's
PoissonRegressor, and the intercept-only closed forms (the MLE, the Gamma posterior)."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp

from nll_losses.models.families.poisson.spec import (
    IMPORTANCE_BLOCK,
    IMPORTANCE_DRAWS,
    IMPORTANCE_FLOPS,
    IMPORTANCE_MIN_ESS,
    _design,
    _offset,
    _params,
    exposure_total,
)
from nll_losses.models.family import Problem, Unavailable
from nll_losses.models.libraries import library_warnings
from nll_losses.models.numerics.newton_steps import newton_iterate
from nll_losses.models.priors import Gaussian

NEWTON_STEP_TOL = 1e-10  # the Newton step still to go, in sds (as the logistic solver)
NEWTON_MAX_ITER = 200
# scikit-learn's newton-cholesky stops on the gradient of its mean objective; 1e-12 (times
# max(1, ȳ): the gradient's scale) reaches its rounding floor (measured: ~1e-16 on the
# coefficients in 5 iterations)
SKLEARN_TOL = 1e-12


# ----------------------------------------------------------------------------- our Newton
def objective(A, y, offset, prec):
    """(f, score_info): f(β) = Σ exp(η) − yη + ½ Σ prec β² (η = offset + Aβ; the NLL less
    Σ log y!), and its score and information A'(y − μ) − prec β, A' diag(μ) A + diag(prec)."""

    def f(beta):
        eta = offset + A @ beta
        with np.errstate(over="ignore"):
            return float(np.sum(np.exp(eta) - y * eta) + 0.5 * np.sum(prec * beta**2))

    def score_info(beta):
        mu = np.exp(offset + A @ beta)
        return A.T @ (y - mu) - prec * beta, (A * mu[:, None]).T @ A + np.diag(prec)

    return f, score_info


def newton_mode(problem: Problem):
    """(β̂, inverse Hessian, steps, iterations) by Newton with step halving from the
    intercept-only start (log Σy/Σ exp(offset), zero weights): the data's own start."""
    spec = problem.spec
    A = _design(problem)
    y = np.asarray(problem.y, float)
    offset = _offset(problem)
    prec = spec.prior_precision(A.shape[1])
    f, score_info = objective(A, y, offset, prec)
    x0 = np.zeros(A.shape[1])
    if spec.intercept:
        x0[0] = np.log(y.sum()) - np.log(np.sum(np.exp(offset)))
    beta, steps, converged, it = newton_iterate(f, score_info, x0, NEWTON_STEP_TOL, NEWTON_MAX_ITER)
    if not converged:
        raise RuntimeError(
            f"Newton did not converge: step still {steps[-1]:.3g} sds after {it} iterations"
        )
    cov = np.linalg.inv(score_info(beta)[1])
    return beta, cov, steps, it, f(beta) + float(np.sum(gammaln(y + 1)))


def newton_fit(problem: Problem, inputs: dict) -> dict:
    """Our Newton/IRLS solver: the MLE or the L2 MAP, sd from the inverse Hessian."""
    beta, cov, steps, it, value = newton_mode(problem)
    return {
        "mean": _params(beta, problem),
        "sd": _params(np.sqrt(np.diag(cov)), problem),
        "info": {
            "solver": "Newton-Raphson (IRLS) with step halving, from the intercept-only fit",
            "criterion": f"Newton step still to go ≤ {NEWTON_STEP_TOL:g} sds",
            "iterations": it,
            "scaled_step": steps[-1],
            "objective": value,
            "sd": "sqrt(diag H⁻¹), H the Hessian of the objective",
        },
    }


# ----------------------------------------------------------------------------- importance
def importance_fit(problem: Problem, inputs: dict, seed: int) -> dict:
    """Posterior mean and sd by self-normalised importance sampling: a multivariate t(5)
    proposal at our Newton mode with covariance 1.3² × the inverse Hessian there (heavier
    tails than the posterior); MCSEs by the delta method (Owen 2013, §9.2)."""
    spec = problem.spec
    A = _design(problem)
    y = np.asarray(problem.y, float)
    offset = _offset(problem)
    prec = spec.prior_precision(A.shape[1])
    beta, cov, *_ = newton_mode(problem)
    rng = np.random.default_rng(seed)
    n, p = A.shape
    df, inflate = 5.0, 1.3
    # as many draws as the budget allows (at most IMPORTANCE_DRAWS), in blocks of bounded memory
    n_draws = int(np.clip(IMPORTANCE_FLOPS / (n * p), 4000, IMPORTANCE_DRAWS))
    block = int(max(1, min(2000, IMPORTANCE_BLOCK // n)))
    L = np.linalg.cholesky(cov) * inflate
    z = rng.standard_normal((n_draws, p))
    g = rng.chisquare(df, n_draws) / df
    u = z / np.sqrt(g)[:, None]
    draws = beta + u @ L.T
    # log q up to a constant: -(df + p)/2 log(1 + |u|²/df)
    log_q = -0.5 * (df + p) * np.log1p(np.sum(u**2, axis=1) / df)
    log_p = -np.concatenate(
        [_objectives(A, y, offset, prec, draws[i : i + block]) for i in range(0, n_draws, block)]
    )
    log_w = log_p - log_q
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = float(1.0 / np.sum(w**2))
    if ess < IMPORTANCE_MIN_ESS:
        raise Unavailable(
            f"importance sampling is unreliable here: effective sample size {ess:.0f} of "
            f"{n_draws} draws (< {IMPORTANCE_MIN_ESS})"
        )
    mean = w @ draws
    dev = draws - mean
    var = w @ dev**2
    sd = np.sqrt(var)
    mcse_mean = np.sqrt(np.sum(w[:, None] ** 2 * dev**2, axis=0))
    # delta method for sd: d sd = (dev² − var) / (2 sd)
    mcse_sd = np.sqrt(np.sum(w[:, None] ** 2 * (dev**2 - var) ** 2, axis=0)) / (2 * sd)
    return {
        "mean": _params(mean, problem),
        "sd": _params(sd, problem),
        "mcse_mean": _params(mcse_mean, problem),
        "info": {
            "method": "self-normalised importance sampling, multivariate t(5) proposal at "
            "the Newton mode (covariance 1.3² × inverse Hessian)",
            "draws": n_draws,
            "effective sample size": ess,
            "largest normalised weight": float(w.max()),
            "seed": seed,
            "mcse_sd": _params(mcse_sd, problem),
        },
    }


def _objectives(A, y, offset, prec, betas) -> np.ndarray:
    """The objective of :func:`objective` at each row of ``betas`` (one block)."""
    eta = offset + betas @ A.T
    with np.errstate(over="ignore"):
        return np.sum(np.exp(eta) - y * eta, axis=1) + 0.5 * (betas**2 @ prec)


# ----------------------------------------------------------------------------- libraries
def statsmodels_fit(problem: Problem, inputs: dict) -> dict:
    """statsmodels ``GLM(y, [1, X], family=Poisson(), offset=...)`` by IRLS: the MLE and its
    standard errors (inverse Fisher information).  Converged when the deviance changes by at
    most 1e-14 + 1e-13·|deviance| (its ``tol`` alone is absolute, which large counts cannot
    reach)."""
    import statsmodels.api as sm

    A = _design(problem)
    with library_warnings() as said:
        res = sm.GLM(
            np.asarray(problem.y, float), A, family=sm.families.Poisson(), offset=_offset(problem)
        ).fit(method="IRLS", tol=1e-14, rtol=1e-13, maxiter=200)
    if not res.converged:
        raise RuntimeError("statsmodels GLM(Poisson) did not converge")
    return {
        "mean": _params(res.params, problem),
        "sd": _params(res.bse, problem),
        "info": {"call": "sm.GLM(y, [1, X], family=Poisson(), offset=…).fit(tol=1e-14, rtol=1e-13)"}
        | ({"warning": "statsmodels says: " + "; ".join(said)} if said else {}),
    }


def sklearn_exposure(problem: Problem) -> tuple[np.ndarray, float]:
    """(the sample weights e', log ē) scikit-learn is fitted with.  It has no offset: with
    exposures e = exp(offset) it is fitted to y/e' with sample weights e', which has the
    same minimiser for the log link (e'·deviance(y/e', μ) = deviance(y, e'μ)).  With an
    intercept e' = e/ē (ē their mean, by logsumexp: the weights average 1 and y/e' keeps the
    counts' scale; the intercept then absorbs log ē), else e' = e (log ē = 0)."""
    offset = _offset(problem)
    if not problem.spec.intercept:
        return np.exp(offset), 0.0
    log_mean = float(logsumexp(offset) - np.log(len(offset)))
    return np.exp(offset - log_mean), log_mean


def sklearn_poisson(problem: Problem, alpha: float) -> tuple[np.ndarray, int, str]:
    """scikit-learn ``PoissonRegressor(alpha, solver='newton-cholesky')``: it minimises
    1/(2 Σs)·Σ s·deviance + alpha/2·‖w‖², intercept unpenalised (s: ``sklearn_exposure``'s
    weights).  Its ``tol`` bounds the gradient of that mean objective, which grows with the
    counts: SKLEARN_TOL × max(1, ȳ), so that large counts reach it.  Returns (β with the
    intercept first, iterations, call)."""
    from sklearn.linear_model import PoissonRegressor

    spec = problem.spec
    y = np.asarray(problem.y, float)
    e, log_mean = sklearn_exposure(problem)
    est = PoissonRegressor(
        alpha=alpha,
        solver="newton-cholesky",
        tol=sklearn_tol(problem),
        max_iter=1000,
        fit_intercept=spec.intercept,
    )
    with library_warnings() as said:
        est.fit(np.asarray(problem.X, float), y / e, sample_weight=e)
    if any("converge" in s.lower() for s in said):
        raise RuntimeError("scikit-learn says: " + "; ".join(said))
    beta = ([float(est.intercept_) - log_mean] if spec.intercept else []) + [
        float(c) for c in est.coef_
    ]
    return np.array(beta), int(est.n_iter_), sklearn_call(problem, alpha)


def sklearn_tol(problem: Problem) -> float:
    return SKLEARN_TOL * max(1.0, float(np.mean(problem.y)))


def sklearn_call(problem: Problem, alpha: float) -> str:
    """The call :func:`sklearn_poisson` makes, as the report shows it."""
    weights = ""
    if "offset" in problem.rows:
        weights = (
            "; fitted to y/e' with sample_weight=e', e' = exp(offset)/mean, intercept_ − log mean"
            if problem.spec.intercept
            else "; fitted to y/e with sample_weight=e = exp(offset)"
        )
    intercept = "" if problem.spec.intercept else ", fit_intercept=False"
    return (
        f"PoissonRegressor(alpha={alpha:.6g}, solver='newton-cholesky', "
        f"tol={sklearn_tol(problem):.3g}{intercept}){weights}"
    )


def sklearn_alpha(problem: Problem) -> float:
    """alpha = 1/(Σe'·τ²) for an N(0, τ²) prior on w (Σe' = n with an intercept or without an
    offset); 0 for the MLE."""
    spec = problem.spec
    if not isinstance(spec.coef_prior, Gaussian):
        return 0.0
    e, _ = sklearn_exposure(problem)
    return 1.0 / (float(np.sum(e)) * spec.coef_prior.scale**2)


def sklearn_fit(problem: Problem, inputs: dict) -> dict:
    beta, iterations, call = sklearn_poisson(problem, sklearn_alpha(problem))
    return {"mean": _params(beta, problem), "info": {"call": call, "iterations": iterations}}


# ----------------------------------------------------------------------------- closed forms
def _totals(problem: Problem) -> tuple[float, float]:
    return float(np.sum(problem.y)), exposure_total(problem)


def closed_form_fit(problem: Problem, inputs: dict) -> dict:
    """Intercept only.  Flat prior: the MLE log(Σy / Σe) with sd 1/√Σy (inverse Fisher
    information).  Gamma(a, b) prior on the rate: the mode of its posterior density
    Gamma(a + Σy, b + Σe), (a + Σy − 1)/(b + Σe) — the density's own mode, which find_MAP
    (no Jacobian) finds — with the sd of the Gaussian at it, √(a + Σy − 1)/(b + Σe)."""
    S, E = _totals(problem)
    if problem.spec.gamma is None:
        return {
            "mean": {"intercept": float(np.log(S / E))},
            "sd": {"intercept": float(1.0 / np.sqrt(S))},
            "info": {"formula": "log(Σy / Σ exp(offset)); sd 1/√Σy"},
        }
    a, b = problem.spec.gamma
    if a + S < 1:
        raise Unavailable("the posterior density's mode is at rate 0 (a + Σy < 1)")
    return {
        "mean": {"rate": (a + S - 1) / (b + E)},
        "sd": {"rate": float(np.sqrt(a + S - 1) / (b + E))},
        "info": {"formula": "(a + Σy − 1)/(b + Σe); sd √(a + Σy − 1)/(b + Σe)"},
    }


def exact_posterior_fit(problem: Problem, inputs: dict) -> dict:
    """The conjugate posterior Gamma(a + Σy, b + Σe): mean (a + Σy)/(b + Σe), sd
    √(a + Σy)/(b + Σe)."""
    S, E = _totals(problem)
    a, b = problem.spec.gamma
    return {
        "mean": {"rate": (a + S) / (b + E)},
        "sd": {"rate": float(np.sqrt(a + S) / (b + E))},
        "info": {"posterior": f"Gamma({a + S:g}, {b + E:.6g}) (shape, rate)"},
    }
