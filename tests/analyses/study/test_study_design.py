"""The study model (analyses/study/design.py): every study case's truth is drawn from its
model's own prior, the simulated data come from that truth, and the truth re-expressed in
the flat-prior model is the same model point."""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import ARITH_RTOL, MCSE_Z

from nll_losses.analyses.study.design import FLAT, PRIOR, designs, drawn_parameters, simulate
from nll_losses.analyses.study.replicate import _truth_in

DESIGNS = designs()


def test_every_family_with_a_generator_takes_part():
    from nll_losses.analyses.cases import CASES
    from nll_losses.models import get_family

    expected = {
        c.config.family
        for c in CASES.values()
        if c.sized is not None and "gaussian" in get_family(c.config.family).priors
    }
    assert {d.family for d in DESIGNS.values()} == expected and len(expected) == 4


@pytest.mark.parametrize("case", list(DESIGNS))
def test_truths_follow_the_model_prior(case):
    """Over 600 replicates, each parameter's truths have mean 0 and the sd of its prior in
    the study model's spec (its ``make_spec``'s Gaussian scales), within MCSE_Z standard
    errors (sd/√N for the mean, sd/√(2N) for the sd); and seeded: the same seed, the same
    truth and data."""
    d = DESIGNS[case]
    draws = [simulate(d, seed, 30)[1] for seed in range(600)]
    names = list(draws[0])
    values = np.array([[t[n] for n in names] for t in draws])
    spec = d.family_obj.make_spec(d.settings, PRIOR)
    problem = d.problem(d.sized(0, 30))
    for j, name in enumerate(names):
        var = problem.layout.param(name).var
        # the spec's scale for this variable: the intercept's, else the weights'
        scale = (
            spec.intercept_prior.scale
            if var == problem.layout.params[0].var and d.settings.intercept
            else d.settings.prior_scale
        )
        assert d.model.prior_sd[var] == scale  # the same setting, not a computation
        N = len(values)
        assert abs(values[:, j].mean()) <= MCSE_Z * scale / np.sqrt(N), name
        assert abs(values[:, j].std(ddof=1) - scale) <= MCSE_Z * scale / np.sqrt(2 * N), name
    a, b = simulate(d, 7), simulate(d, 7)
    assert a[1] == b[1] and np.array_equal(a[0].y, b[0].y) and np.array_equal(a[0].X, b[0].X)


@pytest.mark.parametrize("case", list(DESIGNS))
def test_flat_model_truth_is_the_same_model_point(case):
    """The truth re-expressed in the flat-prior model predicts exactly what it predicts in
    the Gaussian one (a reparametrisation, e.g. the softmax's contrasts against the baseline
    class), and its labels mark the parameters whose meaning differs."""
    d = DESIGNS[case]
    data, truth = simulate(d, 3)
    family = d.family_obj
    gauss, flat = d.problem(data, PRIOR), d.problem(data, FLAT)
    values, labels = _truth_in(d, truth, gauss, flat)
    assert set(values) == set(drawn_parameters(family, flat))
    full = {n: values.get(n, 0.0) for n in flat.layout.names}
    expected = family.predict(gauss, truth, data.X)
    # two float64 evaluations of sums of a few terms on the link scale (ARITH_RTOL relative to
    # the largest |η|); the inverse link (exp) turns that absolute error of η into a relative
    # one of the prediction: measured at most 32ε (softmax), this bound is 16ε·(1 + max|η|)
    eta = np.max(np.abs(family.observation.link(expected)))
    np.testing.assert_allclose(
        family.predict(flat, full, data.X), expected, rtol=ARITH_RTOL * (1 + eta), atol=0
    )
    _, same = family.reexpress(truth, gauss, flat)
    assert all((labels[n] == n) == (n in same) for n in values)
