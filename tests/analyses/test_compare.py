"""The one comparator (analyses.compare.check): each tier's tolerance is the one
analyses.tolerances states, a difference just inside passes and just outside fails, and a
non-finite one never passes; the ledger and the translation table go through it."""

import math

import numpy as np
import pytest

from nll_losses.analyses import tolerances
from nll_losses.analyses.compare import check, ledger_rows
from nll_losses.models.family import LedgerRow

CASES = {
    "optimiser": (dict(sd=0.3), tolerances.optimiser(2.0, 0.3)),
    "quadrature": (dict(sd=0.3), tolerances.quadrature(2.0, 0.3)),
    "linear algebra": (
        dict(kappa=1e3, terms=4, ref_norm=5.0),
        tolerances.linear_algebra(1e3, 4, 5.0),
    ),
    "monte carlo": (dict(mcse=0.01), tolerances.monte_carlo(0.01)),
    "arithmetic": (dict(terms=1000), tolerances.arithmetic(1000, 2.0)),
}


@pytest.mark.parametrize("tier", sorted(CASES))
def test_each_tier_takes_its_stated_tolerance(tier):
    scale, expected = CASES[tier]
    inside = check("a", "b", "w", 2.0 + 0.99 * expected, 2.0, tier, **scale)
    outside = check("a", "b", "w", 2.0 + 1.01 * expected, 2.0, tier, **scale)
    assert inside.tolerance == expected and inside.tier == tier
    assert inside.ok and not outside.ok
    nan = check("a", "b", "w", math.nan, 2.0, tier, **scale)
    assert not nan.ok


def test_monte_carlo_without_an_mcse_fails():
    assert not check("a", "b", "w", 1.0, 1.0, "monte carlo").ok


def test_gap_and_bound_rows():
    tol = tolerances.optimiser(1.0, 1.0)
    gap = check("a", "b", "w", 1.5, 1.0, "optimiser", expected=0.5, sd=1.0)
    assert gap.kind == "gap" and gap.ok and gap.abs_diff == 0.0
    assert not check("a", "b", "w", 1.5, 1.0, "optimiser", expected=0.5 + 2 * tol, sd=1.0).ok
    below = check("a", "b", "w", -50.0, 1.0, "optimiser", bound=True, sd=1.0)
    assert below.kind == "bound" and below.ok
    assert not check("a", "b", "w", 1.0 + 2 * tol, 1.0, "optimiser", bound=True, sd=1.0).ok


def test_linear_algebra_row_says_when_it_cannot_fail():
    row = check("a", "b", "w", 1.0, 1.0, "linear algebra", kappa=1e17, terms=3, ref_norm=1.0)
    assert "uninformative" in row.note


def test_unknown_tier_is_an_error():
    with pytest.raises(ValueError, match="tier"):
        check("a", "b", "w", 1.0, 1.0, "roughly")


def test_ledger_rows_pass_equal_sums_and_fail_a_wrong_one():
    rng = np.random.default_rng(0)
    terms = rng.exponential(size=5000)
    good = LedgerRow(
        "somewhere", {"sum": float(np.sum(terms)), "fsum": math.fsum(terms)}, (("sum", "fsum"),)
    )
    wrong = LedgerRow(
        "elsewhere", {"sum": float(np.sum(terms)), "fsum": math.fsum(terms[1:])}, (("sum", "fsum"),)
    )
    rows = ledger_rows([good, wrong], n=terms.size)
    assert [r.ok for r in rows] == [True, False]
    assert rows[0].tier == "arithmetic" and rows[0].parameter == "loss at somewhere"
    magnitude = max(abs(good.values["sum"]), abs(good.values["fsum"]))
    assert rows[0].tolerance == tolerances.arithmetic(terms.size, magnitude)
