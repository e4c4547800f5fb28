"""The Bernoulli family's prior <-> penalty translations: the report's text rows and the library
settings with their fits."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from nll_losses.models.families.bernoulli.spec import coef_names
from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.libraries import SKLEARN_TOL, library_warnings, sklearn_logistic
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


def penalty_text(tau: float | None, n: int) -> list[dict]:
    rows = [
        {"prior": "w ~ Flat()", "penalty": "none: minimise Σ BCE (LogisticRegression(C=np.inf))"}
    ]
    if tau:
        rows.append(
            {
                "prior": f"w ~ Normal(0, {tau:g}²)",
                "penalty": f"+ ‖w‖²/(2τ²): LogisticRegression(C = τ² = {tau**2:.6g}); "
                f"weight decay on the mean BCE λ = 1/(nτ²) = {1 / (n * tau**2):.6g}",
            }
        )
    rows.append({"prior": "Jeffreys", "penalty": "− ½ log det(X'WX): Firth's bias reduction"})
    return rows


# ----------------------------------------------------------------------------- bernoulli
def bernoulli_rows(problem: Problem) -> list[Translation]:
    """LogisticRegression(C = tau^2), statsmodels' GLM ridge and SGD weight decay on the mean
    BCE for a Gaussian prior on the weights (flat intercept unless tau0 is given)."""

    if not isinstance(problem.spec.coef_prior, Gaussian):
        return []
    spec, n, tau, tau0, X, y, A, params = linear(problem, coef_names)
    C = tau**2

    def logreg() -> Fitted:
        return Fitted(params(sklearn_logistic(X, y, C, spec.intercept)[0][:, 0]))

    lam = 1.0 / (n * tau**2)
    lam0 = 1.0 / (n * tau0**2) if tau0 else 0.0
    lam_vec = lambda_vector(A.shape[1], spec.intercept, lam, lam0)

    def glm() -> Fitted:
        import statsmodels.api as sm

        model = sm.GLM(y, A, family=sm.families.Binomial())
        with library_warnings() as said:
            res = model.fit_regularized(
                method="elastic_net", alpha=lam_vec, L1_wt=0.0, opt_method=glm_opt_method
            )
        return Fitted(params(res.params), note="; ".join(said))

    def sgd() -> Fitted:
        def f(beta):
            z = A @ beta
            val = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(lam_vec * beta**2)
            return val, A.T @ (expit(z) - y) / n + lam_vec * beta

        beta, note = lbfgs(f, np.zeros(A.shape[1]))
        return Fitted(params(beta), note=note)

    design = "[1, X]" if spec.intercept else "X"
    icpt_note = (
        f"; the intercept's N(0, τ₀²) prior (τ₀ = {tau0:g}) is its own penalty" if tau0 else ""
    )
    return [
        Translation(
            id="bernoulli:sklearn-logistic",
            library=SKLEARN,
            call=f"LogisticRegression(C={C:.6g}, solver='newton-cholesky', tol={SKLEARN_TOL:g})",
            parameter="C",
            formula="τ²",
            value=C,
            objective="C·Σ log-loss + ½‖w‖², intercept unpenalised (sklearn/linear_model/"
            "_logistic.py: the solvers minimise mean log-loss + ‖w‖²/(2·C·n), "
            "l2_reg_strength = 1/(C·sw_sum); _linear_loss.py: the L2 term excludes the "
            "intercept) = τ² × our −log posterior + const",
            check="LogisticRegression fitted at this C; its (intercept_, coef_) compared with "
            "find_MAP's coefficients",
            fit=None if tau0 else logreg,
            unavailable="scikit-learn's LogisticRegression never penalises the intercept (the "
            "intercept has a N(0, τ₀²) prior here)"
            if tau0
            else "",
        ),
        Translation(
            id="bernoulli:statsmodels-glm",
            library=STATSMODELS,
            call=f"sm.GLM(y, {design}, family=Binomial()).fit_regularized(alpha=["
            + shown_values(lam_vec)
            + "], L1_wt=0, opt_method=trust-constr(gtol=1e-12, xtol=1e-14))",
            parameter="alpha",
            formula="1/(nτ²) per weight, 0 for the intercept" + (" (1/(nτ₀²))" if tau0 else ""),
            value=lam,
            objective="−loglike/n + Σⱼ alphaⱼ·βⱼ²/2 (statsmodels/genmod/"
            "generalized_linear_model.py, GLM._fit_ridge, used when L1_wt=0: "
            "-(loglike(x)/nobs - sum(alpha*x**2)/2), minimised by scipy.optimize.minimize "
            "with opt_method and no tolerance passed; its default 'bfgs' stops at gtol 1e-5, "
            "too loose for the optimiser tier, so opt_method is a callable running scipy's "
            "trust-constr with gtol 1e-12) = 1/n × our −log posterior + const" + icpt_note,
            check="GLM(Binomial).fit_regularized(L1_wt=0) fitted with this alpha vector; its "
            "params compared with find_MAP's coefficients",
            fit=glm,
        ),
        Translation(
            id="bernoulli:sgd-bce",
            library=SGD,
            call=f"torch.optim.SGD(weight_decay={lam:.6g}"
            f"{weight_decay_groups(f'{lam0:.6g}' if tau0 else None, spec.intercept)}) on "
            "BCEWithLogitsLoss() (mean)",
            parameter="weight_decay",
            formula="1/(nτ²)",
            value=lam,
            objective="mean BCE + (λ/2)‖w‖² (coupled decay: gradient += λ·w) = 1/n × our −log "
            "posterior + const" + icpt_note,
            check="the mean BCE with this decay, written in NumPy with its gradient and "
            "minimised by scipy L-BFGS-B from zero; its minimiser compared with find_MAP's "
            "coefficients",
            fit=sgd,
        ),
    ]
