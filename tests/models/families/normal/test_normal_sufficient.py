"""The Gaussian family's sufficient-statistics likelihood (models/families/normal/model.py) equals
the row-wise Normal log density at random parameter points, to the arithmetic tier (two float64
evaluations of one sum of n terms: 16·n·ε·|value|, Higham §4.2; tests/tolerances.py
ARITH_RTOL), also at n = 10^6 with a target far from zero, where the expanded form y'y − 2b'X'y
+ b'X'Xb loses every digit (the test shows that it does, so the case is one where cancellation
bites)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from nll_losses.models import get_family
from nll_losses.models.families.normal.model import build_model, loglik_sufficient, model_data
from nll_losses.models.family import Settings, new_problem
from tests.tolerances import ARITH_RTOL


def _problem(n: int, k: int, seed: int, prior: str = "flat", shift: float = 0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)) * np.linspace(1.0, 50.0, k) + 3.0
    w = rng.normal(size=k)
    y = shift + 0.7 + X @ w + rng.normal(scale=2.0, size=n)
    features = tuple(f"x{j}" for j in range(k))
    return new_problem(get_family("normal"), X, y, features, {}, Settings(), prior)


def _points(data, problem, rng, count=4):
    """Random (phi, sigma) and the same point as (beta, sigma) on the original scale."""
    p = len(data["suff_phi_hat"])
    for _ in range(count):
        phi = data["suff_phi_hat"] + rng.normal(scale=0.5, size=p)
        sigma = 2.0 * np.exp(rng.normal(scale=0.3))
        beta = data["coef_offset"] + data["basis_to_coef"] @ phi
        yield phi, sigma, beta


def _rowwise(problem, beta, sigma) -> tuple[float, float]:
    """Sum over rows of scipy's Normal log density (exactly rounded sum) and sum |terms|."""
    mu = beta[0] + problem.X @ beta[1:]
    terms = stats.norm.logpdf(problem.y, loc=mu, scale=sigma)
    return math.fsum(terms), float(np.sum(np.abs(terms)))


def _tolerance(n: int, magnitude: float) -> float:
    return ARITH_RTOL * n * max(magnitude, 1.0)


@pytest.mark.parametrize("n", [5, 100, 20_000])
def test_sufficient_statistics_equal_rowwise_density(n):
    problem = _problem(n, 3, seed=n)
    data, _ = model_data(problem.X, problem.y, problem.spec)
    assert all(np.size(v) <= 16 for v in data.values())  # no value grows with n
    for phi, sigma, beta in _points(data, problem, np.random.default_rng(1)):
        ref, magnitude = _rowwise(problem, beta, sigma)
        got = loglik_sufficient(phi, sigma, data)
        assert abs(got - ref) <= _tolerance(n, magnitude), (n, got, ref)


def test_sufficient_statistics_at_a_million_rows_where_expansion_cancels():
    n = 1_000_000
    problem = _problem(n, 2, seed=7, shift=1e6)
    data, _ = model_data(problem.X, problem.y, problem.spec)
    A = np.column_stack([np.ones(n), problem.X])
    yy, Ay, AA = problem.y @ problem.y, A.T @ problem.y, A.T @ A
    naive_misses = 0
    for phi, sigma, beta in _points(data, problem, np.random.default_rng(2)):
        ref, magnitude = _rowwise(problem, beta, sigma)
        tol = _tolerance(n, magnitude)
        got = loglik_sufficient(phi, sigma, data)
        assert abs(got - ref) <= tol, (got, ref, tol)
        rss = yy - 2 * beta @ Ay + beta @ AA @ beta
        naive = -0.5 * n * np.log(2 * np.pi * sigma**2) - rss / (2 * sigma**2)
        naive_misses += abs(naive - ref) > tol
    assert naive_misses == 4  # the expanded form is outside the tier at every point


def test_model_graph_equals_rowwise_density():
    """The compiled PyMC model's log density (the likelihood Potential plus the flat priors'
    zero) against scipy's row-wise sum, at points given in the model's own variables."""
    problem = _problem(40, 2, seed=3)
    built = build_model(problem)
    model = built.model
    logp = model.compile_logp(vars=[model["loglik"]], jacobian=False, sum=True)
    data = built.data
    for phi, sigma, beta in _points(data, problem, np.random.default_rng(4)):
        ref, magnitude = _rowwise(problem, beta, sigma)
        point = {"phi": phi, "sigma_std_log__": np.log(sigma / float(data["scale_y"]))}
        got = float(logp(point))
        assert abs(got - ref) <= _tolerance(problem.n, magnitude), (got, ref)
