"""The hyperparameter translation table: a Gaussian prior as each library's penalty setting.

A N(0, tau^2) prior on the weights adds ``sum w^2 / (2 tau^2)`` to the negative log
likelihood.  Every library writes the same minimiser with its own scaling of the loss, so the
prior becomes a different number in each::

    normal (sigma known or its mode):  -log p = RSS/(2 s^2) + ||w||^2/(2 tau^2) + const
      scikit-learn Ridge               ||y - Xw - b||^2 + alpha ||w||^2       alpha = s^2/tau^2
      statsmodels OLS.fit_regularized  RSS/(2n) + sum_j a_j beta_j^2 / 2      a = s^2/(n tau^2)
      SGD weight decay, 1/2 mean sq.   mean (y - yhat)^2 / 2 + (l/2)||w||^2   l = s^2/(n tau^2)
      SGD weight decay, MSELoss        mean (y - yhat)^2 + (l/2)||w||^2       l = 2 s^2/(n tau^2)
    bernoulli / categorical:           -log p = sum CE + ||W||^2/(2 tau^2) + const
      LogisticRegression               C sum log-loss + ||W||^2 / 2           C = tau^2
      statsmodels GLM.fit_regularized  -loglike/n + sum_j a_j beta_j^2 / 2    a = 1/(n tau^2)
      SGD weight decay on the mean CE  mean CE + (l/2)||W||^2                 l = 1/(n tau^2)
      MLPClassifier (network)          mean log-loss + alpha/(2n) ||W||^2     alpha = 1/tau^2
    Dirichlet(a) on q (intercept only):
      label smoothing                  mean CE against (1 - e) onehot + e/K   e = K(a-1)/(n+K(a-1))

(s the noise sd.)  Each is the MAP objective times a positive constant (s^2/n, 1/n, tau^2,
...), so the minimisers coincide.  "SGD weight decay" is the coupled convention of
``torch.optim.SGD`` (gradient += l * w, i.e. a penalty (l/2)||w||^2), with the biases in a
parameter group of weight_decay 0; decoupled decay (AdamW) is not a penalty on the loss and
has no such value.

Each row carries a ``fit`` that runs the library (or, for the SGD rows, where no deep-learning
framework is installed, the same mean-reduced objective written in NumPy with its gradient and
minimised by scipy L-BFGS-B from zero, independent of our MAP) and returns its answer under
the layout's parameter names.  ``analyses.translate.verify`` compares it with find_MAP.

Layering: ``models`` only (NumPy, SciPy, scikit-learn, statsmodels); nothing from ``analyses``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logsumexp, softmax

from models import linalg as la
from models.family import SKLEARN_TOL, Problem, library_warnings, sklearn_logistic
from models.priors import Gaussian

SKLEARN = "scikit-learn"
STATSMODELS = "statsmodels"
SGD = "SGD-style optimiser"
# The NumPy mean-loss objectives: L-BFGS-B run to the rounding floor (ftol 0: no stop on a
# small relative decrease; it ends when the line search can no longer decrease f, or on gtol)
LBFGS_OPTIONS = {"maxiter": 50_000, "maxfun": 200_000, "ftol": 0.0, "gtol": 1e-14, "maxcor": 30}
# statsmodels GLM ridge (GLM._fit_ridge) hands its objective and gradient to
# scipy.optimize.minimize(method=opt_method) with no tolerance.  Its default "bfgs" (gtol 1e-5
# on the gradient of -loglike/n) ends ~1000x outside the optimiser tier on breast_cancer, and
# "trust-constr" at its defaults (gtol = xtol = 1e-8) just outside it (1.003x).  A callable
# opt_method is scipy's documented custom-minimiser hook: it runs trust-constr on statsmodels'
# own objective and gradient with tight tolerances (measured <= 2.3e-4 of the tier on the
# built-in cases).
GLM_OPTIONS = {"gtol": 1e-12, "xtol": 1e-14, "maxiter": 10_000}


def glm_opt_method(fun, x0, args=(), jac=None, callback=None, **_ignored):
    """scipy's trust-constr with ``GLM_OPTIONS``, as a custom ``minimize`` method."""
    return minimize(fun, x0, args=args, jac=jac, method="trust-constr", options=GLM_OPTIONS)


@dataclass(frozen=True)
class Fitted:
    """A library's answer: ``params`` under the layout's names; ``objective`` (objective rows)
    is n times the library's own reported loss at ``params``."""

    params: dict[str, float]
    objective: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Translation:
    """One row of the table: a library setting equivalent to the problem's prior.

    ``fit`` runs it; ``compare`` says how it is verified: "parameters" (its minimiser against
    find_MAP's, the objective being convex) or "objective" (multimodal: n times its reported
    loss at its own answer equals our negative log posterior there).  ``unavailable`` (with
    ``fit`` None) says why the library offers no such fit.
    """

    id: str
    library: str
    call: str
    parameter: str
    formula: str
    value: float
    objective: str
    check: str  # one sentence: what is fitted and what it is compared with
    fit: Callable[[], Fitted] | None
    compare: str = "parameters"
    unavailable: str = ""


# ----------------------------------------------------------------------------- helpers
def _lbfgs(f_and_grad, x0) -> tuple[np.ndarray, str]:
    res = minimize(f_and_grad, x0, jac=True, method="L-BFGS-B", options=LBFGS_OPTIONS)
    return res.x, f"L-BFGS-B from 0: {res.nit} iterations, {res.message}"


class _Linear(NamedTuple):
    """What the rows of a linear-predictor family (normal, Bernoulli) start from."""

    spec: object
    n: int
    tau: float  # of the weights
    tau0: float | None  # of the intercept; None when it is flat or absent
    X: np.ndarray
    y: np.ndarray
    A: np.ndarray  # the design, with its column of ones first when there is an intercept
    params: Callable[[np.ndarray], dict[str, float]]  # a coefficient vector under the names


def _linear(problem: Problem, coef_names) -> _Linear:
    """The problem's data, design, prior scales and parameter naming for the table's rows."""
    spec = problem.spec
    tau0 = spec.intercept_prior.scale if isinstance(spec.intercept_prior, Gaussian) else None
    names = coef_names(problem.features, spec)

    def params(beta) -> dict[str, float]:
        return dict(zip(names, map(float, beta), strict=True))

    X = np.asarray(problem.X, float)
    return _Linear(
        spec,
        problem.n,
        spec.coef_prior.scale,
        tau0 if spec.intercept else None,
        X,
        np.asarray(problem.y, float),
        la.design(X, spec.intercept),
        params,
    )


def _shown(vec, first: int = 3) -> str:
    """A penalty vector as the table's call shows it: its first entries, then "…"."""
    return ", ".join(f"{v:.6g}" for v in vec[:first]) + (", …" if len(vec) > first else "")


def _lambda_vector(p: int, intercept: bool, lam: float, lam0: float | None) -> np.ndarray:
    out = np.full(p, lam)
    if intercept:
        out[0] = lam0 or 0.0
    return out


def _groups(lam0_text: str | None, biases: bool = True) -> str:
    """The biases' parameter group in the SGD call text (none without an intercept)."""
    if not biases:
        return ""
    return f"; biases in a group with weight_decay={lam0_text or 0}"


# ----------------------------------------------------------------------------- normal
def normal_rows(problem: Problem, sigma: float | None) -> list[Translation]:
    """Ridge, statsmodels' elastic net at L1_wt = 0 and SGD weight decay (two MSE
    conventions) for a Gaussian prior on the weights; ``sigma`` is the noise sd to use (the
    known value, or find_MAP's mode when sigma is unknown: the joint mode's weights are ridge
    at alpha = sigma_hat^2/tau^2)."""
    from models.normal import coef_names

    if not isinstance(problem.spec.coef_prior, Gaussian):
        return []
    spec, n, tau, tau0, X, y, A, params = _linear(problem, coef_names)
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
    a_vec = _lambda_vector(A.shape[1], spec.intercept, a, a0)

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

            beta, note = _lbfgs(f, np.zeros(A.shape[1]))
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
            call=f"sm.OLS(y, {design}).fit_regularized(alpha=[" + _shown(a_vec) + "], L1_wt=0)",
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
            f"{_groups(bias_half, spec.intercept)}) on "
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
            else sgd(0.5, _lambda_vector(A.shape[1], spec.intercept, lam_half, a0)),
            unavailable=no_sigma,
        ),
        Translation(
            id="normal:sgd-mseloss",
            library=SGD,
            call=f"torch.optim.SGD(weight_decay={lam_mse:.6g}"
            f"{_groups(bias_mse, spec.intercept)}) on "
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
            else sgd(1.0, _lambda_vector(A.shape[1], spec.intercept, lam_mse, 2 * a0)),
            unavailable=no_sigma,
        ),
    ]
    return rows


# ----------------------------------------------------------------------------- bernoulli
def bernoulli_rows(problem: Problem) -> list[Translation]:
    """LogisticRegression(C = tau^2), statsmodels' GLM ridge and SGD weight decay on the mean
    BCE for a Gaussian prior on the weights (flat intercept unless tau0 is given)."""
    from models.bernoulli import coef_names

    if not isinstance(problem.spec.coef_prior, Gaussian):
        return []
    spec, n, tau, tau0, X, y, A, params = _linear(problem, coef_names)
    C = tau**2

    def logreg() -> Fitted:
        return Fitted(params(sklearn_logistic(X, y, C, spec.intercept)[0][:, 0]))

    lam = 1.0 / (n * tau**2)
    lam0 = 1.0 / (n * tau0**2) if tau0 else 0.0
    lam_vec = _lambda_vector(A.shape[1], spec.intercept, lam, lam0)

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

        beta, note = _lbfgs(f, np.zeros(A.shape[1]))
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
            + _shown(lam_vec)
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
            f"{_groups(f'{lam0:.6g}' if tau0 else None, spec.intercept)}) on "
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


# ----------------------------------------------------------------------------- categorical
def categorical_rows(problem: Problem, seed: int = 0) -> list[Translation]:
    """Softmax regression (Gaussian prior on all K weight vectors), the network (Gaussian prior
    on W1, W2) or the intercept-only model with a Dirichlet prior; [] otherwise."""
    spec = problem.spec
    if spec.prior == "dirichlet":
        return _dirichlet_rows(problem)
    if spec.prior != "gaussian" or not problem.features:
        return []
    return _network_rows(problem, seed) if spec.hidden else _softmax_rows(problem)


def _softmax_rows(problem: Problem) -> list[Translation]:
    from models import categorical as cat

    spec = problem.spec
    classes, base = cat._classes(problem)
    K = len(classes)
    n = problem.n
    tau = spec.tau
    X = np.asarray(problem.X, float)
    y = cat._y(problem)
    A = la.design(X, spec.intercept)
    p = A.shape[1]
    C = tau**2
    lam = 1.0 / (n * tau**2)

    def logreg() -> Fitted:
        return Fitted(cat._regression_params(problem, sklearn_logistic(X, y, C, spec.intercept)[0]))

    lam_rows = _lambda_vector(p, spec.intercept, lam, 0.0)
    Y = np.eye(K)[y]

    def sgd() -> Fitted:
        def f(theta):
            B = theta.reshape(p, K)
            Z = A @ B
            val = np.mean(logsumexp(Z, axis=1) - Z[np.arange(n), y])
            val += 0.5 * np.sum(lam_rows[:, None] * B**2)
            G = A.T @ (softmax(Z, axis=1) - Y) / n + lam_rows[:, None] * B
            return val, G.ravel()

        theta, note = _lbfgs(f, np.zeros(p * K))
        return Fitted(cat._regression_params(problem, theta.reshape(p, K)), note=note)

    two = K == 2
    return [
        Translation(
            id="categorical:sklearn-logistic",
            library=SKLEARN,
            call=f"LogisticRegression(C={C:.6g}, solver='newton-cholesky', tol={SKLEARN_TOL:g})"
            " (multinomial)",
            parameter="C",
            formula="τ²",
            value=C,
            objective="C·Σ log-loss + ½Σₖ‖Wₖ‖² over all K weight vectors, intercepts "
            "unpenalised (sklearn/linear_model/_logistic.py: mean log-loss + "
            "‖W‖²/(2·C·n); multinomial for K ≥ 3 with every solver but liblinear) = τ² × our "
            "−log posterior + const",
            check="LogisticRegression fitted at this C; its weights (all K classes) and "
            "intercept contrasts compared with find_MAP's",
            fit=None if two else logreg,
            unavailable="scikit-learn fits two classes with one weight vector (a different prior)"
            if two
            else "",
        ),
        Translation(
            id="categorical:statsmodels",
            library=STATSMODELS,
            call="not available in statsmodels",
            parameter="alpha",
            formula="1/(nτ²) (its elastic-net convention, were there one)",
            value=lam,
            objective="−loglike/n + alpha·‖W‖²/2 would be the convention (as GLM."
            "fit_regularized); statsmodels has no multinomial L2 fit",
            check="not fitted: no such fit exists",
            fit=None,
            unavailable="not available in statsmodels: MNLogit.fit_regularized is L1 only "
            "(method 'l1' or 'l1_cvxopt_cp', statsmodels/discrete/discrete_model.py), and its "
            "K − 1 contrast parametrisation would put the prior on contrasts (a different "
            "prior); GLM has no multinomial family",
        ),
        Translation(
            id="categorical:sgd-ce",
            library=SGD,
            call=f"torch.optim.SGD(weight_decay={lam:.6g}{_groups(None, spec.intercept)}) on "
            "CrossEntropyLoss() (mean)",
            parameter="weight_decay",
            formula="1/(nτ²)",
            value=lam,
            objective="mean CE + (λ/2)Σₖ‖Wₖ‖² (coupled decay: gradient += λ·W, all K weight "
            "vectors, biases excluded) = 1/n × our −log posterior + const",
            check="the mean cross-entropy with this decay, written in NumPy with its gradient "
            "and minimised by scipy L-BFGS-B from zero; its weights and intercept contrasts "
            "compared with find_MAP's",
            fit=sgd,
        ),
    ]


def _network_rows(problem: Problem, seed: int) -> list[Translation]:
    """``seed``: MLPClassifier's random_state, and (spawned from it) the NumPy network's start."""
    from models import categorical as cat

    spec = problem.spec
    classes, base = cat._classes(problem)
    K, H = len(classes), spec.hidden
    n = problem.n
    tau = spec.tau
    X = np.asarray(problem.X, float)
    d = X.shape[1]
    y = cat._y(problem)
    Y = np.eye(K)[y]
    alpha = 1.0 / tau**2
    lam = 1.0 / (n * tau**2)

    def mlp() -> Fitted:
        clf = cat.sklearn_mlp(problem, alpha, seed)
        W1, W2 = clf.coefs_
        b1, b2 = clf.intercepts_
        return Fitted(
            cat._network_params(problem, W1, b1, W2, b2),
            objective=float(n * clf.loss_),
            note=f"n·loss_ at its answer ({clf.n_iter_} L-BFGS iterations)",
        )

    sizes = [(d, H), (H,), (H, K), (K,)]
    cuts = np.cumsum([int(np.prod(s)) for s in sizes])[:-1]

    def unpack(theta):
        return [part.reshape(s) for part, s in zip(np.split(theta, cuts), sizes, strict=True)]

    def sgd() -> Fitted:
        def f(theta):
            W1, b1, W2, b2 = unpack(theta)
            pre = X @ W1 + b1
            h = np.maximum(pre, 0.0)
            Z = h @ W2 + b2
            val = np.mean(logsumexp(Z, axis=1) - Z[np.arange(n), y])
            val += 0.5 * lam * (np.sum(W1**2) + np.sum(W2**2))
            G = (softmax(Z, axis=1) - Y) / n
            dh = (G @ W2.T) * (pre > 0)
            grad = [X.T @ dh + lam * W1, dh.sum(0), h.T @ G + lam * W2, G.sum(0)]
            return val, np.concatenate([g.ravel() for g in grad])

        # not zero: all-zero weights are a stationary point of the network (no gradient
        # reaches W1 through W2 = 0, nor W2 through relu(0) = 0); a seeded Glorot-scale start
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        theta0 = np.concatenate(
            [
                rng.normal(scale=np.sqrt(2.0 / (d + H)), size=d * H),
                np.zeros(H),
                rng.normal(scale=np.sqrt(2.0 / (H + K)), size=H * K),
                np.zeros(K),
            ]
        )
        res = minimize(f, theta0, jac=True, method="L-BFGS-B", options=LBFGS_OPTIONS)
        W1, b1, W2, b2 = unpack(res.x)
        return Fitted(
            cat._network_params(problem, W1, b1, W2, b2),
            objective=float(n * res.fun),
            note=f"n × mean objective at its answer (L-BFGS-B, {res.nit} iterations)",
        )

    two = K == 2
    const = (
        "the constant is 0: both sides drop the Gaussian normalisers, and b1 is flat in "
        "find_MAP's objective (Support.spec hidden_bias_scale=None), as in MLPClassifier"
    )
    return [
        Translation(
            id="categorical:sklearn-mlp",
            library=SKLEARN,
            call=f"MLPClassifier(hidden_layer_sizes=({H},), activation='relu', solver='lbfgs', "
            f"alpha={alpha:.6g}, tol={SKLEARN_TOL:g})",
            parameter="alpha",
            formula="1/τ²",
            value=alpha,
            objective="mean log-loss + alpha/(2n)·(‖W1‖² + ‖W2‖²), biases unpenalised "
            "(sklearn/neural_network/_multilayer_perceptron.py, _backprop: loss += (0.5 * "
            f"alpha) * Σ‖W‖² / n; loss_ = opt_res.fun) = 1/n × our −log posterior; {const}",
            check="MLPClassifier fitted (random_state from the run's seed); n × its loss_ "
            "compared with our "
            "negative log posterior (the family's find_MAP objective) at its answer",
            fit=None if two else mlp,
            compare="objective",
            unavailable="MLPClassifier fits two classes with one logistic output unit (a "
            "different model)"
            if two
            else "",
        ),
        Translation(
            id="categorical:sgd-network",
            library=SGD,
            call=f"torch.optim.SGD(weight_decay={lam:.6g}{_groups(None)}) on "
            "CrossEntropyLoss() (mean)",
            parameter="weight_decay",
            formula="1/(nτ²)",
            value=lam,
            objective="mean CE + (λ/2)(‖W1‖² + ‖W2‖²) (coupled decay, biases excluded) = 1/n "
            f"× our −log posterior; {const}",
            check="the network's mean cross-entropy with this decay, written in NumPy with its "
            "gradient and minimised by scipy L-BFGS-B from a seeded random start; n × its "
            "objective compared with our negative log posterior at its answer",
            fit=sgd,
            compare="objective",
        ),
    ]


def _dirichlet_rows(problem: Problem) -> list[Translation]:
    """Label smoothing: with T = (1 - e) onehot(y) + e/K the mean CE against T is minimised
    at q = mean T = (1 - e) c/n + e/K, which is the Dirichlet(alpha) mode
    (c + alpha - 1)/(n + K(alpha - 1)) exactly when e = K(alpha - 1)/(n + K(alpha - 1))."""
    from models import categorical as cat

    classes, _ = cat._classes(problem)
    K = len(classes)
    n = problem.n
    a = problem.spec.alpha
    eps = K * (a - 1) / (n + K * (a - 1))
    y = cat._y(problem)
    T = (1 - eps) * np.eye(K)[y] + eps / K

    def smoothed() -> Fitted:
        tbar = T.mean(axis=0)

        def f(z):
            return logsumexp(z) - tbar @ z, softmax(z) - tbar

        z, note = _lbfgs(f, np.zeros(K))
        q = softmax(z)
        return Fitted({f"P({c})": float(v) for c, v in zip(classes, q, strict=True)}, note=note)

    bad = "" if a >= 1 else f"α = {a:g} < 1 would need a negative label smoothing"
    return [
        Translation(
            id="categorical:label-smoothing",
            library=SGD,
            call=f"CrossEntropyLoss(label_smoothing={eps:.6g}) (PyTorch; Keras "
            "CategoricalCrossentropy(label_smoothing=…) is the same)",
            parameter="label_smoothing",
            formula="K(α−1)/(n+K(α−1))",
            value=eps,
            objective="mean CE against the targets (1 − ε)·onehot(y) + ε/K (PyTorch docs: a "
            "mixture of the ground truth and a uniform distribution) = [−Σₖ(cₖ + α − 1) log qₖ]"
            " × (1 − ε)/n exactly: (1 − ε)/n × the Dirichlet(α) MAP objective",
            check="the mean cross-entropy against smoothed targets, minimised over the K logits "
            "by scipy L-BFGS-B from zero; its class probabilities compared with find_MAP's",
            fit=None if bad else smoothed,
            unavailable=bad,
        )
    ]
