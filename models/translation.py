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

from nll_losses.models.family import Problem
from nll_losses.models.numerics import linalg as la
from nll_losses.models.priors import Gaussian

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
def lbfgs(f_and_grad, x0) -> tuple[np.ndarray, str]:
    res = minimize(f_and_grad, x0, jac=True, method="L-BFGS-B", options=LBFGS_OPTIONS)
    return res.x, f"L-BFGS-B from 0: {res.nit} iterations, {res.message}"


class Linear(NamedTuple):
    """What the rows of a linear-predictor family (normal, Bernoulli) start from."""

    spec: object
    n: int
    tau: float  # of the weights
    tau0: float | None  # of the intercept; None when it is flat or absent
    X: np.ndarray
    y: np.ndarray
    A: np.ndarray  # the design, with its column of ones first when there is an intercept
    params: Callable[[np.ndarray], dict[str, float]]  # a coefficient vector under the names


def linear(problem: Problem, coef_names) -> Linear:
    """The problem's data, design, prior scales and parameter naming for the table's rows."""
    spec = problem.spec
    tau0 = spec.intercept_prior.scale if isinstance(spec.intercept_prior, Gaussian) else None
    names = coef_names(problem.features, spec)

    def params(beta) -> dict[str, float]:
        return dict(zip(names, map(float, beta), strict=True))

    X = np.asarray(problem.X, float)
    return Linear(
        spec,
        problem.n,
        spec.coef_prior.scale,
        tau0 if spec.intercept else None,
        X,
        np.asarray(problem.y, float),
        la.design(X, spec.intercept),
        params,
    )


def shown_values(vec, first: int = 3) -> str:
    """A penalty vector as the table's call shows it: its first entries, then "…"."""
    return ", ".join(f"{v:.6g}" for v in vec[:first]) + (", …" if len(vec) > first else "")


def lambda_vector(p: int, intercept: bool, lam: float, lam0: float | None) -> np.ndarray:
    out = np.full(p, lam)
    if intercept:
        out[0] = lam0 or 0.0
    return out


def weight_decay_groups(lam0_text: str | None, biases: bool = True) -> str:
    """The biases' parameter group in the SGD call text (none without an intercept)."""
    if not biases:
        return ""
    return f"; biases in a group with weight_decay={lam0_text or 0}"
