"""The normal family's prior <-> penalty translations: the report's text rows and the library
settings with their fits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nll_losses.models.families.normal.spec import NormalSpec, coef_names
from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.libraries import library_warnings
from nll_losses.models.priors import Gaussian
from nll_losses.models.translation import (
    SGD,
    SKLEARN,
    STATSMODELS,
    Fitted,
    Translation,
    lambda_vector,
    lbfgs,
    linear,
    shown_values,
    weight_decay_groups,
)


def penalty_text(spec: NormalSpec, n: int, sigma: float | None) -> list[dict]:
    """Prior <-> penalty table for the report (uses sigma: the known value or the mode)."""
    rows = [{"prior": "w ~ Flat()", "penalty": "none: minimise Σ(y − ŷ)² = n·MSE (least squares)"}]
    if isinstance(spec.coef_prior, Gaussian):
        tau = spec.coef_prior.scale
        if sigma is not None:
            alpha = sigma**2 / tau**2
            rows.append(
                {
                    "prior": f"w ~ Normal(0, {tau:g}²)",
                    "penalty": f"+ α‖w‖² with α = σ²/τ² = {sigma:.6g}²/{tau:g}² = {alpha:.6g} "
                    f"(sklearn Ridge(alpha={alpha:.6g}); per-sample weight decay λ = α/n = "
                    f"{alpha / n:.6g} on the MSE)",
                }
            )
    return rows


# ----------------------------------------------------------------------------- normal
def normal_rows(problem: Problem, sigma: float | None) -> list[Translation]:
    """Ridge, statsmodels' elastic net at L1_wt = 0 and SGD weight decay (two MSE
    conventions) for a Gaussian prior on the weights; ``sigma`` is the noise sd to use (the
    known value, or find_MAP's mode when sigma is unknown: the joint mode's weights are ridge
    at alpha = sigma_hat^2/tau^2)."""

    if not isinstance(problem.spec.coef_prior, Gaussian):
        return []
    spec, n, tau, tau0, X, y, A, params = linear(problem, coef_names)
    no_sigma = (
        ""
        if sigma is not None and np.isfinite(sigma) and sigma > 0
        else "the penalty needs σ, which has no estimate here (find_MAP unavailable)"
    )
    s2 = float(sigma) ** 2 if not no_sigma else np.nan
    alpha = s2 / tau**2
    icpt_penalised = tau0 is not None

    def ridge() -> Fitted:
        from sklearn.linear_model import Ridge

        est = Ridge(alpha=alpha, fit_intercept=spec.intercept, solver="auto").fit(X, y)
        beta = ([float(est.intercept_)] if spec.intercept else []) + list(est.coef_)
        return Fitted(params(beta))

    a = s2 / (n * tau**2)
    a0 = s2 / (n * tau0**2) if icpt_penalised else 0.0
    a_vec = lambda_vector(A.shape[1], spec.intercept, a, a0)

    def ols_ridge() -> Fitted:
        import statsmodels.api as sm

        with library_warnings() as said:
            res = sm.OLS(y, A).fit_regularized(method="elastic_net", alpha=a_vec, L1_wt=0.0)
        return Fitted(params(res.params), note="; ".join(said))

    def sgd(scale: float, lam_vec: np.ndarray) -> Callable[[], Fitted]:
        """mean of scale * (y - yhat)^2 + sum_j lam_j beta_j^2 / 2, minimised from zero."""

        def fit() -> Fitted:
            def f(beta):
                r = y - A @ beta
                val = scale * np.mean(r**2) + 0.5 * np.sum(lam_vec * beta**2)
                grad = -2.0 * scale * (A.T @ r) / n + lam_vec * beta
                return val, grad

            beta, note = lbfgs(f, np.zeros(A.shape[1]))
            return Fitted(params(beta), note=note)

        return fit

    design = "[1, X]" if spec.intercept else "X"
    icpt_note = (
        f"; the intercept's N(0, τ₀²) prior (τ₀ = {tau0:g}) is its own penalty" if tau0 else ""
    )
    lam_half = s2 / (n * tau**2)
    lam_mse = 2 * s2 / (n * tau**2)
    bias_half = f"{s2 / (n * tau0**2):.6g}" if tau0 else None
    bias_mse = f"{2 * s2 / (n * tau0**2):.6g}" if tau0 else None
    rows = [
        Translation(
            id="normal:sklearn-ridge",
            library=SKLEARN,
            call=f"Ridge(alpha={alpha:.6g}, fit_intercept={spec.intercept})",
            parameter="alpha",
            formula="σ²/τ²",
            value=alpha,
            objective="‖y − Xw − b‖² + α‖w‖², intercept unpenalised (sklearn/linear_model/"
            "_ridge.py, Ridge: 'Minimizes the objective function ||y - Xw||^2_2 + alpha * "
            "||w||^2_2'; the intercept is fitted by centring X and y) = 2σ² × our −log "
            "posterior + const",
            check="Ridge fitted at this alpha; its (intercept_, coef_) compared with "
            "find_MAP's coefficients",
            fit=None if (no_sigma or icpt_penalised) else ridge,
            unavailable=no_sigma
            or (
                "scikit-learn's Ridge never penalises the intercept (the intercept has a "
                "N(0, τ₀²) prior here)"
                if icpt_penalised
                else ""
            ),
        ),
        Translation(
            id="normal:statsmodels-ols",
            library=STATSMODELS,
            call=f"sm.OLS(y, {design}).fit_regularized(alpha=["
            + shown_values(a_vec)
            + "], L1_wt=0)",
            parameter="alpha",
            formula="σ²/(nτ²) per weight, 0 for the intercept" + (" (σ²/(nτ₀²))" if tau0 else ""),
            value=a,
            objective="0.5·RSS/n + Σⱼ alphaⱼ·βⱼ²/2 (statsmodels/regression/linear_model.py, "
            "fit_regularized docstring: 0.5*RSS/n + alpha*((1-L1_wt)*|params|_2^2/2 + "
            "L1_wt*|params|_1); with L1_wt=0 OLS._fit_ridge solves (XᵀX + n·diag(alpha))β = "
            "Xᵀy by SVD, honouring a per-parameter alpha vector; a scalar alpha would "
            "penalise the intercept too) = σ²/n × our −log posterior + const" + icpt_note,
            check="OLS.fit_regularized(L1_wt=0) fitted with this alpha vector; its params "
            "compared with find_MAP's coefficients",
            fit=None if no_sigma else ols_ridge,
            unavailable=no_sigma,
        ),
        Translation(
            id="normal:sgd-half-mse",
            library=SGD,
            call=f"torch.optim.SGD(weight_decay={lam_half:.6g}"
            f"{weight_decay_groups(bias_half, spec.intercept)}) on "
            "0.5·MSELoss() (mean over the batch)",
            parameter="weight_decay",
            formula="σ²/(nτ²)",
            value=lam_half,
            objective="mean_i ½(yᵢ − ŷᵢ)² + (λ/2)‖w‖²: torch.optim.SGD's coupled weight decay "
            "adds λ·w to the gradient (torch docs: g_t ← g_t + λθ_{t−1}) = σ²/n × our −log "
            "posterior + const; full-batch, at its minimiser" + icpt_note,
            check="the mean-reduced ½·squared-error loss with this decay, written in NumPy with "
            "its gradient and minimised by scipy L-BFGS-B from zero; its minimiser compared "
            "with find_MAP's coefficients",
            fit=None
            if no_sigma
            else sgd(0.5, lambda_vector(A.shape[1], spec.intercept, lam_half, a0)),
            unavailable=no_sigma,
        ),
        Translation(
            id="normal:sgd-mseloss",
            library=SGD,
            call=f"torch.optim.SGD(weight_decay={lam_mse:.6g}"
            f"{weight_decay_groups(bias_mse, spec.intercept)}) on "
            "MSELoss() (mean of squared errors, no ½)",
            parameter="weight_decay",
            formula="2σ²/(nτ²)",
            value=lam_mse,
            objective="mean_i (yᵢ − ŷᵢ)² + (λ/2)‖w‖² (PyTorch MSELoss, reduction='mean', has "
            "no ½, so its λ is twice the ½·MSE one) = 2σ²/n × our −log posterior + const"
            + icpt_note,
            check="the mean-reduced squared-error loss (no ½) with this decay, written in NumPy "
            "with its gradient and minimised by scipy L-BFGS-B from zero; its minimiser "
            "compared with find_MAP's coefficients",
            fit=None
            if no_sigma
            else sgd(1.0, lambda_vector(A.shape[1], spec.intercept, lam_mse, 2 * a0)),
            unavailable=no_sigma,
        ),
    ]
    return rows
