"""The intercept-only categorical model with a Dirichlet(α) prior on q: its parameters (the
class probabilities themselves), logits, objective and PyMC model.  Conjugate: the closed
forms are in ``references``."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.categorical.params import class_codes, classes_and_baseline
from nll_losses.models.families.categorical.spec import NAME, CategoricalSpec
from nll_losses.models.family import Built, Param, Problem


def layout_params(features, classes: list[str], base: int, spec: CategoricalSpec) -> list[Param]:
    if features:
        raise ValueError("the Dirichlet prior is for the intercept-only model")
    return []  # q is the layout's probabilities P(class)


def _q(problem: Problem, params: dict) -> np.ndarray:
    classes, _ = classes_and_baseline(problem)
    return np.array([params[f"P({c})"] for c in classes])


def logits(problem: Problem, params: dict, X: np.ndarray) -> np.ndarray:
    """(m, K) logits log q at every row of ``X`` (−inf for a class of probability 0)."""
    q = _q(problem, params)
    with np.errstate(divide="ignore"):
        return np.broadcast_to(np.log(q), (np.asarray(X).shape[0], len(q))).copy()


def objective(problem: Problem, params: dict) -> float:
    """−Σ_k (α − 1 + c_k) log q_k: the negative log posterior up to a constant."""
    q = _q(problem, params)
    counts = np.bincount(class_codes(problem), minlength=len(q))
    return float(-np.sum((problem.spec.alpha - 1 + counts) * np.log(q)))


def build(problem: Problem) -> Built:
    import pymc as pm

    classes, _ = classes_and_baseline(problem)
    K = len(classes)
    n = problem.n
    data = {"alpha": np.full(K, problem.spec.alpha), "y_obs": class_codes(problem)}
    with pm.Model(coords={"class": classes, "point": ["any x"], "obs": list(range(n))}) as model:
        alpha = pm.Data("alpha", data["alpha"])
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        q = pm.Dirichlet("q", a=alpha, dims="class")
        pm.Deterministic("prob", q[None, :], dims=("point", "class"))
        pm.Categorical("y", p=q, observed=y_obs, dims="obs")
    return Built(model=model, key=(NAME, "dirichlet", K), data=data, observed="y")  # not n
