"""The Poisson family's PyMC models: log-linear regression in the preconditioned basis, and
the intercept-only model with a Gamma prior on the rate."""

from __future__ import annotations

import numpy as np

from nll_losses.models.families.poisson.spec import NAME, _design, _offset
from nll_losses.models.family import Built, Problem
from nll_losses.models.linear_predictor import basis_data, coords, linear_block
from nll_losses.models.numerics import linalg as la


def model_data(problem: Problem) -> tuple[dict, la.Preconditioner]:
    """The basis is centred at a pilot fit of the data, the weighted least-squares fit of
    log(y + ½) − offset on the design with weights y + ½ (a transform of the data, not any
    estimator's answer), and is orthonormal in the design weighted by y + ½, each row's
    information near it (``models.linear_predictor.basis_data``), so that the information about
    φ is about the identity wherever those weights are about right, even when the counts
    differ by orders of magnitude between rows (with one scale 1/√ȳ it would not be)."""
    A = _design(problem)
    y = np.asarray(problem.y, float)
    offset = _offset(problem)
    w = y + 0.5
    sw = np.sqrt(w)
    m0 = np.linalg.lstsq(sw[:, None] * A, sw * (np.log(w) - offset), rcond=None)[0]
    return basis_data(problem, A, 1.0, m0, "eta_offset", offset, weights=w)


def build_model(problem: Problem) -> Built:
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    data, pre = model_data(problem)
    p = pre.Q.shape[1]
    with pm.Model(coords=coords(problem, p)) as model:
        eta, _, y_obs = linear_block(problem, data, "eta_offset")
        # PyMC rewrites log(exp(eta)) to eta: the log-pmf is stable at large |eta|
        pm.Poisson("y", mu=pt.exp(eta), observed=y_obs, dims="obs")
    return Built(
        model=model,
        key=(NAME, p - int(spec.intercept), spec.intercept),  # not n
        data=data,
        observed="y",
        extra={"basis_to_coef": data["basis_to_coef"]},
    )


def build_gamma(problem: Problem) -> Built:
    """rate ~ Gamma(a, b) (b a rate), y_i ~ Poisson(rate · exp(offset_i)): the conjugate
    intercept-only model.  The hyperparameters are float64 arrays: PyTensor would make a
    Python float that fits float32 exactly (2.0, 1.0) a float32 constant, and the log
    density would carry float32 rounding."""
    import pymc as pm
    import pytensor.tensor as pt

    a, b = problem.spec.gamma
    data = {"exposure": np.exp(_offset(problem)), "y_obs": np.asarray(problem.y, np.int64)}
    with pm.Model(coords={"obs": list(range(problem.n))}) as model:
        exposure = pm.Data("exposure", data["exposure"], dims="obs")
        y_obs = pm.Data("y_obs", data["y_obs"], dims="obs")
        rate = pm.Gamma("rate", alpha=np.float64(a), beta=np.float64(b))
        pm.Deterministic("intercept", pt.log(rate))  # the other priors' parameter
        pm.Poisson("y", mu=rate * exposure, observed=y_obs, dims="obs")
    return Built(model=model, key=(NAME, "gamma", a, b), data=data, observed="y")
