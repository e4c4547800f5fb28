"""NUTS's diagnostics (analyses.estimators.nuts_problems): the thresholds of Vehtari et al.
(2021), R-hat at most 1.01 and a bulk ESS of at least 100 per chain."""

import math

import pytest

from nll_losses.analyses.estimators import nuts_problems


@pytest.mark.parametrize(
    ("ess", "chains", "flagged"),
    [(399, 4, True), (400, 4, False), (199, 2, True), (200, 2, False), (150, 2, True)],
)
def test_bulk_ess_is_flagged_below_100_per_chain(ess, chains, flagged):
    problems = nuts_problems(0, [], 1.0, ess, chains)
    assert any(p.startswith("bulk ESS as low as") for p in problems) == flagged, problems


def test_each_problem_is_said_once_and_a_clean_run_has_none():
    assert nuts_problems(0, [], 1.005, 800.0, 4) == []
    problems = nuts_problems(3, ["w[0]"], 1.2, 50.0, 4)
    assert problems[0] == "3 divergent transitions"
    assert "w[0]" in problems[1] and "do not vary" in problems[1]
    assert problems[2] == "r_hat up to 1.200 (> 1.01)"
    assert problems[3] == "bulk ESS as low as 50 (< 400 for 4 chains)"
    # a NaN (no finite value) is not read as a number past a threshold
    assert nuts_problems(0, [], math.nan, math.nan, 2) == []
