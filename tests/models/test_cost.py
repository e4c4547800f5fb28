"""The NUTS time note (models/cost.py): linear in rows, said only above its threshold, absent
for the Gaussian family (sufficient statistics), and naming the estimators that leave NUTS out."""

from __future__ import annotations

from nll_losses.models import cost


def test_estimate_is_linear_in_rows_and_iterations():
    one = cost.nuts_seconds("bernoulli", "flat", 10_000, 21, 1000)
    assert cost.nuts_seconds("bernoulli", "flat", 100_000, 21, 1000) == 10 * one
    assert cost.nuts_seconds("bernoulli", "flat", 10_000, 21, 3000) == 3 * one
    assert cost.nuts_seconds("bernoulli", "jeffreys", 10_000, 21, 1000) > one
    assert cost.nuts_seconds("normal", "flat", 10**6, 21, 8000) is None


def test_note_only_when_long():
    priors = {"flat": 21, "gaussian": 21}
    others = ["newton", "find_map", "laplace"]
    assert cost.nuts_note("bernoulli", priors, 200, 8000, others) is None
    assert cost.nuts_note("normal", priors, 10**6, 8000, others) is None
    note = cost.nuts_note("bernoulli", priors, 100_000, 8000, others)
    assert note is not None and "--estimators newton,find_map,laplace" in note
    assert "100,000 rows" in note and "--quick" in note
    assert "--quick" not in cost.nuts_note("bernoulli", priors, 100_000, 8000, others, True)
