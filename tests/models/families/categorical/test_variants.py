"""The categorical family's three models as objects of their own: each PyMC model and the
same model's NumPy objective describe one posterior, the family picks the variant a spec
describes, and each variant offers the estimators it can answer for."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tolerances import ARITH_RTOL

from nll_losses.models.families.categorical import FAMILY
from nll_losses.models.families.categorical.spec import CategoricalOptions, class_info
from nll_losses.models.families.categorical.variants import (
    DIRICHLET,
    NETWORK,
    REGRESSION,
    variant_of,
)
from nll_losses.models.family import Settings, new_problem

CLASSES = ["a", "b", "c"]


def _problem(prior, features=2, hidden=0, n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    y = rng.integers(0, 3, size=n).astype(float)
    y[:3] = [0, 1, 2]  # every class present
    settings = Settings(prior_scale=1.5, options=CategoricalOptions(hidden=hidden))
    info = class_info(CLASSES, y, "b")
    names = tuple(f"x{j}" for j in range(features))
    return new_problem(FAMILY, X, y, names, info, settings, prior)


def _layout_values(model, problem, values: dict) -> dict[str, float]:
    """The layout's parameters read off the model's variables (by each Param's coords)."""
    out = {}
    for p in problem.layout.params:
        if p.var not in values:
            continue
        dims = model.named_vars_to_dims[p.var]
        coords = dict(p.sel)
        idx = tuple(list(model.coords[d]).index(coords[d]) for d in dims)
        out[p.name] = float(values[p.var][idx])
    return out


CASES = {
    "softmax regression, flat": dict(prior="flat"),
    "softmax regression, gaussian": dict(prior="gaussian"),
    "intercept only, flat": dict(prior="flat", features=0),
    "network, gaussian (find_MAP's flat b1)": dict(prior="gaussian", hidden=3),
    "dirichlet": dict(prior="dirichlet", features=0),
}


@pytest.mark.parametrize("case", CASES)
def test_the_pymc_model_and_the_objective_are_one_posterior(case):
    """log p(θ | y) from the PyMC model (no Jacobian) and −objective(θ) differ by a constant:
    their differences between random points agree to the arithmetic tier."""
    problem = _problem(**CASES[case])
    support = FAMILY.supports("find_map", problem)
    problem = replace(problem, spec=support.spec or problem.spec)
    variant = variant_of(problem.spec)
    model = variant.build(problem).model
    # a few evaluations: Python's linker compiles in a fraction of the C / Numba time
    logp = model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    shown = [v for v in ("intercept", "W", "W1", "b1", "W2", "b2", "prob") if v in model]
    outs = model.replace_rvs_by_values([model[v] for v in shown])
    read = model.compile_fn(outs, inputs=model.value_vars, mode="FAST_COMPILE")
    rng = np.random.default_rng(1)
    start = model.initial_point()
    got, want, size = [], [], []
    for _ in range(3):
        point = {k: rng.normal(size=np.shape(v)) for k, v in start.items()}
        values = dict(zip(shown, read(point), strict=True))
        params = _layout_values(model, problem, values)
        if variant is DIRICHLET:
            params = {f"P({c})": float(values["prob"][0, k]) for k, c in enumerate(CLASSES)}
        obj = FAMILY.objective(problem, params, "find_map")
        got.append(float(logp(point)))
        want.append(-obj)
        size.append(abs(obj))
    # each side a float64 sum of about n terms of this size: ARITH_RTOL · n relative
    tol = ARITH_RTOL * problem.n * (size[0] + size[1] + size[2])
    assert got[1] - got[0] == pytest.approx(want[1] - want[0], abs=tol)
    assert got[2] - got[0] == pytest.approx(want[2] - want[0], abs=tol)
    assert abs(want[1] - want[0]) > 1e3 * tol  # the points differ enough to tell


def test_the_family_picks_the_model_a_spec_describes():
    assert variant_of(_problem("flat").spec) is REGRESSION
    assert variant_of(_problem("gaussian", features=0).spec) is REGRESSION
    assert variant_of(_problem("gaussian", hidden=3).spec) is NETWORK
    assert variant_of(_problem("dirichlet", features=0).spec) is DIRICHLET
    with pytest.raises(ValueError, match="gaussian prior only"):
        _problem("flat", hidden=3)
    with pytest.raises(ValueError, match="intercept-only"):
        _problem("dirichlet")


def _offered(problem) -> set[str]:
    return {m for m in FAMILY.methods if FAMILY.supports(m, problem).offered}


def test_each_model_offers_the_estimators_it_answers_for():
    assert _offered(_problem("flat")) == {
        "newton",
        "find_map",
        "laplace",
        "nuts",
        "statsmodels",
        "sklearn",
    }
    assert _offered(_problem("gaussian")) == {"newton", "find_map", "laplace", "nuts", "sklearn"}
    network = _problem("gaussian", hidden=3)
    assert _offered(network) == {"find_map", "nuts", "sklearn"}
    assert FAMILY.supports("find_map", network).spec.hidden_bias_scale is None
    assert _offered(_problem("dirichlet", features=0)) == {
        "closed_form",
        "exact_posterior",
        "find_map",
        "nuts",
    }
