"""analyses/sampling.py drives nutpie's own sampler: the same draws by each route (Python
callables, our disk-cached C wrappers, nutpie's own compiled route), and new data through
``with_data`` give the draws of a model built on that data."""

import numpy as np
import pytest
from tolerances import ARITH_RTOL

from nll_losses.analyses.estimators import configure_pytensor
from nll_losses.analyses.sampling import compile_nutpie

pytestmark = pytest.mark.slow

SETTINGS = dict(draws=150, tune=150, chains=2, seed=7, progress_bar=False)


def logistic_model(X, y):
    import pymc as pm

    with pm.Model() as model:
        A = pm.Data("A", X)
        y_obs = pm.Data("y_obs", y)
        tau = pm.Data("tau", 1.5)
        w = pm.Normal("w", 0.0, tau, shape=X.shape[1])
        s = pm.HalfNormal("s", 1.0)  # a transformed variable too
        pm.Bernoulli("y", logit_p=s * pm.math.dot(A, w), observed=y_obs)
    return model


def data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 2))
    y = (X @ [1.0, -1.0] + rng.logistic(size=30) > 0).astype(np.int64)
    return X, y


def draws(idata):
    post = idata.posterior
    return np.concatenate([post["w"].values.reshape(-1), post["s"].values.reshape(-1)])


def test_same_draws_by_every_route():
    import nutpie

    configure_pytensor()
    model = logistic_model(*data(1))
    python = compile_nutpie(model, ["w", "s"], route="python").compiled
    cfunc = compile_nutpie(model, ["w", "s"], route="cfunc").compiled
    # a second build loads the C wrappers from the disk cache the first one wrote
    reloaded = compile_nutpie(model, ["w", "s"], route="cfunc").compiled
    theirs = nutpie.compile_pymc_model(model, freeze_model=False, var_names=["w", "s"])
    a = draws(nutpie.sample(python, **SETTINGS))
    # the same algorithm, seed and log density: identical, not just close
    for other in (cfunc, reloaded, theirs):
        np.testing.assert_array_equal(draws(nutpie.sample(other, **SETTINGS)), a)


@pytest.mark.parametrize("route", ["python", "cfunc"])
def test_with_data_is_a_new_model(route):
    import nutpie

    configure_pytensor()
    X1, y1 = data(1)
    X2, y2 = data(2)
    compiled, names, _, _ = compile_nutpie(logistic_model(X1, y1), ["w", "s"], route=route)
    assert {"A", "y_obs", "tau"} <= names
    # more rows than the model was built with: the shapes are read at call time
    X2, y2 = np.vstack([X2, X1[:7]]), np.concatenate([y2, y1[:7]])
    swapped = compiled.with_data(A=X2, y_obs=y2, tau=np.asarray(0.5))
    fresh = compile_nutpie(logistic_model(X2, y2), ["w", "s"], route=route).compiled
    fresh = fresh.with_data(tau=np.asarray(0.5))
    a, b = draws(nutpie.sample(swapped, **SETTINGS)), draws(nutpie.sample(fresh, **SETTINGS))
    np.testing.assert_array_equal(a, b)
    before = draws(nutpie.sample(compiled, **SETTINGS))
    assert not np.array_equal(a, before)  # the swap did change the posterior


def test_diagnostic_extremes_skip_nan():
    """A deterministic whose draws are all equal has r_hat NaN; it must not hide another
    parameter's r_hat or ESS beyond its threshold (Python's max keeps a leading NaN)."""
    from nll_losses.analyses.estimators import _finite

    nan = float("nan")
    assert max([nan, 1.05]) != 1.05  # what the plain max would report
    assert _finite(max, {"P(a)": nan, "w": 1.05}) == 1.05
    assert _finite(min, {"P(a)": nan, "w": 30.0}) == 30.0
    assert np.isnan(_finite(max, {"P(a)": nan}))


@pytest.mark.parametrize("route", ["python", "cfunc"])
def test_log_density_and_values_are_the_models_own(route):
    """The sampler's Python-callable log density is the model's (Jacobian included: ``s`` is
    log-transformed) at points in the order of ``model.value_vars``, with the data it is given,
    and ``values`` maps those points to the constrained variables."""
    configure_pytensor()
    X1, y1 = data(1)
    X2, y2 = data(2)
    model = logistic_model(X1, y1)
    sampler = compile_nutpie(model, ["w", "s"], route=route)
    logp = model.compile_logp(jacobian=True)
    rng = np.random.default_rng(0)
    points = rng.normal(size=(5, 3))  # w (2), log s (1)

    def as_point(x):
        return {"w": x[:2], "s_log__": x[2]}

    # two compilations (Numba, C) of one sum of about n + 3 terms: ARITH_RTOL per term
    terms = len(y1) + 3

    def same_sum(got, expected):
        expected = np.asarray(expected)
        tol = ARITH_RTOL * terms * np.maximum(np.abs(expected), 1.0)
        assert np.all(np.abs(got - expected) <= tol), (got, expected)

    same_sum(sampler.log_density(points), [logp(as_point(x)) for x in points])
    values = sampler.values(points)
    np.testing.assert_array_equal(values["w"], points[:, :2])  # copied, not computed
    # one exp by each library: within one rounding of each other
    np.testing.assert_allclose(values["s"], np.exp(points[:, 2]), rtol=ARITH_RTOL)
    import pymc as pm

    with model:
        pm.set_data({"A": X2, "y_obs": y2, "tau": 0.5})
    other = {"A": X2, "y_obs": y2, "tau": np.asarray(0.5)}
    same_sum(sampler.log_density(points, other), [logp(as_point(x)) for x in points])
