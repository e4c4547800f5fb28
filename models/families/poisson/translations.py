"""The Poisson family's prior <-> penalty translations: the report's text rows and the library
settings with their fits.

    -log p = Σ (μ − y log μ + log y!) + ‖w‖²/(2τ²)
      PoissonRegressor      1/(2n)·Σ deviance + alpha/2·‖w‖²        alpha = 1/(nτ²)
      GLM.fit_regularized   −loglike/n + Σⱼ alphaⱼ·βⱼ²/2            alpha = 1/(nτ²), 0 intercept
      SGD weight decay      mean PoissonNLLLoss + (λ/2)‖w‖²          λ = 1/(nτ²)

each the MAP objective times 1/n plus a constant (n becomes Σ exp(offset) for scikit-learn,
fitted to y/exp(offset) with those sample weights: it has no offset)."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.poisson.references import (
    sklearn_alpha,
    sklearn_call,
    sklearn_poisson,
)
from nll_losses.models.families.poisson.spec import _offset, coef_names
from nll_losses.models.family import Problem
from nll_losses.models.libraries import library_warnings
from nll_losses.models.priors import Gaussian
from nll_losses.models.translation import (
    SGD,
    SKLEARN,
    STATSMODELS,
    Fitted,
    Translation,
    glm_opt_method,
    lambda_vector,
    lbfgs,
    linear,
    shown_values,
    weight_decay_groups,
)


def penalty_text(tau: float | None, n: int, alpha: float | None = None) -> list[dict]:
    """The report's rows; ``alpha`` is PoissonRegressor's (1/(nτ²), or 1/(Σe·τ²) with an
    offset and no intercept: ``references.sklearn_alpha``)."""
    rows = [
        {
            "prior": "w ~ Flat()",
            "penalty": "none: minimise the mean Poisson deviance (PoissonRegressor(alpha=0))",
        }
    ]
    if tau:
        rows.append(
            {
                "prior": f"w ~ Normal(0, {tau:g}²)",
                "penalty": f"+ ‖w‖²/(2τ²): PoissonRegressor(alpha = "
                f"{alpha if alpha is not None else 1 / (n * tau**2):.6g}); weight decay on the "
                "mean PoissonNLLLoss "
                f"λ = 1/(nτ²) = {1 / (n * tau**2):.6g}",
            }
        )
    return rows


def poisson_rows(problem: Problem) -> list[Translation]:
    """PoissonRegressor(alpha), statsmodels' GLM ridge and SGD weight decay on the mean
    PoissonNLLLoss, for a Gaussian prior on the weights (flat intercept unless τ₀ is given)."""
    if not isinstance(problem.spec.coef_prior, Gaussian) or not problem.features:
        return []
    spec, n, tau, tau0, X, y, A, params = linear(problem, coef_names)
    offset = _offset(problem)
    alpha = sklearn_alpha(problem)
    lam = 1.0 / (n * tau**2)
    lam0 = 1.0 / (n * tau0**2) if tau0 else 0.0
    lam_vec = lambda_vector(A.shape[1], spec.intercept, lam, lam0)

    def regressor() -> Fitted:
        return Fitted(params(sklearn_poisson(problem, alpha)[0]))

    def glm() -> Fitted:
        import statsmodels.api as sm

        model = sm.GLM(y, A, family=sm.families.Poisson(), offset=offset)
        with library_warnings() as said:
            res = model.fit_regularized(
                method="elastic_net", alpha=lam_vec, L1_wt=0.0, opt_method=glm_opt_method
            )
        return Fitted(params(res.params), note="; ".join(said))

    def sgd() -> Fitted:
        def f(beta):
            eta = offset + A @ beta
            mu = np.exp(eta)
            val = np.mean(mu - y * eta) + 0.5 * np.sum(lam_vec * beta**2)
            return val, A.T @ (mu - y) / n + lam_vec * beta

        beta, note = lbfgs(f, np.zeros(A.shape[1]))
        return Fitted(params(beta), note=note)

    design = "[1, X]" if spec.intercept else "X"
    glm_intercept = ""
    if spec.intercept:
        glm_intercept = ", 0 for the intercept" + (" (1/(nτ₀²))" if tau0 else "")
    with_offset = ", offset=…" if "offset" in problem.rows else ""
    icpt_note = (
        f"; the intercept's N(0, τ₀²) prior (τ₀ = {tau0:g}) is its own penalty" if tau0 else ""
    )
    exposure = (
        " (Σ exp(offset) in place of n: no intercept to absorb the exposures' mean)"
        if "offset" in problem.rows and not spec.intercept
        else ""
    )
    return [
        Translation(
            id="poisson:sklearn-regressor",
            library=SKLEARN,
            call=sklearn_call(problem, alpha),
            parameter="alpha",
            formula="1/(nτ²)" + exposure,
            value=alpha,
            objective="1/(2·Σs)·Σ s·deviance + alpha/2·‖w‖², intercept unpenalised (sklearn/"
            "linear_model/_glm/glm.py, _GeneralizedLinearRegressor: '1/(2*sum(s_i)) * "
            "sum(s_i * deviance(y_i, h(x_i*w)) + 1/2 * alpha * ||w||_2^2', s the sample "
            "weights, all 1 without an offset) = 1/n × our −log posterior + const",
            check="PoissonRegressor fitted at this alpha; its (intercept_, coef_) compared "
            "with find_MAP's coefficients",
            fit=None if tau0 else regressor,
            unavailable="scikit-learn's PoissonRegressor never penalises the intercept (the "
            "intercept has a N(0, τ₀²) prior here)"
            if tau0
            else "",
        ),
        Translation(
            id="poisson:statsmodels-glm",
            library=STATSMODELS,
            call=f"sm.GLM(y, {design}, family=Poisson(){with_offset}).fit_regularized(alpha=["
            + shown_values(lam_vec)
            + "], L1_wt=0, opt_method=trust-constr(gtol=1e-12, xtol=1e-14))",
            parameter="alpha",
            formula="1/(nτ²) per weight" + glm_intercept,
            value=lam,
            objective="−loglike/n + Σⱼ alphaⱼ·βⱼ²/2 (statsmodels GLM._fit_ridge, used when "
            "L1_wt=0; its default 'bfgs' stops at gtol 1e-5, so opt_method runs scipy's "
            "trust-constr with gtol 1e-12) = 1/n × our −log posterior + const" + icpt_note,
            check="GLM(Poisson).fit_regularized(L1_wt=0) fitted with this alpha vector; its "
            "params compared with find_MAP's coefficients",
            fit=glm,
        ),
        Translation(
            id="poisson:sgd-poissonnll",
            library=SGD,
            call=f"torch.optim.SGD(weight_decay={lam:.6g}"
            f"{weight_decay_groups(f'{lam0:.6g}' if tau0 else None, spec.intercept)}) on "
            "PoissonNLLLoss(log_input=True) (mean)",
            parameter="weight_decay",
            formula="1/(nτ²)",
            value=lam,
            objective="mean(exp(η) − y·η) + (λ/2)‖w‖² (PoissonNLLLoss with log_input=True, "
            "full=False; coupled decay) = 1/n × our −log posterior + const" + icpt_note,
            check="the mean PoissonNLLLoss with this decay, written in NumPy with its gradient "
            "and minimised by scipy L-BFGS-B from zero; its minimiser compared with "
            "find_MAP's coefficients",
            fit=sgd,
        ),
    ]
