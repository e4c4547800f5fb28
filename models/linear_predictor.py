"""What the families with a linear predictor η = offset + Aβ share (Bernoulli's logit,
Poisson's log mean): the PyMC block in the preconditioned basis, the points the loss ledger
evaluates the loss at, and the text naming a direction along which the MLE runs away.

The basis: ``A M = Q`` orthonormal (``models.numerics.linalg.precondition``, the centred and
column-scaled design), ``β = m0 + c M φ`` and ``η = η0 + c Q φ`` with η0 = offset + A m0; the
family chooses ``m0`` (the intercept-only fit) and ``c`` (so that the information about φ is
about the identity there)."""

from __future__ import annotations

import numpy as np

from nll_losses.models.family import (
    Problem,
    Start,
    StudyModel,
    basis_laplace,
    proper_intercept,
    same_parametrisation,
    tau_sweep,
)
from nll_losses.models.numerics import linalg as la


def basis_data(
    problem: Problem,
    A: np.ndarray,
    c: float,
    m0: np.ndarray,
    offset_name: str,
    offset=0.0,
    weights: np.ndarray | None = None,
) -> tuple[dict, la.Preconditioner]:
    """The ``pm.Data`` values of :func:`linear_block` (y as int64 under "y_obs").

    ``weights`` (each row's expected information, e.g. a pilot fit's means): the basis is
    then orthonormal in the weighted design, ``(√w A) M = Q``, so the information about φ is
    about the identity wherever the weights are about right, even when the rows' means
    differ by orders of magnitude; η's basis is then ``A M``."""
    if weights is None:
        pre = la.precondition(A, problem.spec.intercept)
        eta_basis = pre.Q
    else:
        pre = la.precondition(np.sqrt(weights)[:, None] * A, False)
        eta_basis = A @ pre.M
    data = {
        "basis_matrix": c * eta_basis,
        "basis_to_coef": c * pre.M,
        "coef_offset": m0,
        offset_name: offset + A @ m0,
        "prior_precision": problem.spec.prior_precision(A.shape[1]),
        "y_obs": np.asarray(problem.y, float).astype(np.int64),
    }
    return data, pre


def linear_block(problem: Problem, data: dict, offset_name: str):
    """Inside a ``pm.Model`` with dims "obs", "basis", "feature": the data, φ ~ Flat, the
    reported intercept and weights w (deterministics), the Gaussian prior's potential
    −½ Σ prec β², and (η, y_obs) for the family's likelihood."""
    import pymc as pm
    import pytensor.tensor as pt

    basis = pm.Data("basis_matrix", data["basis_matrix"], dims=("obs", "basis"))
    to_coef = pm.Data("basis_to_coef", data["basis_to_coef"])
    m0 = pm.Data("coef_offset", data["coef_offset"])
    eta0 = pm.Data(offset_name, data[offset_name], dims="obs")
    prec = pm.Data("prior_precision", data["prior_precision"])
    y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
    phi = pm.Flat("phi", dims="basis")
    beta = m0 + pt.dot(to_coef, phi)
    if problem.spec.intercept:
        pm.Deterministic("intercept", beta[0])
        pm.Deterministic("w", beta[1:], dims="feature")
    else:
        pm.Deterministic("w", beta, dims="feature")
    pm.Potential("coef_prior", -0.5 * pt.sum(prec * beta**2))
    return eta0 + pt.dot(basis, phi), basis, y_obs


def coords(problem: Problem, p: int) -> dict:
    return {
        "feature": list(problem.features),
        "basis": list(range(p)),
        "obs": list(range(problem.n)),
    }


def ledger_points(points: dict, names, vector, A: np.ndarray, rng, extreme: float, label: str):
    """[(label, β)]: each point estimate that has every coefficient, two arbitrary points
    around the first (β + N(0, 1)), and a random direction scaled to max |Aβ| = ``extreme``."""
    usable = [(lb, pt_) for lb, pt_ in points.items() if all(nm in pt_ for nm in names)]
    base = vector(usable[0][1]) if usable else np.zeros(len(names))
    vecs = [(lb, vector(pt_)) for lb, pt_ in usable]
    for k in range(2):
        vecs.append((f"arbitrary #{k + 1}", base + rng.normal(size=base.size)))
    direction = rng.normal(size=base.size)
    vecs.append((label, direction * extreme / np.max(np.abs(A @ direction))))
    return vecs


def diverging(names, direction) -> str:
    """ "x1 → +∞, x2 → −∞": the coefficients a recession direction moves."""
    return ", ".join(
        f"{nm} → {'+' if b > 0 else '−'}∞" for nm, b in zip(names, direction, strict=True) if b != 0
    )


class LinearPredictorFamily:
    """The family-contract methods the linear-predictor families (Bernoulli, Poisson) answer
    alike: parameters "intercept" and the features' weights ``w`` in the preconditioned basis
    (Laplace sd from it), one find_MAP start, a smooth log density, the τ sweep of the weights
    with Newton, scikit-learn and NUTS, one parametrisation for every prior, no reported
    objective, and the design's condition number."""

    def laplace_sd(self, fit, built, point, problem: Problem) -> dict[str, float]:
        """Cov(β) = (c M) Cov(φ) (c M)' from the exact inverse Hessian at the mode."""
        sd, _, _ = basis_laplace(fit, built.extra["basis_to_coef"])
        names = (["intercept"] if problem.spec.intercept else []) + list(problem.features)
        return dict(zip(names, map(float, sd), strict=True))

    def map_starts(self, problem: Problem) -> list[Start]:
        return [Start("default point")]

    def smooth(self, problem: Problem) -> bool:
        return True

    def sweep(self, settings, features):
        return tau_sweep(settings, ("newton", "sklearn", "nuts"), "w") if features else None

    def study_model(self, settings, truth: dict) -> StudyModel:
        """N(0, τ²) on the intercept as on the weights; no noise scale."""
        settings, note = proper_intercept(settings)
        sd = {"intercept": settings.intercept_prior_scale, "w": settings.prior_scale}
        return StudyModel(settings, None, note, sd)

    def reexpress(self, values: dict, source: Problem, target: Problem):
        """Every prior has the same parameters (``same_parametrisation``)."""
        return same_parametrisation(values, source, target)

    def objective(self, problem: Problem, params: dict, method: str) -> None:
        """Not reported (the estimates are compared parameter by parameter)."""
        return None

    def conditioning(self, problem: Problem) -> float:
        return la.condition_number(la.design(problem.X, problem.spec.intercept))
