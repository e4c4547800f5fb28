"""The categorical family's references: our Newton solver, statsmodels MNLogit, scikit-learn
(LogisticRegression, MLPClassifier), the Dirichlet closed forms."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import digamma, polygamma

from nll_losses.models.families.categorical import network, regression
from nll_losses.models.families.categorical.params import (
    class_codes,
    classes_and_baseline,
    probabilities,
)
from nll_losses.models.families.categorical.regression import regression_params, row_precision
from nll_losses.models.families.categorical.spec import SKLEARN_RESTARTS
from nll_losses.models.family import (
    Problem,
    Unavailable,
)
from nll_losses.models.libraries import SKLEARN_TOL, library_warnings, sklearn_logistic
from nll_losses.models.numerics import linalg as la
from nll_losses.models.numerics import softmax as sm_


# ----------------------------------------------------------------------------- references
def _fit(mean: dict, info: dict, problem: Problem, sd: dict | None = None) -> dict:
    out = {"mean": mean | probabilities(problem, mean, regression.logits), "info": info}
    if sd:
        out["sd"] = sd
    return out


def newton_fit(problem: Problem, inputs: dict) -> dict:
    """Our Newton solver with the block Hessian (``models.numerics.softmax.newton``)."""
    classes, base = classes_and_baseline(problem)
    A = la.design(problem.X, problem.spec.intercept)
    r = sm_.newton(A, class_codes(problem), len(classes), base, row_precision(problem))
    if not r.converged:
        raise RuntimeError(
            f"Newton did not converge: step still {r.scaled_step:.3g} sds after "
            f"{r.iterations} iterations"
        )
    mean = regression_params(problem, r.B)
    sd = regression_params(
        problem, r.sd()
    )  # its gauge is the baseline's: sd = that of the contrast
    return _fit(
        mean,
        {
            "solver": "Newton-Raphson, block Hessian, step halving",
            "criterion": f"Newton step still to go ≤ {sm_.NEWTON_STEP_TOL:g} sds",
            "iterations": r.iterations,
            "scaled_step": r.scaled_step,
            "sd": "sqrt(diag H⁻¹), H the Hessian of the objective",
        },
        problem,
        {k: abs(v) for k, v in sd.items()},
    )


def _ordered_codes(problem: Problem) -> tuple[np.ndarray, list[int]]:
    """Codes with the baseline first (statsmodels takes the smallest code as baseline)."""
    classes, base = classes_and_baseline(problem)
    order = [base] + [k for k in range(len(classes)) if k != base]
    code = np.empty(len(classes), int)
    code[order] = np.arange(len(classes))
    return code[class_codes(problem)], order


def statsmodels_fit(problem: Problem, inputs: dict) -> dict:
    """statsmodels ``MNLogit(y, [1, X]).fit(method="newton")``: the MLE and its standard
    errors; its params are (p x K-1), columns the non-baseline classes."""
    import statsmodels.api as sm

    classes, base = classes_and_baseline(problem)
    codes, order = _ordered_codes(problem)
    A = la.design(problem.X, problem.spec.intercept)
    with library_warnings() as said:
        res = sm.MNLogit(codes, A).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    if not res.mle_retvals.get("converged", False):
        raise RuntimeError("statsmodels MNLogit did not converge")
    B = np.zeros((A.shape[1], len(classes)))
    S = np.zeros_like(B)
    B[:, order[1:]] = np.asarray(res.params)
    S[:, order[1:]] = np.asarray(res.bse)
    return _fit(
        regression_params(problem, B),
        {"call": "sm.MNLogit(y, [1, X]).fit(method='newton', tol=1e-14)"}
        | ({"warning": "statsmodels says: " + "; ".join(said)} if said else {}),
        problem,
        regression_params(problem, S),
    )


def sklearn_fit(problem: Problem, inputs: dict) -> dict:
    """scikit-learn ``LogisticRegression`` (multinomial for K >= 3): it minimises
    C·sum log-loss + ½ sum_k ||W_k||² (intercepts unpenalised): C = τ² is the N(0, τ²) prior on
    all K weight vectors, C = inf the MLE (compared on contrasts).  newton-cholesky, tol 1e-12."""
    spec = problem.spec
    C = spec.tau**2 if spec.prior == "gaussian" else np.inf
    B, iterations, call = sklearn_logistic(problem.X, class_codes(problem), C, spec.intercept)
    if B.shape[1] == 1:  # two classes: one column, class 1 vs class 0
        B = np.column_stack([np.zeros_like(B), B])
    return _fit(regression_params(problem, B), {"call": call, "iterations": iterations}, problem)


def sklearn_mlp(problem: Problem, alpha: float, random_state: int):
    """scikit-learn ``MLPClassifier(hidden_layer_sizes=(H,), activation="relu", solver="lbfgs",
    alpha, tol=SKLEARN_TOL)`` fitted to the problem's data from one seeded start.  Its lbfgs
    stops on scipy's ftol, so its ConvergenceWarning (iteration limit) is silenced and the
    answer judged by its objective; RuntimeError if it saw a different number of classes."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(problem.spec.hidden,),
        activation="relu",
        solver="lbfgs",
        alpha=alpha,
        tol=SKLEARN_TOL,
        max_iter=20000,
        max_fun=100000,
        random_state=random_state,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(np.asarray(problem.X, float), class_codes(problem))
    if len(clf.classes_) != len(classes_and_baseline(problem)[0]):
        raise RuntimeError("MLPClassifier saw a different number of classes")
    return clf


def mlp_fit(problem: Problem, inputs: dict, seed: int) -> dict:
    """scikit-learn ``MLPClassifier(hidden_layer_sizes=(H,), activation="relu",
    solver="lbfgs", alpha=1/τ²)`` from ``SKLEARN_RESTARTS`` seeded starts; it minimises
    mean log-loss + alpha/(2n) sum ||W||² (biases unpenalised) = our objective / n.  Every
    restart's objective is evaluated with ``network.objective`` (the family's for every method) and
    listed; the best is kept.  Its lbfgs stops on scipy's ftol (relative change of the loss),
    not on the gradient, however small tol is: its answer is near a mode, not at it."""
    spec = problem.spec
    classes, base = classes_and_baseline(problem)
    n = problem.n
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(SKLEARN_RESTARTS):
        state = int(rng.integers(2**31 - 1))
        clf = sklearn_mlp(problem, 1.0 / spec.tau**2, state)
        if len(classes) == 2:
            raise Unavailable("MLPClassifier fits two classes with one logistic output unit")
        W1, W2 = clf.coefs_
        b1, b2 = clf.intercepts_
        params = network.network_params(problem, W1, b1, W2, b2 - b2[base])
        runs.append(
            {
                "random_state": state,
                "objective": network.objective(problem, params),
                "n·loss_": float(n * clf.loss_),
                "iterations": int(clf.n_iter_),
                "params": params,
            }
        )
    best = min(runs, key=lambda r: r["objective"])
    return {
        "mean": best["params"] | probabilities(problem, best["params"], network.logits),
        "info": {
            "call": f"MLPClassifier(hidden_layer_sizes=({spec.hidden},), activation='relu', "
            f"solver='lbfgs', alpha={1 / spec.tau**2:g}, tol={SKLEARN_TOL:g})",
            "restarts": [{k: v for k, v in r.items() if k != "params"} for r in runs],
            "kept random_state": best["random_state"],
            "n·loss_": best["n·loss_"],
        },
    }


def _counts(problem: Problem) -> np.ndarray:
    classes, _ = classes_and_baseline(problem)
    return np.bincount(class_codes(problem), minlength=len(classes)).astype(float)


def _intercepts_from_q(problem: Problem, q: np.ndarray) -> dict[str, float]:
    classes, base = classes_and_baseline(problem)
    return {
        f"{c}:intercept": float(np.log(q[k]) - np.log(q[base]))
        for k, c in enumerate(classes)
        if k != base
    }


def closed_form_fit(problem: Problem, inputs: dict) -> dict:
    """Intercept-only model: the MLE is the class frequencies p̂ (flat), the Dirichlet
    posterior mode (alpha + c - 1) / (sum alpha + n - K) (``models.numerics.softmax``)."""
    classes, _ = classes_and_baseline(problem)
    y = class_codes(problem)
    if problem.spec.prior == "dirichlet":
        mode, _ = sm_.dirichlet_map_and_mean(y, np.full(len(classes), problem.spec.alpha))
        return {
            "mean": {f"P({c})": float(v) for c, v in zip(classes, mode, strict=True)},
            "info": {"formula": "(α + c − 1) / (Σα + n − K)"},
        }
    q = sm_.class_frequencies(y, len(classes))
    return {
        "mean": _intercepts_from_q(problem, q)
        | {f"P({c})": float(v) for c, v in zip(classes, q, strict=True)},
        "info": {"formula": "p̂ = c / n; intercepts log(p̂_k / p̂_baseline)"},
    }


def exact_posterior_fit(problem: Problem, inputs: dict) -> dict:
    """Intercept-only posterior in closed form: q ~ Dirichlet(a) with a = alpha + c
    (Dirichlet prior) or a = c (flat prior on the baseline logits: its Jacobian makes the
    density of q proportional to prod q_k^(c_k - 1)).  Mean a_k/a_0, variance
    a_k (a_0 - a_k) / (a_0^2 (a_0 + 1)); log(q_k / q_b) has mean psi(a_k) - psi(a_b) and
    variance psi'(a_k) + psi'(a_b) (log-gamma representation of the Dirichlet)."""
    classes, base = classes_and_baseline(problem)
    c = _counts(problem)
    a = c + problem.spec.alpha if problem.spec.prior == "dirichlet" else c
    a0 = a.sum()
    mean = {f"P({k})": float(a[i] / a0) for i, k in enumerate(classes)}
    sd = {
        f"P({k})": float(np.sqrt(a[i] * (a0 - a[i]) / (a0**2 * (a0 + 1))))
        for i, k in enumerate(classes)
    }
    if problem.spec.prior != "dirichlet":
        for i, k in enumerate(classes):
            if i != base:
                mean[f"{k}:intercept"] = float(digamma(a[i]) - digamma(a[base]))
                sd[f"{k}:intercept"] = float(np.sqrt(polygamma(1, a[i]) + polygamma(1, a[base])))
    return {
        "mean": mean,
        "sd": sd,
        "info": {"posterior": f"Dirichlet({', '.join(f'{v:g}' for v in a)})"},
    }
