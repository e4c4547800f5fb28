"""The one existence linear program (models.numerics.recession) on small cases whose answer
is known by hand, for the margins-only (Bernoulli, categorical) and the equality (Poisson)
forms."""

import numpy as np

from nll_losses.models.numerics.recession import recession_direction


def _poisson(A, y):
    return recession_direction(-A[y == 0], A[y > 0])


def test_zero_counts_where_a_feature_is_positive_have_no_mle():
    # y = 0 wherever x = 1: log mu there can go to -inf without moving the other means
    # (Santos Silva & Tenreyro 2010; the worked example of the ppmlhdfe separation primer)
    A = np.column_stack([np.ones(6), [1, 1, 0, 0, 0, 0]])
    y = np.array([0, 0, 0, 1, 2, 3])
    found = _poisson(A, y)
    assert found.found
    d = found.direction
    assert np.allclose(A[y > 0] @ d, 0, atol=1e-9) and np.all(A[y == 0] @ d <= 1e-9)
    assert d[1] < 0 and abs(d[0]) < 1e-9  # the slope runs to -inf, the intercept stays


def test_counts_on_both_sides_have_an_mle():
    rng = np.random.default_rng(3)
    x = rng.normal(size=100)
    A = np.column_stack([np.ones(100), x])
    y = rng.poisson(np.exp(0.3 + 0.5 * x))
    assert (y == 0).any() and (y > 0).any()
    assert not _poisson(A, y).found


def test_all_zero_counts_have_no_mle_with_an_intercept():
    A = np.column_stack([np.ones(5), np.arange(5.0)])
    assert _poisson(A, np.zeros(5)).found


def test_margins_only_form_is_konis_separation():
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    A = np.column_stack([np.ones(4), x])
    separated = recession_direction((2 * np.array([0, 0, 1, 1]) - 1)[:, None] * A)
    overlapping = recession_direction((2 * np.array([0, 1, 0, 1]) - 1)[:, None] * A)
    assert separated.found and not overlapping.found
